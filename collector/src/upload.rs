//! Uploading one crash: pin, hash, upload each artifact (small first, the vmcore last),
//! then write the manifest, journaling every step so a restart resumes.
//!
//! Pinning hard-links each artifact into `<state_dir>/spool/<crash_id>/` (same inode,
//! no copy), so a cleanup job that deletes the source mid-upload cannot lose it, and the
//! upload reads a path nobody else controls. When the spool is on another file system
//! the artifact is read in place, after the same symlink and inode checks.
//! Source files are never deleted.
//!
//! Metrics: `crashsift_collector_crashes_uploaded_total`,
//! `crashsift_collector_artifacts_uploaded_total`, `crashsift_collector_bytes_hashed_total`
//! (see [`metrics_snapshot`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crashsift_model::CrashId;
use crashsift_model::crash::{Artifact, ArtifactKind, Manifest, blob_key};
use crashsift_objstore::{ObjectStore, PutOutcome};

use crate::journal::{ArtifactProgress, CrashJournal, Journal};
use crate::layout::PlannedArtifact;
use crate::{CollectorConfig, Error, meta, scan, system};

static CRASHES: AtomicU64 = AtomicU64::new(0);
static ARTIFACTS: AtomicU64 = AtomicU64::new(0);
static HASHED: AtomicU64 = AtomicU64::new(0);

/// `(prometheus name, value)` of the collector's counters.
pub fn metrics_snapshot() -> [(&'static str, u64); 3] {
    [
        (
            "crashsift_collector_crashes_uploaded_total",
            CRASHES.load(Ordering::Relaxed),
        ),
        (
            "crashsift_collector_artifacts_uploaded_total",
            ARTIFACTS.load(Ordering::Relaxed),
        ),
        (
            "crashsift_collector_bytes_hashed_total",
            HASHED.load(Ordering::Relaxed),
        ),
    ]
}

/// One crash ready to upload, as decided by [`crate::layout::decide`].
#[derive(Debug, Clone)]
pub struct CrashPlan {
    pub crash_id: CrashId,
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The directory relative to the crash directory (recorded in the manifest).
    pub source_dir: String,
    pub layout: &'static str,
    pub artifacts: Vec<PlannedArtifact>,
    pub incomplete: bool,
    /// Crash time if the directory name tells it.
    pub crashed_at: Option<i64>,
}

/// Runs blocking file work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io {
            path: PathBuf::from("<task>"),
            source: std::io::Error::other(e.to_string()),
        })?
}

/// Size and mtime of a regular file (refusing anything else).
async fn stat(path: &Path) -> Result<(u64, i64), Error> {
    let p = path.to_path_buf();
    blocking(move || {
        use std::os::unix::fs::MetadataExt;
        let (_, m) = scan::open_regular(&p)?;
        Ok((m.len(), m.mtime()))
    })
    .await
}

