//! A pure parser of one printed stack frame, in every form the kernel prints:
//! `func+0xoff/0xlen`, `? ` (unreliable), `[mod]`, `[mod <build id>]`, a `0010:` segment
//! prefix (`RIP: 0010:`), a trailing `(P)` source tag (arm64), parentheses, raw
//! `[<ffffffff...>]` or bare hex addresses. Used by `crashsift symbolize`; the full log
//! parser lives in `crashsift-report`.

use crashsift_model::report::Frame;

/// One input line understood as a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// Text before the frame (timestamp, `RIP: `, indentation), kept for plain output.
    pub prefix: String,
    /// The frame token as printed, without prefix, `? ` or module.
    pub token: String,
    pub frame: Frame,
}

/// Parses one line. `None` when it holds no frame (`<TASK>`, `Call Trace:`, garbage).
/// `exact` is whether the printed address is the PC itself (see `Frame::exact`); a `RIP:`
/// line or a `(P)` tag always makes it exact.
pub fn parse_frame_line(line: &str, exact: bool) -> Option<ParsedLine> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut rest = line;
    // Leading `[   12.345678]` timestamp and `[T123]`/`[C1]` caller ids.
    loop {
        let t = rest.trim_start();
        if let Some(inner) = t.strip_prefix('[')
            && let Some(end) = inner.find(']')
        {
            let body = &inner[..end];
            let is_ts =
                !body.is_empty() && body.trim().bytes().all(|b| b.is_ascii_digit() || b == b'.');
            let is_caller = body.len() > 1
                && (body.starts_with('T') || body.starts_with('C'))
                && body[1..].bytes().all(|b| b.is_ascii_digit());
            if is_ts || is_caller {
                rest = &inner[end + 1..];
                continue;
            }
        }
        break;
    }
    let mut exact = exact;
    let mut reliable = true;
    let mut body = rest.trim_start();
    for marker in ["RIP: ", "pc : ", "PC is at ", "EIP: "] {
        if let Some(b) = body.strip_prefix(marker) {
            body = b.trim_start();
            exact = true;
        }
    }
    if let Some(b) = body.strip_prefix("? ") {
        body = b;
        reliable = false;
    }
    let prefix_len = line.len() - body.len();
    let prefix = if reliable {
        line[..prefix_len].to_owned()
    } else {
        line[..prefix_len - 2].to_owned()
    };
    let mut tokens: Vec<&str> = body.split_whitespace().collect();
    // Trailing source tag such as `(P)`.
    if let Some(last) = tokens.last()
        && last.len() == 3
        && last.starts_with('(')
        && last.ends_with(')')
        && last.as_bytes()[1].is_ascii_uppercase()
    {
        if *last == "(P)" {
            exact = true;
        }
        tokens.pop();
    }
    // Parenthesised frames: `(foo+0x0/0x1 [bar])`.
    if let (Some(first), Some(last)) = (tokens.first().copied(), tokens.last().copied())
        && first.starts_with('(')
        && last.ends_with(')')
    {
        let n = tokens.len();
        tokens[0] = &first[1..];
        let last = tokens[n - 1];
        tokens[n - 1] = &last[..last.len() - 1];
    }
    let mut address = None;
    // Raw `[<ffffffff81234567>]` tokens.
    tokens.retain(|t| {
        if let Some(hex) = t.strip_prefix("[<").and_then(|t| t.strip_suffix(">]")) {
            if let Ok(a) = u64::from_str_radix(hex, 16) {
                address = Some(a);
            }
            false
        } else {
            true
        }
    });
    // Module: `[mod]` or `[mod buildid]` at the end.
    let mut module = None;
    let mut build_id = None;
    if let Some(last) = tokens.last()
        && let Some(inner) = last.strip_suffix(']')
    {
        if let Some(m) = inner.strip_prefix('[') {
            module = Some(m.to_owned());
            tokens.pop();
        } else if tokens.len() >= 2 {
            let prev = tokens[tokens.len() - 2];
            if let Some(m) = prev.strip_prefix('[')
                && inner.len() == 40
                && inner.bytes().all(|b| b.is_ascii_hexdigit())
            {
                module = Some(m.to_owned());
                build_id = Some(inner.to_ascii_lowercase());
                tokens.truncate(tokens.len() - 2);
            }
        }
    }
    let mut token = *tokens.first()?;
    if tokens.len() > 1 {
        // Anything else on the line means it is not a lone frame (for example `Call Trace:`).
        return None;
    }
    token = token.trim_start_matches('(').trim_end_matches(')');
    // Segment prefix `0010:`.
    if let Some((seg, after)) = token.split_once(':')
        && seg.len() == 4
        && seg.bytes().all(|b| b.is_ascii_hexdigit())
    {
        token = after;
        exact = true;
    }
    let mut frame = Frame {
        reliable,
        exact,
        module,
        build_id,
        address,
        ..Frame::default()
    };
    if let Some((name, offs)) = token.rsplit_once('+') {
        let (off, len) = match offs.split_once('/') {
            Some((o, l)) => (o, Some(l)),
            None => (offs, None),
        };
        let off = parse_hex(off)?;
        let len = match len {
            Some(l) => Some(parse_hex(l)?),
            None => None,
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        frame.function = Some(name.to_owned());
        frame.offset = Some(off);
        frame.size = len;
    } else {
        let a = parse_hex(token)?;
        frame.address = Some(a);
    }
    Some(ParsedLine {
        prefix,
        token: token.to_owned(),
        frame,
    })
}

