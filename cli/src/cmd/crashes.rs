//! `crashsift crashes list|show`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use crashsift_model::CrashId;
use serde_json::json;

use crate::args::CrashesCommand;
use crate::{exit, setup};

pub async fn run(cmd: CrashesCommand) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        CrashesCommand::List { store, limit, json } => {
            let store = setup::store(&store).await?;
            for c in store.list_crashes(limit).await? {
                if json {
                    writeln!(out, "{}", serde_json::to_string(&c)?)?;
                } else {
                    writeln!(
                        out,
                        "{}  {}  {}  {}  {} artifact(s){}",
                        c.id,
                        c.host,
                        c.kernel_release.as_deref().unwrap_or("?"),
                        crashsift_ticketer::render::fmt_time(
                            c.crashed_at.unwrap_or(c.collected_at)
                        ),
                        c.artifacts.len(),
                        if c.incomplete { "  incomplete" } else { "" }
                    )?;
                }
            }
        }
        CrashesCommand::Show { store, id, json } => {
            let id = CrashId::parse(&id).context("crash id")?;
            let store = setup::store(&store).await?;
            let Some(crash) = store.crash(&id).await? else {
                bail!("no crash {id}");
            };
            let reports = store.crash_reports(&id).await?;
            if json {
                let v = json!({
                    "crash": crash,
                    "reports": reports.iter().map(|r| json!({"id": r.id, "source": r.source, "group_id": r.group_id, "report": r.report})).collect::<Vec<_>>(),
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "crash {}  host {}  kernel {}  layout {}{}",
                    crash.id,
                    crash.host,
                    crash.kernel_release.as_deref().unwrap_or("?"),
                    crash.layout,
                    if crash.incomplete {
                        "  (incomplete dump)"
                    } else {
                        ""
                    }
                )?;
                for a in &crash.artifacts {
                    writeln!(
                        out,
                        "  artifact {} ({}, {} bytes) {}",
                        a.name,
                        a.kind.as_str(),
                        a.size,
                        a.key
                    )?;
                }
                for r in &reports {
                    writeln!(
                        out,
                        "report {} from {} -> group #{}",
                        r.idx,
                        r.source,
                        r.group_id
                            .map(|g| g.to_string())
                            .unwrap_or_else(|| "?".into())
                    )?;
                    super::show::print_report(&r.report, &mut out)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::from(exit::OK))
}
