//! Builders for crash directories in the layouts kdump writes, and store helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crashsift_collector::{CollectorConfig, RetryPolicy};
use crashsift_model::crash::Manifest;
use crashsift_objstore::ObjectStore;

pub const DMESG: &str = "\
[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)
[   42.000000] ==================================================================
[   42.000001] BUG: KFENCE: use-after-free read in find_uprobe+0x1a/0x40
[   42.000002] ==================================================================
";

pub const PLAIN_DMESG: &str = "\
[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02) #45-Ubuntu SMP
[   10.000000] WARNING: CPU: 1 PID: 1 at kernel/foo.c:10 foo+0x10/0x20
";

/// A fake vmcore head carrying VMCOREINFO fields, padded to `len` bytes.
pub fn vmcore_bytes(len: usize) -> Vec<u8> {
    let mut v = b"\x7fELF\x02\x01\x01\0VMCOREINFO\0OSRELEASE=6.1.0-28-amd64\nPAGESIZE=4096\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\n".to_vec();
    let mut n: u32 = 1;
    while v.len() < len {
        n = n.wrapping_mul(1_103_515_245).wrapping_add(12345);
        v.push((n >> 16) as u8);
    }
    v.truncate(len);
    v
}

pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Debian/Ubuntu kdump-tools: `STAMP/dmesg.STAMP` + `STAMP/dump.STAMP`.
pub fn debian(crash: &Path) -> PathBuf {
    let d = crash.join("202612041200");
    write(&d.join("dmesg.202612041200"), DMESG.as_bytes());
    write(&d.join("dump.202612041200"), &vmcore_bytes(4096));
    d
}

/// RHEL/Fedora: `127.0.0.1-DATE/{vmcore, vmcore-dmesg.txt, kexec-dmesg.log}`.
pub fn rhel(crash: &Path, vmcore_len: usize) -> PathBuf {
    let d = crash.join("127.0.0.1-2026-12-04-12:00:00");
    write(&d.join("vmcore-dmesg.txt"), PLAIN_DMESG.as_bytes());
    write(
        &d.join("kexec-dmesg.log"),
        b"kdump: saving vmcore complete\n",
    );
    write(&d.join("vmcore"), &vmcore_bytes(vmcore_len));
    d
}

/// SUSE: `DATE/{README.txt, dmesg, vmcore}` with the final README.
pub fn suse(crash: &Path) -> PathBuf {
    let d = crash.join("2026-12-04-12-00");
    write(
        &d.join("README.txt"),
        b"Kernel crashed at 2026-12-04 12:00\ndmesg status: saved successfully\nvmcore status: saved successfully\n",
    );
    write(&d.join("dmesg"), PLAIN_DMESG.as_bytes());
    write(&d.join("vmcore"), &vmcore_bytes(2048));
    d
}

/// A plain directory: `soak/{dmesg-1.txt, kfence-1.log}`.
pub fn plain(crash: &Path) -> PathBuf {
    let d = crash.join("soak");
    write(&d.join("dmesg-1.txt"), PLAIN_DMESG.as_bytes());
    write(&d.join("kfence-1.log"), DMESG.as_bytes());
    d
}

/// A kdump-tools dump whose capture kernel died: `dump-incomplete` left behind.
pub fn debian_incomplete(crash: &Path) -> PathBuf {
    let d = crash.join("202612041300");
    write(&d.join("dmesg.202612041300"), DMESG.as_bytes());
    write(&d.join("dump-incomplete"), &vmcore_bytes(1000));
    d
}

pub fn config(crash: &Path, state: &Path) -> CollectorConfig {
    let mut c = CollectorConfig::new(crash, state);
    c.host = Some("testhost".into());
    c.retry = RetryPolicy::fast();
    c.debounce = Duration::from_millis(50);
    c
}

pub async fn local_store(dir: &Path) -> ObjectStore {
    ObjectStore::open(&format!("file://{}", dir.display()))
        .await
        .unwrap()
}

pub async fn manifest(store: &ObjectStore, id: &str) -> Manifest {
    let key = format!("crashes/{id}/manifest.json");
    let bytes = store.get(&key, 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