fn parse_hex(s: &str) -> Option<u64> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if h.is_empty() || h.len() > 16 {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Call Trace entry with timestamp parses to name, offset, length; not exact.
    #[test]
    fn call_trace_entry() {
        let p = parse_frame_line("[    2.339586]  panic+0x118/0x2f4", false).expect("frame");
        assert_eq!(p.frame.function.as_deref(), Some("panic"));
        assert_eq!((p.frame.offset, p.frame.size), (Some(0x118), Some(0x2f4)));
        assert!(p.frame.reliable && !p.frame.exact);
        assert_eq!(p.prefix, "[    2.339586]  ");
    }

    // `? `, module and build id are recognized.
    #[test]
    fn unreliable_module_buildid() {
        let id = "03d0564e0529947d67bb2008c3548be77279fd27";
        let p = parse_frame_line(
            &format!(" ? drm_gem_mmap_obj+0x114/0x200 [drm {id}] (P)"),
            false,
        )
        .expect("frame");
        assert!(!p.frame.reliable);
        assert!(p.frame.exact, "(P) marks an exact pc");
        assert_eq!(p.frame.module.as_deref(), Some("drm"));
        assert_eq!(p.frame.build_id.as_deref(), Some(id));
        let p = parse_frame_line("  ext4_readdir+0x10/0x20 [ext4]", false).expect("frame");
        assert_eq!(p.frame.module.as_deref(), Some("ext4"));
    }

    // `RIP: 0010:` makes the frame exact and strips the segment.
    #[test]
    fn rip_line() {
        let p = parse_frame_line("RIP: 0010:sysrq_handle_crash+0x16/0x20", false).expect("frame");
        assert!(p.frame.exact);
        assert_eq!(p.frame.function.as_deref(), Some("sysrq_handle_crash"));
        assert_eq!(p.token, "sysrq_handle_crash+0x16/0x20");
    }

    // Raw addresses, bare or bracketed, and clone names.
    #[test]
    fn raw_and_clones() {
        assert_eq!(
            parse_frame_line("0xffffffff81234567", true)
                .expect("frame")
                .frame
                .address,
            Some(0xffffffff81234567)
        );
        assert_eq!(
            parse_frame_line("ffffffff81234567", true)
                .expect("frame")
                .frame
                .address,
            Some(0xffffffff81234567)
        );
        let p = parse_frame_line(
            " [<ffffffff81000000>] __handle_sysrq.cold+0x44/0x11c",
            false,
        )
        .expect("frame");
        assert_eq!(p.frame.function.as_deref(), Some("__handle_sysrq.cold"));
        assert_eq!(p.frame.address, Some(0xffffffff81000000));
        assert!(parse_frame_line("(foo+0x0/0x1 [bar])", false).is_some());
    }

    // Lines that are not frames are refused.
    #[test]
    fn not_frames() {
        for l in [
            "Call Trace:",
            " <TASK>",
            "",
            "Kernel panic - not syncing: x",
            "foo+0xzz/0x1",
        ] {
            assert!(parse_frame_line(l, false).is_none(), "{l}");
        }
    }
}
