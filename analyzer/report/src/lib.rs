//! Kernel crash reports out of kernel logs, and the keys that group them.
//!
//! [`parse`] takes the text of a kernel log (dmesg, console capture, `/dev/kmsg` dump,
//! syslog or journald export, the log read from a vmcore) and returns every crash
//! [`Report`](crashsift_model::report::Report) in it, in order: its kind, sub-kind,
//! access, title, context (CPU, PID, comm, release, taint, hardware), faulting pc, every
//! stack frame by frame, guilty frame, signature, aliases, and whether it is corrupted.
//! It is pure: no I/O, no state, no panics on any input.
//!
//! Reading order:
//! - [`prefix`]: what is stripped from each line (time stamps, caller ids, syslog, kmsg).
//! - [`header`]: the lines that start a report, and the cheap pre-filter that finds them.
//! - [`frame`]: stack frame lines in every printed form.
//! - `parser` (private): segmentation, report bodies, where a report ends, corruption.
//! - [`skip`]: the skip lists as data; [`guilty`]: guilty-frame selection.
//! - [`signature`]: the versioned group key and alias keys.
//! - [`cli`]: `crashsift parse [--json] FILE...`.

pub mod cli;
pub mod frame;
pub mod guilty;
pub mod header;
mod parser;
pub mod prefix;
pub mod signature;
pub mod skip;

pub use parser::candidate_lines;
pub use signature::{SIGNATURE_VERSION, aliases, signature};

/// Parses every crash report in a kernel log, in order of appearance.
pub fn parse(text: &str) -> Vec<crashsift_model::report::Report> {
    parser::parse(text)
}