/// Hard-links `src` into the spool as `dst` (replacing a stale link) and checks that
/// the pinned file is the same regular file. Returns the path to read from.
fn pin(src: &Path, dst: &Path) -> Result<PathBuf, Error> {
    let (dev, ino, is_file) = scan::identity(src)?;
    if !is_file {
        return Err(Error::Unsafe {
            path: src.to_path_buf(),
            reason: "is not a regular file (symlinks are never followed)".into(),
        });
    }
    if let Ok((d2, i2, f2)) = scan::identity(dst) {
        if (d2, i2, f2) == (dev, ino, true) {
            return Ok(dst.to_path_buf());
        }
        std::fs::remove_file(dst).map_err(|e| Error::io(dst, e))?;
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    // `link(2)` does not follow a symlink in `src`: a symlink swapped in now is linked as
    // a symlink and refused by the identity check below.
    match std::fs::hard_link(src, dst) {
        Ok(()) => {
            let (d2, i2, f2) = scan::identity(dst)?;
            if (d2, i2, f2) != (dev, ino, true) {
                let _ = std::fs::remove_file(dst);
                return Err(Error::Unsafe {
                    path: src.to_path_buf(),
                    reason: "the file was replaced while being pinned".into(),
                });
            }
            Ok(dst.to_path_buf())
        }
        Err(e) => {
            tracing::debug!(src = %src.display(), error = %e, "cannot hard-link into the spool; reading in place");
            Ok(src.to_path_buf())
        }
    }
}

/// Uploads one crash completely; returns the manifest written (or found).
pub async fn upload_crash(
    cfg: &CollectorConfig,
    store: &ObjectStore,
    journal: &Journal,
    plan: &CrashPlan,
) -> Result<Manifest, Error> {
    let now = system::now();
    let mut cj = match journal.load(&plan.crash_id)? {
        Some(j) => j,
        None => CrashJournal::new(plan.crash_id.clone(), &plan.source_dir, now),
    };
    let spool = cfg.state_dir.join("spool").join(plan.crash_id.as_str());

    // Pin and hash every artifact before uploading any, so the manifest is coherent.
    let mut pinned: Vec<(PlannedArtifact, PathBuf)> = Vec::new();
    for a in &plan.artifacts {
        let src = plan.dir.join(&a.name);
        let dst = spool.join(&a.name);
        let path = blocking(move || pin(&src, &dst)).await?;
        let prev = cj.artifacts.get(&a.name).cloned().unwrap_or_default();
        let (size, mtime) = stat(&path).await?;
        if prev.sha256.is_none() || prev.size != size || prev.mtime != mtime {
            let p = path.clone();
            let (sha, hashed_size, hashed_mtime) = blocking(move || scan::hash_file(&p)).await?;
            HASHED.fetch_add(hashed_size, Ordering::Relaxed);
            cj.artifacts.insert(
                a.name.clone(),
                ArtifactProgress {
                    size: hashed_size,
                    mtime: hashed_mtime,
                    sha256: Some(sha),
                    uploaded: false,
                    multipart: None,
                },
            );
            journal.save(&cj)?;
        }
        pinned.push((a.clone(), path));
    }

    // Upload, smallest first (the plan's order).
    for (a, path) in &pinned {
        let Some(progress) = cj.artifacts.get(&a.name).cloned() else {
            continue;
        };
        let Some(sha) = progress.sha256.clone() else {
            continue;
        };
        if progress.uploaded {
            continue;
        }
        let key = blob_key(&sha);
        let mut state = progress.multipart.clone();
        let name = a.name.clone();
        let outcome = {
            let cj_ref = &mut cj;
            let mut save = |s: Option<&crashsift_objstore::MultipartUpload>| {
                if let Some(p) = cj_ref.artifacts.get_mut(&name) {
                    p.multipart = s.cloned();
                }
                journal
                    .save(cj_ref)
                    .map_err(|e| crashsift_objstore::Error::Io {
                        path: PathBuf::from(format!("journal of {}", cj_ref.crash_id)),
                        source: std::io::Error::other(e.to_string()),
                    })
            };
            store
                .put_file_resumable(&key, path, &sha, &cfg.retry, &mut state, &mut save)
                .await?
        };
        // A file still being written (a writer without a temporary name) may have changed
        // after it was hashed; S3 checks whole-object digests only on single puts, so
        // check here, and take back a blob that may not match its name.
        let (now_size, now_mtime) = stat(path).await?;
        if (now_size, now_mtime) != (progress.size, progress.mtime) {
            if outcome == PutOutcome::Created {
                store.delete(&key).await?;
            }
            if let Some(p) = cj.artifacts.get_mut(&a.name) {
                *p = ArtifactProgress::default();
            }
            journal.save(&cj)?;
            return Err(Error::Unsafe {
                path: plan.dir.join(&a.name),
                reason: "the file changed while it was uploaded; it will be hashed again".into(),
            });
        }
        tracing::info!(crash_id = %plan.crash_id, artifact = %a.name, key, bytes = progress.size, created = outcome == PutOutcome::Created, "artifact uploaded");
        ARTIFACTS.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = cj.artifacts.get_mut(&a.name) {
            p.uploaded = true;
            p.multipart = None;
        }
        journal.save(&cj)?;
    }

    let manifest = build_manifest(cfg, plan, &cj, &pinned, now).await?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Journal {
        path: PathBuf::from(Manifest::key(&plan.crash_id)),
        reason: e.to_string(),
    })?;
    let key = Manifest::key(&plan.crash_id);
    crashsift_objstore::retry(&cfg.retry, "put manifest", || {
        store.put_if_absent(&key, &json)
    })
    .await?;
    cj.manifest_written = true;
    journal.save(&cj)?;
    CRASHES.fetch_add(1, Ordering::Relaxed);
    tracing::info!(crash_id = %plan.crash_id, artifacts = manifest.artifacts.len(), incomplete = plan.incomplete, "crash uploaded");

    if let Some(marker) = &cfg.kfence_marker
        && kfence_seen(&pinned).await
        && let Err(e) = std::fs::write(marker, format!("{}\n", plan.crash_id))
    {
        tracing::warn!(marker = %marker.display(), error = %e, "cannot write the KFENCE marker");
    }
    // Release the pins; the source files stay where they are.
    let _ = std::fs::remove_dir_all(&spool);
    Ok(manifest)
}

