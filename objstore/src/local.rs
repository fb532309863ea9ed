//! The local-directory backend (`file:///path`), the embedded default.
//!
//! Every write goes to a hidden temporary file in the target's directory, is fsynced, and
//! is then hard-linked into place: `link(2)` fails when the name exists, which makes
//! "create if absent" atomic without ever overwriting. Keys are validated
//! ([`crate::key`]) before they touch the file system, so no key leaves the root.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::key::{validate_key, validate_prefix};
use crate::{Error, ObjectInfo, PutOutcome, metrics};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory holding objects as files named by their keys.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Opens (creating if needed) the directory `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, Error> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        Ok(LocalStore { root })
    }

    /// The directory the objects live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path_of(&self, key: &str) -> Result<PathBuf, Error> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    pub async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, Error> {
        let path = self.path_of(key)?;
        let bytes = bytes.to_vec();
        blocking(move || {
            metrics::record_request();
            if path.exists() {
                return Ok(PutOutcome::AlreadyExists);
            }
            let len = bytes.len() as u64;
            let outcome = write_new(&path, |f| f.write_all(&bytes))?;
            if outcome == PutOutcome::Created {
                metrics::record_uploaded(len);
            }
            Ok(outcome)
        })
        .await
    }

    /// Copies `src` into the store if absent, checking that its SHA-256 is `sha256_hex`
    /// (memory is one 64 KiB buffer whatever the size).
    pub async fn put_file_if_absent(
        &self,
        key: &str,
        src: &Path,
        sha256_hex: &str,
    ) -> Result<PutOutcome, Error> {
        let path = self.path_of(key)?;
        let src = src.to_path_buf();
        let expected = sha256_hex.to_ascii_lowercase();
        let key = key.to_owned();
        blocking(move || {
            metrics::record_request();
            if path.exists() {
                return Ok(PutOutcome::AlreadyExists);
            }
            let mut input = fs::File::open(&src).map_err(|e| Error::io(&src, e))?;
            let mut hasher = Sha256::new();
            let mut copied = 0u64;
            let mut buf = vec![0u8; 64 * 1024];
            let outcome = write_new(&path, |out| {
                loop {
                    let n = input.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    out.write_all(&buf[..n])?;
                    copied += n as u64;
                }
                let got = hex::encode(hasher.clone().finalize());
                if got != expected {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "content of {} has sha256 {got}, expected {expected} (changed while uploading?)",
                            src.display()
                        ),
                    ));
                }
                Ok(())
            })
            .map_err(|e| match e {
                Error::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                    Error::Rejected {
                        key: key.clone(),
                        reason: source.to_string(),
                    }
                }
                other => other,
            })?;
            if outcome == PutOutcome::Created {
                metrics::record_uploaded(copied);
            }
            Ok(outcome)
        })
        .await
    }

    pub async fn get(&self, key: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let path = self.path_of(key)?;
        let key = key.to_owned();
        blocking(move || {
            metrics::record_request();
            let f = open_existing(&path, &key)?;
            let size = f.metadata().map_err(|e| Error::io(&path, e))?.len();
            if size > limit {
                return Err(Error::TooLarge { key, size, limit });
            }
            let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            // `take` bounds the read even if the file grew since the stat.
            f.take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| Error::io(&path, e))?;
            if out.len() as u64 > limit {
                return Err(Error::TooLarge {
                    key,
                    size: out.len() as u64,
                    limit,
                });
            }
            Ok(out)
        })
        .await
    }

    pub async fn get_to_file(&self, key: &str, dest: &Path) -> Result<u64, Error> {
        let path = self.path_of(key)?;
        let dest = dest.to_path_buf();
        let key = key.to_owned();
        blocking(move || {
            metrics::record_request();
            let mut f = open_existing(&path, &key)?;
            write_replace(&dest, |out| std::io::copy(&mut f, out))
        })
        .await
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, Error> {
        let path = self.path_of(key)?;
        blocking(move || {
            metrics::record_request();
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok(Some(ObjectInfo { size: m.len() })),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(&path, e)),
            }
        })
        .await
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        blocking(move || {
            metrics::record_request();
            // Walk only the deepest directory the prefix names fully.
            let dir_part = match prefix.rfind('/') {
                Some(i) => &prefix[..i],
                None => "",
            };
            let start = if dir_part.is_empty() {
                root.clone()
            } else {
                root.join(dir_part)
            };
            let mut keys = Vec::new();
            walk(&root, &start, &mut keys)?;
            keys.retain(|k| k.starts_with(&prefix));
            keys.sort();
            Ok(keys)
        })
        .await
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        let path = self.path_of(key)?;
        blocking(move || {
            metrics::record_request();
            match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io(&path, e)),
            }
        })
        .await
    }
}

/// Runs blocking file-system work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::malformed("", format!("local store task failed: {e}")))?
}

fn open_existing(path: &Path, key: &str) -> Result<fs::File, Error> {
    match fs::File::open(path) {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
            key: key.to_owned(),
        }),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes a hidden temporary file next to `path` with `fill`, fsyncs it, and returns it.
fn write_temp(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<PathBuf, Error> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::malformed(path.display().to_string(), "path has no parent"))?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("obj");
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{name}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        fill(&mut f)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(tmp)
}

/// Creates `path` atomically unless it exists (then nothing is written).
fn write_new(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<PutOutcome, Error> {
    let tmp = write_temp(path, fill)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(PutOutcome::Created)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes `path` atomically, replacing what was there; returns the bytes written.
pub(crate) fn write_replace(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> std::io::Result<u64>,
) -> Result<u64, Error> {
    let mut written = 0;
    let tmp = write_temp(path, |f| {
        written = fill(f)?;
        Ok(())
    })?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_parent(path);
    Ok(written)
}

/// Best effort: make the new directory entry durable.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// Collects the keys of regular files under `dir`, skipping hidden temporaries and
/// symlinks (objects are never symlinks).
fn walk(root: &Path, dir: &Path, keys: &mut Vec<String>) -> Result<(), Error> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let path = entry.path();
        if ft.is_dir() {
            walk(root, &path, keys)?;
        } else if ft.is_file()
            && let Ok(rel) = path.strip_prefix(root)
            && let Some(rel) = rel.to_str()
        {
            keys.push(rel.to_owned());
        }
    }
    Ok(())
}
