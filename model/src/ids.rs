//! Checked identifiers: build ids, crash ids and group signatures.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("build id {0:?} is not 2 to 64 even-length hex digits")]
    BuildId(String),
    #[error("crash id {0:?} is not 1 to 128 characters of [A-Za-z0-9._-]")]
    CrashId(String),
    #[error("signature {0:?} is not of the form v<N>:<kind>:<key>")]
    Signature(String),
}

/// A GNU build id (the `NT_GNU_BUILD_ID` note), lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BuildId(String);

impl BuildId {
    /// Checks and normalizes (lowercases) a hex build id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = (2..=64).contains(&s.len())
            && s.len().is_multiple_of(2)
            && s.bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(IdError::BuildId(s.to_owned()))
        }
    }

    /// The build id of raw note bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        Self::parse(&hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BuildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BuildId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<BuildId> for String {
    fn from(b: BuildId) -> String {
        b.0
    }
}

/// The identity of one crash: stable across re-uploads of the same dump, so that
/// processing it twice adds nothing. The collector derives it from the host and the
/// dump directory (see `crash::crash_id_for`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CrashId(String);

impl CrashId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !s.starts_with('.');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::CrashId(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CrashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CrashId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<CrashId> for String {
    fn from(c: CrashId) -> String {
        c.0
    }
}

/// A versioned group key, `v<N>:<kind>:<key>`, for example
/// `v1:kfence-use-after-free-read:find_uprobe`. Two reports with the same signature are
/// the same bug; the version lets the rules change and history be regrouped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Signature(String);

impl Signature {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let mut parts = s.splitn(3, ':');
        let version = parts.next().unwrap_or("");
        let kind = parts.next().unwrap_or("");
        let key = parts.next().unwrap_or("");
        let ok = version.len() > 1
            && version.starts_with('v')
            && version[1..].bytes().all(|b| b.is_ascii_digit())
            && !kind.is_empty()
            && !key.is_empty()
            && s.len() <= 512
            && !s.chars().any(char::is_whitespace);
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Signature(s.to_owned()))
        }
    }

    /// Builds a signature from its parts; whitespace in `kind` or `key` becomes `_`.
    pub fn new(version: u32, kind: &str, key: &str) -> Self {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_whitespace() { '_' } else { c })
                .collect()
        };
        let kind = if kind.is_empty() {
            "unknown".into()
        } else {
            clean(kind)
        };
        let key = if key.is_empty() {
            "unknown".into()
        } else {
            clean(key)
        };
        let mut s = format!("v{version}:{kind}:{key}");
        s.truncate(512);
        Self(s)
    }

    pub fn version(&self) -> u32 {
        self.0[1..]
            .split(':')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short stable hash of the signature, safe for Jira labels and URLs.
    pub fn short_hash(&self) -> String {
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(self.0.as_bytes())[..8])
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Signature {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<Signature> for String {
    fn from(s: Signature) -> String {
        s.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // A build id is normalized to lowercase and odd or non-hex ids are refused.
    #[test]
    fn build_id_checks() {
        assert_eq!(BuildId::parse("ABcd").unwrap().as_str(), "abcd");
        assert!(BuildId::parse("abc").is_err());
        assert!(BuildId::parse("zz").is_err());
        assert!(BuildId::parse("").is_err());
    }

    // Crash ids refuse path separators and leading dots, so they are safe as object keys.
    #[test]
    fn crash_id_checks() {
        assert!(CrashId::parse("host1-202612041200").is_ok());
        assert!(CrashId::parse("../etc").is_err());
        assert!(CrashId::parse("a/b").is_err());
        assert!(CrashId::parse(".hidden").is_err());
    }

    // Signatures round-trip through new/parse and keep their version.
    #[test]
    fn signature_round_trip() {
        let s = Signature::new(1, "kfence-use-after-free-read", "find uprobe");
        assert_eq!(s.as_str(), "v1:kfence-use-after-free-read:find_uprobe");
        assert_eq!(Signature::parse(s.as_str()).unwrap(), s);
        assert_eq!(s.version(), 1);
        assert!(Signature::parse("kasan:foo").is_err());
        assert_eq!(s.short_hash().len(), 16);
    }
}
