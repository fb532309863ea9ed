//! Report headers: the one line that starts a crash report, classified into a kind with
//! what the line itself says (sub-kind, functions, access, task). Also the cheap
//! multi-pattern pre-filter that finds candidate lines in a large log.

use crate::frame::{parse_hex, parse_symbol};
use crate::signature::{slug, strip_numbers};
use crashsift_model::report::{Access, AccessType, Frame, Kind};

/// Substrings one of which every header line contains; scanned for with one automaton
/// so ordinary log lines cost no per-line work.
pub const TRIGGERS: &[&str] = &[
    "BUG",
    "WARNING:",
    "INFO:",
    "nable to handle",
    "Kernel panic",
    "general protection fault",
    "UBSAN:",
    "Oops",
    "unreferenced object",
    "corruption",
    "lockup",
    "LOCKUP",
    "blocked for more than",
    "detected stall",
    "detected expedited stall",
    "double fault",
    "stack overflow",
    "Internal error:",
    "invalid opcode:",
    "divide error:",
    "stack segment:",
    "int3: ",
    "refcount_t:",
    "unchecked MSR",
    "Unhandled fault:",
    "Alignment trap:",
    "illegal operation:",
    "Insufficient stack space",
    "double add",
];

/// How a header relates to a report already open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Starts a report.
    Primary,
    /// Usually continues the report just opened (`Oops: 0000 [#1]` after a page fault).
    Secondary,
    /// `Kernel panic - not syncing:`; `consequence` when the message only says that an
    /// earlier report made the kernel panic (`Fatal exception`, `panic_on_warn set`).
    Panic { consequence: bool },
}

/// What a header line says.
#[derive(Debug, Clone)]
pub struct Header {
    pub kind: Kind,
    pub sub_kind: Option<String>,
    /// Free text for kinds whose title carries it (generic BUG, panic, odd WARNINGs).
    pub message: Option<String>,
    /// Functions named on the header line (the access site, both KCSAN racers, ...).
    pub funcs: Vec<Frame>,
    pub access: Option<Access>,
    pub role: Role,
    pub cpu: Option<u32>,
    pub pid: Option<u32>,
    pub comm: Option<String>,
    /// A generic form that only counts as a crash if a stack follows.
    pub weak: bool,
}

impl Header {
    fn new(kind: Kind) -> Self {
        Header {
            kind,
            sub_kind: None,
            message: None,
            funcs: Vec::new(),
            access: None,
            role: Role::Primary,
            cpu: None,
            pid: None,
            comm: None,
            weak: false,
        }
    }

    fn sub(mut self, s: &str) -> Self {
        self.sub_kind = Some(s.to_owned());
        self
    }
}

/// Lockdep report phrases and the sub-kind each maps to.
pub const LOCKDEP_PHRASES: &[(&str, &str)] = &[
    (
        "possible circular locking dependency detected",
        "circular-locking",
    ),
    ("possible recursive locking detected", "recursive-locking"),
    ("inconsistent lock state", "inconsistent-lock-state"),
    (
        "possible irq lock inversion dependency detected",
        "irq-lock-inversion",
    ),
    ("lock order detected", "irq-safe-unsafe-order"),
    ("suspicious RCU usage", "suspicious-rcu-usage"),
    (
        "suspicious rcu_dereference_check() usage",
        "suspicious-rcu-usage",
    ),
    ("bad unlock balance detected", "bad-unlock-balance"),
    (
        "lock held when returning to user space",
        "lock-held-returning-to-user",
    ),
    ("held lock freed", "held-lock-freed"),
    ("still has locks held", "locks-held-at-exit"),
    ("Invalid wait context", "invalid-wait-context"),
    ("nested lock was not taken", "nested-lock-not-taken"),
];

/// Panic messages that only report that an earlier report made the kernel panic.
const PANIC_CONSEQUENCES: &[&str] = &[
    "Fatal exception",
    "panic_on_warn set",
    "panic_on_oops",
    "hung_task: blocked tasks",
    // `kfence.fault=panic set ...`, `kasan.fault=panic set ...`: the sanitizer's report
    // just closed is the crash
    "fault=panic set",
    "softlockup: hung tasks",
    "Hard LOCKUP",
    "Oops - BUG",
    "Fatal trap",
];

