//! `crashsift run`: the whole pipeline in one process, on embedded defaults. With
//! `--once`: collect what the crash directory holds, analyze it, render tickets, print
//! one line per group and exit; run again, it adds nothing. Without: the collector's
//! watch loop and the analyzer/ticketer poll loops until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use crashsift_analyzer::{Analyzer, AnalyzerConfig};
use crashsift_model::Outcome;
use crashsift_store::GroupFilter;
use crashsift_ticketer::TicketerConfig;

use crate::args::RunArgs;
use crate::{exit, setup};

pub async fn run(args: RunArgs) -> Result<ExitCode> {
    let mut collector_cfg = setup::collector_config(&args.collect, &args.store.data_dir)?;
    if args.once {
        setup::bounded_retry(&mut collector_cfg);
    }
    let store = setup::store(&args.store).await?;
    let objects = setup::objects(&args.store).await?;
    let symbolizer = setup::symbolizer(&args.symbols, &args.store.data_dir, Some(&objects))?;
    let analyzer = Analyzer {
        store: store.clone(),
        objects: objects.clone(),
        symbolizer,
        cfg: AnalyzerConfig {
            poll_interval: Duration::from_secs(args.poll_interval.max(1)),
            scratch_dir: args.store.data_dir.join("scratch"),
            ..AnalyzerConfig::default()
        },
    };
    if let Some(addr) = args.metrics_addr {
        crate::metrics::serve(addr, Some(store.clone())).await?;
    }
    let ticketer_cfg = TicketerConfig::default();
    if !args.once {
        return run_forever(args, collector_cfg, analyzer, ticketer_cfg).await;
    }

    let mut outcome = Outcome::Clean;
    let collected = crashsift_collector::collect_once(&collector_cfg, &objects).await?;
    for (path, reason) in &collected.refused {
        tracing::warn!(path = %path.display(), %reason, "refused");
    }
    for (path, error) in &collected.failed {
        tracing::error!(path = %path.display(), %error, "collection failed");
        outcome = Outcome::SoftErrors;
    }
    for (path, _) in &collected.waiting {
        tracing::info!(path = %path.display(), "dump still being written; not collected yet");
    }
    let discovered = crashsift_analyzer::discover::discover(&objects, &store).await?;
    outcome = outcome.and(discovered.outcome());
    let analyzed = analyzer.analyze_pending().await?;
    for w in &analyzed.warnings {
        tracing::warn!("{w}");
    }
    for (id, e) in &analyzed.failed {
        tracing::error!(crash_id = %id, error = %e, "analysis failed");
    }
    outcome = outcome.and(analyzed.outcome());
    let tickets = crashsift_ticketer::run_once(&store, &ticketer_cfg).await?;
    tracing::info!(
        uploaded = collected.uploaded.len(),
        new_crashes = discovered.new.len(),
        analyzed = analyzed.analyzed.len(),
        reports = analyzed.reports,
        tickets_rendered = tickets.created.len(),
        tickets_updated = tickets.updated.len(),
        "run --once finished"
    );
    let groups = store.groups(&GroupFilter::default()).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    super::show::print_groups(&store, &groups, args.json, &mut out).await?;
    out.flush()?;
    store.close().await;
    Ok(exit::from_outcome(outcome))
}

async fn run_forever(
    args: RunArgs,
    collector_cfg: crashsift_collector::CollectorConfig,
    analyzer: Analyzer,
    ticketer_cfg: TicketerConfig,
) -> Result<ExitCode> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let objects = analyzer.objects.clone();
    let collector = tokio::spawn({
        let stop = stopped(rx.clone());
        async move { crashsift_collector::run(&collector_cfg, &objects, stop).await }
    });
    let analyzer_task = tokio::spawn({
        let stop = stopped(rx.clone());
        let analyzer = analyzer.clone();
        async move { analyzer.run(stop).await }
    });
    let store = analyzer.store.clone();
    let interval = Duration::from_secs(args.poll_interval.max(1));
    let ticketer = tokio::spawn({
        let mut rx = rx.clone();
        async move {
            loop {
                if let Err(e) = crashsift_ticketer::run_once(&store, &ticketer_cfg).await {
                    tracing::warn!(error = %e, "ticketer pass failed; retrying");
                }
                tokio::select! {
                    _ = rx.wait_for(|v| *v) => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        }
    });
    super::shutdown_signal().await;
    let _ = tx.send(true);
    let (c, a, _) = tokio::join!(collector, analyzer_task, ticketer);
    c??;
    a??;
    Ok(ExitCode::from(exit::OK))
}
