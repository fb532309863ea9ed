//! The analyzer: turns uploaded crashes into grouped, symbolized reports.
//!
//! The path of one crash: [`discover`] finds a new `manifest.json` in the object store and
//! records the crash with a queued job; [`pipeline`] claims the job, reads the kernel log
//! out of each artifact (the vmcore through [`vmcore`], dmesg and KFENCE logs directly),
//! finds the crash reports with [`report`], resolves their frames with [`symbolize`], and
//! files them under their groups in the store. [`reprocess`] does it again for history:
//! resymbolize when a vmlinux arrives, regroup when the signature rules change.
//!
//! The three heavy parts are crates of their own, pure or nearly so, and re-exported here
//! under the names the rest of the project uses.

pub use crashsift_report as report;
pub use crashsift_symbolize as symbolize;
pub use crashsift_vmcore as vmcore;

pub mod discover;
pub mod pipeline;
pub mod reprocess;
pub mod symbols;

pub use pipeline::{AnalyzeSummary, Analyzer, AnalyzerConfig};

/// What went wrong analyzing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crashsift_store::StoreError),
    #[error(transparent)]
    Objects(#[from] crashsift_objstore::Error),
    #[error("{0}")]
    Crash(String),
}
