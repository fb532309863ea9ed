//! The symbolizer's error type: what went wrong with which file, and whether retrying helps.

use std::path::PathBuf;

/// Why a debug file could not be loaded or a frame could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SymbolizeError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable ELF file: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path} has no DWARF debug info (.debug_info missing or empty): stripped?")]
    NoDebugInfo { path: PathBuf },
    #[error("{path} has no symbol table (.symtab): stripped?")]
    NoSymbols { path: PathBuf },
    #[error("{path} has corrupt DWARF: {reason}")]
    CorruptDwarf { path: PathBuf, reason: String },
    #[error("build id mismatch for {path}: the file has {found}, the crash needs {expected}")]
    BuildIdMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("no debug file found for {what}")]
    NotFound { what: String },
    #[error("fetching {what} failed: {reason}")]
    Fetch { what: String, reason: String },
    #[error("index {path} is unusable: {reason}")]
    BadIndex { path: PathBuf, reason: String },
}

impl SymbolizeError {
    pub(crate) fn malformed(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
    pub(crate) fn dwarf(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::CorruptDwarf {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