/// `pat` at the start of `t`, or after a short `subsystem: ` prefix; returns the rest.
fn at_head<'a>(t: &'a str, pat: &str) -> Option<&'a str> {
    let p = t.find(pat)?;
    if p == 0 {
        return Some(&t[pat.len()..]);
    }
    let pre = &t[..p];
    let ok = p <= 40
        && (pre.ends_with(": ") || pre.ends_with("[ ") || pre.ends_with("] "))
        && !pre.contains("DEBUG");
    ok.then(|| &t[p + pat.len()..])
}

/// `desc in func+0x1/0x2 [mod]` → (`desc`, frame).
fn split_in(rest: &str) -> (&str, Option<Frame>) {
    match rest.find(" in ") {
        Some(i) => {
            let mut f = &rest[i + 4..];
            if let Some(j) = f.find(" at addr") {
                f = &f[..j];
            }
            (rest[..i].trim(), parse_symbol(f, true))
        }
        None => (rest.trim(), None),
    }
}

/// The last hex-looking token of a line (a fault address).
fn last_hex(s: &str) -> Option<u64> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .rev()
        .find(|w| !w.is_empty())
        .and_then(parse_hex)
}

/// Classifies one prefix-stripped line; `None` when it starts no report.
pub fn classify(text: &str) -> Option<Header> {
    let t = text.trim();
    if t.len() < 5 {
        return None;
    }
    // lockdep, in any of its header dressings
    if t.contains("INFO:") || t.contains("WARNING:") || t.contains("BUG:") || t.starts_with('[') {
        for (phrase, sub) in LOCKDEP_PHRASES {
            if t.contains(phrase) && t.len() < phrase.len() + 24 {
                return Some(Header::new(Kind::Lockdep).sub(sub));
            }
        }
    }
    if let Some(rest) = at_head(t, "BUG: KFENCE: ") {
        return Some(kfence(rest));
    }
    if let Some(rest) = at_head(t, "BUG: KASAN: ") {
        let (sub, f) = split_in(rest);
        let mut h = Header::new(Kind::Kasan).sub(sub);
        h.funcs.extend(f);
        return Some(h);
    }
    if let Some(rest) = at_head(t, "BUG: KMSAN: ") {
        let (sub, f) = split_in(rest);
        let mut h = Header::new(Kind::Kmsan).sub(sub);
        h.funcs.extend(f);
        return Some(h);
    }
    if let Some(rest) = at_head(t, "BUG: KCSAN: ") {
        let (sub, _) = split_in(rest);
        let mut h = Header::new(Kind::Kcsan).sub(sub);
        if let Some(i) = rest.find(" in ") {
            for part in rest[i + 4..].split(" / ") {
                h.funcs.extend(parse_symbol(part, true));
            }
        }
        return Some(h);
    }
    if let Some(rest) = at_head(t, "UBSAN: ") {
        let (sub, _) = split_in(rest);
        return Some(Header::new(Kind::Ubsan).sub(&slug(sub)));
    }
    if (t.starts_with("INFO: task ") || t.starts_with("task "))
        && t.contains(" blocked for more than ")
    {
        let mut h = Header::new(Kind::HungTask);
        let start = t.find("task ").map_or(0, |i| i + 5);
        let who = &t[start..t.find(" blocked for").unwrap_or(t.len())];
        if let Some((comm, pid)) = who.rsplit_once(':') {
            h.comm = Some(comm.to_owned());
            h.pid = pid.parse().ok();
        }
        return Some(h);
    }
    if (t.contains("detected stall") || t.contains("detected expedited stall"))
        && (t.contains("INFO:") || t.contains("rcu"))
        && t.contains(" on CPU")
    {
        let mut h = Header::new(Kind::RcuStall);
        if t.contains("self-detected") {
            h.sub_kind = Some("self-detected".into());
        } else if t.contains("expedited") {
            h.sub_kind = Some("expedited".into());
        }
        return Some(h);
    }
    if let Some(rest) = at_head(t, "BUG: soft lockup") {
        let mut h = Header::new(Kind::SoftLockup);
        if let Some(i) = rest.find("CPU#") {
            h.cpu = rest[i + 4..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok());
        }
        if let (Some(a), Some(b)) = (rest.rfind('['), rest.rfind(']'))
            && a < b
            && let Some((comm, pid)) = rest[a + 1..b].rsplit_once(':')
        {
            h.comm = Some(comm.to_owned());
            h.pid = pid.parse().ok();
        }
        return Some(h);
    }
    if t.contains("detected hard LOCKUP") || at_head(t, "hard LOCKUP").is_some() {
        return Some(Header::new(Kind::HardLockup));
    }
    if at_head(t, "PANIC: double fault").is_some() || at_head(t, "double fault: ").is_some() {
        return Some(Header::new(Kind::DoubleFault));
    }
    for (pat, sub) in [
        ("BUG: stack guard page was hit", "stack-guard-page"),
        ("BUG: TASK stack guard page was hit", "stack-guard-page"),
        ("BUG: IRQ stack guard page was hit", "stack-guard-page"),
        ("kernel stack overflow", "kernel-stack-overflow"),
        ("do_IRQ: stack overflow", "irq-stack-overflow"),
        (
            "Insufficient stack space to handle exception",
            "insufficient-stack",
        ),
        (
            "Kernel panic - not syncing: corrupted stack end",
            "corrupted-stack-end",
        ),
    ] {
        if at_head(t, pat).is_some() {
            return Some(Header::new(Kind::StackOverflow).sub(sub));
        }
    }
    for (pat, sub) in [
        ("list_add corruption", "list_add"),
        ("list_del corruption", "list_del"),
        ("list_add double add", "list_add"),
        ("BUG: corrupted list", "list"),
    ] {
        if at_head(t, pat).is_some() {
            return Some(Header::new(Kind::ListCorruption).sub(sub));
        }
    }
    if let Some(rest) = at_head(t, "refcount_t: ") {
        let msg = rest.split([';', '.']).next().unwrap_or("").trim();
        return Some(Header::new(Kind::Refcount).sub(&slug(msg)));
    }
    if let Some(rest) = at_head(t, "kernel BUG at ").or_else(|| at_head(t, "Kernel BUG at ")) {
        let file = rest.split(':').next().unwrap_or("");
        let mut h = if file.ends_with("list_debug.c") {
            Header::new(Kind::ListCorruption).sub("list")
        } else {
            Header::new(Kind::KernelBug)
        };
        h.message = Some(file.to_owned());
        return Some(h);
    }
    if let Some(h) = page_fault(t) {
        return Some(h);
    }
    if let Some(rest) = at_head(t, "general protection fault") {
        let mut h = Header::new(Kind::GeneralProtectionFault);
        if let Some(i) = rest.find("address ") {
            let addr = rest[i + 8..].split([':', ' ']).next().unwrap_or("");
            h.access = parse_hex(addr).map(|a| Access {
                address: Some(a),
                ..Access::default()
            });
        }
        return Some(h);
    }
    if at_head(t, "stack segment: ").is_some() {
        return Some(Header::new(Kind::GeneralProtectionFault).sub("stack-segment"));
    }
    if let Some(rest) = at_head(t, "WARNING: ") {
        return Some(warning(rest));
    }
    if let Some(rest) = at_head(t, "unchecked MSR access error: ") {
        let mut h = Header::new(Kind::Warning).sub("unchecked-msr-access");
        h.message = Some(format!(
            "unchecked MSR access error: {}",
            rest.split(' ').next().unwrap_or("")
        ));
        return Some(h);
    }
    if let Some(rest) = at_head(t, "Kernel panic - not syncing") {
        let msg = rest.trim_start_matches(':').trim();
        let consequence = PANIC_CONSEQUENCES.iter().any(|c| msg.contains(c));
        let mut h = Header::new(Kind::Panic);
        h.message = Some(msg.to_owned());
        h.role = Role::Panic { consequence };
        return Some(h);
    }
    if let Some(rest) = at_head(t, "unreferenced object 0x") {
        let mut h = Header::new(Kind::MemoryLeak);
        let addr = rest.split(' ').next().unwrap_or("");
        let size = rest
            .find("(size ")
            .and_then(|i| rest[i + 6..].split(')').next())
            .and_then(|n| n.parse().ok());
        h.access = Some(Access {
            access_type: None,
            size,
            address: parse_hex(addr),
        });
        return Some(h);
    }
    if let Some(rest) = at_head(t, "BUG: ") {
        let mut h = Header::new(Kind::Bug);
        let msg = bug_message(rest);
        h.sub_kind = Some(slug(&msg));
        h.message = Some(msg);
        return Some(h);
    }
    if let Some(rest) = t.strip_prefix("BUG ") {
        // SLUB: `BUG kmalloc-64 (Not tainted): Poison overwritten`
        let (_, msg) = rest.split_once("): ").or_else(|| rest.split_once(": "))?;
        let mut h = Header::new(Kind::Bug);
        let msg = bug_message(msg);
        h.sub_kind = Some(format!("slab-{}", slug(&msg)));
        h.message = Some(format!("slab {msg}"));
        return Some(h);
    }
    for (pat, sub) in [
        ("Oops: ", "oops"),
        ("Oops[", "oops"),
        ("Internal error: ", "internal-error"),
        ("invalid opcode: ", "invalid-opcode"),
        ("divide error: ", "divide-error"),
        ("int3: ", "int3"),
        ("illegal operation: ", "illegal-operation"),
        ("Unhandled fault: ", "unhandled-fault"),
        ("Alignment trap: ", "alignment-trap"),
    ] {
        if at_head(t, pat).is_some() {
            let mut h = Header::new(Kind::Oops).sub(sub);
            h.role = Role::Secondary;
            return Some(h);
        }
    }
    None
}

