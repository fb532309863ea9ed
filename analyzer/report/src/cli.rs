//! `crashsift parse [--json] FILE...`: parse kernel logs and print their reports, one
//! JSON line per file with `--json` (`{"file": ..., "reports": [...]}`, each report the
//! model's `Report` serialization), a readable summary otherwise. An unreadable file is
//! reported on stderr, counted as a soft error, and the other files are still parsed.

use crashsift_model::Outcome;
use crashsift_model::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `crashsift parse`.
#[derive(Debug, Clone, clap::Args)]
pub struct ParseArgs {
    /// Kernel log files (dmesg, console captures, kmsg dumps, syslog or journal exports).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON line per file: {"file": ..., "reports": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// Why `crashsift parse` failed outright (per-file read errors are soft, not this).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot encode the reports of {file} as json: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
}

#[derive(serde::Serialize)]
struct FileLine<'a> {
    file: &'a str,
    reports: &'a [Report],
}

/// Runs `crashsift parse`, writing results to `out` and read errors to stderr.
pub fn run(args: &ParseArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut outcome = Outcome::Clean;
    for path in &args.files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("crashsift parse: cannot read {}: {e}", path.display());
                outcome = outcome.and(Outcome::SoftErrors);
                continue;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let reports = crate::parse(&text);
        let name = path.display().to_string();
        if args.json {
            let line = serde_json::to_string(&FileLine {
                file: &name,
                reports: &reports,
            })
            .map_err(|source| CliError::Json {
                file: name.clone(),
                source,
            })?;
            writeln!(out, "{line}")?;
        } else {
            write_summary(out, path, &reports)?;
        }
    }
    Ok(outcome)
}

fn write_summary(out: &mut dyn Write, path: &Path, reports: &[Report]) -> std::io::Result<()> {
    let n = reports.len();
    writeln!(
        out,
        "{}: {n} report{}",
        path.display(),
        if n == 1 { "" } else { "s" }
    )?;
    for (i, r) in reports.iter().enumerate() {
        writeln!(
            out,
            "  [{}] lines {}-{}: {}",
            i + 1,
            r.start_line + 1,
            r.end_line,
            r.title
        )?;
        writeln!(out, "      signature: {}", r.signature)?;
        if let Some(g) = &r.guilty_frame {
            writeln!(out, "      guilty frame: {g}")?;
        }
        let ctx: Vec<String> = [
            r.cpu.map(|c| format!("cpu {c}")),
            r.pid.map(|p| format!("pid {p}")),
            r.comm.clone().map(|c| format!("comm {c}")),
            r.kernel_release.clone().map(|k| format!("kernel {k}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !ctx.is_empty() {
            writeln!(out, "      {}", ctx.join(", "))?;
        }
        for s in &r.stacks {
            writeln!(out, "      {} ({} frames)", s.name, s.frames.len())?;
        }
        if r.corrupted {
            writeln!(
                out,
                "      CORRUPTED: {}",
                r.corrupted_reason.as_deref().unwrap_or("unknown reason")
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // --json prints one line per file; an unreadable file is a soft error and the rest run.
    #[test]
    fn json_lines_and_soft_errors() {
        let dir = std::env::temp_dir().join(format!("crashsift-report-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let crash = dir.join("crash.log");
        std::fs::write(
            &crash,
            b"[    1.0] Kernel panic - not syncing: boom\n[    1.1] Call Trace:\n[    1.2]  panic+0x1/0x2\n[    1.3]  my_init+0x1/0x2\n\xff\n",
        )
        .unwrap();
        let clean = dir.join("clean.log");
        std::fs::write(&clean, "[    0.0] Linux version 6.1\n").unwrap();
        let args = ParseArgs {
            files: vec![crash.clone(), dir.join("missing.log"), clean],
            json: true,
        };
        let mut out = Vec::new();
        let outcome = run(&args, &mut out).unwrap();
        assert_eq!(outcome, Outcome::SoftErrors);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["reports"][0]["guilty_frame"], "my_init");
        assert_eq!(
            lines[0]["reports"][0]["stacks"][0]["frames"][1]["function"],
            "my_init"
        );
        assert_eq!(lines[1]["reports"], serde_json::json!([]));
        let mut human = Vec::new();
        let args = ParseArgs {
            files: vec![crash],
            json: false,
        };
        assert_eq!(run(&args, &mut human).unwrap(), Outcome::Clean);
        assert!(
            String::from_utf8(human)
                .unwrap()
                .contains("kernel panic: boom in my_init")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
