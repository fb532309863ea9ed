//! Guilty-frame selection: the first frame, in the order a report prints them, that is
//! not skipped (see `skip`) and is reliable; unreliable (`? `) frames only when nothing
//! else is left; per kind the candidates differ (header function, faulting pc, which
//! stacks), and a hung task first looks for a global-wait bucket.

use crate::signature::normalize_function;
use crate::skip::{hang_bucket, is_skipped};
use crashsift_model::report::{Frame, Kind, Stack};

/// What guilty-frame selection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guilty {
    /// The normalized function to blame.
    Found(String),
    /// The first candidate is a bare address: the culprit is not symbolized.
    Unsymbolized,
    /// No candidate survived the skip lists.
    Nothing,
}

/// Whether a stack takes part in guilty-frame selection for a kind.
pub fn is_primary_stack(kind: Kind, name: &str) -> bool {
    let base = name.split('#').next().unwrap_or(name);
    match kind {
        Kind::MemoryLeak => base == "alloc",
        _ => matches!(
            base,
            "call_trace" | "irq" | "task" | "nmi" | "nmi_backtrace" | "access"
        ),
    }
}

/// The first reliable, symbolized, unskipped frame of `frames`, normalized.
pub fn first_unskipped(kind: Kind, frames: &[Frame]) -> Option<String> {
    frames
        .iter()
        .filter(|f| f.reliable)
        .filter_map(|f| f.function.as_deref())
        .map(normalize_function)
        .find(|n| !is_skipped(kind, n))
}

/// Picks the guilty frame from the header functions, the faulting pc and the stacks.
pub fn select(kind: Kind, header: &[Frame], rip: Option<&Frame>, stacks: &[Stack]) -> Guilty {
    let mut candidates: Vec<&Frame> = header.iter().collect();
    if let Some(r) = rip.filter(|r| r.function.is_some()) {
        candidates.push(r);
    }
    let stack_start = candidates.len();
    for s in stacks.iter().filter(|s| is_primary_stack(kind, &s.name)) {
        candidates.extend(s.frames.iter());
    }
    if kind == Kind::HungTask {
        let bucket = candidates[stack_start..]
            .iter()
            .filter(|f| f.reliable)
            .filter_map(|f| f.function.as_deref())
            .find_map(|f| hang_bucket(&normalize_function(f)));
        if let Some(b) = bucket {
            return Guilty::Found(b.to_owned());
        }
    }
    for with_unreliable in [false, true] {
        for (i, f) in candidates.iter().enumerate() {
            if !f.reliable && !with_unreliable {
                continue;
            }
            match f.function.as_deref() {
                None if i == 0 && f.reliable => return Guilty::Unsymbolized,
                None => {}
                Some(name) => {
                    let n = normalize_function(name);
                    if !n.is_empty() && !is_skipped(kind, &n) {
                        return Guilty::Found(n);
                    }
                }
            }
        }
    }
    // SLUB corruption found at allocation time prints only where the object was
    // allocated and freed: the freeing function is the best key left.
    // A lockdep report cut before its backtrace still shows the `-> #0` chain (printed
    // last): where the current task takes the lock.
    let fallbacks: &[&str] = match kind {
        Kind::Bug => &["free", "alloc"],
        Kind::Lockdep => &["lock_chain"],
        _ => &[],
    };
    for name in fallbacks {
        let found = stacks
            .iter()
            .rev()
            .filter(|s| s.name.split('#').next() == Some(*name))
            .find_map(|s| first_unskipped(kind, &s.frames));
        if let Some(f) = found {
            return Guilty::Found(f);
        }
    }
    Guilty::Nothing
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn fr(name: &str, reliable: bool) -> Frame {
        Frame {
            function: Some(name.into()),
            reliable,
            ..Frame::default()
        }
    }

    fn stack(names: &[&str]) -> Vec<Stack> {
        vec![Stack {
            name: "call_trace".into(),
            frames: names
                .iter()
                .map(|n| match n.strip_prefix("? ") {
                    Some(n) => fr(n, false),
                    None => fr(n, true),
                })
                .collect(),
        }]
    }

    // Machinery and unreliable frames are passed over; the first real caller is blamed.
    #[test]
    fn skips_machinery_and_unreliable() {
        let s = stack(&[
            "dump_stack_lvl",
            "panic",
            "? _printk",
            "sysrq_handle_crash.cold",
            "write_sysrq_trigger",
        ]);
        assert_eq!(
            select(Kind::Panic, &[], None, &s),
            Guilty::Found("sysrq_handle_crash".into())
        );
    }

    // The header function comes first but is itself subject to the skip list.
    #[test]
    fn header_function_first_but_skippable() {
        let s = stack(&["memcmp", "my_compare"]);
        assert_eq!(
            select(Kind::Kfence, &[fr("memcmp", true)], None, &s),
            Guilty::Found("my_compare".into())
        );
        assert_eq!(
            select(Kind::Kfence, &[fr("foo_read", true)], None, &s),
            Guilty::Found("foo_read".into())
        );
    }

    // With only unreliable frames, the first unskipped unreliable one is used.
    #[test]
    fn unreliable_fallback() {
        let s = stack(&["? dump_stack", "? __warn", "? module_put"]);
        assert_eq!(
            select(Kind::Warning, &[], None, &s),
            Guilty::Found("module_put".into())
        );
    }

    // Hung tasks waiting for rtnl or RCU grace periods land in one bucket each.
    #[test]
    fn hung_task_buckets_and_skips() {
        let s = stack(&[
            "__schedule",
            "schedule",
            "schedule_preempt_disabled",
            "__mutex_lock",
            "rtnl_lock",
            "dev_ioctl",
        ]);
        assert_eq!(
            select(Kind::HungTask, &[], None, &s),
            Guilty::Found("rtnl_lock".into())
        );
        let s = stack(&[
            "__schedule",
            "schedule",
            "io_schedule",
            "wait_on_page_bit",
            "ext4_writepages",
        ]);
        assert_eq!(
            select(Kind::HungTask, &[], None, &s),
            Guilty::Found("ext4_writepages".into())
        );
    }

    // A bare address on top means the culprit is unknown, not its caller.
    #[test]
    fn bare_address_on_top() {
        let mut s = stack(&["do_one_initcall"]);
        s[0].name = "alloc".into();
        s[0].frames.insert(
            0,
            Frame {
                address: Some(0xffffffffc01d2036),
                reliable: true,
                ..Frame::default()
            },
        );
        assert_eq!(
            select(Kind::MemoryLeak, &[], None, &s),
            Guilty::Unsymbolized
        );
        assert_eq!(select(Kind::MemoryLeak, &[], None, &[]), Guilty::Nothing);
    }
}
