//! Read-only memory maps of debug files and indexes, the one place with `unsafe`.
#![allow(unsafe_code)] // memmap2::Mmap::map is unsafe; see the invariant on `Bytes::map`.

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

/// The bytes of a file: mapped when the file is large, read when it is small or mapping fails.
#[derive(Debug)]
pub enum Bytes {
    /// A read-only private map of the whole file.
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    /// Maps `path` read-only.
    ///
    /// Invariant: debug files and indexes are immutable once written (the symbolizer
    /// writes indexes to a temporary name and renames them into place, and debug files
    /// come from packages or the debuginfod cache, written the same way). A file truncated
    /// under a live map would raise SIGBUS; that is the documented risk every mmap-based
    /// symbolizer (addr2line, blazesym, llvm) accepts for not copying 600 MB files.
    pub fn map(path: &Path) -> std::io::Result<Bytes> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len < 64 * 1024 {
            return Ok(Bytes::Owned(std::fs::read(path)?));
        }
        // SAFETY: see the invariant above; the map is read-only and private.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Ok(Bytes::Mapped(m)),
            Err(_) => Ok(Bytes::Owned(std::fs::read(path)?)),
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}
