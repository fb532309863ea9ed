//! The group key of a report: `v<N>:<kind part>:<key>`, from the kind, the detector's
//! sub-kind and access type where they tell bugs apart, and the normalized guilty frame.
//! Never from addresses, offsets, line numbers, kernel versions, taint, CPUs or PIDs, so a
//! rebuilt or relocated kernel lands in the same group. Raise [`SIGNATURE_VERSION`] when
//! any rule here, in `skip` or in guilty-frame selection changes what a report maps to.

use crashsift_model::Signature;
use crashsift_model::report::{AccessType, Kind, Report, Stack};

/// The version of the signature rules; part of every signature.
pub const SIGNATURE_VERSION: u32 = 1;

/// Syscall wrapper prefixes that name the same syscall (`__x64_sys_read` is `sys_read`).
const SYSCALL_PREFIXES: &[&str] = &[
    "__x64_sys_",
    "__ia32_sys_",
    "__arm64_sys_",
    "__riscv_sys_",
    "__s390x_sys_",
    "__s390_sys_",
    "__se_sys_",
    "__do_sys_",
    "__x64_compat_sys_",
    "__ia32_compat_sys_",
    "__arm64_compat_sys_",
    "__se_compat_sys_",
    "__do_compat_sys_",
    "compat_SyS_",
    "compat_sys_",
    "SyS_",
];

/// Normalizes a printed symbol: drops the ppc64 leading dot, clone suffixes
/// (`.isra.0`, `.constprop.0`, `.part.0`, `.cold`, `.llvm.123`, ...) and maps syscall
/// wrappers to `sys_<name>`.
pub fn normalize_function(name: &str) -> String {
    let mut s = name.trim().trim_start_matches('.');
    if let Some(dot) = s.find('.') {
        s = &s[..dot];
    }
    for p in SYSCALL_PREFIXES {
        if let Some(rest) = s.strip_prefix(p)
            && !rest.is_empty()
        {
            return format!("sys_{rest}");
        }
    }
    s.to_owned()
}

/// Lowercase, `[a-z0-9]` runs joined by `-`, at most 48 characters.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.len() > 48 {
        out.truncate(48);
        while out.ends_with('-') {
            out.pop();
        }
    }
    out
}

/// The sanitizer sub-kind as keyed: renames across kernel versions are folded together.
fn keyed_sub_kind(kind: Kind, sub: &str) -> String {
    let s = slug(sub);
    match (kind, s.as_str()) {
        (Kind::Kasan, "slab-use-after-free") => "use-after-free".into(),
        (Kind::Kasan, "double-free-or-invalid-free" | "double-free" | "invalid-free") => {
            "invalid-free".into()
        }
        (Kind::Kfence, "invalid-read" | "invalid-write") => "invalid-access".into(),
        _ => s,
    }
}

/// Whether the sub-kind describes a free, which has no read/write direction.
fn is_free_kind(sub: &str) -> bool {
    sub.contains("free") && !sub.contains("use-after-free")
}

/// The kind part of the signature (before the key).
pub fn kind_part(report: &Report) -> String {
    let sub = report
        .sub_kind
        .as_deref()
        .map(|s| keyed_sub_kind(report.kind, s));
    let rw = report
        .access
        .as_ref()
        .and_then(|a| a.access_type)
        .map(|t| match t {
            AccessType::Read => "read",
            AccessType::Write => "write",
        });
    let base = report.kind.as_str();
    match report.kind {
        Kind::Kasan | Kind::Kfence => {
            let sub = sub.unwrap_or_else(|| "unknown".into());
            match rw {
                Some(rw) if !is_free_kind(&sub) && sub != "memory-corruption" => {
                    format!("{base}-{sub}-{rw}")
                }
                _ => format!("{base}-{sub}"),
            }
        }
        Kind::Lockdep => {
            let sub = sub.unwrap_or_default();
            let deadlock = matches!(
                sub.as_str(),
                "circular-locking"
                    | "recursive-locking"
                    | "irq-lock-inversion"
                    | "irq-safe-unsafe-order"
            );
            if deadlock {
                format!("{base}-deadlock")
            } else if sub.is_empty() {
                base.to_owned()
            } else {
                format!("{base}-{sub}")
            }
        }
        Kind::Kmsan | Kind::Kcsan | Kind::Ubsan | Kind::Bug | Kind::Oops => match sub {
            Some(sub) if !sub.is_empty() => format!("{base}-{sub}"),
            _ => base.to_owned(),
        },
        _ => base.to_owned(),
    }
}

/// The key: the normalized guilty frame; KCSAN keys both racing functions in a fixed
/// order; a panic without a frame keys its message.
pub fn key(report: &Report) -> String {
    if let Some((a, b)) = key_pair(report.kind, &report.stacks) {
        return format!("{a}/{b}");
    }
    match &report.guilty_frame {
        Some(f) => normalize_function(f),
        None if report.kind == Kind::Panic => {
            let msg = report
                .title
                .strip_prefix("kernel panic: ")
                .unwrap_or(&report.title);
            let s = slug(&strip_numbers(msg));
            if s.is_empty() { "unknown".into() } else { s }
        }
        None => "unknown".into(),
    }
}

