//! The error type of the vmcore reader: one variant per thing the caller does differently.

use std::path::PathBuf;

/// Why a vmcore could not be opened or its log not read at all. Problems that still leave a
/// partial log (a truncated dump, a garbage record) are warnings in
/// [`crate::KernelLog::warnings`], not errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened, mapped or read.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The dump that failed.
        path: PathBuf,
        /// What the operating system said.
        reason: String,
    },
    /// The bytes are not a well-formed dump of a known format.
    #[error("malformed vmcore: {0}")]
    Malformed(String),
    /// The dump is well-formed but carries no VMCOREINFO, so the log cannot be located.
    #[error("the vmcore has no VMCOREINFO note: the kernel log cannot be located without it")]
    NoVmcoreinfo,
    /// A format, architecture or kernel layout this reader does not handle.
    #[error("unsupported vmcore: {0}")]
    Unsupported(String),
}

impl Error {
    /// Adds the dump's path to an error that lacks it (formats are parsed without knowing it).
    pub(crate) fn at(self, path: &std::path::Path) -> Error {
        match self {
            Error::Malformed(reason) => Error::Malformed(format!("{}: {reason}", path.display())),
            Error::Unsupported(reason) => {
                Error::Unsupported(format!("{}: {reason}", path.display()))
            }
            other => other,
        }
    }
}
