//! Pure extraction of crash metadata: kernel release and build id from the kernel log
//! and the vmcore's VMCOREINFO note, crash time from the dump directory's name, and the
//! stable crash id.

use crashsift_model::CrashId;

/// The release in the first `Linux version <release> ...` line of a kernel log.
pub fn kernel_release_from_log(text: &str) -> Option<String> {
    let i = text.find("Linux version ")?;
    let rest = &text[i + "Linux version ".len()..];
    let release: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(128)
        .collect();
    (!release.is_empty()).then_some(release)
}

/// `OSRELEASE=` and `BUILD-ID=` from VMCOREINFO text found in the first bytes of a vmcore
/// (the note sits near the start of ELF and kdump-compressed dumps alike).
pub fn vmcoreinfo_fields(head: &[u8]) -> (Option<String>, Option<String>) {
    fn field(head: &[u8], name: &[u8], ok: fn(u8) -> bool) -> Option<String> {
        let pos = head.windows(name.len()).position(|w| w == name)?;
        let value: Vec<u8> = head[pos + name.len()..]
            .iter()
            .copied()
            .take_while(|&b| ok(b))
            .take(128)
            .collect();
        (!value.is_empty()).then(|| String::from_utf8_lossy(&value).into_owned())
    }
    let release = field(head, b"OSRELEASE=", |b| b.is_ascii_graphic());
    let build_id = field(head, b"BUILD-ID=", |b| b.is_ascii_hexdigit())
        .filter(|b| crashsift_model::BuildId::parse(b).is_ok())
        .map(|b| b.to_ascii_lowercase());
    (release, build_id)
}

/// True when a kernel log holds a KFENCE report.
pub fn has_kfence_report(text: &str) -> bool {
    text.contains("BUG: KFENCE:")
}

/// The crash time encoded in a dump directory's name, as Unix seconds (the stamp is the
/// host's local time; it is read as UTC). Knows `YYYYMMDDHHMM` (kdump-tools, optionally
/// after `<host>-`), `<ip>-YYYY-MM-DD-HH:MM:SS` (RHEL) and `YYYY-MM-DD-HH-MM` / `-HH:MM`
/// (SUSE).
pub fn crashed_at_from_dir(name: &str) -> Option<i64> {
    let digits: Vec<u32> = {
        // Take the trailing run of digit groups separated by '-' or ':'.
        let tail_start = name
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '-' || *c == ':')
            .last()
            .map(|(i, _)| i)?;
        let tail = &name[tail_start..];
        let groups: Vec<&str> = tail.split(['-', ':']).filter(|g| !g.is_empty()).collect();
        let last = groups.last().copied().unwrap_or("");
        if last.len() == 12 && last.bytes().all(|b| b.is_ascii_digit()) {
            vec![
                last[0..4].parse().ok()?,
                last[4..6].parse().ok()?,
                last[6..8].parse().ok()?,
                last[8..10].parse().ok()?,
                last[10..12].parse().ok()?,
            ]
        } else {
            // Find the year: the first four-digit group.
            let start = groups.iter().position(|g| g.len() == 4)?;
            groups[start..]
                .iter()
                .take(6)
                .map(|g| g.parse().ok())
                .collect::<Option<Vec<u32>>>()?
        }
    };
    if digits.len() < 5 {
        return None;
    }
    let (y, mo, d, h, mi) = (digits[0], digits[1], digits[2], digits[3], digits[4]);
    let s = digits.get(5).copied().unwrap_or(0);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let days = days_from_civil(i64::from(y), i64::from(mo), i64::from(d));
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Replaces everything outside `[A-Za-z0-9._-]` with `-`.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The stable id of the crash in directory `rel_dir` on `host`: `<host>-<dir>`, sanitized
/// for object keys, at most 128 characters (a long name keeps a hash suffix so two long
/// names stay apart).
pub fn crash_id_for(host: &str, rel_dir: &str) -> CrashId {
    let raw = format!("{}-{}", sanitize(host), sanitize(rel_dir));
    let mut id = raw.trim_start_matches(['.', '-']).to_owned();
    if id.is_empty() {
        id = "crash".into();
    }
    if id.len() > 128 {
        use sha2::Digest;
        let h = hex::encode(&sha2::Sha256::digest(raw.as_bytes())[..8]);
        id.truncate(128 - 17);
        id = format!("{id}-{h}");
    }
    // Invariant: `id` is non-empty, at most 128 characters of [A-Za-z0-9._-] and does
    // not start with '.', which is exactly what `CrashId::parse` accepts.
    CrashId::parse(&id).unwrap_or_else(|_| CrashId::parse("crash").expect("literal id is valid"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // The release comes from the banner line, whatever precedes it.
    #[test]
    fn release_from_banner() {
        let log = "[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12)\n";
        assert_eq!(
            kernel_release_from_log(log).as_deref(),
            Some("6.1.0-28-amd64")
        );
        assert_eq!(kernel_release_from_log("no banner"), None);
    }

    // VMCOREINFO fields are found in raw bytes; a bad build id is dropped.
    #[test]
    fn vmcoreinfo() {
        let head = b"\x7fELF....OSRELEASE=6.1.0-28-amd64\nPAGESIZE=4096\nBUILD-ID=ABCDEF0123\n";
        let (r, b) = vmcoreinfo_fields(head);
        assert_eq!(r.as_deref(), Some("6.1.0-28-amd64"));
        assert_eq!(b.as_deref(), Some("abcdef0123"));
        assert_eq!(vmcoreinfo_fields(b"BUILD-ID=abc\n").1, None);
        assert_eq!(vmcoreinfo_fields(b""), (None, None));
    }

    // Every distribution's stamp parses to the same instant.
    #[test]
    fn stamps() {
        let want = Some(1_796_386_800); // 2026-12-04 12:20:00 UTC
        assert_eq!(crashed_at_from_dir("202612041220"), want);
        assert_eq!(crashed_at_from_dir("10.0.0.5-202612041220"), want);
        assert_eq!(crashed_at_from_dir("127.0.0.1-2026-12-04-12:20:00"), want);
        assert_eq!(crashed_at_from_dir("2026-12-04-12-20"), want);
        assert_eq!(crashed_at_from_dir("2026-12-04-12:20"), want);
        assert_eq!(crashed_at_from_dir("soak-run"), None);
        assert_eq!(crashed_at_from_dir("209913991299"), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    // Crash ids are valid for every odd directory name and stable.
    #[test]
    fn crash_ids() {
        assert_eq!(
            crash_id_for("web1", "127.0.0.1-2026-12-04-12:20:00").as_str(),
            "web1-127.0.0.1-2026-12-04-12-20-00"
        );
        assert_eq!(crash_id_for("..", "..").as_str(), "crash");
        assert_eq!(crash_id_for("h", "a b/c").as_str(), "h-a-b-c");
        let long = "x".repeat(300);
        let a = crash_id_for("h", &long);
        assert!(a.as_str().len() <= 128);
        assert_ne!(a, crash_id_for("h", &format!("{long}y")));
        assert_eq!(a, crash_id_for("h", &long));
    }
}
