//! The `Symbolizer`: finds and caches debug objects by build id, resolves printed frames
//! to addresses through the symbol table, and addresses to inline chains through the
//! DWARF index (lazy, per unit) or a persisted index.

use crate::debuginfod::Debuginfod;
use crate::dwarf::UnitIndex;
use crate::elf::{self, DebugFile};
use crate::error::SymbolizeError;
use crate::index;
use crate::locate::{self, SymbolSource};
use crate::symtab::{Sym, Symtab};
use crate::table::TableView;
use crashsift_model::BuildId;
use crashsift_model::report::{Frame, Report, SourceLoc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a failed lookup of a debug file is remembered before it is retried.
const NEGATIVE_TTL: Duration = Duration::from_secs(60);

/// What the symbolizer is allowed to use.
#[derive(Debug, Clone)]
pub struct SymbolizerConfig {
    /// An explicit vmlinux with DWARF; it wins over every search.
    pub vmlinux: Option<PathBuf>,
    /// Explicit module debug files (`*.ko`) or directories searched recursively.
    pub modules: Vec<PathBuf>,
    /// Debug roots searched by build id and release (default `["/usr/lib/debug"]`).
    pub debug_roots: Vec<PathBuf>,
    /// Where persisted indexes live (`<build-id>.csidx`); `None` disables them.
    pub index_dir: Option<PathBuf>,
    /// Build and persist an index when a debug file is loaded and none exists
    /// (costs one full DWARF pass, repaid by every later process).
    pub build_index: bool,
    /// Upper bound of the heap held by cached debug objects, in bytes.
    pub memory_bound: usize,
    /// debuginfod servers; empty disables the client.
    pub debuginfod_urls: Vec<String>,
    /// The debuginfod download cache (default `~/.cache/debuginfod_client`).
    pub debuginfod_cache: Option<PathBuf>,
    /// The object-store symbol prefix, implemented by the caller.
    pub symbol_source: Option<Arc<dyn SymbolSource>>,
    /// Threads used to parse compilation units (default: available parallelism).
    pub threads: usize,
}

impl Default for SymbolizerConfig {
    fn default() -> Self {
        Self {
            vmlinux: None,
            modules: Vec::new(),
            debug_roots: vec![PathBuf::from("/usr/lib/debug")],
            index_dir: None,
            build_index: true,
            memory_bound: 2 << 30,
            debuginfod_urls: Vec::new(),
            debuginfod_cache: None,
            symbol_source: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl SymbolizerConfig {
    /// The default config with `DEBUGINFOD_URLS` and `DEBUGINFOD_CACHE_PATH` from the environment.
    pub fn from_env() -> Self {
        let mut c = Self::default();
        if let Some(d) = Debuginfod::from_env() {
            c.debuginfod_urls = d.urls;
            c.debuginfod_cache = Some(d.cache_dir);
        }
        c
    }
}

/// Which kernel a report came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelRef {
    /// `uname -r`, e.g. `6.1.0-57-amd64`.
    pub release: Option<String>,
    /// The vmlinux build id, when the log or the vmcore printed it.
    pub build_id: Option<BuildId>,
    /// The KASLR offset (`Kernel Offset:` or VMCOREINFO `KERNELOFFSET`), for raw addresses.
    pub kaslr_offset: Option<u64>,
}

/// What happened to the frames of one report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolizeSummary {
    pub frames: usize,
    pub resolved: usize,
    pub failed: usize,
    /// Distinct error messages (at most 16).
    pub errors: Vec<String>,
}

/// The symbol a resolved address falls in, as the symbol table names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolHit {
    /// With clone suffixes (`foo.cold`, `bar.isra.0`).
    pub name: String,
    pub addr: u64,
    /// The kallsyms length.
    pub len: u64,
    /// Offset of the looked-up address in the symbol.
    pub offset: u64,
}

/// One resolved frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbolized {
    /// The address looked up, in the debug file's address space (link address for
    /// vmlinux, synthetic section base + offset for a module), after any step-back.
    pub pc: u64,
    pub object: PathBuf,
    pub symbol: Option<SymbolHit>,
    /// The inline chain, innermost first; the outermost entry is named as the symbol
    /// table names it (clone suffixes kept).
    pub source: Vec<SourceLoc>,
    /// The DWARF name of the outermost function (`foo` for the clone `foo.cold`).
    pub source_function: Option<String>,
}

