//! One stack frame line in any of the printed forms: `func+0x1/0x2 [mod]`, with a build id,
//! `? ` unreliable, `[<address>]` (old x86), ARM `(func) from`, ppc64 `[sp] [pc] .func`,
//! s390 `([<addr>] 0x...)`, bare addresses, KMSAN `func+0x1/0x2 file.c:12` and inlined
//! `func file.c:12`, old `:mod:func`, arm64 `(P)`.

use crashsift_model::report::Frame;

/// Parses one trimmed line as a frame. `allow_bare` accepts a lone identifier (hand
/// trimmed traces) and is only set inside a `Call Trace:` block.
pub fn parse_frame(line: &str, allow_bare: bool) -> Option<Frame> {
    let mut s = line.trim();
    if s.starts_with("([<") {
        s = s.strip_prefix('(').unwrap_or(s);
        s = s.strip_suffix(')').unwrap_or(s);
    }
    let mut address = None;
    let mut had_bracket = false;
    // a console that ate the first byte: `<ffffffff81329372>] func+0x1/0x2`
    if s.starts_with('<')
        && let Some(end) = s.find(">]")
    {
        address = Some(parse_hex(&s[1..end])?);
        s = s[end + 2..].trim_start();
        had_bracket = true;
    }
    for _ in 0..2 {
        if let Some(rest) = s.strip_prefix("[<") {
            let end = rest.find(">]")?;
            address = Some(parse_hex(&rest[..end])?);
            s = rest[end + 2..].trim_start();
            had_bracket = true;
        } else if s.starts_with('[') {
            // ppc64: `[stack pointer] [pc]`
            let end = s.find(']')?;
            let inner = &s[1..end];
            if inner.len() < 8 || !inner.bytes().all(|b| b.is_ascii_hexdigit()) {
                break;
            }
            address = Some(parse_hex(inner)?);
            s = s[end + 1..].trim_start();
            had_bracket = true;
        } else {
            break;
        }
    }
    let mut reliable = true;
    if let Some(rest) = s.strip_prefix("? ") {
        reliable = false;
        s = rest;
    } else if s == "?" {
        return None;
    }
    // ARM: `[<c0333330>] (shmem_getpage_gfp) from [<c031c7a0>] (caller+0xa8/0x1c0)`
    if let Some(rest) = s.strip_prefix('(') {
        let end = rest.find(')')?;
        let after = rest[end + 1..].trim_start();
        if !(after.is_empty() || after.starts_with("from ")) {
            return None;
        }
        let mut f = parse_symbol(&rest[..end], true)?;
        f.address = address;
        f.reliable = reliable;
        return Some(f);
    }
    if let Some(hex) = s.strip_prefix("0x") {
        let end = hex
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(hex.len());
        let tail = hex[end..].trim();
        if end == 0 || !(tail.is_empty() || tail.starts_with('[')) {
            return None;
        }
        let addr = parse_hex(&hex[..end])?;
        if addr == u64::MAX {
            return None;
        }
        return Some(Frame {
            address: address.or(Some(addr)),
            reliable,
            ..Frame::default()
        });
    }
    let mut f = parse_symbol(s, allow_bare || had_bracket)?;
    f.address = address;
    f.reliable = reliable && f.reliable;
    Some(f)
}

/// `[:mod:]name[+off/size][ [mod[ buildid]]][ (unreliable)][ (P)][ file:line]`.
/// Without an offset the symbol is only accepted when `loose` or a source location follows.
pub fn parse_symbol(s: &str, loose: bool) -> Option<Frame> {
    let mut s = s.trim();
    let mut module = None;
    if let Some(rest) = s.strip_prefix(':') {
        let end = rest.find(':')?;
        module = Some(rest[..end].to_owned());
        s = &rest[end + 1..];
    }
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'))
        .unwrap_or(s.len());
    let name = &s[..name_end];
    let first = name.bytes().next()?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') || name == "." {
        return None;
    }
    let mut rest = &s[name_end..];
    let mut f = Frame {
        function: Some(name.to_owned()),
        module,
        reliable: true,
        ..Frame::default()
    };
    let mut has_offset = false;
    if let Some(r) = rest.strip_prefix('+') {
        let (off, size, used) = parse_off_size(r)?;
        f.offset = Some(off);
        f.size = size;
        rest = &r[used..];
        has_offset = true;
    }
    rest = rest.strip_prefix("()").unwrap_or(rest);
    let mut has_source = false;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let mut parts = r[..end].split_whitespace();
            if let Some(m) = parts.next() {
                f.module = Some(m.to_owned());
            }
            if let Some(id) = parts.next()
                && id.len() >= 2
                && id.bytes().all(|b| b.is_ascii_hexdigit())
            {
                f.build_id = Some(id.to_ascii_lowercase());
            }
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("(unreliable)") {
            f.reliable = false;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("(P)") {
            f.exact = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("(L)") {
            rest = r;
        } else {
            let tok = rest.split_whitespace().next().unwrap_or("");
            if tok.contains(':')
                && (tok.contains('/') || tok.contains(".c") || tok.starts_with("??"))
            {
                has_source = true;
                rest = &rest[tok.len()..];
            } else if has_offset {
                break;
            } else {
                return None;
            }
        }
    }
    if !(has_offset || has_source || loose) {
        return None;
    }
    Some(f)
}