fn kfence(rest: &str) -> Header {
    let (desc, f) = split_in(rest);
    let mut words: Vec<&str> = desc.split_whitespace().collect();
    let rw = match words.last() {
        Some(&"read") => Some(AccessType::Read),
        Some(&"write") => Some(AccessType::Write),
        _ => None,
    };
    if rw.is_some() {
        words.pop();
    }
    let sub = match words.join(" ").as_str() {
        "invalid" => "invalid-access".to_owned(),
        other => slug(other),
    };
    let mut h = Header::new(Kind::Kfence).sub(&sub);
    h.funcs.extend(f);
    h.access = rw.map(|t| Access {
        access_type: Some(t),
        ..Access::default()
    });
    h
}

fn page_fault(t: &str) -> Option<Header> {
    let rest = at_head(t, "BUG: ")
        .or_else(|| t.strip_prefix("Unable to handle kernel"))
        .or_else(|| t.strip_prefix("unable to handle kernel"))
        .map(|r| r.trim_start())?;
    let rest = rest
        .strip_prefix("unable to handle kernel ")
        .or_else(|| rest.strip_prefix("unable to handle "))
        .or_else(|| {
            rest.strip_prefix("kernel NULL pointer dereference")
                .map(|_| rest)
        })
        .unwrap_or(rest);
    let kind = if rest.contains("NULL pointer dereference") {
        Kind::NullPointerDereference
    } else if rest.starts_with("paging request")
        || rest.starts_with("page fault")
        || rest.starts_with("access to user memory")
        || rest.starts_with("execute from non-executable")
        || rest.starts_with("read from unreadable")
        || rest.starts_with("write to read-only")
        || t.starts_with("Unable to handle kernel")
        || t.starts_with("unable to handle kernel")
    {
        Kind::PageFault
    } else {
        return None;
    };
    let mut h = Header::new(kind);
    h.access = last_hex(rest).map(|a| Access {
        address: Some(a),
        ..Access::default()
    });
    if rest.contains("write to read-only") {
        h.sub_kind = Some("write-to-read-only".into());
    } else if rest.contains("execute from non-executable") {
        h.sub_kind = Some("execute-non-executable".into());
    }
    Some(h)
}

