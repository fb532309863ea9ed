//! The object store's error enum: what went wrong and whether retrying can help.

use std::path::PathBuf;

/// An object-store failure. The variant decides what the caller does: retry
/// ([`Error::Transient`]), give up on this item ([`Error::Rejected`], [`Error::Malformed`],
/// [`Error::TooLarge`]), treat as absent ([`Error::NotFound`]), or report a local problem
/// ([`Error::Io`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object does not exist.
    #[error("object {key}: not found")]
    NotFound { key: String },
    /// A timeout, a dropped connection, a 5xx or a throttle: retrying later may succeed.
    #[error("object {key}: transient failure: {reason}")]
    Transient { key: String, reason: String },
    /// The server refused the request (a 4xx other than not-found / precondition).
    #[error("object {key}: rejected by the server: {reason}")]
    Rejected { key: String, reason: String },
    /// A bad key, URL, configuration or state, or a server answer that makes no sense.
    #[error("object {key}: {reason}")]
    Malformed { key: String, reason: String },
    /// The object is larger than the caller allowed.
    #[error("object {key}: {size} bytes is over the limit of {limit} bytes")]
    TooLarge { key: String, size: u64, limit: u64 },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// True when retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Transient { .. })
    }

    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// A short stable name of the variant, used as a bounded metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Transient { .. } => "transient",
            Error::Rejected { .. } => "rejected",
            Error::Malformed { .. } => "malformed",
            Error::TooLarge { .. } => "too_large",
            Error::Io { .. } => "io",
        }
    }
}
