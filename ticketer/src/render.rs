//! Renders a group as an issue: summary, description and labels, within Jira's limits.
//! Pure: the same group and reports always render the same issue.

use crashsift_model::crash::Crash;
use crashsift_model::group::Group;
use crashsift_model::report::{Frame, Report};
use crashsift_store::StoredReport;
use std::fmt::Write as _;

/// Jira's summary limit, in characters.
pub const MAX_SUMMARY: usize = 255;
/// A description limit well inside Jira's 32,767-character text field.
pub const MAX_DESCRIPTION: usize = 30_000;
/// How many frames of the guilty stack the issue shows.
pub const TOP_FRAMES: usize = 12;

/// Where links in the issue point.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The base URL of crashsift's web pages, for the group link.
    pub web_url: Option<String>,
    /// The object store URL, for artifact links.
    pub objects_url: Option<String>,
}

/// A rendered issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub group_id: i64,
    pub summary: String,
    pub description: String,
    pub labels: Vec<String>,
}

/// Renders `group` from its most recent reports and crashes.
pub fn render(
    group: &Group,
    reports: &[StoredReport],
    crashes: &[Crash],
    opts: &RenderOptions,
) -> Rendered {
    let summary = truncate_chars(
        &format!("[crashsift] {}", single_line(&group.title)),
        MAX_SUMMARY,
    );
    let mut d = String::new();
    let _ = writeln!(d, "{}", group.title);
    let _ = writeln!(d);
    let _ = writeln!(d, "Kind: {}", group.kind.as_str());
    let _ = writeln!(d, "Signature: {}", group.signature);
    if let Some(f) = &group.guilty_frame {
        let _ = writeln!(d, "Guilty frame: {f}");
    }
    let _ = writeln!(
        d,
        "Seen {} time(s), first {}, last {}",
        group.count,
        fmt_time(group.first_seen),
        fmt_time(group.last_seen)
    );
    let _ = writeln!(d, "Kernels: {}", list_or_none(&group.kernels));
    let _ = writeln!(d, "Hosts: {}", list_or_none(&group.hosts));
    if let Some(latest) = reports.first() {
        let _ = writeln!(d);
        let _ = writeln!(d, "Most recent report (crash {}):", latest.crash_id);
        write_stacks(&mut d, &latest.report);
    }
    if !crashes.is_empty() {
        let _ = writeln!(d);
        let _ = writeln!(d, "Artifacts:");
        for c in crashes.iter().take(5) {
            for a in &c.artifacts {
                let link = match &opts.objects_url {
                    Some(base) => format!("{}/{}", base.trim_end_matches('/'), a.key),
                    None => a.key.clone(),
                };
                let _ = writeln!(d, "- {} {} ({} bytes): {link}", c.id, a.name, a.size);
            }
        }
    }
    if let Some(web) = &opts.web_url {
        let _ = writeln!(d);
        let _ = writeln!(
            d,
            "Group page: {}/groups/{}",
            web.trim_end_matches('/'),
            group.id
        );
    }
    Rendered {
        group_id: group.id,
        summary,
        description: truncate_chars(&d, MAX_DESCRIPTION),
        labels: labels(group),
    }
}

/// Labels carry no spaces; the hash label is what a reconciler searches for.
pub fn labels(group: &Group) -> Vec<String> {
    vec![
        "crashsift".to_owned(),
        format!("crashsift-{}", group.signature.short_hash()),
        format!("crashsift-kind-{}", group.kind.as_str().replace('_', "-")),
    ]
}

fn write_stacks(d: &mut String, r: &Report) {
    if let Some(rip) = &r.rip {
        let _ = writeln!(d, "  RIP: {}", frame_line(rip));
    }
    for stack in &r.stacks {
        let _ = writeln!(d, "  {}:", stack.name);
        for f in stack.frames.iter().filter(|f| f.reliable).take(TOP_FRAMES) {
            let _ = writeln!(d, "    {}", frame_line(f));
        }
    }
}