async fn build_manifest(
    cfg: &CollectorConfig,
    plan: &CrashPlan,
    cj: &CrashJournal,
    pinned: &[(PlannedArtifact, PathBuf)],
    now: i64,
) -> Result<Manifest, Error> {
    let mut artifacts = Vec::new();
    for (a, _) in pinned {
        let Some(p) = cj.artifacts.get(&a.name) else {
            continue;
        };
        let Some(sha) = &p.sha256 else { continue };
        artifacts.push(Artifact {
            name: a.name.clone(),
            kind: a.kind,
            size: p.size,
            sha256: sha.clone(),
            key: blob_key(sha),
        });
    }
    // Kernel release: the log's banner, else VMCOREINFO, else unknown (not the running
    // kernel's: the crashed kernel may differ). Build id: VMCOREINFO.
    let mut release = None;
    let mut build_id = None;
    for (a, path) in pinned {
        if a.kind.is_log() && release.is_none() {
            let p = path.clone();
            if let Ok(head) = blocking(move || scan::read_head(&p, 4 << 20)).await {
                release = meta::kernel_release_from_log(&String::from_utf8_lossy(&head));
            }
        }
    }
    for (a, path) in pinned {
        if a.kind == ArtifactKind::Vmcore {
            let p = path.clone();
            if let Ok(head) = blocking(move || scan::read_head(&p, 8 << 20)).await {
                let (r, b) = meta::vmcoreinfo_fields(&head);
                release = release.or(r);
                build_id = build_id.or(b);
            }
        }
    }
    let crashed_at = plan
        .crashed_at
        .or_else(|| cj.artifacts.values().map(|p| p.mtime).min());
    Ok(Manifest {
        version: Manifest::VERSION,
        crash_id: plan.crash_id.clone(),
        host: cfg.host.clone().unwrap_or_else(system::hostname),
        boot_id: system::boot_id(),
        kernel_release: release,
        build_id,
        layout: plan.layout.to_owned(),
        source_dir: plan.source_dir.clone(),
        crashed_at,
        collected_at: now,
        incomplete: plan.incomplete,
        artifacts,
    })
}

async fn kfence_seen(pinned: &[(PlannedArtifact, PathBuf)]) -> bool {
    for (a, path) in pinned {
        if a.kind.is_log() {
            let p = path.clone();
            if let Ok(head) = blocking(move || scan::read_head(&p, 16 << 20)).await
                && meta::has_kfence_report(&String::from_utf8_lossy(&head))
            {
                return true;
            }
        }
    }
    false
}
