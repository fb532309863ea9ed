//! How groups and crashes are printed: one line per group for people, JSON for scripts.

use std::io::Write;

use anyhow::Result;
use crashsift_model::group::Group;
use crashsift_model::report::{Frame, Report};
use crashsift_store::{Store, StoredReport};
use serde_json::json;

/// The source location of a report's guilty frame, `file:line`, once symbolized: the
/// innermost entry of the first frame whose symbol is the guilty function (the faulting
/// line, inside whatever was inlined into it), else the entry of an inline chain that
/// names the guilty function.
pub fn guilty_location(report: &Report) -> Option<String> {
    let guilty = report.guilty_frame.as_deref()?;
    let frames = || {
        report
            .rip
            .iter()
            .chain(report.stacks.iter().flat_map(|s| s.frames.iter()))
    };
    if let Some(loc) = frames()
        .filter(|f| base_name(f) == Some(guilty))
        .find_map(|f| f.source.first())
    {
        return Some(loc_string(loc.file.as_deref(), loc.line));
    }
    frames()
        .flat_map(|f| f.source.iter())
        .find(|loc| loc.function == guilty)
        .map(|loc| loc_string(loc.file.as_deref(), loc.line))
}

fn base_name(f: &Frame) -> Option<&str> {
    let name = f.function.as_deref()?;
    Some(name.split('.').next().unwrap_or(name))
}

fn loc_string(file: Option<&str>, line: Option<u32>) -> String {
    format!(
        "{}:{}",
        file.unwrap_or("??"),
        line.map(|l| l.to_string()).unwrap_or_else(|| "?".into())
    )
}

/// One group as a JSON object (the `groups list --json` contract).
pub fn group_json(
    g: &Group,
    latest: Option<&StoredReport>,
    ticket: Option<&str>,
) -> serde_json::Value {
    json!({
        "id": g.id,
        "signature": g.signature.as_str(),
        "title": g.title,
        "kind": g.kind.as_str(),
        "guilty_frame": g.guilty_frame,
        "location": latest.and_then(|r| guilty_location(&r.report)),
        "count": g.count,
        "first_seen": g.first_seen,
        "last_seen": g.last_seen,
        "kernels": g.kernels,
        "hosts": g.hosts,
        "ticket": ticket,
    })
}

/// Prints the live groups, one line each (or JSON Lines).
pub async fn print_groups(
    store: &Store,
    groups: &[Group],
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if !json && groups.is_empty() {
        writeln!(out, "no crash groups")?;
        return Ok(());
    }
    for g in groups {
        let latest = store.group_reports(g.id, 1).await?.into_iter().next();
        let ticket = store
            .ticket(g.id)
            .await?
            .map(|(t, _)| t.key.unwrap_or_else(|| format!("{} (dry-run)", t.summary)));
        if json {
            writeln!(out, "{}", group_json(g, latest.as_ref(), ticket.as_deref()))?;
            continue;
        }
        let location = latest
            .as_ref()
            .and_then(|r| guilty_location(&r.report))
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        writeln!(
            out,
            "#{:<4} {:>4}x  {:<24} {}{}  [kernels: {}] [hosts: {}]",
            g.id,
            g.count,
            g.kind.as_str(),
            g.title,
            location,
            g.kernels.join(", "),
            g.hosts.join(", ")
        )?;
    }
    Ok(())
}

/// Prints one report's stacks with their symbolized locations.
pub fn print_report(r: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "  {}", r.title)?;
    if let Some(rip) = &r.rip {
        writeln!(
            out,
            "    RIP: {}",
            crashsift_ticketer::render::frame_line(rip)
        )?;
    }
    for s in &r.stacks {
        writeln!(out, "    {}:", s.name)?;
        for f in &s.frames {
            let mark = if f.reliable { "" } else { "? " };
            writeln!(
                out,
                "      {mark}{}",
                crashsift_ticketer::render::frame_line(f)
            )?;
        }
    }
    Ok(())
}
