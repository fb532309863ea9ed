//! Line prefixes: what a kernel log line picks up on its way into a file (console `\r`,
//! `/dev/kmsg` record headers, syslog and journald prefixes, `<level>`, `[ time]`,
//! printk caller ids), and how to strip them without allocating.

/// The printk caller of a line (`CONFIG_PRINTK_CALLER`): a task id or a CPU number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// No caller id on the line.
    None,
    /// `[T1234]`: printed from task 1234.
    Task(u32),
    /// `[C1]`: printed from CPU 1 outside task context.
    Cpu(u32),
}

/// Who wrote a line, as far as its prefix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The kernel (or a line with no source prefix at all).
    Kernel,
    /// Another syslog or journald identifier (`systemd[1]:`): not kernel output.
    Other,
    /// A `/dev/kmsg` dictionary continuation line (` SUBSYSTEM=pci`): metadata, not text.
    KmsgDict,
}

/// One line with its prefixes removed.
#[derive(Debug, Clone, Copy)]
pub struct Stripped<'a> {
    /// The message text; leading spaces (frame indentation) are kept.
    pub text: &'a str,
    pub ctx: Ctx,
    pub source: Source,
    /// The line carried a `[    0.000000]` time stamp: the first lines of a boot.
    pub boot_time: bool,
}

/// Strips every known prefix from one line (without its `\n`).
pub fn strip(line: &str) -> Stripped<'_> {
    let mut s = line;
    // Console captures: `\r\n` endings and carriage-return redraws; keep the last redraw.
    while let Some(rest) = s.strip_suffix('\r') {
        s = rest;
    }
    if let Some(i) = memchr::memrchr(b'\r', s.as_bytes()) {
        s = &s[i + 1..];
    }
    let mut out = Stripped {
        text: s,
        ctx: Ctx::None,
        source: Source::Kernel,
        boot_time: false,
    };
    if s.is_empty() {
        return out;
    }
    if s.as_bytes()[0] == b' ' && is_kmsg_dict(s) {
        out.source = Source::KmsgDict;
        return out;
    }
    // twice: a forwarded syslog line can carry a second syslog prefix
    for _ in 0..2 {
        let Some(&b0) = s.as_bytes().first() else {
            break;
        };
        let before = s.len();
        if b0.is_ascii_digit() {
            if let Some(rest) = strip_kmsg(s) {
                s = rest;
            } else if let Some((rest, kernel)) = strip_iso_syslog(s) {
                if !kernel {
                    out.source = Source::Other;
                }
                s = rest;
            }
        } else if b0.is_ascii_uppercase()
            && let Some((rest, kernel)) = strip_bsd_syslog(s)
        {
            if !kernel {
                out.source = Source::Other;
            }
            s = rest;
        }
        if s.len() == before {
            break;
        }
    }
    if let Some(rest) = s.strip_prefix("kernel: ") {
        s = rest;
    }
    s = strip_level(s);
    if let Some((rest, zero)) = strip_timestamp(s) {
        out.boot_time = zero;
        s = rest;
        if let Some((rest, ctx)) = strip_caller(s) {
            out.ctx = ctx;
            s = rest;
        }
        s = s.strip_prefix(' ').unwrap_or(s);
    } else if let Some((rest, ctx)) = strip_caller(s) {
        out.ctx = ctx;
        s = rest.strip_prefix(' ').unwrap_or(rest);
    }
    out.text = s;
    out
}

/// `/dev/kmsg` record: `level,seq,usec,flags[,more];text`.
fn strip_kmsg(s: &str) -> Option<&str> {
    let head = &s.as_bytes()[..s.len().min(64)];
    let semi = memchr::memchr(b';', head)?;
    let fields = &s[..semi];
    let mut parts = fields.split(',');
    for _ in 0..3 {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    parts.next()?;
    Some(&s[semi + 1..])
}

/// A kmsg dictionary line: a space, then `KEY=value` with an upper-case key.
fn is_kmsg_dict(s: &str) -> bool {
    let t = &s[1..];
    match t.find('=') {
        Some(eq) if eq > 0 => t[..eq]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()),
        _ => false,
    }
}

const MONTHS: [&str; 12] = [
    "Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec ",
];

/// `Dec  4 12:00:00 host ident[pid]: text` (syslog, journald short and short-precise).
/// Returns the text and whether the identifier is the kernel.
fn strip_bsd_syslog(s: &str) -> Option<(&str, bool)> {
    if s.len() < 16 || !MONTHS.iter().any(|m| s.starts_with(m)) {
        return None;
    }
    let b = s.as_bytes();
    // day: one or two digits, maybe space-padded
    let mut i = 4;
    if b[i] == b' ' {
        i += 1;
    }
    let d0 = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == d0 || i - d0 > 2 || b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    // hh:mm:ss[.frac]
    let t = s.get(i..i + 8)?.as_bytes();
    if !(t[2] == b':'
        && t[5] == b':'
        && t.iter()
            .enumerate()
            .all(|(k, c)| k == 2 || k == 5 || c.is_ascii_digit()))
    {
        return None;
    }
    i += 8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    strip_host_ident(&s[i..])
}