/// `0x1f/0x30` or `16/3868` (old decimal form); returns offset, size, bytes used.
fn parse_off_size(s: &str) -> Option<(u64, Option<u64>, usize)> {
    let (off, used) = parse_num(s)?;
    if let Some(r) = s[used..].strip_prefix('/')
        && let Some((size, used2)) = parse_num(r)
    {
        return Some((off, Some(size), used + 1 + used2));
    }
    Some((off, None, used))
}

fn parse_num(s: &str) -> Option<(u64, usize)> {
    if let Some(h) = s.strip_prefix("0x") {
        let end = h.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(h.len());
        Some((u64::from_str_radix(&h[..end], 16).ok()?, end + 2))
    } else {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        Some((s[..end].parse().ok()?, end))
    }
}

/// A hex number with or without `0x`, at most 16 digits.
pub fn parse_hex(s: &str) -> Option<u64> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// Old bracketed decimal frames: `[oops:_oops_ioctl+48/80] [_sys_ioctl+254/272]`.
pub fn parse_bracket_frames(s: &str) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some(r) = rest.strip_prefix('[') {
        let Some(end) = r.find(']') else { break };
        let inner = &r[..end];
        if !inner.starts_with('<') {
            let (module, sym) = match inner.find(':') {
                Some(c) if !inner[..c].contains('+') => {
                    (Some(inner[..c].to_owned()), &inner[c + 1..])
                }
                _ => (None, inner),
            };
            if let Some(mut f) = parse_symbol(sym, false) {
                f.module = module.or(f.module);
                out.push(f);
            }
        }
        rest = r[end + 1..].trim_start();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn name(f: &Option<Frame>) -> Option<&str> {
        f.as_ref().and_then(|f| f.function.as_deref())
    }

    // The modern form with module and build id is split into its parts.
    #[test]
    fn modern_with_build_id() {
        let f = parse_frame(
            " kmalloc_oob_right+0xa8/0xbc [kasan_test 0123456789abcdef0123456789abcdef01234567]",
            false,
        )
        .unwrap();
        assert_eq!(f.function.as_deref(), Some("kmalloc_oob_right"));
        assert_eq!((f.offset, f.size), (Some(0xa8), Some(0xbc)));
        assert_eq!(f.module.as_deref(), Some("kasan_test"));
        assert_eq!(
            f.build_id.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert!(f.reliable && !f.exact);
    }

    // `? ` and `(unreliable)` mark frames unreliable; `(P)` marks an exact pc.
    #[test]
    fn reliability_marks() {
        assert!(!parse_frame(" ? _printk+0x68/0x83", false).unwrap().reliable);
        assert!(
            !parse_frame("[<c12ba080>] ? dump_stack+0x44/0x64", false)
                .unwrap()
                .reliable
        );
        let f = parse_frame(
            "[c0000000] [c0000008] .eeh_check+0x278/0x390 (unreliable)",
            false,
        )
        .unwrap();
        assert!(!f.reliable);
        assert_eq!(f.function.as_deref(), Some(".eeh_check"));
        assert!(
            parse_frame(" el1_abort+0x1c/0x30 (P)", false)
                .unwrap()
                .exact
        );
    }

    // Old x86, ARM, s390, kmemleak and KMSAN forms parse.
    #[test]
    fn old_and_arch_forms() {
        let f = parse_frame(" [<ffffffff815e6cd6>] dump_stack+0x45/0x5f", false).unwrap();
        assert_eq!(f.address, Some(0xffffffff815e6cd6));
        assert_eq!(
            name(&parse_frame(
                "[<c0333330>] (shmem_getpage_gfp) from [<c031c7a0>] (g+0xa8/0x1c0)",
                false
            )),
            Some("shmem_getpage_gfp")
        );
        let f = parse_frame("([<00000000027f8000>] 0x27f8000)", false).unwrap();
        assert_eq!((f.function, f.address), (None, Some(0x27f8000)));
        assert!(parse_frame("[<ffffffffffffffff>] 0xffffffffffffffff", false).is_none());
        assert_eq!(
            name(&parse_frame(
                " kunit_run_case_internal lib/kunit/test.c:333",
                false
            )),
            Some("kunit_run_case_internal")
        );
        let f = parse_frame(
            " [<ffffffff8802c8e9>] :jbd:log_wait_commit+0xa3/0xf5",
            false,
        )
        .unwrap();
        assert_eq!(f.module.as_deref(), Some("jbd"));
        let v = parse_bracket_frames("[oops:_oops_ioctl+48/80] [_sys_ioctl+254/272]");
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].offset, v[0].size), (Some(48), Some(80)));
    }

    // Ordinary log text is not mistaken for a frame.
    #[test]
    fn rejects_text() {
        for s in [
            "Modules linked in: a b c",
            "RIP: 0010:foo+0x1/0x2",
            "clocksource: Switched to clocksource tsc",
            "The buggy address belongs to the object at ffff8801f44ec300",
            "0000000000000000 ffffffff82403cc8 ffffffff815e6cd6 0000000000000001",
            "<IRQ>",
        ] {
            assert!(parse_frame(s, false).is_none(), "{s}");
        }
        assert!(parse_frame("mba_wrmsr", true).is_some());
        assert!(parse_frame("mba_wrmsr", false).is_none());
    }
}
