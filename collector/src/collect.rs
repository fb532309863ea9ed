//! One collection pass: scan, decide each dump directory, upload what is complete.
//!
//! A bad directory does not stop the pass: its error is logged and returned in
//! [`CollectSummary::failed`], and the next pass tries it again.

use std::path::PathBuf;

use crashsift_model::CrashId;
use crashsift_objstore::ObjectStore;

use crate::journal::Journal;
use crashsift_model::crash::ArtifactKind;

use crate::layout::{Decision, JournalVerdict, PlannedArtifact, decide};
use crate::upload::{CrashPlan, upload_crash};
use crate::{CollectorConfig, Error, meta, pstore, scan, system};

/// What one pass did.
#[derive(Debug, Default)]
pub struct CollectSummary {
    /// Crashes whose manifest this pass wrote (or found written by a twin).
    pub uploaded: Vec<CrashId>,
    /// Directories already done, or holding no dump.
    pub skipped: usize,
    /// Dumps still being written (within their quiet period), with the time to look again.
    pub waiting: Vec<(PathBuf, i64)>,
    /// Entries refused for safety (symlinks, special files), with the reason.
    pub refused: Vec<(PathBuf, String)>,
    /// Directories that failed, with the error; retried on the next pass.
    pub failed: Vec<(PathBuf, Error)>,
}

impl CollectSummary {
    /// The earliest time a waiting dump should be looked at again.
    pub fn next_deadline(&self) -> Option<i64> {
        self.waiting.iter().map(|(_, t)| *t).min()
    }
}

/// Scans the crash directory once and uploads every complete dump not yet uploaded.
/// Transient object-store failures are retried per `cfg.retry` (forever by default).
/// Fails only when the crash or state directory itself is unusable.
pub async fn collect_once(
    cfg: &CollectorConfig,
    store: &ObjectStore,
) -> Result<CollectSummary, Error> {
    let journal = Journal::open(&cfg.state_dir)?;
    let crash_dir = cfg.crash_dir.clone();
    let scanned = tokio::task::spawn_blocking(move || scan::scan_crash_dir(&crash_dir))
        .await
        .map_err(|e| Error::io(&cfg.crash_dir, std::io::Error::other(e.to_string())))??;
    let host = cfg.host.clone().unwrap_or_else(system::hostname);
    let now = system::now();
    let quiet = i64::try_from(cfg.quiet_period.as_secs()).unwrap_or(i64::MAX);
    let mut summary = CollectSummary {
        refused: scanned.refused,
        ..CollectSummary::default()
    };
    for listing in &scanned.dirs {
        let dir = if listing.rel_dir == "." {
            cfg.crash_dir.clone()
        } else {
            cfg.crash_dir.join(&listing.rel_dir)
        };
        let id_name = if listing.rel_dir == "." {
            "top"
        } else {
            listing.rel_dir.as_str()
        };
        let crash_id = meta::crash_id_for(&host, id_name);
        let verdict = match journal.load(&crash_id) {
            Ok(Some(j)) if j.manifest_written => JournalVerdict::Done,
            Ok(_) => JournalVerdict::Pending,
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "unreadable journal; skipping");
                summary.failed.push((dir, e));
                continue;
            }
        };
        match decide(listing, now, quiet, verdict) {
            Decision::Ignore { reason } => {
                tracing::trace!(dir = %dir.display(), reason, "ignored");
                summary.skipped += 1;
            }
            Decision::Wait { until, reason } => {
                tracing::debug!(dir = %dir.display(), until, reason, "waiting");
                summary.waiting.push((dir, until));
            }
            Decision::Upload {
                layout,
                artifacts,
                incomplete,
                refused,
            } => {
                for (name, reason) in refused {
                    summary.refused.push((dir.join(name), reason));
                }
                let plan = CrashPlan {
                    crash_id: crash_id.clone(),
                    dir: dir.clone(),
                    source_dir: listing.rel_dir.clone(),
                    layout,
                    artifacts,
                    incomplete,
                    crashed_at: meta::crashed_at_from_dir(&listing.rel_dir),
                };
                match upload_crash(cfg, store, &journal, &plan).await {
                    Ok(_) => summary.uploaded.push(crash_id),
                    Err(e) => {
                        tracing::error!(dir = %dir.display(), crash_id = %crash_id, error = %e, "upload failed; will retry on the next pass");
                        summary.failed.push((dir, e));
                    }
                }
            }
        }
    }
    for root in &cfg.pstore_dirs {
        collect_pstore(cfg, store, &journal, &host, root, &mut summary).await;
    }
    for (path, reason) in &summary.refused {
        tracing::warn!(path = %path.display(), reason, "refused");
    }
    Ok(summary)
}

/// Uploads the pstore record groups under `root` not uploaded yet.
async fn collect_pstore(
    cfg: &CollectorConfig,
    store: &ObjectStore,
    journal: &Journal,
    host: &str,
    root: &std::path::Path,
    summary: &mut CollectSummary,
) {
    let r = root.to_path_buf();
    let groups = match tokio::task::spawn_blocking(move || pstore::find_groups(&r)).await {
        Ok(Ok(g)) => g,
        Ok(Err(e)) => {
            summary.failed.push((root.to_path_buf(), e));
            return;
        }
        Err(e) => {
            let e = Error::io(root, std::io::Error::other(e.to_string()));
            summary.failed.push((root.to_path_buf(), e));
            return;
        }
    };
    for group in groups {
        let dir = group.dir.clone();
        let names: Vec<String> = group.records.iter().map(|(n, _)| n.clone()).collect();
        let hashed = tokio::task::spawn_blocking(move || {
            names
                .into_iter()
                .map(|n| scan::hash_file(&dir.join(&n)).map(|(sha, _, _)| (n, sha)))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await;
        let digests = match hashed {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                summary.failed.push((group.dir.clone(), e));
                continue;
            }
            Err(e) => {
                let e = Error::io(&group.dir, std::io::Error::other(e.to_string()));
                summary.failed.push((group.dir.clone(), e));
                continue;
            }
        };
        let crash_id = pstore::pstore_crash_id(host, &digests);
        match journal.load(&crash_id) {
            Ok(Some(j)) if j.manifest_written => {
                summary.skipped += 1;
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                summary.failed.push((group.dir.clone(), e));
                continue;
            }
        }
        let mut artifacts: Vec<PlannedArtifact> = group
            .records
            .iter()
            .map(|(name, size)| PlannedArtifact {
                name: name.clone(),
                kind: ArtifactKind::Pstore,
                size: *size,
            })
            .collect();
        artifacts.sort_by(|a, b| (a.size, &a.name).cmp(&(b.size, &b.name)));
        let plan = CrashPlan {
            crash_id: crash_id.clone(),
            dir: group.dir.clone(),
            source_dir: group.dir.display().to_string(),
            layout: "pstore",
            artifacts,
            incomplete: false,
            crashed_at: None,
        };
        match upload_crash(cfg, store, journal, &plan).await {
            Ok(_) => summary.uploaded.push(crash_id),
            Err(e) => {
                tracing::error!(dir = %group.dir.display(), crash_id = %crash_id, error = %e, "pstore upload failed; will retry on the next pass");
                summary.failed.push((group.dir.clone(), e));
            }
        }
    }
}
