//! The object store's symbol prefix as a source of debug files for the symbolizer:
//! `symbols/<build-id>/debuginfo` (an ELF with DWARF, uploaded by a CI job when a kernel
//! is built) and `symbols/<build-id>/index-v<N>` (a persisted index, shared so that every
//! analyzer starts warm once one has built it).

use std::path::PathBuf;

use crashsift_objstore::ObjectStore;
use crashsift_symbolize::SymbolSource;

/// Debug files and indexes larger than this are not fetched (a distro vmlinux with DWARF
/// is under 1 GiB).
pub const MAX_SYMBOL_OBJECT: u64 = 4 << 30;

/// Fetches symbol objects into a local cache directory (or uses them in place when the
/// object store is a local directory).
#[derive(Debug, Clone)]
pub struct ObjectSymbols {
    objects: ObjectStore,
    cache_dir: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl ObjectSymbols {
    /// Must be created inside the runtime the object store uses; its methods are called
    /// from blocking threads (the symbolizer runs under `spawn_blocking`).
    pub fn new(objects: ObjectStore, cache_dir: PathBuf) -> Self {
        ObjectSymbols {
            objects,
            cache_dir,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl SymbolSource for ObjectSymbols {
    fn fetch(&self, key: &str) -> Result<Option<PathBuf>, String> {
        if let Some(path) = self.objects.local_path(key) {
            return Ok(Some(path));
        }
        // Keys are validated by the object store; the cache mirrors them.
        let dest = self.cache_dir.join(key);
        if dest.is_file() {
            return Ok(Some(dest));
        }
        let objects = self.objects.clone();
        let key_owned = key.to_owned();
        let dest_owned = dest.clone();
        let fetched = self.runtime.block_on(async move {
            match objects.head(&key_owned).await {
                Ok(None) => return Ok(false),
                Ok(Some(info)) if info.size > MAX_SYMBOL_OBJECT => {
                    return Err(format!(
                        "{key_owned}: {} bytes is more than the {MAX_SYMBOL_OBJECT}-byte limit",
                        info.size
                    ));
                }
                Ok(Some(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
            if let Some(dir) = dest_owned.parent() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let partial = dest_owned.with_extension("partial");
            objects
                .get_to_file(&key_owned, &partial)
                .await
                .map_err(|e| e.to_string())?;
            tokio::fs::rename(&partial, &dest_owned)
                .await
                .map_err(|e| format!("cannot move {} into place: {e}", partial.display()))?;
            Ok(true)
        })?;
        Ok(fetched.then_some(dest))
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String> {
        let objects = self.objects.clone();
        let key = key.to_owned();
        let bytes = bytes.to_vec();
        self.runtime
            .block_on(async move { objects.put_if_absent(&key, &bytes).await })
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // A symbol object in the store is fetched to the cache once, and a missing one is None.
    #[test]
    fn fetches_from_the_store() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store_dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let objects = rt
            .block_on(ObjectStore::open(&format!(
                "file://{}",
                store_dir.path().display()
            )))
            .unwrap();
        let source =
            rt.block_on(async { ObjectSymbols::new(objects.clone(), cache.path().into()) });
        rt.block_on(objects.put_if_absent("symbols/abcd/debuginfo", b"ELF"))
            .unwrap();
        let path = source.fetch("symbols/abcd/debuginfo").unwrap().unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"ELF");
        assert!(source.fetch("symbols/ef01/debuginfo").unwrap().is_none());
        source.put("symbols/abcd/index-v1", b"idx").unwrap();
        assert!(
            rt.block_on(objects.exists("symbols/abcd/index-v1"))
                .unwrap()
        );
    }
}
