//! Reading the crash directory without trusting it: listings by `lstat` (symlinks are
//! never followed), and opening a file only when it is the same regular file the listing
//! saw (device and inode checked on the open descriptor), so a file swapped for a symlink
//! to `/etc/shadow` between the look and the read is refused.

use std::fs::{self, File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;
use crate::layout::{DirListing, Entry, EntryType, is_ignored_name};

fn entry_type(m: &Metadata) -> EntryType {
    let ft = m.file_type();
    if ft.is_symlink() {
        EntryType::Symlink
    } else if ft.is_file() {
        EntryType::File
    } else if ft.is_dir() {
        EntryType::Dir
    } else {
        EntryType::Other
    }
}

fn mtime(m: &Metadata) -> i64 {
    m.mtime()
}

/// Lists the crash directory: one [`DirListing`] per dump directory below it, plus one
/// for the crash directory itself (`rel_dir` `.`) for dumps dropped straight into it.
/// Symlinked subdirectories are reported in `refused` and never entered.
pub fn scan_crash_dir(crash_dir: &Path) -> Result<ScanResult, Error> {
    let meta = fs::symlink_metadata(crash_dir).map_err(|e| Error::io(crash_dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Unsafe {
            path: crash_dir.to_path_buf(),
            reason: "the crash directory is not a directory".into(),
        });
    }
    let mut out = ScanResult::default();
    let mut names: Vec<String> = Vec::new();
    for entry in fs::read_dir(crash_dir).map_err(|e| Error::io(crash_dir, e))? {
        let entry = entry.map_err(|e| Error::io(crash_dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            out.refused
                .push((entry.path(), "file name is not UTF-8".into()));
            continue;
        };
        names.push(name);
    }
    names.sort();
    for name in names {
        if is_ignored_name(&name) {
            continue;
        }
        let path = crash_dir.join(&name);
        let m = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&path, e)),
        };
        match entry_type(&m) {
            EntryType::Dir => match list_dump_dir(crash_dir, &name) {
                Ok(l) => out.dirs.push(l),
                Err(e) => out.refused.push((path, e.to_string())),
            },
            EntryType::Symlink => out
                .refused
                .push((path, "is a symlink; symlinks are never followed".into())),
            _ => {}
        }
    }
    out.dirs.push(list_dir_at(crash_dir, ".")?);
    Ok(out)
}

/// What one scan found.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub dirs: Vec<DirListing>,
    /// Entries refused outright (symlinked directories, unreadable names).
    pub refused: Vec<(PathBuf, String)>,
}

/// Lists one dump directory `crash_dir/rel`.
pub fn list_dump_dir(crash_dir: &Path, rel: &str) -> Result<DirListing, Error> {
    list_dir_at(&crash_dir.join(rel), rel)
}

fn list_dir_at(dir: &Path, rel: &str) -> Result<DirListing, Error> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let m = match fs::symlink_metadata(entry.path()) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(entry.path(), e)),
        };
        entries.push(Entry {
            name,
            kind: entry_type(&m),
            size: m.len(),
            mtime: mtime(&m),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let readme = entries
        .iter()
        .find(|e| e.name == "README.txt" && e.kind == EntryType::File)
        .and_then(|_| read_head(&dir.join("README.txt"), 8192).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(DirListing {
        rel_dir: rel.to_owned(),
        entries,
        readme,
    })
}

/// Opens `path` for reading only if it is a regular file (not a symlink) and the opened
/// descriptor is that same file.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), Error> {
    let before = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if !before.file_type().is_file() {
        return Err(Error::Unsafe {
            path: path.to_path_buf(),
            reason: if before.file_type().is_symlink() {
                "is a symlink; symlinks are never followed".into()
            } else {
                "is not a regular file".into()
            },
        });
    }
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let after = f.metadata().map_err(|e| Error::io(path, e))?;
    if after.dev() != before.dev() || after.ino() != before.ino() || !after.is_file() {
        return Err(Error::Unsafe {
            path: path.to_path_buf(),
            reason: "the file was replaced while being opened".into(),
        });
    }
    Ok((f, after))
}

/// Reads at most `limit` bytes from the start of a regular file.
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let (f, _) = open_regular(path)?;
    let mut buf = Vec::new();
    f.take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// Streams a regular file through SHA-256; returns (hex, size, mtime).
pub fn hash_file(path: &Path) -> Result<(String, u64, i64), Error> {
    let (mut f, meta) = open_regular(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((hex::encode(h.finalize()), n_total, mtime(&meta)))
}

/// Device and inode of a path, without following a symlink.
pub fn identity(path: &Path) -> Result<(u64, u64, bool), Error> {
    let m = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    Ok((m.dev(), m.ino(), m.file_type().is_file()))
}
