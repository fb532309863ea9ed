//! A crash: one uploaded dump or log bundle, its artifacts and its manifest.
//!
//! The manifest is the contract between the collector and the analyzer: the collector
//! writes it last (after every artifact it lists), so a manifest in the object store
//! means the whole crash is there.

use serde::{Deserialize, Serialize};

use crate::ids::CrashId;

/// What an artifact holds, which decides how the analyzer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A memory dump (ELF, kdump-compressed or flattened).
    Vmcore,
    /// A kernel log saved next to the dump (`dmesg.*`, `vmcore-dmesg.txt`).
    Dmesg,
    /// A KFENCE or KASAN report log.
    Kfence,
    /// A pstore record (ramoops, EFI).
    Pstore,
    /// Reports read live from `/dev/kmsg`.
    Kmsg,
    /// Anything else found in the dump directory (README, kexec log).
    Other,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Vmcore => "vmcore",
            ArtifactKind::Dmesg => "dmesg",
            ArtifactKind::Kfence => "kfence",
            ArtifactKind::Pstore => "pstore",
            ArtifactKind::Kmsg => "kmsg",
            ArtifactKind::Other => "other",
        }
    }

    /// True for artifacts that hold kernel log text the parser reads directly.
    pub fn is_log(self) -> bool {
        matches!(
            self,
            ArtifactKind::Dmesg | ArtifactKind::Kfence | ArtifactKind::Pstore | ArtifactKind::Kmsg
        )
    }
}

/// One file of a crash, stored content-addressed under `blobs/sha256/<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// The file name in the dump directory.
    pub name: String,
    pub kind: ArtifactKind,
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// The object key holding the bytes.
    pub key: String,
}

/// The per-crash `manifest.json`, written last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of this document.
    pub version: u32,
    pub crash_id: CrashId,
    pub host: String,
    pub boot_id: Option<String>,
    pub kernel_release: Option<String>,
    pub build_id: Option<String>,
    /// The layout the collector recognized: `kdump-tools`, `rhel`, `suse`, `plain`, ...
    pub layout: String,
    /// The dump directory relative to the crash directory.
    pub source_dir: String,
    /// When the crash happened, as far as the collector can tell (Unix seconds).
    pub crashed_at: Option<i64>,
    /// When the collector uploaded it (Unix seconds).
    pub collected_at: i64,
    /// The dump never finished writing (left `-incomplete`).
    pub incomplete: bool,
    pub artifacts: Vec<Artifact>,
}

impl Manifest {
    pub const VERSION: u32 = 1;

    /// The object key of a crash's manifest.
    pub fn key(crash_id: &CrashId) -> String {
        format!("crashes/{crash_id}/manifest.json")
    }
}

/// The object key of a content-addressed blob.
pub fn blob_key(sha256_hex: &str) -> String {
    format!("blobs/sha256/{sha256_hex}")
}

/// A crash as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    pub id: CrashId,
    pub host: String,
    pub boot_id: Option<String>,
    pub kernel_release: Option<String>,
    pub build_id: Option<String>,
    pub layout: String,
    pub crashed_at: Option<i64>,
    pub collected_at: i64,
    pub analyzed_at: Option<i64>,
    pub incomplete: bool,
    pub artifacts: Vec<Artifact>,
}

impl From<&Manifest> for Crash {
    fn from(m: &Manifest) -> Self {
        Crash {
            id: m.crash_id.clone(),
            host: m.host.clone(),
            boot_id: m.boot_id.clone(),
            kernel_release: m.kernel_release.clone(),
            build_id: m.build_id.clone(),
            layout: m.layout.clone(),
            crashed_at: m.crashed_at,
            collected_at: m.collected_at,
            analyzed_at: None,
            incomplete: m.incomplete,
            artifacts: m.artifacts.clone(),
        }
    }
}