/// The WARNING forms: `CPU: N PID: N at file:line func+off/size`, `at file:line func()`,
/// the 2025 `file:line at func+off/size, CPU#N: comm/pid`, or free text (weak).
fn warning(rest: &str) -> Header {
    let mut h = Header::new(Kind::Warning);
    let mut r = rest.trim();
    if let Some(x) = r.strip_prefix("CPU: ") {
        let mut it = x.split_whitespace();
        h.cpu = it.next().and_then(|n| n.parse().ok());
        if let Some(i) = x.find("PID: ") {
            h.pid = x[i + 5..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok());
        }
        r = match x.find(" at ") {
            Some(i) => &x[i + 1..],
            None => "",
        };
    }
    let (file, func) = if let Some(x) = r.strip_prefix("at ") {
        let mut parts = x.splitn(2, ' ');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    } else {
        let mut parts = r.splitn(3, ' ');
        let first = parts.next().unwrap_or("");
        if parts.next() == Some("at") && first.contains(':') {
            let f = parts.next().unwrap_or("");
            (first, f.split(',').next().unwrap_or(""))
        } else {
            ("", "")
        }
    };
    if file.is_empty() && func.is_empty() {
        h.weak = true;
        let msg = strip_numbers(rest.split(" (").next().unwrap_or(rest))
            .trim()
            .to_owned();
        h.sub_kind = Some(slug(&msg));
        h.message = Some(msg);
        return h;
    }
    h.funcs.extend(parse_symbol(func, true));
    let path = file.split(':').next().unwrap_or("");
    if path.ends_with("lib/list_debug.c") {
        h.kind = Kind::ListCorruption;
        h.sub_kind = Some("list".into());
    } else if path.ends_with("lib/refcount.c") {
        h.kind = Kind::Refcount;
    }
    h
}

