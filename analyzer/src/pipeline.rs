//! Analyzes one crash at a time: claim its job, read every artifact's kernel log, parse,
//! symbolize, and file the reports under their groups.
//!
//! A vmcore's own log is complete (a dmesg file saved next to it may be cut short), so it
//! is read first; a report also found in a dmesg or KFENCE log of the same crash is kept
//! once. A bad artifact does not stop the crash: it is logged and the rest is analyzed; a
//! crash with no readable artifact fails its job, which is retried.
//!
//! Metrics ([`metrics_snapshot`]): `crashsift_analyzer_crashes_total` (crashes analyzed),
//! `crashsift_analyzer_reports_total` (reports filed), `crashsift_analyzer_failures_total`
//! (failed analyses, retried).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crashsift_model::crash::{Artifact, ArtifactKind, Crash};
use crashsift_model::report::Report;
use crashsift_model::{BuildId, CrashId, Outcome};
use crashsift_objstore::ObjectStore;
use crashsift_store::{NewReport, Store};
use crashsift_symbolize::{KernelRef, Symbolizer};

use crate::Error;

/// Log artifacts larger than this are read up to the limit (a kernel log is at most a
/// few MiB; a bigger "log" is not one).
pub const MAX_LOG_BYTES: u64 = 64 << 20;

static CRASHES: AtomicU64 = AtomicU64::new(0);
static REPORTS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// The analyzer's counters, for the Prometheus endpoint.
pub fn metrics_snapshot() -> [(&'static str, u64); 3] {
    [
        (
            "crashsift_analyzer_crashes_total",
            CRASHES.load(Ordering::Relaxed),
        ),
        (
            "crashsift_analyzer_reports_total",
            REPORTS.load(Ordering::Relaxed),
        ),
        (
            "crashsift_analyzer_failures_total",
            FAILURES.load(Ordering::Relaxed),
        ),
    ]
}

/// How an analyzer runs.
#[derive(Debug, Clone)]
pub struct AnalyzerConfig {
    /// Names this process in job leases.
    pub worker_id: String,
    /// How long a claimed job stays ours before another analyzer may take it.
    pub lease: Duration,
    /// Where vmcores are staged while read (when the object store is not local).
    pub scratch_dir: PathBuf,
    /// How often `run` polls for new manifests.
    pub poll_interval: Duration,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            worker_id: format!("analyzer-{}", std::process::id()),
            lease: Duration::from_secs(600),
            scratch_dir: std::env::temp_dir().join("crashsift-analyzer"),
            poll_interval: Duration::from_secs(10),
        }
    }
}

/// The analyzer's clients and configuration.
#[derive(Debug, Clone)]
pub struct Analyzer {
    pub store: Store,
    pub objects: ObjectStore,
    pub symbolizer: Arc<Symbolizer>,
    pub cfg: AnalyzerConfig,
}

/// What one pass over the queue did.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeSummary {
    pub analyzed: Vec<CrashId>,
    pub reports: usize,
    /// Crashes whose analysis failed, with the reason (their jobs are retried).
    pub failed: Vec<(CrashId, String)>,
    /// Artifacts that could not be read, with the reason (the crash went on).
    pub warnings: Vec<String>,
}

impl AnalyzeSummary {
    pub fn outcome(&self) -> Outcome {
        if self.failed.is_empty() && self.warnings.is_empty() {
            Outcome::Clean
        } else {
            Outcome::SoftErrors
        }
    }
}

/// The reports read from one crash, before they are filed.
#[derive(Debug, Default)]
pub struct CrashAnalysis {
    pub reports: Vec<NewReport>,
    pub kernel_release: Option<String>,
    pub build_id: Option<String>,
    pub warnings: Vec<String>,
    /// How many artifacts yielded a log.
    pub logs_read: usize,
}

