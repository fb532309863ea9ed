//! Object keys: the checked, relative names that both backends accept.
//!
//! A key is a `/`-separated path of non-empty segments made of `[A-Za-z0-9._:=+-]`, where
//! no segment starts with `.`: so no key can be absolute, climb with `..`, or collide with
//! the local backend's hidden temporary files.

use crate::Error;

/// The longest key accepted (S3 allows 1024 bytes including the store prefix).
pub const MAX_KEY_LEN: usize = 900;

/// Checks a key (or a store prefix, which follows the same rules) and returns it unchanged.
pub fn validate_key(key: &str) -> Result<&str, Error> {
    if key.is_empty() {
        return Err(Error::malformed(key, "empty object key"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::malformed(
            key,
            format!("object key longer than {MAX_KEY_LEN} bytes"),
        ));
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Err(Error::malformed(
                key,
                "object key has an empty segment (leading, trailing or double '/')",
            ));
        }
        if segment.starts_with('.') {
            return Err(Error::malformed(key, "object key segment starts with '.'"));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._:=+-".contains(*c)))
        {
            return Err(Error::malformed(
                key,
                format!("object key holds the character {c:?}"),
            ));
        }
    }
    Ok(key)
}

/// Checks a list prefix: empty, or a key optionally followed by `/`.
pub fn validate_prefix(prefix: &str) -> Result<&str, Error> {
    if prefix.is_empty() {
        return Ok(prefix);
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    validate_key(trimmed).map(|_| prefix)
}

/// Joins a store prefix (possibly empty) and a key.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}/{key}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Ordinary keys pass, including the model's blob and manifest keys.
    #[test]
    fn accepts_good_keys() {
        for k in [
            "blobs/sha256/abcd",
            "crashes/host-2026.01.01-12:00:00/manifest.json",
            "a",
            "x=y+z",
        ] {
            assert!(validate_key(k).is_ok(), "{k}");
        }
    }

    // Keys that could escape a directory, hide, or carry odd bytes are refused.
    #[test]
    fn refuses_bad_keys() {
        for k in [
            "",
            "/abs",
            "a//b",
            "a/",
            "../etc/shadow",
            "a/../b",
            "a/./b",
            ".hidden",
            "a/.tmp",
            "sp ace",
            "back\\slash",
            "nul\0",
            "é",
        ] {
            assert!(validate_key(k).is_err(), "{k:?}");
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    // A list prefix may be empty or end in a slash, but not escape.
    #[test]
    fn prefixes() {
        assert!(validate_prefix("").is_ok());
        assert!(validate_prefix("crashes/").is_ok());
        assert!(validate_prefix("crashes/ab").is_ok());
        assert!(validate_prefix("../").is_err());
        assert!(validate_prefix("/").is_err());
    }
}
