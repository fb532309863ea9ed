//! Segmentation and body parsing: find header lines with one automaton pass, walk each
//! report's lines (same printk caller only), collect its stacks, registers and context,
//! decide where it ends, and finish it into a `Report` with title, guilty frame,
//! signature, aliases and corruption verdict.

use crate::frame::{parse_bracket_frames, parse_frame, parse_hex, parse_symbol};
use crate::guilty::{self, Guilty};
use crate::header::{Header, Role, TRIGGERS, classify};
use crate::prefix::{Ctx, Source, Stripped, strip};
use crate::signature::{self, normalize_function};
use aho_corasick::{AhoCorasick, Input, MatchKind};
use crashsift_model::report::{Access, AccessType, Frame, Kind, Report, Stack};
use std::sync::OnceLock;

/// Lines of a report after which a lone panic still belongs to it.
const PANIC_ATTACH_LINES: usize = 40;
/// A panic with its own message belongs to the report it follows this closely.
const PANIC_NEAR_LINES: usize = 2;
/// A secondary header this close to the start of a frameless report continues it.
const YOUNG_LINES: usize = 12;
/// Hard cap on the lines of one report.
const MAX_REPORT_LINES: usize = 1500;

/// The trigger automaton, built once: an immutable precompiled table, not state.
fn automaton() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(TRIGGERS)
            .ok()
    })
    .as_ref()
}

/// Byte offsets of the starts of lines that contain a trigger, ascending.
pub fn candidate_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(ac) = automaton() else { return out };
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(m) = ac.find(Input::new(bytes).span(pos..bytes.len())) else {
            break;
        };
        let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        out.push(start);
        pos = memchr::memchr(b'\n', &bytes[m.end()..]).map_or(bytes.len(), |i| m.end() + i + 1);
    }
    out
}

/// Counts lines up to increasing byte positions.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn line_of(&mut self, p: usize) -> usize {
        if p >= self.pos {
            self.line += memchr::memchr_iter(b'\n', &self.bytes[self.pos..p]).count();
        } else {
            self.line -= memchr::memchr_iter(b'\n', &self.bytes[p..self.pos]).count();
        }
        self.pos = p;
        self.line
    }
}

/// Why a report stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Marker,
    NextReport,
    Boot,
    Quiet,
    Eof,
    Cap,
}

/// A report being assembled.
#[derive(Debug)]
struct Builder {
    kind: Kind,
    sub_kind: Option<String>,
    message: Option<String>,
    header_funcs: Vec<Frame>,
    access: Option<Access>,
    cpu: Option<u32>,
    pid: Option<u32>,
    comm: Option<String>,
    kernel_release: Option<String>,
    taint: Option<String>,
    hardware: Option<String>,
    rip: Option<Frame>,
    stacks: Vec<Stack>,
    /// Index of the stack frames go to, and whether a header line opened it.
    cur: Option<(usize, bool)>,
    allow_bare: bool,
    kaslr: Option<u64>,
    ctx: Ctx,
    weak: bool,
    reasons: Vec<String>,
    header_line: usize,
    start_line: usize,
    end_line: usize,
    text: String,
    /// `text` length and line after the last line that looked like report content.
    mark: (usize, usize),
    frames: usize,
    nmi_mode: bool,
    in_panic: bool,
    panic_only: bool,
    lockdep_site: u8,
    end: End,
    last_was_frame: bool,
    /// The report ended at its own closing line (`====`, `---[ end`); a panic it caused
    /// may follow and be absorbed, but the report itself is complete.
    closed: bool,
    /// The next frame is the first of a stack saved from the fault's `pt_regs`: the
    /// faulting pc itself, not a return address (see [`Builder::fault_stack`]).
    pc_first: bool,
}

/// Parses every crash report in a kernel log, in order of appearance.
pub fn parse(text: &str) -> Vec<Report> {
    let hits = candidate_lines(text);
    if hits.is_empty() {
        return Vec::new();
    }
    let bytes = text.as_bytes();
    let mut consumed = vec![false; hits.len()];
    let mut counter = LineCounter {
        bytes,
        pos: 0,
        line: 0,
    };
    let mut builders: Vec<Builder> = Vec::new();
    for hi in 0..hits.len() {
        if consumed[hi] {
            continue;
        }
        let pos = hits[hi];
        let line_end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let st = strip(&text[pos..line_end]);
        if st.source != Source::Kernel {
            continue;
        }
        let Some(h) = classify(st.text) else { continue };
        let line_no = counter.line_of(pos);
        consumed[hi] = true;
        if let Role::Panic { consequence } = h.role
            && let Some(b) = builders.iter_mut().rev().find(|b| b.ctx == st.ctx)
        {
            let reach = if consequence {
                PANIC_ATTACH_LINES
            } else {
                PANIC_NEAR_LINES
            };
            if b.end != End::Open && line_no <= b.mark.1 + reach && !b.in_panic {
                b.end = End::Open;
                b.absorb_panic(&st);
                b.run(text, line_end + 1, line_no + 1, &hits, &mut consumed);
                continue;
            }
        }
        let mut b = Builder::new(h, &st, line_no);
        b.add_pre_lines(text, pos, st.ctx);
        b.run(text, line_end + 1, line_no + 1, &hits, &mut consumed);
        builders.push(b);
    }
    let mut reports: Vec<Report> = builders.into_iter().filter_map(Builder::finish).collect();
    reports.sort_by_key(|r| r.start_line);
    reports
}

fn is_sanitizer(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Kasan | Kind::Kfence | Kind::Kmsan | Kind::Kcsan | Kind::Ubsan
    )
}

