//! The three services as separate processes: `collector`, `analyzer`, `ticketer`, each
//! with `--once` for a single pass.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use crashsift_analyzer::{Analyzer, AnalyzerConfig};
use crashsift_model::Outcome;
use crashsift_ticketer::{RenderOptions, TicketerConfig};

use crate::args::{AnalyzerArgs, CollectorArgs, TicketerArgs};
use crate::{exit, setup};

pub async fn collector(args: CollectorArgs) -> Result<ExitCode> {
    let mut cfg = setup::collector_config(&args.collect, &args.store.data_dir)?;
    let objects = setup::objects(&args.store).await?;
    if let Some(addr) = args.metrics_addr {
        crate::metrics::serve(addr, None).await?;
    }
    if args.once {
        setup::bounded_retry(&mut cfg);
    } else {
        crashsift_collector::run(&cfg, &objects, super::shutdown_signal()).await?;
        return Ok(ExitCode::from(exit::OK));
    }
    let summary = crashsift_collector::collect_once(&cfg, &objects).await?;
    for id in &summary.uploaded {
        println!("uploaded {id}");
    }
    for (path, reason) in &summary.refused {
        eprintln!("refused {}: {reason}", path.display());
    }
    for (path, _) in &summary.waiting {
        eprintln!("waiting {}: still being written", path.display());
    }
    for (path, error) in &summary.failed {
        eprintln!("failed {}: {error}", path.display());
    }
    Ok(exit::from_outcome(if summary.failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::SoftErrors
    }))
}

pub async fn analyzer(args: AnalyzerArgs) -> Result<ExitCode> {
    let objects = setup::objects(&args.store).await?;
    let analyzer = Analyzer {
        store: setup::store(&args.store).await?,
        symbolizer: setup::symbolizer(&args.symbols, &args.store.data_dir, Some(&objects))?,
        objects,
        cfg: AnalyzerConfig {
            poll_interval: Duration::from_secs(args.poll_interval.max(1)),
            scratch_dir: args.store.data_dir.join("scratch"),
            ..AnalyzerConfig::default()
        },
    };
    if let Some(addr) = args.metrics_addr {
        crate::metrics::serve(addr, Some(analyzer.store.clone())).await?;
    }
    if !args.once {
        analyzer.run(super::shutdown_signal()).await?;
        return Ok(ExitCode::from(exit::OK));
    }
    let found = crashsift_analyzer::discover::discover(&analyzer.objects, &analyzer.store).await?;
    for (key, reason) in &found.bad {
        eprintln!("bad manifest {key}: {reason}");
    }
    let summary = analyzer.analyze_pending().await?;
    for id in &summary.analyzed {
        println!("analyzed {id}");
    }
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    for (id, e) in &summary.failed {
        eprintln!("failed {id}: {e}");
    }
    Ok(exit::from_outcome(found.outcome().and(summary.outcome())))
}

pub async fn ticketer(args: TicketerArgs) -> Result<ExitCode> {
    let store = setup::store(&args.store).await?;
    let cfg = TicketerConfig {
        render: RenderOptions {
            web_url: args.web_url.clone(),
            objects_url: Some(setup::objects_url(&args.store)?),
        },
    };
    loop {
        let summary = crashsift_ticketer::run_once(&store, &cfg).await?;
        for r in &summary.created {
            println!(
                "dry-run: would open issue for group {}: {}",
                r.group_id, r.summary
            );
        }
        for r in &summary.updated {
            println!(
                "dry-run: would comment on group {}'s issue: {}",
                r.group_id, r.summary
            );
        }
        if args.once {
            return Ok(ExitCode::from(exit::OK));
        }
        tokio::select! {
            _ = super::shutdown_signal() => return Ok(ExitCode::from(exit::OK)),
            _ = tokio::time::sleep(Duration::from_secs(args.poll_interval.max(1))) => {}
        }
    }
}
