//! Finding debug files, in the documented order: explicit paths, `<root>/.build-id/xx/rest.debug`,
//! `<root>/boot/vmlinux-<release>`, `<root>/lib/modules/<release>/...`, the object-store
//! symbol prefix through a `SymbolSource`, then debuginfod.

use crashsift_model::BuildId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A store of debug files and indexes keyed like the object store's symbol prefix:
/// `symbols/<build-id>/debuginfo` (the ELF with DWARF) and `symbols/<build-id>/index-v1`
/// (a persisted index, see `index`). The analyzer implements it over its object store.
pub trait SymbolSource: Send + Sync + std::fmt::Debug {
    /// Makes the object at `key` available as a local file; `Ok(None)` when absent.
    fn fetch(&self, key: &str) -> Result<Option<PathBuf>, String>;
    /// Stores `bytes` at `key` (used to share persisted indexes); best effort.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String>;
}

/// The key of a debug file in a `SymbolSource`.
pub fn debuginfo_key(id: &BuildId) -> String {
    format!("symbols/{id}/debuginfo")
}

/// The key of a persisted index in a `SymbolSource`.
pub fn index_key(id: &BuildId) -> String {
    format!("symbols/{id}/index-v{}", crate::index::VERSION)
}

/// `<root>/.build-id/ab/cdef....debug`.
pub fn build_id_path(root: &Path, id: &BuildId) -> Option<PathBuf> {
    let s = id.as_str();
    if s.len() < 3 {
        return None;
    }
    Some(
        root.join(".build-id")
            .join(&s[..2])
            .join(format!("{}.debug", &s[2..])),
    )
}

/// Normalizes a module name the way the kernel does (`-` and `_` are the same).
pub fn module_key(name: &str) -> String {
    name.replace('-', "_")
}

/// The module name a file provides: `ext4.ko`, `ext4.ko.debug`, `ext4.debug` give `ext4`.
pub fn module_name_of(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".ko.debug")
        .or_else(|| name.strip_suffix(".ko"))
        .or_else(|| name.strip_suffix(".debug"))?;
    Some(module_key(stem))
}

/// Every module file under `dir` (recursively, not following symlinked directories),
/// by normalized module name; the first found wins.
pub fn scan_modules(dir: &Path) -> HashMap<String, PathBuf> {
    let mut out = HashMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ft) = e.file_type() else { continue };
            let p = e.path();
            if ft.is_dir() {
                stack.push(p);
            } else if let Some(m) = module_name_of(&p) {
                out.entry(m).or_insert(p);
            }
        }
    }
    out
}