impl Builder {
    fn new(h: Header, st: &Stripped<'_>, line_no: usize) -> Self {
        let panic_only = matches!(h.role, Role::Panic { consequence: true });
        let mut b = Builder {
            kind: h.kind,
            sub_kind: h.sub_kind,
            message: h.message,
            header_funcs: h.funcs,
            access: h.access,
            cpu: h.cpu,
            pid: h.pid,
            comm: h.comm,
            kernel_release: None,
            taint: None,
            hardware: None,
            rip: None,
            stacks: Vec::new(),
            cur: None,
            allow_bare: false,
            kaslr: None,
            ctx: st.ctx,
            weak: h.weak,
            reasons: Vec::new(),
            header_line: line_no,
            start_line: line_no,
            end_line: line_no + 1,
            text: String::new(),
            mark: (0, line_no),
            frames: 0,
            nmi_mode: false,
            in_panic: false,
            panic_only,
            lockdep_site: 0,
            end: End::Open,
            last_was_frame: false,
            closed: false,
            pc_first: false,
        };
        if has_inner_timestamp(st.text) {
            b.reasons
                .push("header line holds a second log line (merged output)".into());
        }
        b.text.push_str(st.text);
        b.mark = (b.text.len(), line_no);
        b
    }

    /// Takes the `cut here` line and separators printed just before the header.
    fn add_pre_lines(&mut self, text: &str, pos: usize, ctx: Ctx) {
        let bytes = text.as_bytes();
        let mut end = pos;
        let mut pre: Vec<&str> = Vec::new();
        let mut found_cut = None;
        for k in 0..4 {
            if end == 0 {
                break;
            }
            let line_end = end - 1;
            let start = memchr::memrchr(b'\n', &bytes[..line_end]).map_or(0, |i| i + 1);
            let st = strip(&text[start..line_end]);
            end = start;
            if st.ctx != ctx || st.source != Source::Kernel {
                break;
            }
            let t = st.text.trim();
            pre.push(st.text);
            if t.contains("[ cut here ]") {
                found_cut = Some(k + 1);
                break;
            }
        }
        let take = match found_cut {
            Some(n) => n,
            None => pre
                .iter()
                .take_while(|l| {
                    let t = l.trim();
                    t.len() >= 10 && t.bytes().all(|c| c == b'=' || c == b'-')
                })
                .count(),
        };
        if take == 0 {
            return;
        }
        let mut head = String::new();
        for l in pre[..take].iter().rev() {
            head.push_str(l);
            head.push('\n');
        }
        self.text.insert_str(0, &head);
        self.mark.0 += head.len();
        self.start_line = self.header_line - take;
    }

    fn absorb_panic(&mut self, st: &Stripped<'_>) {
        self.in_panic = true;
        self.cur = None;
        self.text.push('\n');
        self.text.push_str(st.text);
        self.mark = (self.text.len(), self.mark.1);
    }

    /// Walks lines from `pos` (line `line_no`) until the report ends.
    fn run(
        &mut self,
        text: &str,
        mut pos: usize,
        mut line_no: usize,
        hits: &[usize],
        consumed: &mut [bool],
    ) {
        let bytes = text.as_bytes();
        let mut hi = hits.partition_point(|&h| h < pos);
        let mut own_lines = 0usize;
        self.mark.1 = line_no.saturating_sub(1);
        loop {
            if pos >= bytes.len() {
                self.end = End::Eof;
                self.end_line = line_no;
                break;
            }
            let line_end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            while hi < hits.len() && hits[hi] < pos {
                hi += 1;
            }
            let is_hit = hi < hits.len() && hits[hi] == pos;
            let st = strip(&text[pos..line_end]);
            let foreign = st.source != Source::Kernel
                || (self.ctx != Ctx::None
                    && st.ctx != self.ctx
                    && !(self.nmi_mode && matches!(st.ctx, Ctx::Cpu(_))));
            if !foreign {
                let t = st.text.trim();
                if t.starts_with("Linux version ") || t.starts_with("Booting Linux on physical CPU")
                {
                    self.end = End::Boot;
                    self.end_line = line_no;
                    break;
                }
                let header = if is_hit { classify(st.text) } else { None };
                let mut consume = true;
                match header {
                    Some(h) if self.attaches_panic(&h, line_no) => {
                        self.in_panic = true;
                        self.cur = None;
                        self.push_line(st.text, line_no, true);
                    }
                    Some(h) if self.continues_with(&h, line_no) => {
                        self.merge(h);
                        self.push_line(st.text, line_no, true);
                    }
                    Some(_) => {
                        consume = false;
                        if is_sanitizer(self.kind) && !self.closed {
                            self.reasons.push("interrupted by another report".into());
                        }
                        self.end = End::NextReport;
                        self.end_line = line_no;
                    }
                    None => {
                        let meaningful = self.body_line(t);
                        self.push_line(st.text, line_no, meaningful);
                        if self.is_end_marker(t, own_lines) {
                            self.closed = true;
                            self.end = End::Marker;
                            self.end_line = line_no + 1;
                        }
                    }
                }
                if is_hit && consume {
                    consumed[hi] = true;
                }
                if self.end != End::Open {
                    break;
                }
                own_lines += 1;
                let quiet = if is_sanitizer(self.kind) { 45 } else { 25 };
                if self.frames > 0 && line_no - self.mark.1 > quiet {
                    self.end = End::Quiet;
                    break;
                }
                if own_lines > MAX_REPORT_LINES {
                    self.end = End::Cap;
                    self.end_line = line_no + 1;
                    break;
                }
            }
            pos = line_end + 1;
            line_no += 1;
        }
        if matches!(
            self.end,
            End::Quiet | End::Eof | End::NextReport | End::Boot
        ) {
            // drop trailing lines that are not report content
            self.text.truncate(self.mark.0);
            self.end_line = self.mark.1 + 1;
        }
    }