/// A candidate of an ambiguous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub addr: u64,
    pub location: String,
}

/// Why one frame was not resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{0}")]
    Object(String),
    #[error("frame has neither a symbol nor an address")]
    Empty,
    #[error("symbol {name} not found in {object}")]
    SymbolNotFound { name: String, object: String },
    #[error(
        "{name}+{off:#x}/{len:#x} does not match {object}, where {name} has length(s) {have}: wrong debug file?"
    )]
    Mismatch {
        name: String,
        off: u64,
        len: u64,
        object: String,
        have: String,
    },
    #[error("{name}+{off:#x} is ambiguous in {object}: {}", candidates.iter().map(|c| format!("{:#x} ({})", c.addr, c.location)).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        name: String,
        off: u64,
        object: String,
        candidates: Vec<Candidate>,
    },
    #[error("address {addr:#x} is not in the text of {object}{hint}")]
    OutOfRange {
        addr: u64,
        object: String,
        hint: String,
    },
    #[error(
        "raw address {0:#x} in module {1} cannot be resolved without the module's load address"
    )]
    ModuleAddress(u64, String),
}

/// The line table behind an object: lazy DWARF, or a loaded persisted index.
#[derive(Debug)]
enum Lines {
    Cold {
        file: Arc<DebugFile>,
        units: UnitIndex,
    },
    Warm(index::WarmTable),
}

/// One loaded debug file: its symbols and its line table.
#[derive(Debug)]
pub struct DebugObject {
    pub path: PathBuf,
    pub build_id: Option<BuildId>,
    pub relocatable: bool,
    symtab: Symtab,
    lines: Lines,
}

impl DebugObject {
    /// Loads a debug file cold (symbols and unit ranges; units parse on demand).
    pub fn load(path: &Path) -> Result<DebugObject, SymbolizeError> {
        let loaded = elf::load(path, true)?;
        let units = UnitIndex::build(&loaded.file).map_err(|e| SymbolizeError::dwarf(path, e))?;
        Ok(DebugObject {
            path: path.to_owned(),
            build_id: loaded.file.build_id.clone(),
            relocatable: loaded.file.relocatable,
            symtab: loaded.symtab,
            lines: Lines::Cold {
                file: loaded.file,
                units,
            },
        })
    }

    /// Loads a debug file already in memory (fetched bytes, fuzzing); `name` is used in errors.
    pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<DebugObject, SymbolizeError> {
        let loaded = elf::load_bytes(name, crate::mmap::Bytes::Owned(bytes), true)?;
        let units = UnitIndex::build(&loaded.file).map_err(|e| SymbolizeError::dwarf(name, e))?;
        Ok(DebugObject {
            path: name.to_owned(),
            build_id: loaded.file.build_id.clone(),
            relocatable: loaded.file.relocatable,
            symtab: loaded.symtab,
            lines: Lines::Cold {
                file: loaded.file,
                units,
            },
        })
    }

    /// Loads from a persisted index (no DWARF is touched).
    pub fn from_index(
        path: &Path,
        build_id: &BuildId,
        bytes: crate::mmap::Bytes,
    ) -> Result<DebugObject, SymbolizeError> {
        let (symtab, table) =
            index::decode(bytes, build_id).map_err(|reason| SymbolizeError::BadIndex {
                path: path.to_owned(),
                reason,
            })?;
        Ok(DebugObject {
            path: path.to_owned(),
            build_id: Some(build_id.clone()),
            relocatable: false,
            symtab,
            lines: Lines::Warm(table),
        })
    }

