//! Reads the kernel log out of a vmcore, with no vmlinux: the VMCOREINFO note names the
//! printk buffer and describes its layout.
//!
//! Start at [`open`]: it maps the file, recognizes the format by its magic bytes and parses
//! only the headers; [`Vmcore::read_log`] then follows VMCOREINFO to the log and reads just
//! the pages it needs, so the cost depends on the log's size, not the dump's. The nouns:
//! a [`Vmcore`] has a [`VmcoreInfo`] and yields a [`KernelLog`] of [`Record`]s.
//!
//! Formats: ELF (`/proc/vmcore` copies with virtual `PT_LOAD`s, QEMU `dump-guest-memory`
//! with physical ones, extended program header counts), kdump-compressed (`KDUMP   `, zlib,
//! LZO, snappy and zstd pages, dump-level filtering), and makedumpfile's flattened stream
//! of either. Truncated dumps yield what is there plus warnings naming what is missing.
//!
//! Modules in reading order:
//! - [`vmcoreinfo`]: the typed VMCOREINFO note.
//! - `source`, `flat`, `mapped`: the file bytes, flattened streams, the memory map.
//! - `elf`, `kdump`, `decompress`, `lzo`: the dump formats.
//! - `memory`: kernel virtual memory over any format (x86_64 translation).
//! - `printk`, `legacy`: the two printk buffer generations.
//! - [`log`]: records and dmesg text.
//! - [`cli`]: `crashsift dmesg`.

pub mod cli;
mod decompress;
mod elf;
mod error;
mod flat;
mod kdump;
mod legacy;
pub mod log;
#[doc(hidden)]
pub mod lzo;
mod mapped;
mod memory;
mod printk;
mod source;
pub mod vmcoreinfo;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use log::{Caller, KernelLog, Record};
pub use vmcoreinfo::VmcoreInfo;

use memory::{Arch, Body, Caches, DumpMemory, X86};
use source::{Container, Src, SrcReader};

/// The container and format of a dump, as recognized by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ELF core.
    Elf,
    /// kdump-compressed (`KDUMP   ` or the older `DISKDUMP`).
    Kdump,
}

/// An opened dump: its memory map and VMCOREINFO, ready to read the log.
#[derive(Debug)]
pub struct Vmcore {
    path: PathBuf,
    file: mapped::Mapped,
    container: Container,
    body: Body,
    info: VmcoreInfo,
    x86: Option<X86>,
    caches: Caches,
    warnings: Vec<String>,
}

/// Opens a dump: maps it and parses its headers and VMCOREINFO (reads no memory pages).
pub fn open(path: &Path) -> Result<Vmcore, Error> {
    let file = mapped::Mapped::open(path)?;
    let bytes = file.bytes();
    let flat = bytes
        .starts_with(flat::SIGNATURE)
        .then(|| flat::FlatIndex::scan(bytes.len(), |at, buf| file.pread(at, buf)));
    let pread = |at: u64, buf: &mut [u8]| usize::try_from(at).map_or(0, |at| file.pread(at, buf));
    let (container, body, info, x86, warnings) =
        parse(bytes, flat, Some(&pread)).map_err(|e| e.at(path))?;
    Ok(Vmcore {
        path: path.to_owned(),
        file,
        container,
        body,
        info,
        x86,
        caches: Caches::default(),
        warnings,
    })
}

type ParsedDump = (Container, Body, VmcoreInfo, Option<X86>, Vec<String>);

type FlatScan = Result<(flat::FlatIndex, Vec<String>), String>;

/// Positional reads through the file rather than the map, for tables read once.
type Pread<'a> = &'a dyn Fn(u64, &mut [u8]) -> usize;