/// The stable part of a generic `BUG: ...` message.
fn bug_message(rest: &str) -> String {
    let mut end = rest.len();
    for cut in [
        " at ", " in ", " on ", ": ", " [", " (", "!", ",", " - ", " {",
    ] {
        if let Some(i) = rest.find(cut) {
            end = end.min(i);
        }
    }
    let msg = if end == 0 { rest } else { &rest[..end] };
    strip_numbers(msg).trim().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<Kind> {
        classify(s).map(|h| h.kind)
    }

    // Each report family is recognised from its header line.
    #[test]
    fn kinds() {
        for (line, want) in [
            (
                "BUG: KFENCE: use-after-free read in f+0x1/0x2",
                Kind::Kfence,
            ),
            (
                "BUG: KASAN: slab-out-of-bounds in f+0x1/0x2 [m]",
                Kind::Kasan,
            ),
            ("BUG: KMSAN: uninit-value in f+0x1/0x2", Kind::Kmsan),
            ("BUG: KCSAN: data-race in a / b", Kind::Kcsan),
            ("UBSAN: shift-out-of-bounds in lib/x.c:1:2", Kind::Ubsan),
            (
                "INFO: task kworker/0:1:12 blocked for more than 120 seconds.",
                Kind::HungTask,
            ),
            (
                "rcu: INFO: rcu_preempt self-detected stall on CPU",
                Kind::RcuStall,
            ),
            (
                "INFO: rcu_sched detected stalls on CPUs/tasks:",
                Kind::RcuStall,
            ),
            (
                "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a:1]",
                Kind::SoftLockup,
            ),
            (
                "NMI watchdog: Watchdog detected hard LOCKUP on cpu 3",
                Kind::HardLockup,
            ),
            ("PANIC: double fault, error_code: 0x0", Kind::DoubleFault),
            (
                "BUG: stack guard page was hit at 000 (stack is 1..2)",
                Kind::StackOverflow,
            ),
            (
                "list_del corruption. prev->next should be x",
                Kind::ListCorruption,
            ),
            ("refcount_t: underflow; use-after-free.", Kind::Refcount),
            ("kernel BUG at fs/ext4/inode.c:123!", Kind::KernelBug),
            ("kernel BUG at lib/list_debug.c:53!", Kind::ListCorruption),
            (
                "BUG: kernel NULL pointer dereference, address: 0000000000000008",
                Kind::NullPointerDereference,
            ),
            (
                "BUG: unable to handle kernel NULL pointer dereference at   (null)",
                Kind::NullPointerDereference,
            ),
            (
                "Unable to handle kernel NULL pointer dereference at virtual address 00000009",
                Kind::NullPointerDereference,
            ),
            (
                "BUG: unable to handle page fault for address: ffffc90000bdc000",
                Kind::PageFault,
            ),
            (
                "Unable to handle kernel paging request at virtual address f15e97cc",
                Kind::PageFault,
            ),
            (
                "general protection fault: 0000 [#1] SMP",
                Kind::GeneralProtectionFault,
            ),
            (
                "WARNING: CPU: 1 PID: 2 at kernel/module.c:1108 module_put+0x57/0x70",
                Kind::Warning,
            ),
            (
                "WARNING: CPU: 1 PID: 2 at lib/refcount.c:28 refcount_warn_saturate+0x1/0x2",
                Kind::Refcount,
            ),
            (
                "Kernel panic - not syncing: sysrq triggered crash",
                Kind::Panic,
            ),
            (
                "unreferenced object 0xffff89862ca702e8 (size 32):",
                Kind::MemoryLeak,
            ),
            (
                "BUG: sleeping function called from invalid context at mm/memory.c:3927",
                Kind::Bug,
            ),
            ("BUG kmalloc-8: Right Redzone overwritten", Kind::Bug),
            ("Oops: 0002 [#1] SMP PTI", Kind::Oops),
            ("Internal error: Oops: 96000005 [#1] SMP", Kind::Oops),
            ("invalid opcode: 0000 [#1] SMP", Kind::Oops),
            (
                "[ INFO: possible recursive locking detected ]",
                Kind::Lockdep,
            ),
            (
                "WARNING: possible circular locking dependency detected",
                Kind::Lockdep,
            ),
            (
                "unchecked MSR access error: WRMSR to 0xd51 (tried to write 0x64)",
                Kind::Warning,
            ),
        ] {
            assert_eq!(kind(line), Some(want), "{line}");
        }
    }

    // Lines that merely mention a keyword start no report.
    #[test]
    fn not_headers() {
        for line in [
            "ODEBUG: object is on stack",
            "INFO: lockdep is turned off.",
            "INFO: Stall ended before state dump start",
            "PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug",
            "AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.",
            "FAULT_INJECTION: forcing a failure.",
            "Command line: console=ttyS0 panic=0 loglevel=8",
            "rcu_sched kthread starved for 23807 jiffies!",
        ] {
            assert!(classify(line).is_none(), "{line}");
        }
    }

    // Header details: sub-kinds, functions, access, task.
    #[test]
    fn details() {
        let h = classify("BUG: KFENCE: out-of-bounds write in f+0x1/0x2").unwrap();
        assert_eq!(h.sub_kind.as_deref(), Some("out-of-bounds"));
        assert_eq!(h.access.unwrap().access_type, Some(AccessType::Write));
        assert_eq!(h.funcs[0].function.as_deref(), Some("f"));
        let h = classify("BUG: KCSAN: data-race in test_kernel_read / test_kernel_write").unwrap();
        assert_eq!(h.funcs.len(), 2);
        let h = classify("WARNING: at include/linux/mm.h:283 putback_inactive_pages+0x2cc/0x360()")
            .unwrap();
        assert_eq!(
            h.funcs[0].function.as_deref(),
            Some("putback_inactive_pages")
        );
        let h = classify("WARNING: kernel/x.c:12 at foo+0x1/0x2, CPU#0: a/1").unwrap();
        assert_eq!(h.funcs[0].function.as_deref(), Some("foo"));
        let h = classify("INFO: task kworker/0:1:12 blocked for more than 120 seconds.").unwrap();
        assert_eq!((h.comm.as_deref(), h.pid), (Some("kworker/0:1"), Some(12)));
        let h = classify("Kernel panic - not syncing: Fatal exception").unwrap();
        assert_eq!(h.role, Role::Panic { consequence: true });
        let h = classify("BUG: scheduling while atomic: swapper/0/0/0x00000002").unwrap();
        assert_eq!(h.sub_kind.as_deref(), Some("scheduling-while-atomic"));
    }
}
