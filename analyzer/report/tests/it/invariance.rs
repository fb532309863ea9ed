//! Metamorphic tests: transforms that must never change a signature (offsets, addresses,
//! PIDs, time stamps, kernel release, taint, clone suffixes, syslog and caller prefixes)
//! and changes that must (another guilty function, another kind or access).

use crate::support::{fixture_logs, read_lossy};

/// The signatures of the non-corrupted reports of a log, in order.
fn sigs(text: &str) -> Vec<String> {
    crashsift_report::parse(text)
        .into_iter()
        .filter(|r| !r.corrupted)
        .map(|r| r.signature)
        .collect()
}

/// Rewrites every `+0xOFF/0xSIZE` with other numbers.
pub(crate) fn shift_offsets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("+0x") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 3..];
        let n = after
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(after.len());
        match u64::from_str_radix(&after[..n], 16) {
            Ok(v) => out.push_str(&format!("+0x{:x}", v + 0x13)),
            Err(_) => out.push_str("+0x"),
        }
        let mut tail = &after[n..];
        if let Some(s) = tail.strip_prefix("/0x") {
            let m = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
            if let Ok(v) = u64::from_str_radix(&s[..m], 16) {
                out.push_str(&format!("/0x{:x}", v + 0x40));
                tail = &s[m..];
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Maps a function over maximal runs of bytes that satisfy `class`.
fn map_words(text: &str, class: fn(char) -> bool, f: &dyn Fn(&str, &str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (class(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push_str(&f(&text[s..i], &text[i..]));
                start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(s) = start {
        out.push_str(&f(&text[s..], ""));
    }
    out
}

/// Changes every hex word of 8 or more digits (addresses, register values).
pub(crate) fn shift_addresses(text: &str) -> String {
    map_words(text, |c| c.is_ascii_alphanumeric(), &|w, _| {
        if w.len() >= 8 && w.len() <= 16 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
            w.chars()
                .map(|c| match c {
                    '0'..='8' => ((c as u8) + 1) as char,
                    'a'..='e' => ((c as u8) + 1) as char,
                    other => other,
                })
                .collect()
        } else {
            w.to_owned()
        }
    })
}

/// Changes numbers after `PID: `, `pid `, `task ` and in `comm/pid`.
pub(crate) fn shift_pids(text: &str) -> String {
    let mut out = text.to_owned();
    for key in ["PID: ", "Pid: ", "pid: ", "pid ", "by task "] {
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(key) {
            res.push_str(&rest[..i + key.len()]);
            let after = &rest[i + key.len()..];
            let n = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            if n > 0 {
                res.push_str(&(after[..n].parse::<u64>().unwrap_or(0) + 31337).to_string());
            }
            rest = &after[n..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}

/// Moves `[  12.345678]` time stamps by a large amount (so their width changes).
pub(crate) fn shift_timestamps(text: &str) -> String {
    text.lines()
        .map(
            |l| match l.strip_prefix('[').and_then(|r| r.split_once(']')) {
                Some((ts, rest)) if ts.trim().parse::<f64>().is_ok() => {
                    format!(
                        "[{:.6}]{rest}",
                        ts.trim().parse::<f64>().unwrap_or(0.0) + 123456.5
                    )
                }
                _ => l.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// Changes the kernel release and taint strings.
pub(crate) fn change_release_and_taint(text: &str, releases: &[String]) -> String {
    let mut out = text.replace("Not tainted", "Tainted: G    B   W  O     ");
    for r in releases {
        out = out.replace(r.as_str(), "9.99.1-rc7-custom+");
    }
    out
}

/// Adds `.isra.0` and `.constprop.0` to every `func+0x` frame.
pub(crate) fn add_clone_suffixes(text: &str) -> String {
    map_words(
        text,
        |c| c.is_ascii_alphanumeric() || c == '_',
        &|w, next| {
            if next.starts_with("+0x")
                && w.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            {
                if w.len() % 2 == 0 {
                    format!("{w}.isra.0")
                } else {
                    format!("{w}.constprop.0")
                }
            } else {
                w.to_owned()
            }
        },
    )
}

pub(crate) fn add_syslog_prefix(text: &str) -> String {
    text.lines()
        .map(|l| format!("Dec  4 12:00:00 host kernel: {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn add_caller_ids(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let body = crashsift_report::prefix::strip(l).text;
            format!("[{:12.6}][  T4711] {body}", i as f64 * 0.001)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// No transform of offsets, addresses, PIDs, time stamps, release, taint, clone suffixes,
// syslog prefixes or caller ids changes any signature of any fixture.
#[test]
fn signatures_are_invariant() {
    let mut checked = 0;
    for log in fixture_logs() {
        let text = read_lossy(&log);
        let base = sigs(&text);
        if base.is_empty() {
            continue;
        }
        let releases: Vec<String> = crashsift_report::parse(&text)
            .into_iter()
            .filter_map(|r| r.kernel_release)
            .collect();
        let transforms: Vec<(&str, String)> = vec![
            ("offsets", shift_offsets(&text)),
            ("addresses", shift_addresses(&text)),
            ("pids", shift_pids(&text)),
            ("timestamps", shift_timestamps(&text)),
            ("release+taint", change_release_and_taint(&text, &releases)),
            ("clone suffixes", add_clone_suffixes(&text)),
            ("syslog", add_syslog_prefix(&text)),
        ];
        let mut transforms = transforms;
        // caller ids go after a dmesg time stamp, not inside a syslog line
        if !text
            .lines()
            .any(|l| l.contains(" kernel: ") || l.contains("][ "))
        {
            transforms.push(("caller ids", add_caller_ids(&text)));
        }
        for (name, t) in transforms {
            assert_eq!(
                sigs(&t),
                base,
                "{}: transform {name} changed signatures",
                log.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} transformed logs");
}

// Renaming the guilty function changes the signature, for every clean fixture report.
#[test]
fn other_guilty_frame_other_signature() {
    let mut checked = 0;
    for log in fixture_logs() {
        let text = read_lossy(&log);
        for r in crashsift_report::parse(&text)
            .into_iter()
            .filter(|r| !r.corrupted)
        {
            let Some(g) = r.guilty_frame.clone() else {
                continue;
            };
            if r.kind == crashsift_model::report::Kind::Kcsan
                || g.len() < 5
                || g == "rtnl_lock"
                || g == "synchronize_rcu"
            {
                continue;
            }
            let renamed = text.replace(&g, "zz_some_other_fn");
            let again = crashsift_report::parse(&renamed);
            let same = again
                .iter()
                .find(|x| x.start_line == r.start_line)
                .expect("still a report");
            assert_ne!(
                same.signature,
                r.signature,
                "{}: renaming {g} kept the signature",
                log.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} checked");
}

// Another kind, sub-kind or access direction over the same stack changes the signature.
#[test]
fn other_kind_or_access_other_signature() {
    let text = read_lossy(&crate::support::fixtures_dir().join("docs-kfence-2.txt"));
    let base = sigs(&text);
    for (from, to) in [
        ("use-after-free read in", "use-after-free write in"),
        ("use-after-free read in", "out-of-bounds read in"),
        (
            "BUG: KFENCE: use-after-free read in",
            "BUG: KASAN: use-after-free in",
        ),
        (
            "BUG: KFENCE: use-after-free read in",
            "WARNING: CPU: 2 PID: 488 at lib/x.c:1",
        ),
    ] {
        let other = sigs(&text.replace(from, to));
        assert_eq!(other.len(), 1, "{to}");
        assert_ne!(other, base, "{from} -> {to}");
    }
}