/// Recognizes and parses a dump held in `bytes` (pure; [`open`] maps the file). `flat` is
/// the index of a flattened file when the caller already scanned it; `pread` reads the
/// plain file without faulting its pages into our memory.
fn parse(
    bytes: &[u8],
    flat: Option<FlatScan>,
    pread: Option<Pread<'_>>,
) -> Result<ParsedDump, Error> {
    let mut warnings = Vec::new();
    let container = if bytes.starts_with(flat::SIGNATURE) {
        let scanned = flat.unwrap_or_else(|| flat::FlatIndex::build(bytes));
        let (index, w) = scanned.map_err(Error::Malformed)?;
        warnings.extend(w);
        Container::Flat(index)
    } else {
        Container::Plain
    };
    let src = Src {
        data: bytes,
        container: &container,
    };
    let mut magic = [0u8; 8];
    let n = src.read_at(0, &mut magic);
    let (body, note, w) = if n >= 4 && magic[..4] == *b"\x7fELF" {
        let src_read = |at: u64, buf: &mut [u8]| src.read_at(at, buf);
        let table: Pread<'_> = match (src.plain(), pread) {
            (Some(_), Some(pread)) => pread,
            _ => &src_read,
        };
        let (elf, note, w) = match src.plain() {
            Some(plain) => elf::parse(plain, src.len(), table)?,
            None => {
                let cache = object::read::ReadCache::new(SrcReader { src, pos: 0 });
                elf::parse(&cache, src.len(), table)?
            }
        };
        (Body::Elf(elf), note, w)
    } else if n == 8 && (&magic == kdump::SIGNATURE || &magic == kdump::OLD_SIGNATURE) {
        let (kd, note, w) = kdump::parse(src)?;
        (Body::Kdump(kd), note, w)
    } else if n == 0 {
        return Err(Error::Malformed("the file is empty".into()));
    } else {
        return Err(Error::Unsupported(format!(
            "unknown dump format (magic {:02x?}); compressed wrappers (gzip, xz, ...) must be unpacked first",
            &magic[..n]
        )));
    };
    warnings.extend(w);
    let info = VmcoreInfo::parse(&note.ok_or(Error::NoVmcoreinfo)?);
    if info.is_empty() {
        return Err(Error::NoVmcoreinfo);
    }
    let (arch, fallback_phys_base) = match &body {
        Body::Elf(e) => (e.arch, None),
        Body::Kdump(k) => (k.arch, Some(k.phys_base)),
    };
    // kdump headers from some writers leave utsname.machine empty; VMCOREINFO's x86 keys
    // identify the architecture as well.
    let x86 = (arch == Arch::X86_64
        || (arch == Arch::Other(0) && info.symbol("init_top_pgt").is_some()))
    .then(|| X86::new(&info, fallback_phys_base));
    Ok((container, body, info, x86, warnings))
}

impl Vmcore {
    /// The dump's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dump's format.
    pub fn format(&self) -> Format {
        match self.body {
            Body::Elf(_) => Format::Elf,
            Body::Kdump(_) => Format::Kdump,
        }
    }

    /// Whether the file is a makedumpfile flattened stream.
    pub fn is_flattened(&self) -> bool {
        matches!(self.container, Container::Flat(_))
    }

    /// The VMCOREINFO note: kernel release, build id, KASLR offset, and the layout keys.
    pub fn vmcoreinfo(&self) -> &VmcoreInfo {
        &self.info
    }

    /// Warnings found while opening (a truncated file, an incomplete dump); they are also
    /// the first warnings of [`Vmcore::read_log`].
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Reads the kernel log: the lockless ring buffer when VMCOREINFO has `SYMBOL(prb)`,
    /// else the legacy `log_buf`. Fails only when the log cannot be located at all; lost
    /// records are warnings.
    pub fn read_log(&self) -> Result<KernelLog, Error> {
        let src = Src {
            data: self.file.bytes(),
            container: &self.container,
        };
        let mem = DumpMemory {
            src,
            body: &self.body,
            x86: self.x86.as_ref(),
            caches: &self.caches,
        };
        let result = if self.info.symbol("prb").is_some() {
            printk::read(&mem, &self.info)
        } else if self.info.symbol("log_buf").is_some() {
            legacy::read(&mem, &self.info)
        } else {
            Err(Error::Unsupported(
                "VMCOREINFO names no printk buffer (neither SYMBOL(prb) nor SYMBOL(log_buf))"
                    .into(),
            ))
        };
        let mut log = result.map_err(|e| e.at(&self.path))?;
        let mut warnings = self.warnings.clone();
        warnings.append(&mut log.warnings);
        log.warnings = warnings;
        Ok(log)
    }
}

/// Parses a dump held in memory and reads its log: the whole reader as one pure function
/// (for fuzzing and tests; [`open`] is the real entry point).
pub fn read_log_from_bytes(bytes: &[u8]) -> Result<KernelLog, Error> {
    let (container, body, info, x86, warnings) = parse(bytes, None, None)?;
    let caches = Caches::default();
    let src = Src {
        data: bytes,
        container: &container,
    };
    let mem = DumpMemory {
        src,
        body: &body,
        x86: x86.as_ref(),
        caches: &caches,
    };
    let mut log = if info.symbol("prb").is_some() {
        printk::read(&mem, &info)?
    } else {
        legacy::read(&mem, &info)?
    };
    let mut all = warnings;
    all.append(&mut log.warnings);
    log.warnings = all;
    Ok(log)
}
