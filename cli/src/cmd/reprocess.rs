//! `crashsift reprocess`: for CI and after rule changes. Optionally collects a directory
//! of dumps first, analyzes what is queued, then resymbolizes and/or regroups history.
//! Progress goes to stderr (JSON Lines on stdout with `--json`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use crashsift_analyzer::reprocess::{ReprocessOptions, reprocess};
use crashsift_analyzer::{Analyzer, AnalyzerConfig};
use crashsift_model::Outcome;
use serde_json::json;

use crate::args::{CollectArgs, ReprocessArgs};
use crate::{exit, setup};

pub async fn run(args: ReprocessArgs) -> Result<ExitCode> {
    let store = setup::store(&args.store).await?;
    let objects = setup::objects(&args.store).await?;
    let analyzer = Analyzer {
        store,
        symbolizer: setup::symbolizer(&args.symbols, &args.store.data_dir, Some(&objects))?,
        objects,
        cfg: AnalyzerConfig {
            poll_interval: Duration::from_secs(1),
            scratch_dir: args.store.data_dir.join("scratch"),
            ..AnalyzerConfig::default()
        },
    };
    let json = args.json;
    let stdout = std::io::stdout();
    let emit = |v: serde_json::Value| {
        if json {
            let mut out = stdout.lock();
            let _ = writeln!(out, "{v}");
        }
    };
    let mut outcome = Outcome::Clean;
    if let Some(dir) = &args.crash_dir {
        let collect = CollectArgs {
            crash_dir: dir.clone(),
            state_dir: None,
            host: None,
            quiet_period: 0,
            rescan_interval: 600,
            poll: false,
            kfence_marker: None,
            pstore_dirs: vec![],
        };
        let mut cfg = setup::collector_config(&collect, &args.store.data_dir)?;
        setup::bounded_retry(&mut cfg);
        let s = crashsift_collector::collect_once(&cfg, &analyzer.objects).await?;
        emit(json!({"stage": "collect", "uploaded": s.uploaded.len(), "failed": s.failed.len()}));
        eprintln!(
            "collected {} crash(es) from {}",
            s.uploaded.len(),
            dir.display()
        );
        if !s.failed.is_empty() {
            outcome = Outcome::SoftErrors;
        }
    }
    let found = crashsift_analyzer::discover::discover(&analyzer.objects, &analyzer.store).await?;
    let analyzed = analyzer.analyze_pending().await?;
    emit(
        json!({"stage": "analyze", "new": found.new.len(), "analyzed": analyzed.analyzed.len(), "failed": analyzed.failed.len()}),
    );
    outcome = outcome.and(found.outcome()).and(analyzed.outcome());
    let opts = ReprocessOptions {
        regroup: args.regroup,
        resymbolize: args.resymbolize,
        reanalyze: args.reanalyze,
    };
    let summary = reprocess(&analyzer, opts, |done, stage| {
        if json {
            emit(json!({"stage": stage, "done": done}));
        } else {
            eprint!("\r{stage}: {done}");
        }
    })
    .await?;
    if !json {
        eprintln!();
    }
    for f in &summary.failed {
        eprintln!("failed: {f}");
    }
    emit(json!({
        "stage": "done", "reports": summary.reports, "resymbolized": summary.resymbolized,
        "regrouped": summary.regrouped, "rules_translated": summary.rules_translated,
        "reanalyzed": summary.reanalyzed, "failed": summary.failed,
    }));
    if !json {
        println!(
            "{} report(s): {} resymbolized, {} regrouped ({} rule(s) translated), {} crash(es) reanalyzed",
            summary.reports,
            summary.resymbolized,
            summary.regrouped,
            summary.rules_translated,
            summary.reanalyzed
        );
    }
    Ok(exit::from_outcome(outcome.and(summary.outcome())))
}