/// `2024-12-04T12:00:00.123+0100 host ident: text` (journald short-iso and RFC 3339 syslog).
fn strip_iso_syslog(s: &str) -> Option<(&str, bool)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sp = memchr::memchr(b' ', b)?;
    strip_host_ident(&s[sp..])
}

/// ` host ident[pid]: text` after a syslog time.
fn strip_host_ident(s: &str) -> Option<(&str, bool)> {
    let s = s.strip_prefix(' ')?;
    let sp = s.find(' ')?;
    let rest = &s[sp + 1..];
    let colon = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(|r| r.len()))?;
    let ident = &rest[..colon];
    if ident.is_empty() || ident.contains(' ') {
        return None;
    }
    let kernel = ident == "kernel" || ident.starts_with("kernel[");
    let text = rest.get(colon + 2..).unwrap_or("");
    Some((text, kernel))
}

/// `<4>` printk level.
fn strip_level(s: &str) -> &str {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return s;
    }
    let mut i = 1;
    while i < b.len() && i < 5 && b[i].is_ascii_digit() {
        i += 1;
    }
    if i > 1 && b.get(i) == Some(&b'>') {
        &s[i + 1..]
    } else {
        s
    }
}

/// `[  12.345678]`; returns the rest and whether the time is zero.
fn strip_timestamp(s: &str) -> Option<(&str, bool)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let d0 = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == d0 || b.get(i) != Some(&b'.') {
        return None;
    }
    i += 1;
    let f0 = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == f0 || b.get(i) != Some(&b']') {
        return None;
    }
    let zero = b[d0..i].iter().all(|&c| c == b'0' || c == b'.');
    Some((&s[i + 1..], zero))
}

/// `[T1234]`, `[ T1234]`, `[C1]`.
fn strip_caller(s: &str) -> Option<(&str, Ctx)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let kind = *b.get(i)?;
    if kind != b'T' && kind != b'C' {
        return None;
    }
    i += 1;
    let d0 = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == d0 || b.get(i) != Some(&b']') {
        return None;
    }
    let n: u32 = s[d0..i].parse().ok()?;
    let ctx = if kind == b'T' {
        Ctx::Task(n)
    } else {
        Ctx::Cpu(n)
    };
    Some((&s[i + 1..], ctx))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // A plain dmesg time stamp is removed and the frame indentation kept.
    #[test]
    fn dmesg_timestamp() {
        let s = strip("[    2.339181]  dump_stack_lvl+0x44/0x5c\r");
        assert_eq!(s.text, " dump_stack_lvl+0x44/0x5c");
        assert_eq!(s.ctx, Ctx::None);
    }

    // A printk caller id is parsed into a task or CPU context.
    #[test]
    fn caller_ids() {
        let s = strip("[  123.456789][ T1234] BUG: foo");
        assert_eq!((s.text, s.ctx), ("BUG: foo", Ctx::Task(1234)));
        let s = strip("[   12.3][    C1] x");
        assert_eq!((s.text, s.ctx), ("x", Ctx::Cpu(1)));
    }

    // Syslog and journald prefixes are removed; other identifiers are marked as not kernel.
    #[test]
    fn syslog_forms() {
        let s = strip("Dec  4 12:00:00 host kernel: [   1.0] BUG: x");
        assert_eq!((s.text, s.source), ("BUG: x", Source::Kernel));
        let s = strip("Dec 04 12:00:00.123456 host kernel: WARNING: y");
        assert_eq!(s.text, "WARNING: y");
        let s = strip("2024-12-04T12:00:00+0100 host kernel:  func+0x1/0x2");
        assert_eq!(s.text, " func+0x1/0x2");
        let s = strip("Dec  4 12:00:00 host systemd[1]: BUG: not ours");
        assert_eq!(s.source, Source::Other);
        assert_eq!(strip("kernel: Oops: 0000").text, "Oops: 0000");
    }

    // kmsg records lose their header and dictionary lines are recognised.
    #[test]
    fn kmsg_records() {
        assert_eq!(strip("4,1234,5678,-;WARNING: x").text, "WARNING: x");
        assert_eq!(strip("6,1,2,c,caller=T1;text").text, "text");
        assert_eq!(strip(" SUBSYSTEM=pci").source, Source::KmsgDict);
        assert_eq!(strip(" func+0x1/0x2").source, Source::Kernel);
    }

    // Levels and boot-time stamps are recognised.
    #[test]
    fn level_and_boot() {
        let s = strip("<4>[    0.000000] Linux version");
        assert_eq!(s.text, "Linux version");
        assert!(s.boot_time);
    }
}