impl Analyzer {
    /// Claims and analyzes jobs until the queue is empty.
    pub async fn analyze_pending(&self) -> Result<AnalyzeSummary, Error> {
        let mut summary = AnalyzeSummary::default();
        let lease = i64::try_from(self.cfg.lease.as_secs()).unwrap_or(600);
        while let Some(claim) = self.store.claim_job(&self.cfg.worker_id, lease).await? {
            let id = claim.crash_id;
            match self.analyze_crash(&id).await {
                Ok((count, warnings)) => {
                    self.store.finish_job(&id, Ok(())).await?;
                    CRASHES.fetch_add(1, Ordering::Relaxed);
                    REPORTS.fetch_add(count as u64, Ordering::Relaxed);
                    tracing::info!(crash_id = %id, reports = count, "analyzed crash");
                    summary.reports += count;
                    summary
                        .warnings
                        .extend(warnings.into_iter().map(|w| format!("{id}: {w}")));
                    summary.analyzed.push(id);
                }
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!(crash_id = %id, error = %reason, attempt = claim.attempts, "analysis failed");
                    self.store.finish_job(&id, Err(reason.clone())).await?;
                    FAILURES.fetch_add(1, Ordering::Relaxed);
                    summary.failed.push((id, reason));
                }
            }
        }
        Ok(summary)
    }

    /// Reads, parses, symbolizes and files one recorded crash. Returns the number of
    /// reports and the artifacts that could not be read.
    pub async fn analyze_crash(&self, id: &CrashId) -> Result<(usize, Vec<String>), Error> {
        let crash = self
            .store
            .crash(id)
            .await?
            .ok_or_else(|| Error::Crash(format!("crash {id} is not in the store")))?;
        let mut analysis = self.read_crash(&crash).await?;
        if analysis.logs_read == 0 {
            return Err(Error::Crash(format!(
                "crash {id}: no artifact held a readable kernel log ({})",
                analysis.warnings.join("; ")
            )));
        }
        if analysis.kernel_release.is_some() || analysis.build_id.is_some() {
            self.store
                .fill_crash_kernel(
                    &crash.id,
                    analysis.kernel_release.as_deref(),
                    analysis.build_id.as_deref(),
                )
                .await?;
        }
        let kernel = KernelRef {
            release: crash
                .kernel_release
                .clone()
                .or(analysis.kernel_release.clone()),
            build_id: crash
                .build_id
                .as_deref()
                .or(analysis.build_id.as_deref())
                .and_then(|b| BuildId::parse(b).ok()),
            kaslr_offset: None,
        };
        let symbolizer = self.symbolizer.clone();
        let mut reports = std::mem::take(&mut analysis.reports);
        reports = tokio::task::spawn_blocking(move || {
            // The symbolizer takes each report's own KASLR offset and release where the
            // crash record has none.
            for new in &mut reports {
                symbolizer.symbolize_report(&mut new.report, &kernel);
            }
            reports
        })
        .await
        .map_err(|e| Error::Crash(format!("symbolizer task failed: {e}")))?;
        let seen_at = crash.crashed_at.unwrap_or(crash.collected_at);
        self.store
            .record_reports(&crash.id, &crash.host, seen_at, &reports)
            .await?;
        Ok((reports.len(), analysis.warnings))
    }

    /// Reads every artifact's log and parses it; vmcores first.
    pub async fn read_crash(&self, crash: &Crash) -> Result<CrashAnalysis, Error> {
        let mut out = CrashAnalysis::default();
        let mut seen = HashSet::new();
        let mut ordered: Vec<&Artifact> = crash.artifacts.iter().collect();
        ordered.sort_by_key(|a| match a.kind {
            ArtifactKind::Vmcore => 0,
            ArtifactKind::Dmesg => 1,
            _ => 2,
        });
        for artifact in ordered {
            let text = match artifact.kind {
                ArtifactKind::Vmcore => match self.read_vmcore(crash, artifact).await {
                    Ok(v) => {
                        out.kernel_release = out.kernel_release.or(v.release);
                        out.build_id = out.build_id.or(v.build_id);
                        out.warnings.extend(v.warnings);
                        v.text
                    }
                    Err(e) => {
                        out.warnings.push(format!("{}: {e}", artifact.name));
                        continue;
                    }
                },
                kind if kind.is_log() => match self.objects.get(&artifact.key, MAX_LOG_BYTES).await
                {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => {
                        out.warnings.push(format!("{}: {e}", artifact.name));
                        continue;
                    }
                },
                _ => continue,
            };
            out.logs_read += 1;
            let parsed = crashsift_report::parse(&text);
            // Skip reports an earlier artifact of this crash already gave; repeats within
            // one log are separate sightings and all count.
            let mut keys = Vec::new();
            for (idx, report) in parsed.into_iter().enumerate() {
                let key = dedup_key(&report);
                if seen.contains(&key) {
                    continue;
                }
                keys.push(key);
                out.reports.push(NewReport {
                    source: artifact.name.clone(),
                    idx: idx as i64,
                    report,
                });
            }
            seen.extend(keys);
        }
        Ok(out)
    }

    async fn read_vmcore(&self, crash: &Crash, artifact: &Artifact) -> Result<VmcoreLog, String> {
        let (path, staged) = match self.objects.local_path(&artifact.key) {
            Some(p) => (p, false),
            None => {
                let dir = self.cfg.scratch_dir.join(crash.id.as_str());
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(|e| format!("cannot create scratch dir {}: {e}", dir.display()))?;
                let dest = dir.join(&artifact.sha256);
                self.objects
                    .get_to_file(&artifact.key, &dest)
                    .await
                    .map_err(|e| e.to_string())?;
                (dest, true)
            }
        };
        let read_path = path.clone();
        let result = tokio::task::spawn_blocking(move || read_vmcore_log(&read_path))
            .await
            .map_err(|e| format!("vmcore reader task failed: {e}"))?;
        if staged {
            let _ = tokio::fs::remove_file(&path).await;
        }
        result
    }

    /// Discovers and analyzes until `shutdown` resolves, polling every `poll_interval`.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), Error> {
        tokio::pin!(shutdown);
        loop {
            let found = crate::discover::discover(&self.objects, &self.store).await;
            match found {
                Ok(found) => {
                    for (key, reason) in &found.bad {
                        tracing::warn!(key = %key, %reason, "bad manifest");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "discovery failed; retrying"),
            }
            match self.analyze_pending().await {
                Ok(s) if !s.analyzed.is_empty() || !s.failed.is_empty() => {
                    tracing::info!(
                        analyzed = s.analyzed.len(),
                        failed = s.failed.len(),
                        reports = s.reports,
                        "analysis pass"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "analysis pass failed; retrying"),
            }
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(self.cfg.poll_interval) => {}
            }
        }
    }
}