/// `func+0x1a/0x40 [mod] at file:line` (with the inline chain) or the printed form.
pub fn frame_line(f: &Frame) -> String {
    let mut s = f.function.clone().unwrap_or_else(|| match f.address {
        Some(a) => format!("{a:#x}"),
        None => "??".to_owned(),
    });
    if let (Some(off), Some(size)) = (f.offset, f.size) {
        let _ = write!(s, "+{off:#x}/{size:#x}");
    }
    if let Some(m) = &f.module {
        let _ = write!(s, " [{m}]");
    }
    // The chain is innermost first; the frame's own function is the last entry. Print
    // its location, then each inlined callee from the outside in.
    let at = |loc: &crashsift_model::report::SourceLoc| {
        format!(
            "{}:{}",
            loc.file.as_deref().unwrap_or("??"),
            loc.line
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into())
        )
    };
    if let Some((outer, inlined)) = f.source.split_last() {
        let _ = write!(s, " at {}", at(outer));
        for loc in inlined.iter().rev() {
            let _ = write!(s, " (inlined {} at {})", loc.function, at(loc));
        }
    }
    s
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "unknown".to_owned()
    } else {
        v.join(", ")
    }
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn fmt_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use crashsift_model::Signature;
    use crashsift_model::report::{Kind, SourceLoc};

    fn group(title: &str) -> Group {
        Group {
            id: 7,
            signature: Signature::new(1, "kfence-use-after-free-read", "find_uprobe"),
            title: title.into(),
            kind: Kind::Kfence,
            guilty_frame: Some("find_uprobe".into()),
            first_seen: 0,
            last_seen: 86_400 + 3_661,
            count: 3,
            kernels: vec!["6.1.0".into()],
            hosts: vec![],
            merged_into: None,
        }
    }

    // Summaries stay within Jira's 255 characters and on one line.
    #[test]
    fn summary_is_bounded() {
        let r = render(
            &group(&"x\ny ".repeat(300)),
            &[],
            &[],
            &RenderOptions::default(),
        );
        assert!(r.summary.chars().count() <= MAX_SUMMARY);
        assert!(!r.summary.contains('\n'));
    }

    // Labels have no spaces and carry the signature hash.
    #[test]
    fn labels_are_jira_safe() {
        let g = group("t");
        let l = labels(&g);
        assert!(l.iter().all(|l| !l.contains(' ')));
        assert!(l.contains(&format!("crashsift-{}", g.signature.short_hash())));
    }

    // The description names the counts, times, kernels, and links the group page.
    #[test]
    fn description_has_the_facts() {
        let opts = RenderOptions {
            web_url: Some("http://crashsift.example/".into()),
            objects_url: None,
        };
        let r = render(
            &group("KFENCE: use-after-free read in find_uprobe"),
            &[],
            &[],
            &opts,
        );
        assert!(
            r.description.contains(
                "Seen 3 time(s), first 1970-01-01 00:00:00 UTC, last 1970-01-02 01:01:01 UTC"
            ),
            "{}",
            r.description
        );
        assert!(r.description.contains("Kernels: 6.1.0"));
        assert!(r.description.contains("Hosts: unknown"));
        assert!(r.description.contains("http://crashsift.example/groups/7"));
    }

    // Symbolized frames show file:line and their inline chain.
    #[test]
    fn frames_show_file_and_line() {
        let f = Frame {
            function: Some("find_uprobe".into()),
            offset: Some(0x1a),
            size: Some(0x40),
            module: None,
            reliable: true,
            source: vec![
                SourceLoc {
                    function: "__find_uprobe".into(),
                    file: Some("kernel/events/uprobes.c".into()),
                    line: Some(650),
                    column: None,
                    inlined: true,
                },
                SourceLoc {
                    function: "find_uprobe".into(),
                    file: Some("kernel/events/uprobes.c".into()),
                    line: Some(667),
                    column: None,
                    inlined: false,
                },
            ],
            ..Frame::default()
        };
        assert_eq!(
            frame_line(&f),
            "find_uprobe+0x1a/0x40 at kernel/events/uprobes.c:667 (inlined __find_uprobe at kernel/events/uprobes.c:650)"
        );
    }
}
