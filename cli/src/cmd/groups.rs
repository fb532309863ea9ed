//! `crashsift groups list|show|merge|split`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use crashsift_store::GroupFilter;
use serde_json::json;

use crate::args::GroupsCommand;
use crate::{exit, setup};

pub async fn run(cmd: GroupsCommand) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        GroupsCommand::List {
            store,
            kind,
            limit,
            json,
        } => {
            let store = setup::store(&store).await?;
            let groups = store.groups(&GroupFilter { kind, limit }).await?;
            super::show::print_groups(&store, &groups, json, &mut out).await?;
        }
        GroupsCommand::Show { store, id, json } => {
            let store = setup::store(&store).await?;
            let Some(group) = store.group(id).await? else {
                bail!("no group {id}");
            };
            let reports = store.group_reports(id, 50).await?;
            let crashes = store.group_crashes(id, 50).await?;
            let similar = store.similar_groups(id).await?;
            let ticket = store.ticket(id).await?.map(|(t, _)| t);
            if json {
                let mut v = super::show::group_json(
                    &group,
                    reports.first(),
                    ticket.as_ref().and_then(|t| t.key.as_deref()),
                );
                v["merged_into"] = json!(group.merged_into);
                v["reports"] = json!(reports.iter().map(|r| json!({
                    "id": r.id, "crash_id": r.crash_id.as_str(), "source": r.source,
                    "host": r.host, "kernel": r.kernel, "seen_at": r.seen_at, "report": r.report,
                })).collect::<Vec<_>>());
                v["crashes"] = json!(crashes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>());
                v["similar"] = json!(
                    similar
                        .iter()
                        .map(|(g, a)| json!({"group": g, "alias": a}))
                        .collect::<Vec<_>>()
                );
                v["ticket"] = json!(ticket.map(|t| json!({"key": t.key, "state": t.state.as_str(), "summary": t.summary, "description": t.description, "labels": t.labels})));
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "group #{}: {}", group.id, group.title)?;
                if let Some(into) = group.merged_into {
                    writeln!(out, "merged into group #{into}")?;
                }
                writeln!(
                    out,
                    "kind: {}  signature: {}",
                    group.kind.as_str(),
                    group.signature
                )?;
                writeln!(
                    out,
                    "count: {}  first seen: {}  last seen: {}",
                    group.count,
                    crashsift_ticketer::render::fmt_time(group.first_seen),
                    crashsift_ticketer::render::fmt_time(group.last_seen)
                )?;
                writeln!(out, "kernels: {}", group.kernels.join(", "))?;
                writeln!(out, "hosts: {}", group.hosts.join(", "))?;
                if let Some(t) = &ticket {
                    writeln!(
                        out,
                        "ticket: {} ({})",
                        t.key.as_deref().unwrap_or(&t.summary),
                        t.state.as_str()
                    )?;
                }
                for (g, alias) in &similar {
                    writeln!(out, "similar: group #{g} shares {alias}")?;
                }
                if let Some(latest) = reports.first() {
                    writeln!(out, "latest report (crash {}):", latest.crash_id)?;
                    super::show::print_report(&latest.report, &mut out)?;
                }
                writeln!(out, "crashes:")?;
                for c in &crashes {
                    writeln!(
                        out,
                        "  {}  {}  {}  {}",
                        c.id,
                        c.host,
                        c.kernel_release.as_deref().unwrap_or("?"),
                        crashsift_ticketer::render::fmt_time(
                            c.crashed_at.unwrap_or(c.collected_at)
                        )
                    )?;
                }
            }
        }
        GroupsCommand::Merge { store, into, from } => {
            let store = setup::store(&store).await?;
            store.merge_groups(into, from).await?;
            writeln!(out, "merged group #{from} into #{into}")?;
        }
        GroupsCommand::Split {
            store,
            id,
            signature,
        } => {
            let store = setup::store(&store).await?;
            let new = store.split_signature(id, &signature).await?;
            writeln!(
                out,
                "split {signature} out of group #{id} into group #{new}"
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::from(exit::OK))
}
