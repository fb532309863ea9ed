//! The collector: finds finished kernel crash dumps under the crash directory and uploads
//! them to the object store, exactly once, losing nothing on the way.
//!
//! The nouns: a *dump directory* (one crash, in one of the [`layout`]s kdump writes), its
//! *artifacts* (vmcore, dmesg, KFENCE logs), the *journal* ([`journal`], durable progress
//! per dump directory) and the *manifest* (written last: its presence means the crash is
//! complete in the store).
//!
//! Start with [`layout::decide`], the pure decision "is this directory a complete dump we
//! have not uploaded yet?", then [`upload`], which pins, hashes and uploads one crash,
//! then [`collect::collect_once`] (one pass) and [`watch::run`] (the daemon's event loop).
//!
//! Reading order:

pub mod collect;
pub mod journal;
pub mod layout;
pub mod meta;
pub mod pstore;
pub mod scan;
pub mod system;
pub mod upload;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

pub use collect::{CollectSummary, collect_once};
pub use crashsift_objstore::RetryPolicy;
pub use watch::{Event, run};

/// Everything the collector is told. Build with [`CollectorConfig::new`] and adjust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorConfig {
    /// The directory kdump writes to (`/var/crash`).
    pub crash_dir: PathBuf,
    /// The collector's own durable state: the journal and the spool of pinned files.
    /// Best on the same file system as `crash_dir`, so pinning is a hard link.
    pub state_dir: PathBuf,
    /// The host name recorded in manifests and crash ids; `None` reads the running system's.
    pub host: Option<String>,
    /// How long a dump left `-incomplete` must stay unchanged before it is uploaded
    /// flagged incomplete.
    pub quiet_period: Duration,
    /// Full rescans happen at least this often, whatever the watcher says.
    pub rescan_interval: Duration,
    /// Use notify's `PollWatcher` (for NFS and other file systems without inotify).
    pub poll: bool,
    /// The `PollWatcher`'s interval.
    pub poll_interval: Duration,
    /// How long to let a burst of file events settle before scanning.
    pub debounce: Duration,
    /// Touch this file when an uploaded log holds a KFENCE report (for soak scripts).
    pub kfence_marker: Option<PathBuf>,
    /// pstore directories to collect `dmesg-*` records from (e.g. `/sys/fs/pstore`,
    /// `/var/lib/systemd/pstore`); empty by default.
    pub pstore_dirs: Vec<PathBuf>,
    /// Retry policy for object-store requests; the default retries transient failures
    /// forever.
    pub retry: RetryPolicy,
}

impl CollectorConfig {
    /// Defaults: 10-minute quiet period and rescan, inotify, no marker, no pstore.
    pub fn new(crash_dir: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Self {
        CollectorConfig {
            crash_dir: crash_dir.into(),
            state_dir: state_dir.into(),
            host: None,
            quiet_period: Duration::from_secs(600),
            rescan_interval: Duration::from_secs(600),
            poll: false,
            poll_interval: Duration::from_secs(30),
            debounce: Duration::from_millis(500),
            kfence_marker: None,
            pstore_dirs: Vec::new(),
            retry: RetryPolicy::default(),
        }
    }
}

/// A collector failure, naming the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that is not safe to read: a symlink, a special file, or one that was
    /// swapped while we looked.
    #[error("{}: refused: {reason}", path.display())]
    Unsafe { path: PathBuf, reason: String },
    /// A journal file that cannot be read or written as JSON.
    #[error("journal {}: {reason}", path.display())]
    Journal { path: PathBuf, reason: String },
    #[error("object store: {0}")]
    Store(#[from] crashsift_objstore::Error),
    #[error("file watcher on {}: {reason}", path.display())]
    Watch { path: PathBuf, reason: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