    /// Parses every unit and serializes the persisted index. `None` without a build id
    /// or when the object was itself loaded from an index.
    pub fn encode_index(&self, threads: usize) -> Option<Vec<u8>> {
        let id = self.build_id.as_ref()?;
        match &self.lines {
            Lines::Cold { file, units } => {
                let table = units.build_all(file, threads);
                Some(index::encode(id, &self.symtab, &table))
            }
            Lines::Warm(_) => None,
        }
    }

    pub fn symtab(&self) -> &Symtab {
        &self.symtab
    }

    /// Heap bytes held (symbols, built tables, decompressed sections).
    pub fn heap_bytes(&self) -> usize {
        self.symtab.heap_bytes()
            + match &self.lines {
                Lines::Cold { file, units } => {
                    file.owned_bytes()
                        + units.built_bytes.load(std::sync::atomic::Ordering::Relaxed)
                }
                Lines::Warm(t) => t.heap_bytes(),
            }
    }

    /// Parses the units covering `pcs`, in parallel (no-op when warm).
    pub fn prepare(&self, pcs: &[u64], threads: usize) {
        if let Lines::Cold { file, units } = &self.lines {
            units.prepare(file, pcs, threads);
        }
    }

    /// The inline chain at `pc`, innermost first, names filled from the symbol table
    /// where DWARF has none. Empty when neither knows the address.
    pub fn source_at(&self, pc: u64) -> Vec<SourceLoc> {
        self.source_and_function(pc).0
    }