    fn push_line(&mut self, line: &str, line_no: usize, meaningful: bool) {
        self.text.push('\n');
        self.text.push_str(line);
        if meaningful {
            self.mark = (self.text.len(), line_no);
        }
    }

    /// Whether header `h` continues this report rather than starting a new one.
    fn continues_with(&self, h: &Header, line_no: usize) -> bool {
        let young = line_no - self.header_line <= YOUNG_LINES && self.frames == 0;
        young
            && (h.role == Role::Secondary
                || matches!(h.kind, Kind::KernelBug | Kind::Warning | Kind::Oops)
                || (h.kind == Kind::ListCorruption && self.kind == Kind::ListCorruption)
                || (h.kind == Kind::Refcount && self.kind == Kind::Refcount))
    }

    /// Whether a panic line is this report's consequence rather than a crash of its own.
    fn attaches_panic(&self, h: &Header, line_no: usize) -> bool {
        match h.role {
            Role::Panic { consequence } => {
                consequence || self.frames == 0 || line_no <= self.mark.1 + PANIC_NEAR_LINES
            }
            _ => false,
        }
    }

    fn merge(&mut self, h: Header) {
        if self.kind == Kind::Oops && h.kind != Kind::Oops {
            self.kind = h.kind;
            self.sub_kind = h.sub_kind;
            self.message = h.message;
        }
        if self.header_funcs.is_empty() {
            self.header_funcs = h.funcs;
        }
        if self.access.is_none() {
            self.access = h.access;
        }
        self.cpu = self.cpu.or(h.cpu);
        self.pid = self.pid.or(h.pid);
        self.weak = false;
    }

    fn is_end_marker(&self, t: &str, own_lines: usize) -> bool {
        if t.starts_with("---[ end") {
            return true;
        }
        if is_sanitizer(self.kind)
            && own_lines >= 1
            && t.len() >= 20
            && t.bytes().all(|c| c == b'=')
        {
            return true;
        }
        self.kind == Kind::Bug
            && t.starts_with("FIX ")
            && self
                .sub_kind
                .as_deref()
                .is_some_and(|s| s.starts_with("slab"))
    }

    /// Interprets one body line; returns whether it is report content.
    fn body_line(&mut self, t: &str) -> bool {
        self.last_was_frame = false;
        if t.is_empty() {
            return false;
        }
        if self.lockdep_site > 0 {
            self.lockdep_site -= 1;
            if let Some(f) = lockdep_site(t) {
                if self.header_funcs.is_empty() && !self.in_panic {
                    self.header_funcs.push(f);
                }
                self.lockdep_site = 0;
                return true;
            }
        }
        if t.ends_with("is trying to acquire lock:")
            || t.ends_with("] takes:")
            || t.contains("is trying to release lock")
        {
            self.lockdep_site = 3;
            if let Some(f) = lockdep_site(t) {
                self.header_funcs.push(f);
                self.lockdep_site = 0;
            }
            return true;
        }
        if let Some((name, sub)) = stack_header(t, self) {
            self.open_stack(name, sub);
            if name == "access" && self.kind == Kind::Kfence {
                self.access_line(t);
                self.pc_first = Self::fault_stack(t);
            }
            if let Some(rest) = t.strip_prefix("Call Trace:").map(str::trim) {
                if rest.starts_with('[') && !rest.starts_with("[<") {
                    for f in parse_bracket_frames(rest) {
                        self.push_frame(f);
                    }
                } else if let Some(f) = parse_frame(rest, false) {
                    self.push_frame(f);
                }
            }
            return true;
        }
        if let Some(rip) = parse_rip(t) {
            if self.rip.is_none() && !self.in_panic {
                self.rip = rip;
            } else if self.rip.is_none() && self.kind == Kind::Kfence && !self.nmi_mode {
                // A KFENCE report prints no registers; the panic it caused (panic_on_warn,
                // kfence.fault=panic) runs inside the page fault, and the `RIP:` of the
                // fault's pt_regs in its trace is the faulting pc. Other panic tails may
                // show other CPUs' registers (NMI backtraces), so only KFENCE borrows it.
                self.rip = rip.filter(|f| f.function.is_some());
            }
            return true;
        }
        if self.task_line(t) || self.access_line(t) {
            return true;
        }
        if let Some(rest) = t.strip_prefix("Hardware name: ") {
            self.hardware.get_or_insert_with(|| rest.trim().to_owned());
            return true;
        }
        if let Some(rest) = t.strip_prefix("Kernel Offset: ") {
            if self.kaslr.is_none() {
                self.kaslr = if rest.starts_with("disabled") {
                    Some(0)
                } else {
                    rest.split_whitespace().next().and_then(parse_hex)
                };
            }
            return true;
        }
        if t.starts_with("Sending NMI from CPU") {
            self.nmi_mode = true;
            return true;
        }
        if self.kind == Kind::Ubsan && self.sub_kind.as_deref() == Some("undefined-behaviour") {
            self.sub_kind = Some(ubsan_refine(t).to_owned());
            return true;
        }
        if let Some(f) = parse_frame(t, self.allow_bare) {
            self.push_frame(f);
            self.last_was_frame = true;
            return true;
        }
        self.stacks.is_empty() || is_register_like(t)
    }

