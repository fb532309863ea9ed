//! pstore records: the oops text that ramoops, EFI or ERST kept across the reboot, read
//! from `/sys/fs/pstore` or from systemd-pstore's archive `/var/lib/systemd/pstore`.
//!
//! Every directory holding `dmesg-*` records is one crash (systemd groups one crash's
//! chunks per directory; ramoops leaves them flat). Its id comes from the records'
//! content, so the same records seen first in `/sys/fs/pstore` and later in systemd's
//! archive are one crash. Records are never deleted. `/sys` emits no file events: these
//! directories are read at start-up and on every rescan.

use std::path::{Path, PathBuf};

use crashsift_model::CrashId;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::layout::EntryType;
use crate::meta::sanitize;

/// One directory of pstore records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PstoreGroup {
    pub dir: PathBuf,
    /// `(file name, size)` of each record, sorted by name.
    pub records: Vec<(String, u64)>,
}

/// True for the files that hold kernel log text: `dmesg-<backend>-<id>` records
/// (compressed `.enc.z` ones too: the analyzer reports what it cannot read) and the
/// `dmesg.txt` systemd-pstore reassembles.
pub fn is_record_name(name: &str) -> bool {
    (name.starts_with("dmesg-") && name.len() > "dmesg-".len()) || name == "dmesg.txt"
}

/// The crash id of a group: `<host>-pstore-<hash of record names and contents>`.
pub fn pstore_crash_id(host: &str, records: &[(String, String)]) -> CrashId {
    let mut sorted: Vec<&(String, String)> = records.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for (name, sha) in sorted {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(sha.as_bytes());
        h.update([0]);
    }
    let digest = hex::encode(&h.finalize()[..8]);
    let mut host = sanitize(host);
    host.truncate(80);
    crate::meta::crash_id_for(&host, &format!("pstore-{digest}"))
}

/// Finds the record groups under `root` (at most three levels deep), never following a
/// symlink. A missing root is no group (pstore is not mounted everywhere).
pub fn find_groups(root: &Path) -> Result<Vec<PstoreGroup>, Error> {
    let mut out = Vec::new();
    match std::fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => walk(root, 0, &mut out)?,
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(root, e)),
    }
    Ok(out)
}

fn walk(dir: &Path, depth: u32, out: &mut Vec<PstoreGroup>) -> Result<(), Error> {
    let listing = crate::scan::list_dump_dir(dir, ".")?;
    let mut records = Vec::new();
    for e in &listing.entries {
        match e.kind {
            EntryType::File if is_record_name(&e.name) => records.push((e.name.clone(), e.size)),
            EntryType::Dir if depth < 3 && !e.name.starts_with('.') => {
                walk(&dir.join(&e.name), depth + 1, out)?
            }
            _ => {}
        }
    }
    if !records.is_empty() {
        records.sort();
        out.push(PstoreGroup {
            dir: dir.to_path_buf(),
            records,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Record names of every backend are recognized; other pstore files are not.
    #[test]
    fn record_names() {
        for n in [
            "dmesg-ramoops-0",
            "dmesg-efi-173598820000001",
            "dmesg-erst-6543",
            "dmesg-efi_pstore-1.enc.z",
            "dmesg.txt",
        ] {
            assert!(is_record_name(n), "{n}");
        }
        for n in [
            "console-ramoops-0",
            "pmsg-ramoops-0",
            "dmesg-",
            "mce-erst-1",
        ] {
            assert!(!is_record_name(n), "{n}");
        }
    }

    // The id depends on content, not on order or directory.
    #[test]
    fn ids_from_content() {
        let a = vec![
            ("dmesg-ramoops-0".to_owned(), "aa".to_owned()),
            ("dmesg-ramoops-1".to_owned(), "bb".to_owned()),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(pstore_crash_id("h", &a), pstore_crash_id("h", &b));
        let c = vec![("dmesg-ramoops-0".to_owned(), "cc".to_owned())];
        assert_ne!(pstore_crash_id("h", &a), pstore_crash_id("h", &c));
        assert!(pstore_crash_id("h", &a).as_str().starts_with("h-pstore-"));
    }

    // Flat ramoops records and systemd's nested EFI layout give one group per directory;
    // symlinks are not records.
    #[test]
    fn groups() {
        let tmp = tempfile::tempdir().unwrap();
        let flat = tmp.path().join("sys");
        std::fs::create_dir_all(&flat).unwrap();
        std::fs::write(flat.join("dmesg-ramoops-0"), b"Oops#1 Part1\n").unwrap();
        std::fs::write(flat.join("console-ramoops-0"), b"console").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", flat.join("dmesg-ramoops-9")).unwrap();
        let g = find_groups(&flat).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].records.len(), 1);

        let sd = tmp.path().join("systemd");
        let d = sd.join("17359882").join("001");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("dmesg-efi-173598820000001"), b"Panic#1 Part1\n").unwrap();
        std::fs::write(d.join("dmesg.txt"), b"Panic#1 Part1\n").unwrap();
        let g = find_groups(&sd).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].dir, d);
        assert_eq!(g[0].records.len(), 2);
        assert!(find_groups(&tmp.path().join("missing")).unwrap().is_empty());
    }
}