    /// `source_at` plus the DWARF name of the outermost function, when DWARF has one.
    pub fn source_and_function(&self, pc: u64) -> (Vec<SourceLoc>, Option<String>) {
        // Named by the symbol within its ELF size (the override below, as llvm does), or
        // within its kallsyms extent (padding included) where DWARF names nothing.
        let sym_name: Option<&str> = self
            .symtab
            .containing_sized(pc)
            .map(|s| self.symtab.name(&s));
        let extent_name: Option<&str> = self.symtab.containing(pc).map(|s| self.symtab.name(&s));
        let convert = |chain: Vec<crate::table::ChainEntry<'_>>| -> Vec<SourceLoc> {
            chain
                .into_iter()
                .map(|e| SourceLoc {
                    function: e.function.or(extent_name).unwrap_or("??").to_owned(),
                    file: e.file.map(str::to_owned),
                    line: (e.line != 0).then_some(e.line),
                    column: (e.column != 0).then_some(e.column),
                    inlined: e.inlined,
                })
                .collect()
        };
        let mut out = match &self.lines {
            Lines::Warm(t) => convert(t.chain(pc)),
            Lines::Cold { file, units } => match units.table_for(file, pc).as_deref() {
                Some(Ok(t)) => convert(t.table.chain(pc)),
                _ => Vec::new(),
            },
        };
        // The outermost frame is named as the symbol table names it (`foo.cold`,
        // `bar.isra.0`, an asm label), like llvm-symbolizer; `source_function` keeps the
        // DWARF name of the function it belongs to.
        let mut dwarf_name = None;
        if let Some(last) = out.last_mut() {
            match sym_name {
                Some(name) if name != last.function => {
                    let dwarf = std::mem::replace(&mut last.function, name.to_owned());
                    dwarf_name = Some(dwarf).filter(|f| f != "??");
                }
                _ => dwarf_name = Some(last.function.clone()).filter(|f| f != "??"),
            }
        }
        if out.is_empty()
            && let Some(name) = extent_name
        {
            out.push(SourceLoc {
                function: name.to_owned(),
                file: None,
                line: None,
                column: None,
                inlined: false,
            });
        }
        (out, dwarf_name)
    }

    fn hit(&self, pc: u64) -> Option<SymbolHit> {
        let s = self.symtab.containing(pc)?;
        Some(SymbolHit {
            name: self.symtab.name(&s).to_owned(),
            addr: s.addr,
            len: s.ksize,
            offset: pc - s.addr,
        })
    }

    /// Resolves a printed frame to the pc(s) to look up (several when the name is
    /// ambiguous). Pure: uses only the symbol table.
    pub fn frame_pcs(&self, frame: &Frame, kaslr: Option<u64>) -> Result<Vec<u64>, FrameError> {
        let object = self.path.display().to_string();
        let back = u64::from(!frame.exact);
        if let Some(name) = &frame.function {
            let off = frame.offset.unwrap_or(0);
            let mut cands = self.symtab.by_name(name);
            if cands.is_empty() {
                cands = self.symtab.by_llvm_prefix(name);
            }
            if cands.is_empty() {
                return Err(FrameError::SymbolNotFound {
                    name: name.clone(),
                    object,
                });
            }
            let fits = |s: &Sym| {
                frame.size.is_none_or(|len| s.ksize == len)
                    && (off < s.ksize || (!frame.exact && off == s.ksize))
            };
            let kept: Vec<Sym> = cands.iter().copied().filter(fits).collect();
            if kept.is_empty() {
                let have = cands
                    .iter()
                    .map(|s| format!("{:#x}", s.ksize))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(FrameError::Mismatch {
                    name: name.clone(),
                    off,
                    len: frame.size.unwrap_or(0),
                    object,
                    have,
                });
            }
            return Ok(kept
                .iter()
                .map(|s| s.addr.wrapping_add(off).wrapping_sub(back))
                .collect());
        }
        let Some(addr) = frame.address else {
            return Err(FrameError::Empty);
        };
        if let Some(m) = &frame.module {
            return Err(FrameError::ModuleAddress(addr, m.clone()));
        }
        let pc = addr.wrapping_sub(kaslr.unwrap_or(0)).wrapping_sub(back);
        if self.symtab.containing(pc).is_none() {
            let hint = if kaslr.is_none() {
                " (is a KASLR offset missing?)".to_owned()
            } else {
                " (wrong KASLR offset?)".to_owned()
            };
            return Err(FrameError::OutOfRange { addr, object, hint });
        }
        Ok(vec![pc])
    }

    /// Resolves pcs computed by `frame_pcs` (call `prepare` first for speed).
    pub fn resolve(&self, frame: &Frame, pcs: &[u64]) -> Result<Symbolized, FrameError> {
        let results: Vec<Symbolized> = pcs
            .iter()
            .map(|&pc| {
                let (source, source_function) = self.source_and_function(pc);
                Symbolized {
                    pc,
                    object: self.path.clone(),
                    symbol: self.hit(pc),
                    source,
                    source_function,
                }
            })
            .collect();
        if results.len() <= 1 {
            return results.into_iter().next().ok_or(FrameError::Empty);
        }
        match results.as_slice() {
            [] => Err(FrameError::Empty),
            [first, rest @ ..] => {
                if rest.iter().all(|r| r.source == first.source) {
                    return results.into_iter().next().ok_or(FrameError::Empty);
                }
                Err(FrameError::Ambiguous {
                    name: frame.function.clone().unwrap_or_default(),
                    off: frame.offset.unwrap_or(0),
                    object: self.path.display().to_string(),
                    candidates: results
                        .iter()
                        .map(|r| Candidate {
                            addr: r.pc,
                            location: r
                                .source
                                .last()
                                .map(|s| {
                                    format!(
                                        "{}:{}",
                                        s.file.as_deref().unwrap_or("??"),
                                        s.line.unwrap_or(0)
                                    )
                                })
                                .unwrap_or_else(|| "??".into()),
                        })
                        .collect(),
                })
            }
        }
    }
}

/// A located debug object, or why none was found.
type Located = Result<Arc<DebugObject>, String>;

/// The object a frame resolves in and the pc(s) to look up there.
type Plan = (Arc<DebugObject>, Vec<u64>);

struct Entry {
    obj: Arc<DebugObject>,
    last_used: u64,
}

#[derive(Default)]
struct State {
    objects: HashMap<String, Entry>,
    /// (what, release, build id) → object key, or the error and when it happened.
    located: HashMap<String, Result<String, (String, Instant)>>,
    module_dirs: HashMap<PathBuf, Arc<HashMap<String, PathBuf>>>,
    tick: u64,
}