    fn open_stack(&mut self, name: &str, sub_stack: bool) {
        self.pc_first = false;
        if let Some((i, from_header)) = self.cur
            && self.stacks[i].frames.is_empty()
        {
            let base = self.stacks[i]
                .name
                .split('#')
                .next()
                .unwrap_or("")
                .to_owned();
            if sub_stack || name == base {
                self.stacks[i].name = self.unique_name(name, Some(i));
                self.allow_bare = name == "call_trace" || self.allow_bare;
                return;
            }
            if from_header {
                self.reasons
                    .push(format!("stack '{}' has no frames", self.stacks[i].name));
            }
        }
        let name = if self.in_panic && !sub_stack {
            "panic".to_owned()
        } else {
            self.unique_name(name, None)
        };
        self.stacks.push(Stack {
            name,
            frames: Vec::new(),
        });
        self.cur = Some((self.stacks.len() - 1, !sub_stack));
        self.allow_bare = self
            .stacks
            .last()
            .is_some_and(|s| s.name.starts_with("call_trace"));
    }

    fn unique_name(&self, name: &str, except: Option<usize>) -> String {
        let taken = |n: &str| {
            self.stacks
                .iter()
                .enumerate()
                .any(|(i, s)| Some(i) != except && s.name == n)
        };
        if !taken(name) {
            return name.to_owned();
        }
        (2..)
            .map(|k| format!("{name}#{k}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }

    fn push_frame(&mut self, f: Frame) {
        if self.cur.is_none() {
            let name = if self.in_panic {
                "panic"
            } else {
                match self.kind {
                    Kind::Kfence | Kind::Kmsan => "access",
                    Kind::MemoryLeak => "alloc",
                    _ => "call_trace",
                }
            };
            self.open_stack(name, true);
        }
        if let Some((i, _)) = self.cur {
            let mut f = f;
            if std::mem::take(&mut self.pc_first)
                && self.stacks[i].frames.is_empty()
                && f.reliable
                && !f
                    .function
                    .as_deref()
                    .is_some_and(|n| n.starts_with("kfence_") || n.starts_with("__kfence_"))
            {
                f.exact = true;
            }
            self.stacks[i].frames.push(f);
            self.frames += 1;
        }
    }

    /// x86 prints the `pt_regs` an exception saved on the stack as a `? ` frame equal to
    /// the `RIP:` line (`? demo_queue_pop+0x8/0x20` after `? asm_exc_page_fault`): the
    /// same address, so the faulting pc, exact like the `RIP:` line itself.
    fn mark_stale_pc(&mut self) {
        let Some(rip) = self.rip.as_ref().filter(|r| r.offset.is_some()) else {
            return;
        };
        for f in self.stacks.iter_mut().flat_map(|s| s.frames.iter_mut()) {
            if !f.reliable
                && f.function.is_some()
                && (&f.function, f.offset, f.size, &f.module)
                    == (&rip.function, rip.offset, rip.size, &rip.module)
            {
                f.exact = true;
            }
        }
    }

    /// Whether a stack-opening line starts a stack saved from the fault's `pt_regs`, whose
    /// first entry is `regs->ip` (the faulting pc, `exact`) and the rest return addresses.
    ///
    /// The rule, per report kind:
    /// - KFENCE `Use-after-free|Out-of-bounds|Invalid read|write at ...:`: the access
    ///   stack comes from `kfence_handle_page_fault(addr, is_write, regs)`, saved with
    ///   `stack_trace_save_regs(regs, ...)` and printed without skipping (`skipnr` is 0
    ///   for these types), so its first frame is `regs->ip`. Were `regs` ever NULL the
    ///   stack would start inside KFENCE, so a first `kfence_*` frame stays inexact.
    /// - KFENCE `Corrupted memory at` and `Invalid free of`: reported from
    ///   `kfence_guarded_free()` with `regs == NULL`, saved with `stack_trace_save()` and
    ///   cut after the KFENCE/allocator frames: every frame is a return address.
    /// - KASAN, KMSAN, UBSAN, KCSAN, WARN and Oops `Call Trace:`s are unwinds from
    ///   `dump_stack()`/`show_stack()`, `stack_trace_save()`: return addresses only (and
    ///   `? ` stale words, which may be either and stay inexact, except a copy of the
    ///   `RIP:` line, see [`Builder::mark_stale_pc`]). The faulting pc of an
    ///   oops is its `RIP:` line, of arm64 its `pc :` line, and arm64 marks an exact
    ///   trace entry `(P)`; those are handled in `parse_rip` and `frame`.
    /// - Allocation and free stacks (KFENCE, KASAN, SLUB) are `stack_trace_save()`
    ///   return addresses.
    fn fault_stack(t: &str) -> bool {
        ["Use-after-free ", "Out-of-bounds ", "Invalid "]
            .iter()
            .any(|p| t.starts_with(p))
            && (t.contains(" read at ") || t.contains(" write at "))
    }

    /// `CPU: 1 PID: 2 Comm: x Not tainted 6.1.0 #1`, old `Pid: 1, comm: x`, lockdep's
    /// `3.5.0-rc5 #2 Not tainted`, `Process x (pid: 1, ...)`.
    fn task_line(&mut self, t: &str) -> bool {
        let is_cpu = t.starts_with("CPU: ") && (t.contains("PID: ") || t.contains("Comm: "));
        let is_pid = t.starts_with("Pid: ") && t.contains("comm: ");
        let is_version = !is_cpu
            && !is_pid
            && t.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && (t.contains("Not tainted") || t.contains("Tainted: "))
            && t.contains(" #");
        if let Some(rest) = t.strip_prefix("Process ")
            && let Some(i) = rest.find(" (pid: ")
        {
            self.comm.get_or_insert_with(|| rest[..i].to_owned());
            if self.pid.is_none() {
                self.pid = rest[i + 7..]
                    .split([',', ')'])
                    .next()
                    .and_then(|n| n.trim().parse().ok());
            }
            return true;
        }
        if !(is_cpu || is_pid || is_version) {
            return false;
        }
        if self.kernel_release.is_some() && self.pid.is_some() {
            return true;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        for w in words.windows(2) {
            match w[0] {
                "CPU:" if self.cpu.is_none() => self.cpu = w[1].trim_end_matches(',').parse().ok(),
                "PID:" | "Pid:" if self.pid.is_none() => {
                    self.pid = w[1].trim_end_matches(',').parse().ok()
                }
                "Comm:" | "comm:" if self.comm.is_none() => {
                    self.comm = Some(w[1].trim_end_matches(',').to_owned())
                }
                _ => {}
            }
        }
        let after = if let Some(i) = t.find("Not tainted") {
            self.taint.get_or_insert_with(String::new);
            &t[i + 11..]
        } else if let Some(i) = t.find("Tainted: ") {
            let rest = &t[i + 9..];
            let mut taint = String::new();
            let mut end = rest.len();
            for (off, w) in word_offsets(rest) {
                if w.len() <= 18 && w.bytes().all(|b| b.is_ascii_uppercase()) {
                    taint.push_str(w);
                } else {
                    end = off;
                    break;
                }
            }
            if self.taint.is_none() {
                self.taint = Some(taint);
            }
            &rest[end..]
        } else {
            ""
        };
        if self.kernel_release.is_none() {
            let candidates = if is_version { t } else { after };
            self.kernel_release = candidates
                .split_whitespace()
                .find(|w| w.as_bytes().first().is_some_and(u8::is_ascii_digit) && w.contains('.'))
                .map(str::to_owned);
        }
        true
    }

    /// KASAN `Read of size 1 at addr X by task a/1`, KMSAN sizes, `#PF:` and arm64 `WnR`.
    fn access_line(&mut self, t: &str) -> bool {
        let rw = if t.starts_with("Read of size") || t.starts_with("Read at addr") {
            Some(AccessType::Read)
        } else if t.starts_with("Write of size") || t.starts_with("Write at addr") {
            Some(AccessType::Write)
        } else {
            None
        };
        if let Some(rw) = rw {
            let a = self.access.get_or_insert_with(Access::default);
            a.access_type.get_or_insert(rw);
            if let Some(i) = t.find("of size ") {
                a.size = a.size.or(t[i + 8..]
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok()));
            }
            if let Some(i) = t.find("addr ") {
                a.address = a
                    .address
                    .or(t[i + 5..].split_whitespace().next().and_then(parse_hex));
            }
            if let Some(i) = t.find("by task ")
                && let Some((comm, pid)) = t[i + 8..].trim().rsplit_once('/')
            {
                self.comm.get_or_insert_with(|| comm.to_owned());
                self.pid = self.pid.or(pid.parse().ok());
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("#PF: supervisor ") {
            let a = self.access.get_or_insert_with(Access::default);
            if rest.starts_with("read") {
                a.access_type.get_or_insert(AccessType::Read);
            } else if rest.starts_with("write") {
                a.access_type.get_or_insert(AccessType::Write);
            }
            return true;
        }
        if t.starts_with("#PF:") {
            return true;
        }
        if let Some(rest) = t.strip_prefix("Memory access of size ") {
            let a = self.access.get_or_insert_with(Access::default);
            a.size = a
                .size
                .or(rest.split_whitespace().next().and_then(|n| n.parse().ok()));
            return true;
        }
        if t.contains("WnR = ")
            && matches!(self.kind, Kind::PageFault | Kind::NullPointerDereference)
        {
            let a = self.access.get_or_insert_with(Access::default);
            a.access_type.get_or_insert(if t.contains("WnR = 1") {
                AccessType::Write
            } else {
                AccessType::Read
            });
            return true;
        }
        if self.kind == Kind::Kfence {
            for (p, rw) in [
                ("read at 0x", AccessType::Read),
                ("write at 0x", AccessType::Write),
            ] {
                if let Some(i) = t.find(p) {
                    let a = self.access.get_or_insert_with(Access::default);
                    a.access_type.get_or_insert(rw);
                    a.address = a.address.or(t[i + p.len() - 2..]
                        .split_whitespace()
                        .next()
                        .and_then(|w| parse_hex(w.trim_end_matches(':'))));
                }
            }
        }
        false
    }

    /// Finishes the report; `None` for a weak header that never showed a stack.
    fn finish(mut self) -> Option<Report> {
        if self.weak && self.frames == 0 {
            return None;
        }
        if self.end == End::Open {
            self.end = End::Eof;
        }
        let g = guilty::select(
            self.kind,
            &self.header_funcs,
            self.rip.as_ref(),
            &self.stacks,
        );
        let guilty_frame = match g {
            Guilty::Found(f) => Some(f),
            Guilty::Unsymbolized => {
                self.reasons
                    .push("the culprit frame is an unsymbolized address".into());
                None
            }
            Guilty::Nothing => {
                let why = if self.frames == 0 {
                    "no stack frames"
                } else {
                    "no frame survives the skip lists"
                };
                self.reasons.push(why.into());
                None
            }
        };
        if self.panic_only {
            self.reasons
                .push("panic without the report that caused it".into());
        }
        if let Some((i, true)) = self.cur
            && self.stacks[i].frames.is_empty()
            && self.end != End::Marker
        {
            self.reasons
                .push(format!("stack '{}' has no frames", self.stacks[i].name));
        }
        if self.end == End::Eof {
            let last = self
                .stacks
                .last()
                .filter(|s| guilty::is_primary_stack(self.kind, &s.name))
                .and_then(|s| s.frames.iter().rev().find(|f| f.reliable));
            if self.last_was_frame && last.is_some_and(|f| !is_bottom_frame(f)) {
                self.reasons
                    .push("truncated: the log ends inside a stack".into());
            } else if is_sanitizer(self.kind) && self.kind != Kind::Ubsan && !self.closed {
                self.reasons
                    .push("truncated: no closing separator line".into());
            }
        }
        self.reasons.dedup();
        self.mark_stale_pc();
        let title = title(&self, guilty_frame.as_deref());
        let mut report = Report {
            kind: self.kind,
            sub_kind: self.sub_kind,
            title,
            access: self.access,
            guilty_frame,
            signature: String::new(),
            aliases: Vec::new(),
            corrupted: !self.reasons.is_empty(),
            corrupted_reason: (!self.reasons.is_empty()).then(|| self.reasons.join("; ")),
            cpu: self.cpu,
            pid: self.pid,
            comm: self.comm,
            kernel_release: self.kernel_release,
            // `None` means "not tainted, or not printed": `Not tainted` leaves no flags.
            taint: self.taint.filter(|t| !t.is_empty()),
            hardware: self.hardware,
            rip: self.rip,
            stacks: self.stacks,
            kaslr_offset: self.kaslr,
            start_line: self.start_line,
            end_line: self.end_line.max(self.header_line + 1),
            text: self.text,
        };
        report.signature = signature::signature(&report).to_string();
        report.aliases = signature::aliases(&report);
        Some(report)
    }
}

fn word_offsets(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split(' ')
        .scan(0usize, |off, w| {
            let here = *off;
            *off += w.len() + 1;
            Some((here, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

/// `[ 12.345]` inside a line: two lines printed into one.
fn has_inner_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 1;
    while let Some(j) = memchr::memchr(b'[', &b[i.min(b.len())..]) {
        let s = i + j;
        let rest = &t[s + 1..];
        let digits = rest.trim_start_matches(' ');
        if let Some(close) = digits.find(']') {
            let inner = &digits[..close];
            if inner.contains('.')
                && inner.len() >= 3
                && inner.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            {
                return true;
            }
        }
        i = s + 1;
    }
    false
}

/// Stack-opening lines; returns the stack name and whether it only marks a sub-stack
/// (`<IRQ>`, `</IRQ>`) of the trace already open.
fn stack_header(t: &str, b: &mut Builder) -> Option<(&'static str, bool)> {
    if t.starts_with("Call Trace:")
        || t == "Call trace:"
        || t == "Backtrace:"
        || t == "stack backtrace:"
    {
        return Some(("call_trace", false));
    }
    match t {
        "<IRQ>" => return Some(("irq", true)),
        "</IRQ>" | "<EOI>" | "</NMI>" => return Some(("task", true)),
        "<NMI>" => return Some(("nmi", true)),
        "<TASK>" | "</TASK>" | "<SOFTIRQ>" | "</SOFTIRQ>" => return None,
        _ => {}
    }
    if t.starts_with("Allocated by task") || t.starts_with("allocated by task") {
        return Some(("alloc", false));
    }
    if t.starts_with("Freed by task") || t.starts_with("freed by task") {
        return Some(("free", false));
    }
    if t.ends_with("potentially related work creation:")
        || t.ends_with("call_rcu():")
        || t.starts_with("Last Breaking-Event-Address:")
        || t.starts_with("page last allocated")
        || t.starts_with("page last free")
    {
        return Some(("aux", false));
    }
    if t.ends_with(':') {
        const KFENCE_ACCESS: &[&str] = &[
            "Out-of-bounds read at",
            "Out-of-bounds write at",
            "Use-after-free read at",
            "Use-after-free write at",
            "Invalid free of",
            "Corrupted memory at",
            "Invalid read at",
            "Invalid write at",
        ];
        if b.kind == Kind::Kfence && KFENCE_ACCESS.iter().any(|p| t.starts_with(p)) {
            return Some(("access", false));
        }
        if b.kind == Kind::Kcsan
            && (t.starts_with("read")
                || t.starts_with("write")
                || t.starts_with("race at unknown origin"))
            && t.contains(" by ")
        {
            let first = !b.stacks.iter().any(|s| s.name == "access");
            if first && let Some(i) = t.find(" of ") {
                let size = t[i + 4..]
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok());
                let rw = if t.contains("write") {
                    AccessType::Write
                } else {
                    AccessType::Read
                };
                b.access = Some(Access {
                    access_type: Some(rw),
                    size,
                    address: t
                        .split_whitespace()
                        .find(|w| w.starts_with("0x"))
                        .and_then(parse_hex),
                });
            }
            return Some((if first { "access" } else { "other_access" }, false));
        }
        if t == "Uninit was stored to memory at:" {
            return Some(("origin_store", false));
        }
        if t == "Uninit was created at:"
            || (t.starts_with("Local variable") && t.ends_with("created at:"))
        {
            return Some(("origin", false));
        }
        if t == "backtrace:" {
            return Some(("alloc", false));
        }
        if t.starts_with("-> #") {
            return Some(("lock_chain", false));
        }
    }
    if t.starts_with("INFO: Allocated in ") {
        return Some(("alloc", false));
    }
    if t.starts_with("INFO: Freed in ") {
        return Some(("free", false));
    }
    if b.kind == Kind::Lockdep && t.ends_with("state was registered at:") {
        return Some(("aux", false));
    }
    if b.kind == Kind::Lockdep && t.contains(" held by ") && t.ends_with(':') {
        // the held-lock list: its split `at:` lines are not a stack, and may be empty
        return Some(("held_locks", true));
    }
    if t.starts_with("backtrace (crc") {
        return Some(("alloc", false));
    }
    if t.starts_with("NMI backtrace for cpu") {
        b.nmi_mode = true;
        return Some(("nmi_backtrace", false));
    }
    None
}

/// The frame of a lockdep `..., at: func+0x1/0x2` line.
fn lockdep_site(t: &str) -> Option<Frame> {
    let i = t.rfind("at: ")?;
    let rest = t[i + 4..].trim();
    if rest.is_empty() {
        return None;
    }
    parse_frame(rest, true)
}

/// Faulting-pc lines. `Some(None)` is a pc line without a kernel symbol (user mode).
fn parse_rip(t: &str) -> Option<Option<Frame>> {
    let exact = |f: Option<Frame>| {
        f.map(|mut f| {
            f.exact = true;
            f.reliable = true;
            f
        })
    };
    if let Some(rest) = t.strip_prefix("RIP: ").or_else(|| t.strip_prefix("EIP: ")) {
        let rest = rest.trim();
        let (cs, sym) = match rest.split_once(':') {
            Some((cs, sym)) if cs.len() == 4 && cs.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (cs, sym.trim())
            }
            _ => ("", rest),
        };
        if matches!(cs, "0033" | "0023" | "002b" | "0073") {
            return Some(None);
        }
        if sym.starts_with('[') && !sym.starts_with("[<") {
            return Some(exact(parse_bracket_frames(sym).into_iter().next()));
        }
        let f = parse_frame(sym, false).or_else(|| parse_symbol(sym, false));
        let f = f.filter(|f| {
            f.function.is_some() || f.address.is_some_and(|a| a >= 0xffff_0000_0000_0000)
        });
        return Some(exact(f));
    }
    for p in ["EIP is at ", "PC is at ", "pc : ", "IP: "] {
        if let Some(rest) = t.strip_prefix(p) {
            let rest = rest.trim();
            if rest.starts_with("[<") && p == "pc : " {
                return Some(None);
            }
            return Some(exact(
                parse_frame(rest, false).or_else(|| parse_symbol(rest, false)),
            ));
        }
    }
    if t.starts_with("NIP [") {
        return Some(exact(parse_frame(t[4..].trim(), false)));
    }
    if t.starts_with("Krnl PSW") || t.starts_with("at rIP:") {
        let open = t.rfind('(')?;
        let close = t.rfind(')')?;
        return Some(exact(parse_symbol(t.get(open + 1..close)?, false)));
    }
    if t.starts_with("LR is at ")
        || t.starts_with("lr : ")
        || t.starts_with("LR [")
        || t.starts_with("NIP: ")
    {
        return Some(None);
    }
    None
}

/// Register dumps and other lines that belong to a report after its stacks.
fn is_register_like(t: &str) -> bool {
    const KEYS: &[&str] = &[
        "Code:",
        "Modules linked in:",
        "---[",
        "CR2:",
        "RSP:",
        "RAX:",
        "RDX:",
        "RBP:",
        "R10:",
        "R13:",
        "R08:",
        "FS:",
        "CS:",
        "DR0:",
        "DR3:",
        "DR6:",
        "EFLAGS:",
        "ESP:",
        "EAX:",
        "ESI:",
        "DS:",
        "Stack:",
        "sp :",
        "x29:",
        "x2",
        "x1",
        "x9",
        "x8",
        "x7",
        "x6",
        "x5",
        "x4",
        "x3",
        "GPR",
        "MSR:",
        "CFAR:",
        "SOFTE:",
        "REGS:",
        "Instruction dump:",
        "Kernel panic",
        "Kernel Offset:",
        "irq event stamp:",
        "hardirqs last",
        "softirqs last",
        "PKRU:",
        "ORIG_RAX:",
        "task:",
        "Workqueue:",
        "Register r",
        "Pid:",
        "Tainted:",
        "The buggy address",
        "Memory state around",
        "page:",
        "flags:",
        "raw:",
        "page dumped",
        "kfence-#",
        "value changed:",
        "Reported by Kernel",
        "Bytes ",
        "Object ",
        "Redzone ",
        "Padding ",
        "INFO: ",
        "Disabling lock debugging",
        "#PF:",
        "PGD ",
        "Oops",
        "Mem abort info:",
        "ESR =",
        "EC =",
        "SET =",
        "FSC =",
        "Data abort info:",
        "CM =",
        "swapper pgtable:",
        "[0000",
        "Internal error",
        "Call trace:",
        "pstate:",
        "lr :",
        "pc :",
        "Hardware name:",
        "CPU:",
        "RIP:",
    ];
    if KEYS.iter().any(|k| t.starts_with(k)) {
        return true;
    }
    // hex dump rows: `ffff8801f44ec200: fc fc ...`, `>ffff...`, `9dc0: 00000020 ...`
    let t = t.trim_start_matches('>');
    let head = t.split(':').next().unwrap_or("");
    head.len() >= 4
        && head.len() <= 16
        && head.bytes().all(|b| b.is_ascii_hexdigit())
        && t.len() > head.len()
}

/// UBSAN's old "Undefined behaviour in" reports say what happened on the next line.
fn ubsan_refine(t: &str) -> &'static str {
    if t.starts_with("shift exponent") || t.contains("cannot be represented") && t.contains("shift")
    {
        "shift-out-of-bounds"
    } else if t.starts_with("index ") {
        "array-index-out-of-bounds"
    } else if t.starts_with("signed integer overflow") {
        "signed-integer-overflow"
    } else if t.starts_with("load of value") {
        "invalid-load"
    } else if t.contains("division") || t.contains("division by zero") {
        "divide-by-zero"
    } else if t.contains("null pointer") {
        "null-ptr-deref"
    } else if t.contains("misaligned") {
        "misaligned-access"
    } else {
        "undefined-behaviour"
    }
}

/// Bottom-of-stack frames: a trace that ends with one is complete.
fn is_bottom_frame(f: &Frame) -> bool {
    let Some(name) = f.function.as_deref() else {
        return true;
    };
    let n = normalize_function(name);
    const BOTTOM: &[&str] = &[
        "kthread",
        "secondary_startup_64",
        "secondary_startup_64_no_verify",
        "start_kernel",
        "x86_64_start_kernel",
        "x86_64_start_reservations",
        "cpu_startup_entry",
        "kernel_thread_helper",
        "sysenter_past_esp",
        "system_call_fastpath",
        "syscall_exit",
        "do_syscall_64",
        "rest_init",
        "start_secondary",
        "common_startup_64",
        "worker_thread",
        "smpboot_thread_fn",
        "cpu_idle",
        "kernel_init",
        "sysc_nr_ok",
        "int_signal",
        "tracesys",
        "system_call",
        "do_idle",
    ];
    BOTTOM.contains(&n.as_str())
        || n.starts_with("entry_")
        || n.starts_with("ret_from_")
        || n.starts_with("el0")
        || n.starts_with("ret_fast_syscall")
}

/// The human title: `KFENCE: use-after-free read in F`, `WARNING in F`, ...
fn title(b: &Builder, guilty: Option<&str>) -> String {
    let sub = b.sub_kind.as_deref().unwrap_or("");
    let rw = b.access.as_ref().and_then(|a| a.access_type);
    let rw_word = |upper: bool| match (rw, upper) {
        (Some(AccessType::Read), false) => " read",
        (Some(AccessType::Write), false) => " write",
        (Some(AccessType::Read), true) => " Read",
        (Some(AccessType::Write), true) => " Write",
        (None, _) => "",
    };
    let msg = b.message.as_deref().unwrap_or("");
    let head = match b.kind {
        Kind::Kfence => match sub {
            "invalid-free" => "KFENCE: invalid free".to_owned(),
            "memory-corruption" => "KFENCE: memory corruption".to_owned(),
            "invalid-access" => format!("KFENCE: invalid{}", rw_word(false)),
            s => format!("KFENCE: {s}{}", rw_word(false)),
        },
        Kind::Kasan if sub.contains("free") && !sub.contains("use-after-free") => {
            format!("KASAN: {sub}")
        }
        Kind::Kasan => format!("KASAN: {sub}{}", rw_word(true)),
        Kind::Kmsan => format!("KMSAN: {sub}"),
        Kind::Kcsan => {
            let key = signature::key_pair(b.kind, &b.stacks);
            return match key {
                Some((a, c)) => format!("KCSAN: {sub} in {a} / {c}"),
                None => with_in(&format!("KCSAN: {sub}"), guilty),
            };
        }
        Kind::Ubsan => format!("UBSAN: {sub}"),
        Kind::Bug => format!("BUG: {msg}"),
        Kind::KernelBug => "kernel BUG".to_owned(),
        Kind::Oops => sub.replace('-', " "),
        Kind::GeneralProtectionFault if sub == "stack-segment" => "stack segment fault".to_owned(),
        Kind::GeneralProtectionFault => "general protection fault".to_owned(),
        Kind::PageFault => "BUG: unable to handle page fault".to_owned(),
        Kind::NullPointerDereference => "BUG: kernel NULL pointer dereference".to_owned(),
        Kind::Warning if !msg.is_empty() => format!("WARNING: {msg}"),
        Kind::Warning => "WARNING".to_owned(),
        Kind::Panic => format!("kernel panic: {msg}"),
        Kind::Lockdep => match sub {
            "circular-locking"
            | "recursive-locking"
            | "irq-lock-inversion"
            | "irq-safe-unsafe-order" => "possible deadlock".to_owned(),
            s => s.replace('-', " "),
        },
        Kind::RcuStall => "INFO: rcu detected stall".to_owned(),
        Kind::SoftLockup => "BUG: soft lockup".to_owned(),
        Kind::HardLockup => "hard lockup".to_owned(),
        Kind::HungTask => "INFO: task hung".to_owned(),
        Kind::MemoryLeak => "memory leak".to_owned(),
        Kind::Refcount => "refcount bug".to_owned(),
        Kind::DoubleFault => "PANIC: double fault".to_owned(),
        Kind::StackOverflow => "stack overflow".to_owned(),
        Kind::ListCorruption => "list corruption".to_owned(),
        Kind::Unknown => "unknown crash".to_owned(),
    };
    with_in(&head, guilty)
}

fn with_in(head: &str, guilty: Option<&str>) -> String {
    let mut t = match guilty {
        Some(f) => format!("{head} in {f}"),
        None => head.to_owned(),
    };
    if t.len() > 160 {
        let mut cut = 160;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
    }
    t
}
