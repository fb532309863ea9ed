//! Reprocessing history: resymbolize stored reports (a vmlinux arrived), regroup them
//! (the signature rules changed), or analyze every crash again from its artifacts.

use crashsift_model::report::Report;
use crashsift_model::{BuildId, Outcome};
use crashsift_store::Regroup;
use crashsift_symbolize::KernelRef;

use crate::{Analyzer, Error};

/// What to redo.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReprocessOptions {
    /// Recompute every report's signature with the current rules and refile it.
    pub regroup: bool,
    /// Symbolize every stored frame again.
    pub resymbolize: bool,
    /// Requeue every crash and read its artifacts again (new reports are added).
    pub reanalyze: bool,
}

/// What a reprocess run did.
#[derive(Debug, Clone, Default)]
pub struct ReprocessSummary {
    pub reports: usize,
    pub resymbolized: usize,
    pub regrouped: usize,
    pub rules_translated: usize,
    pub reanalyzed: usize,
    pub failed: Vec<String>,
}

impl ReprocessSummary {
    pub fn outcome(&self) -> Outcome {
        if self.failed.is_empty() {
            Outcome::Clean
        } else {
            Outcome::SoftErrors
        }
    }
}

/// Reports are read from the store this many at a time.
const BATCH: i64 = 500;

/// Runs the requested passes in order: reanalyze, resymbolize, regroup. `progress` is
/// called after each batch with (done, stage).
pub async fn reprocess(
    analyzer: &Analyzer,
    opts: ReprocessOptions,
    mut progress: impl FnMut(usize, &str),
) -> Result<ReprocessSummary, Error> {
    let store = &analyzer.store;
    let mut summary = ReprocessSummary::default();
    if opts.reanalyze {
        store.requeue_all().await?;
        let s = analyzer.analyze_pending().await?;
        summary.reanalyzed = s.analyzed.len();
        summary
            .failed
            .extend(s.failed.into_iter().map(|(id, e)| format!("{id}: {e}")));
        progress(summary.reanalyzed, "reanalyze");
    }
    if !(opts.resymbolize || opts.regroup) {
        return Ok(summary);
    }
    let mut after = 0;
    let mut regroup_items = Vec::new();
    loop {
        let batch = store.reports_after(after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for stored in batch {
            summary.reports += 1;
            let mut report = stored.report;
            if opts.resymbolize {
                let crash = store.crash(&stored.crash_id).await?;
                let kernel = KernelRef {
                    release: crash.as_ref().and_then(|c| c.kernel_release.clone()),
                    build_id: crash
                        .as_ref()
                        .and_then(|c| c.build_id.as_deref())
                        .and_then(|b| BuildId::parse(b).ok()),
                    // The symbolizer falls back to the report's own offset and release.
                    kaslr_offset: None,
                };
                clear_symbols(&mut report);
                let symbolizer = analyzer.symbolizer.clone();
                report = tokio::task::spawn_blocking(move || {
                    symbolizer.symbolize_report(&mut report, &kernel);
                    report
                })
                .await
                .map_err(|e| Error::Crash(format!("symbolizer task failed: {e}")))?;
                if !opts.regroup {
                    store.update_report_body(stored.id, &report).await?;
                }
                summary.resymbolized += 1;
            }
            if opts.regroup {
                report.signature = crashsift_report::signature::signature(&report).to_string();
                report.aliases = crashsift_report::signature::aliases(&report);
                regroup_items.push(Regroup {
                    report_id: stored.id,
                    report,
                });
            }
        }
        progress(summary.reports, "reports");
    }
    if opts.regroup {
        let r = store.regroup(&regroup_items).await?;
        summary.regrouped = r.changed;
        summary.rules_translated = r.rules_translated;
        progress(r.reports, "regroup");
    }
    Ok(summary)
}

fn clear_symbols(report: &mut Report) {
    let frames = report
        .stacks
        .iter_mut()
        .flat_map(|s| s.frames.iter_mut())
        .chain(report.rip.as_mut());
    for f in frames {
        f.source.clear();
        f.symbolize_error = None;
    }
}