/// Symbolizes frames of kernel reports. Shareable across threads (`&self` everywhere).
pub struct Symbolizer {
    cfg: SymbolizerConfig,
    debuginfod: Option<Debuginfod>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Symbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolizer")
            .field("cfg", &self.cfg)
            .finish()
    }
}

impl Symbolizer {
    pub fn new(config: SymbolizerConfig) -> Symbolizer {
        let debuginfod = (!config.debuginfod_urls.is_empty()).then(|| Debuginfod {
            urls: config.debuginfod_urls.clone(),
            cache_dir: config
                .debuginfod_cache
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("debuginfod_client")),
            max_bytes: 4 << 30,
            timeout: Duration::from_secs(90),
        });
        Symbolizer {
            cfg: config,
            debuginfod,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent (each update
        // is a single insert), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Symbolizes every frame of `report` (the RIP and every stack), filling
    /// `Frame::source` or `Frame::symbolize_error`.
    pub fn symbolize_report(&self, report: &mut Report, kernel: &KernelRef) -> SymbolizeSummary {
        let mut kernel = kernel.clone();
        if kernel.kaslr_offset.is_none() {
            kernel.kaslr_offset = report.kaslr_offset;
        }
        if kernel.release.is_none() {
            kernel.release = report.kernel_release.clone();
        }
        let mut frames: Vec<&mut Frame> = Vec::new();
        if let Some(rip) = report.rip.as_mut() {
            frames.push(rip);
        }
        for s in &mut report.stacks {
            frames.extend(s.frames.iter_mut());
        }
        let inputs: Vec<Frame> = frames.iter().map(|f| (**f).clone()).collect();
        let results = self.symbolize_frames(&inputs, &kernel);
        let mut sum = SymbolizeSummary::default();
        for (f, r) in frames.into_iter().zip(results) {
            sum.frames += 1;
            match r {
                Ok(s) => {
                    sum.resolved += 1;
                    f.source = s.source;
                    f.symbolize_error = None;
                }
                Err(e) => {
                    sum.failed += 1;
                    let msg = e.to_string();
                    if sum.errors.len() < 16 && !sum.errors.contains(&msg) {
                        sum.errors.push(msg.clone());
                    }
                    f.source.clear();
                    f.symbolize_error = Some(msg);
                }
            }
        }
        sum
    }

    /// Symbolizes one frame.
    pub fn symbolize_frame(
        &self,
        frame: &Frame,
        kernel: &KernelRef,
    ) -> Result<Symbolized, FrameError> {
        self.symbolize_frames(std::slice::from_ref(frame), kernel)
            .pop()
            .unwrap_or(Err(FrameError::Empty))
    }

    /// Symbolizes raw vmlinux addresses (KASLR offset removed when given), as exact pcs.
    pub fn symbolize_addresses(
        &self,
        addrs: &[u64],
        kernel: &KernelRef,
    ) -> Vec<Result<Symbolized, FrameError>> {
        let frames: Vec<Frame> = addrs
            .iter()
            .map(|&a| Frame {
                address: Some(a),
                exact: true,
                reliable: true,
                ..Frame::default()
            })
            .collect();
        self.symbolize_frames(&frames, kernel)
    }

    /// Symbolizes a batch of frames; units are parsed once per batch, in parallel.
    pub fn symbolize_frames(
        &self,
        frames: &[Frame],
        kernel: &KernelRef,
    ) -> Vec<Result<Symbolized, FrameError>> {
        // Phase 1: object and pcs per frame (symbol table only).
        let mut plans: Vec<Result<Plan, FrameError>> = Vec::with_capacity(frames.len());
        // One lookup per distinct (module, build id) in the batch, not one per frame.
        let mut objects: HashMap<(Option<&str>, Option<&str>), Located> = HashMap::new();
        for f in frames {
            let key = (f.module.as_deref(), f.build_id.as_deref());
            let obj = objects
                .entry(key)
                .or_insert_with(|| match &f.module {
                    Some(m) => {
                        let bid = f.build_id.as_deref().and_then(|b| BuildId::parse(b).ok());
                        self.module(m, kernel.release.as_deref(), bid.as_ref())
                    }
                    None => self.vmlinux(kernel),
                })
                .clone();
            plans.push(match obj {
                Ok(o) => o.frame_pcs(f, kernel.kaslr_offset).map(|pcs| (o, pcs)),
                Err(e) => Err(FrameError::Object(e)),
            });
        }
        // Phase 2: parse the needed units per object, in parallel.
        let mut by_obj: HashMap<*const DebugObject, (Arc<DebugObject>, Vec<u64>)> = HashMap::new();
        for (o, pcs) in plans.iter().flatten() {
            by_obj
                .entry(Arc::as_ptr(o))
                .or_insert_with(|| (o.clone(), Vec::new()))
                .1
                .extend(pcs);
        }
        for (o, pcs) in by_obj.values() {
            o.prepare(pcs, self.cfg.threads);
        }
        // Resolve in address order: consecutive lookups then share cache lines of the
        // tables (a batch of 10,000 random addresses is twice as fast this way).
        let mut order: Vec<usize> = (0..frames.len()).collect();
        order.sort_by_key(|&i| {
            plans[i]
                .as_ref()
                .map_or(0, |(_, pcs)| pcs.first().copied().unwrap_or(0))
        });
        let mut out: Vec<Option<Result<Symbolized, FrameError>>> =
            (0..frames.len()).map(|_| None).collect();
        let resolve = |i: usize| match &plans[i] {
            Ok((o, pcs)) => o.resolve(&frames[i], pcs),
            Err(e) => Err(e.clone()),
        };
        // Big batches resolve on several threads, each over a contiguous run of addresses.
        let threads = self.cfg.threads.clamp(1, 16);
        if threads > 1 && order.len() >= 2048 {
            let chunk = order.len().div_ceil(threads);
            let parts: Vec<Vec<(usize, Result<Symbolized, FrameError>)>> =
                std::thread::scope(|sc| {
                    let handles: Vec<_> = order
                        .chunks(chunk)
                        .map(|c| {
                            sc.spawn(|| c.iter().map(|&i| (i, resolve(i))).collect::<Vec<_>>())
                        })
                        .collect();
                    handles.into_iter().filter_map(|h| h.join().ok()).collect()
                });
            for (i, r) in parts.into_iter().flatten() {
                out[i] = Some(r);
            }
        } else {
            for i in order {
                out[i] = Some(resolve(i));
            }
        }
        self.enforce_bound();
        out.into_iter()
            .map(|r| r.unwrap_or(Err(FrameError::Empty)))
            .collect()
    }

    /// Drops least recently used objects until the cached heap fits the memory bound.
    fn enforce_bound(&self) {
        let mut st = self.state();
        loop {
            let total: usize = st.objects.values().map(|e| e.obj.heap_bytes()).sum();
            if total <= self.cfg.memory_bound || st.objects.len() <= 1 {
                break;
            }
            let Some(oldest) = st
                .objects
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            st.objects.remove(&oldest);
            st.located.retain(|_, v| v.as_ref() != Ok(&oldest));
        }
    }

    /// Number of debug objects currently cached.
    pub fn cached_objects(&self) -> usize {
        self.state().objects.len()
    }

    fn remembered(&self, what: &str) -> Option<Result<Arc<DebugObject>, String>> {
        let mut st = self.state();
        st.tick += 1;
        let tick = st.tick;
        match st.located.get(what)? {
            Ok(key) => {
                let key = key.clone();
                let e = st.objects.get_mut(&key)?;
                e.last_used = tick;
                Some(Ok(e.obj.clone()))
            }
            Err((msg, at)) if at.elapsed() < NEGATIVE_TTL => Some(Err(msg.clone())),
            Err(_) => None,
        }
    }

    fn remember(&self, what: &str, r: &Result<Arc<DebugObject>, String>) {
        let mut st = self.state();
        match r {
            Ok(o) => {
                let key = object_key(o);
                st.located.insert(what.to_owned(), Ok(key));
            }
            Err(e) => {
                st.located
                    .insert(what.to_owned(), Err((e.clone(), Instant::now())));
            }
        }
    }

    /// The vmlinux for `kernel`, in the documented search order.
    pub fn vmlinux(&self, kernel: &KernelRef) -> Result<Arc<DebugObject>, String> {
        let what = format!(
            "vmlinux|{}|{}",
            kernel.release.as_deref().unwrap_or(""),
            kernel.build_id.as_ref().map_or("", |b| b.as_str())
        );
        if let Some(r) = self.remembered(&what) {
            return r;
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = &self.cfg.vmlinux {
            candidates.push(p.clone());
        }
        for root in &self.cfg.debug_roots {
            if let Some(id) = &kernel.build_id {
                candidates.extend(locate::build_id_path(root, id));
            }
            if let Some(rel) = &kernel.release {
                candidates.push(root.join("boot").join(format!("vmlinux-{rel}")));
            }
        }
        let r = self
            .first_match(&candidates, kernel.build_id.as_ref(), "vmlinux")
            .map_err(|e| e.to_string());
        self.remember(&what, &r);
        r
    }

    /// The debug file of module `name`.
    pub fn module(
        &self,
        name: &str,
        release: Option<&str>,
        build_id: Option<&BuildId>,
    ) -> Result<Arc<DebugObject>, String> {
        let key = locate::module_key(name);
        let what = format!(
            "module|{key}|{}|{}",
            release.unwrap_or(""),
            build_id.map_or("", |b| b.as_str())
        );
        if let Some(r) = self.remembered(&what) {
            return r;
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        for p in &self.cfg.modules {
            if p.is_dir() {
                candidates.extend(self.scan(p).get(&key).cloned());
            } else if locate::module_name_of(p).as_deref() == Some(key.as_str()) {
                candidates.push(p.clone());
            }
        }
        for root in &self.cfg.debug_roots {
            if let Some(id) = build_id {
                candidates.extend(locate::build_id_path(root, id));
            }
            if let Some(rel) = release {
                let dir = root.join("lib/modules").join(rel);
                candidates.extend(self.scan(&dir).get(&key).cloned());
            }
        }
        let r = self
            .first_match(&candidates, build_id, &format!("module {name}"))
            .map_err(|e| e.to_string());
        self.remember(&what, &r);
        r
    }

    fn scan(&self, dir: &Path) -> Arc<HashMap<String, PathBuf>> {
        if let Some(m) = self.state().module_dirs.get(dir) {
            return m.clone();
        }
        let m = Arc::new(locate::scan_modules(dir));
        self.state().module_dirs.insert(dir.to_owned(), m.clone());
        m
    }

    /// Opens the first existing candidate (checking the build id), then tries the
    /// symbol source and debuginfod by build id.
    fn first_match(
        &self,
        candidates: &[PathBuf],
        want: Option<&BuildId>,
        what: &str,
    ) -> Result<Arc<DebugObject>, SymbolizeError> {
        let mut mismatch = None;
        for p in candidates {
            if !p.is_file() {
                continue;
            }
            match self.open(p, want) {
                Ok(o) => return Ok(o),
                Err(e @ SymbolizeError::BuildIdMismatch { .. }) => {
                    // An explicit file of the wrong build: remember, keep searching by id.
                    mismatch.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(id) = want {
            if let Some(src) = &self.cfg.symbol_source {
                match src.fetch(&locate::debuginfo_key(id)) {
                    Ok(Some(p)) => return self.open(&p, want),
                    Ok(None) => {}
                    Err(reason) => {
                        tracing_like_warn(&format!("symbol source: {reason}"));
                    }
                }
            }
            if let Some(d) = &self.debuginfod {
                match d.fetch_debuginfo(id) {
                    Ok(Some(p)) => return self.open(&p, want),
                    Ok(None) => {}
                    Err(reason) => {
                        return Err(mismatch.unwrap_or(SymbolizeError::Fetch {
                            what: format!("{what} {id} from debuginfod"),
                            reason,
                        }));
                    }
                }
            }
        }
        Err(mismatch.unwrap_or_else(|| SymbolizeError::NotFound {
            what: match want {
                Some(id) => format!("{what} (build id {id})"),
                None => what.to_owned(),
            },
        }))
    }

    /// Opens a debug file: checks the build id, then uses the cache, a persisted
    /// index, or parses it (and persists an index when configured).
    pub fn open(
        &self,
        path: &Path,
        want: Option<&BuildId>,
    ) -> Result<Arc<DebugObject>, SymbolizeError> {
        let found = elf::read_build_id(path)?;
        if let Some(w) = want {
            match &found {
                Some(f) if f == w => {}
                Some(f) => {
                    return Err(SymbolizeError::BuildIdMismatch {
                        path: path.to_owned(),
                        expected: w.to_string(),
                        found: f.to_string(),
                    });
                }
                None => {
                    return Err(SymbolizeError::BuildIdMismatch {
                        path: path.to_owned(),
                        expected: w.to_string(),
                        found: "no build id".to_owned(),
                    });
                }
            }
        }
        let key = match &found {
            Some(id) => id.to_string(),
            None => format!("path:{}", path.display()),
        };
        {
            let mut st = self.state();
            st.tick += 1;
            let tick = st.tick;
            if let Some(e) = st.objects.get_mut(&key) {
                e.last_used = tick;
                return Ok(e.obj.clone());
            }
        }
        let obj = Arc::new(self.load_uncached(path, found.as_ref())?);
        let mut st = self.state();
        st.tick += 1;
        let tick = st.tick;
        st.objects.insert(
            key,
            Entry {
                obj: obj.clone(),
                last_used: tick,
            },
        );
        Ok(obj)
    }

    fn load_uncached(
        &self,
        path: &Path,
        id: Option<&BuildId>,
    ) -> Result<DebugObject, SymbolizeError> {
        if let Some(id) = id {
            if let Some(dir) = &self.cfg.index_dir {
                let ip = dir.join(format!("{id}.csidx"));
                if ip.is_file()
                    && let Ok(b) = crate::mmap::Bytes::map(&ip)
                    && let Ok(o) = DebugObject::from_index(path, id, b)
                {
                    return Ok(o);
                }
            }
            if let Some(src) = &self.cfg.symbol_source
                && let Ok(Some(ip)) = src.fetch(&locate::index_key(id))
                && let Ok(b) = crate::mmap::Bytes::map(&ip)
                && let Ok(o) = DebugObject::from_index(path, id, b)
            {
                return Ok(o);
            }
        }
        let obj = DebugObject::load(path)?;
        if let (Some(id), Some(dir), true) = (id, &self.cfg.index_dir, self.cfg.build_index)
            && let Some(bytes) = obj.encode_index(self.cfg.threads)
        {
            let ip = dir.join(format!("{id}.csidx"));
            let tmp = dir.join(format!(".{id}.csidx.{}.tmp", std::process::id()));
            let written = std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&tmp, &bytes))
                .and_then(|_| std::fs::rename(&tmp, &ip));
            if let Err(e) = &written {
                let _ = std::fs::remove_file(&tmp);
                tracing_like_warn(&format!("cannot write index {}: {e}", ip.display()));
            }
            if let Some(src) = &self.cfg.symbol_source
                && let Err(e) = src.put(&locate::index_key(id), &bytes)
            {
                tracing_like_warn(&format!("cannot store index in the symbol source: {e}"));
            }
            // Serve from the merged table (mapped when written): unit tables are freed.
            let held = match written.is_ok().then(|| crate::mmap::Bytes::map(&ip)) {
                Some(Ok(mapped)) => mapped,
                _ => crate::mmap::Bytes::Owned(bytes),
            };
            return DebugObject::from_index(path, id, held);
        }
        Ok(obj)
    }
}

fn object_key(o: &DebugObject) -> String {
    match &o.build_id {
        Some(id) => id.to_string(),
        None => format!("path:{}", o.path.display()),
    }
}

/// The crate has no logging dependency; warnings go to stderr, once per message site.
fn tracing_like_warn(msg: &str) {
    eprintln!("crashsift-symbolize: warning: {msg}");
}