/// The kernel log of a vmcore, with what VMCOREINFO says of its kernel.
#[derive(Debug)]
pub struct VmcoreLog {
    pub text: String,
    pub release: Option<String>,
    pub build_id: Option<String>,
    pub warnings: Vec<String>,
}

/// Opens a vmcore and reads its kernel log (blocking).
pub fn read_vmcore_log(path: &Path) -> Result<VmcoreLog, String> {
    let core = crashsift_vmcore::open(path).map_err(|e| e.to_string())?;
    let info = core.vmcoreinfo();
    let release = info.osrelease().map(str::to_owned);
    let build_id = info.build_id().map(|b| b.to_string());
    let log = core.read_log().map_err(|e| e.to_string())?;
    Ok(VmcoreLog {
        text: log.to_dmesg_text(),
        release,
        build_id,
        warnings: log.warnings.clone(),
    })
}

/// Two reports are the same sighting when their kind, title and top frames agree.
fn dedup_key(r: &Report) -> String {
    let frames: Vec<&str> = r
        .stacks
        .first()
        .map(|s| {
            s.frames
                .iter()
                .take(8)
                .filter_map(|f| f.function.as_deref())
                .collect()
        })
        .unwrap_or_default();
    format!("{}|{}|{}", r.kind.as_str(), r.title, frames.join(","))
}