/// KCSAN: the two racing functions (first unskipped frame of each access stack), sorted
/// so that the order in which the kernel printed them does not matter.
pub fn key_pair(kind: Kind, stacks: &[Stack]) -> Option<(String, String)> {
    if kind != Kind::Kcsan {
        return None;
    }
    let mut funcs: Vec<String> = stacks
        .iter()
        .filter(|s| s.name == "access" || s.name == "other_access")
        .filter_map(|s| crate::guilty::first_unskipped(kind, &s.frames))
        .collect();
    funcs.sort();
    funcs.dedup();
    match funcs.as_slice() {
        [a, b] => Some((a.clone(), b.clone())),
        _ => None,
    }
}

/// Replaces runs of digits and hex numbers by `N` so a message can be keyed.
pub fn strip_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for tok in s.split_inclusive(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        let (word, sep) = tok.split_at(
            tok.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .len(),
        );
        let hexish = word.strip_prefix("0x").unwrap_or(word);
        let numeric = !word.is_empty()
            && (word.bytes().all(|b| b.is_ascii_digit())
                || (word.len() >= 6 && hexish.bytes().all(|b| b.is_ascii_hexdigit()))
                || (word.starts_with("0x")
                    && !hexish.is_empty()
                    && hexish.bytes().all(|b| b.is_ascii_hexdigit())));
        out.push_str(if numeric { "N" } else { word });
        out.push_str(sep);
    }
    out
}

/// The signature of a report (pure).
pub fn signature(report: &Report) -> Signature {
    Signature::new(SIGNATURE_VERSION, &kind_part(report), &key(report))
}

/// Alias keys used to suggest merges: `bad-access in F` for memory-safety reports,
/// `invalid-free in F`, `stall in F`, `hang in F`, `kmsan-origin in G`.
pub fn aliases(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let Some(f) = report.guilty_frame.as_deref().map(normalize_function) else {
        return out;
    };
    let sub = report.sub_kind.as_deref().map(slug).unwrap_or_default();
    match report.kind {
        Kind::Kasan | Kind::Kfence if is_free_kind(&sub) => {
            out.push(format!("invalid-free in {f}"))
        }
        Kind::Kasan
        | Kind::Kfence
        | Kind::GeneralProtectionFault
        | Kind::PageFault
        | Kind::NullPointerDereference
        | Kind::ListCorruption => out.push(format!("bad-access in {f}")),
        Kind::Ubsan if sub.contains("index") || sub.contains("out-of-bounds") => {
            out.push(format!("bad-access in {f}"))
        }
        Kind::Kmsan => {
            out.push(format!("bad-access in {f}"));
            if let Some(origin) = report
                .stacks
                .iter()
                .filter(|s| s.name == "origin")
                .find_map(|s| crate::guilty::first_unskipped(report.kind, &s.frames))
            {
                out.push(format!("kmsan-origin in {origin}"));
            }
        }
        Kind::RcuStall | Kind::SoftLockup | Kind::HardLockup => out.push(format!("stall in {f}")),
        Kind::HungTask => out.push(format!("hang in {f}")),
        _ => {}
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Clone suffixes, ppc64 dots and syscall wrappers normalize away.
    #[test]
    fn normalization() {
        for (raw, want) in [
            ("foo.isra.0", "foo"),
            ("foo.constprop.12", "foo"),
            ("foo.part.3", "foo"),
            ("foo.cold", "foo"),
            ("foo.llvm.1234567", "foo"),
            (".eeh_dev_check_failure", "eeh_dev_check_failure"),
            ("__x64_sys_ioctl", "sys_ioctl"),
            ("__se_sys_ioctl", "sys_ioctl"),
            ("__do_sys_ioctl", "sys_ioctl"),
            ("SyS_write", "sys_write"),
            ("ksys_write", "ksys_write"),
        ] {
            assert_eq!(normalize_function(raw), want, "{raw}");
        }
    }

    // Numbers and addresses are removed from keyed messages, words are kept.
    #[test]
    fn numbers_stripped() {
        assert_eq!(
            strip_numbers("Attempted to kill init! exitcode=0x0000000b"),
            "Attempted to kill init! exitcode=N"
        );
        assert_eq!(
            strip_numbers("VFS: root fs on unknown-block(0,0)"),
            "VFS: root fs on unknown-block(N,N)"
        );
        assert_eq!(strip_numbers("ext4 sda1"), "ext4 sda1");
    }

    // Slugs are stable lowercase dash-joined words.
    #[test]
    fn slugs() {
        assert_eq!(
            slug("Right Redzone overwritten"),
            "right-redzone-overwritten"
        );
        assert_eq!(
            slug("double-free or invalid-free"),
            "double-free-or-invalid-free"
        );
    }
}
