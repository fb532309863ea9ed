//! Finds new crashes: lists the object store's manifests and records each crash the
//! store does not know yet, with a queued analysis job. Idempotent: a manifest seen
//! twice is recorded once.

use crashsift_model::crash::{Crash, Manifest};
use crashsift_model::{CrashId, Outcome};
use crashsift_objstore::ObjectStore;
use crashsift_store::Store;

use crate::Error;

/// Manifests larger than this are refused (a manifest lists files; it is a few KB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// What a discovery pass found.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub new: Vec<CrashId>,
    pub known: usize,
    /// Manifests that could not be read or decoded, with the reason.
    pub bad: Vec<(String, String)>,
}

impl Discovered {
    pub fn outcome(&self) -> Outcome {
        if self.bad.is_empty() {
            Outcome::Clean
        } else {
            Outcome::SoftErrors
        }
    }
}

/// Lists `crashes/*/manifest.json` and records the crashes not yet in the store.
pub async fn discover(objects: &ObjectStore, store: &Store) -> Result<Discovered, Error> {
    let mut found = Discovered::default();
    for key in objects.list("crashes/").await? {
        if !key.ends_with("/manifest.json") {
            continue;
        }
        let Some(id) = key
            .strip_prefix("crashes/")
            .and_then(|rest| rest.strip_suffix("/manifest.json"))
            .and_then(|id| CrashId::parse(id).ok())
        else {
            found
                .bad
                .push((key.clone(), "not crashes/<crash id>/manifest.json".into()));
            continue;
        };
        if store.has_crash(&id).await? {
            found.known += 1;
            continue;
        }
        let manifest = match read_manifest(objects, &key).await {
            Ok(m) => m,
            Err(reason) => {
                tracing::warn!(key = %key, %reason, "skipping unreadable manifest");
                found.bad.push((key, reason));
                continue;
            }
        };
        if manifest.crash_id != id {
            found
                .bad
                .push((key, format!("manifest names crash {}", manifest.crash_id)));
            continue;
        }
        if store.insert_crash(&Crash::from(&manifest), &key).await? {
            tracing::info!(crash_id = %id, host = %manifest.host, artifacts = manifest.artifacts.len(), "new crash");
            found.new.push(id);
        } else {
            found.known += 1;
        }
    }
    Ok(found)
}

async fn read_manifest(objects: &ObjectStore, key: &str) -> Result<Manifest, String> {
    let bytes = objects
        .get(key, MAX_MANIFEST_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{key}: not a crashsift manifest: {e}"))?;
    if manifest.version > Manifest::VERSION {
        return Err(format!(
            "{key}: manifest version {} is newer than this analyzer understands ({})",
            manifest.version,
            Manifest::VERSION
        ));
    }
    Ok(manifest)
}
