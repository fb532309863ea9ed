//! The dump file, memory-mapped: the only `unsafe` in the crate.
//!
//! Mapping instead of reading is what keeps memory bounded: a 64 GiB dump costs address
//! space, and only the pages the log reader touches become resident (and they are page
//! cache, reclaimable, not heap).
#![allow(unsafe_code)] // memmap2::Mmap::map is unsafe; see the invariant below.

use std::path::Path;

use crate::Error;

/// A read-only map of a whole file (empty files map to an empty slice).
#[derive(Debug)]
pub(crate) struct Mapped {
    file: std::fs::File,
    map: Option<memmap2::Mmap>,
}

impl Mapped {
    pub(crate) fn open(path: &Path) -> Result<Mapped, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            return Ok(Mapped { file, map: None });
        }
        // SAFETY: the map is read-only and private to this process. Its invariant is that
        // nobody truncates the file while it is mapped (the kernel would then raise SIGBUS
        // on access): crash dumps are written once and only read afterwards, and the
        // collector hands over complete files. Content changes would only change the bytes
        // we parse, and every parser treats its input as untrusted.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Ok(Mapped {
            file,
            map: Some(map),
        })
    }

    /// Positional read through the file (not the map): for one-pass scans whose pages
    /// should stay page cache and not count as our memory.
    pub(crate) fn pread(&self, off: usize, buf: &mut [u8]) -> usize {
        use std::os::unix::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], (off + done) as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => done += n,
            }
        }
        done
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}
