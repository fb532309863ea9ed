//! The durable local journal: one JSON file per dump directory in the state directory,
//! written atomically (temp file, fsync, rename), recording each artifact's hash and
//! upload progress (including multipart state) and whether the manifest is written.
//!
//! A restart reads it back and resumes; a crash whose manifest is written is done and is
//! never uploaded again.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crashsift_model::CrashId;
use crashsift_objstore::MultipartUpload;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Progress of one artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactProgress {
    /// Size and mtime when hashed: a change means the hash is stale.
    pub size: u64,
    pub mtime: i64,
    /// Lowercase hex SHA-256, once hashed.
    pub sha256: Option<String>,
    /// The blob is confirmed in the object store.
    pub uploaded: bool,
    /// A multipart upload in progress.
    pub multipart: Option<MultipartUpload>,
}

/// Everything known about one dump directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashJournal {
    pub crash_id: CrashId,
    /// The directory relative to the crash directory.
    pub source_dir: String,
    /// Unix seconds when first seen.
    pub first_seen: i64,
    pub artifacts: BTreeMap<String, ArtifactProgress>,
    /// The manifest is in the object store: the crash is done.
    pub manifest_written: bool,
}

impl CrashJournal {
    pub fn new(crash_id: CrashId, source_dir: &str, now: i64) -> Self {
        CrashJournal {
            crash_id,
            source_dir: source_dir.to_owned(),
            first_seen: now,
            artifacts: BTreeMap::new(),
            manifest_written: false,
        }
    }
}

/// The journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// Opens (creating) `<state_dir>/journal`.
    pub fn open(state_dir: &Path) -> Result<Self, Error> {
        let dir = state_dir.join("journal");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Journal { dir })
    }

    fn path(&self, id: &CrashId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Reads a crash's journal; `None` when there is none yet.
    pub fn load(&self, id: &CrashId) -> Result<Option<CrashJournal>, Error> {
        let path = self.path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Journal {
                path,
                reason: e.to_string(),
            })
    }

    /// Writes a crash's journal atomically and durably.
    pub fn save(&self, j: &CrashJournal) -> Result<(), Error> {
        let path = self.path(&j.crash_id);
        let tmp = self.dir.join(format!(".{}.json.tmp", j.crash_id));
        let bytes = serde_json::to_vec_pretty(j).map_err(|e| Error::Journal {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| Error::io(&path, e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // A journal round-trips through disk, and a missing one reads as None.
    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let id = CrashId::parse("h-1").unwrap();
        assert!(j.load(&id).unwrap().is_none());
        let mut c = CrashJournal::new(id.clone(), "1", 5);
        c.artifacts.insert(
            "vmcore".into(),
            ArtifactProgress {
                size: 3,
                mtime: 4,
                sha256: Some("ab".into()),
                uploaded: false,
                multipart: None,
            },
        );
        j.save(&c).unwrap();
        assert_eq!(j.load(&id).unwrap().unwrap(), c);
    }

    // A corrupt journal is an error naming the file, not a panic or a silent reset.
    #[test]
    fn corrupt_is_error() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("journal/h-2.json"), b"{not json").unwrap();
        let err = j.load(&CrashId::parse("h-2").unwrap()).unwrap_err();
        assert!(err.to_string().contains("h-2.json"), "{err}");
    }
}
