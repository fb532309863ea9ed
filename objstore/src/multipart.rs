//! Multipart upload state and part planning, shared by both backends (pure, no I/O).
//!
//! The caller persists [`MultipartUpload`] in its own durable journal after every change,
//! and hands it back after a restart, so parts already sent are not sent again.

use serde::{Deserialize, Serialize};

/// The smallest part S3 accepts (every part but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's limit on the number of parts of one upload.
pub const MAX_PARTS: u64 = 10_000;

/// One part the server acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    /// 1-based part number.
    pub number: u32,
    /// The ETag the server returned for the part.
    pub etag: String,
    /// Base64 SHA-256 of the part bytes, sent with the part and again at completion.
    pub sha256_b64: String,
}

/// A multipart upload in progress: everything needed to resume it after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    /// The object key (relative to the store's prefix).
    pub key: String,
    /// The server's upload id.
    pub upload_id: String,
    /// The part size the upload was planned with.
    pub part_size: u64,
    /// The total size of the file.
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    /// Parts acknowledged so far, in the order they were sent.
    pub parts: Vec<UploadedPart>,
}

impl MultipartUpload {
    /// True when this state describes an upload of exactly this file to this key.
    pub fn matches(&self, key: &str, size: u64, sha256: &str) -> bool {
        self.key == key && self.size == size && self.sha256 == sha256
    }

    /// The acknowledged part with this number, if any.
    pub fn part(&self, number: u32) -> Option<&UploadedPart> {
        self.parts.iter().find(|p| p.number == number)
    }
}

/// One planned part: its number, byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub number: u32,
    pub offset: u64,
    pub len: u64,
}

/// The part size actually used for a file: the configured size clamped to S3's limits and
/// raised so the file fits in at most [`MAX_PARTS`] parts (rounded up to a MiB).
pub fn effective_part_size(configured: u64, size: u64) -> u64 {
    let mib = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(mib) * mib;
    configured.max(needed).clamp(MIN_PART_SIZE, MAX_PART_SIZE)
}

/// Splits `size` bytes into parts of `part_size` (the last may be shorter). A zero-byte
/// file is one empty part.
pub fn plan_parts(size: u64, part_size: u64) -> Vec<PartPlan> {
    let part_size = part_size.max(1);
    if size == 0 {
        return vec![PartPlan {
            number: 1,
            offset: 0,
            len: 0,
        }];
    }
    let count = size.div_ceil(part_size);
    (0..count)
        .map(|i| {
            let offset = i * part_size;
            PartPlan {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                offset,
                len: part_size.min(size - offset),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Parts cover the file exactly, in order, with a short last part.
    #[test]
    fn plan_covers_file() {
        let plan = plan_parts(12, 5);
        assert_eq!(
            plan,
            vec![
                PartPlan {
                    number: 1,
                    offset: 0,
                    len: 5
                },
                PartPlan {
                    number: 2,
                    offset: 5,
                    len: 5
                },
                PartPlan {
                    number: 3,
                    offset: 10,
                    len: 2
                },
            ]
        );
        assert_eq!(plan_parts(10, 5).len(), 2);
        assert_eq!(plan_parts(0, 5).len(), 1);
    }

    // The part size respects S3's minimum and the 10,000-part limit.
    #[test]
    fn part_size_limits() {
        assert_eq!(effective_part_size(1, 100), MIN_PART_SIZE);
        let huge = 200 * 1024 * 1024 * 1024u64; // 200 GiB
        let ps = effective_part_size(16 * 1024 * 1024, huge);
        assert!(huge.div_ceil(ps) <= MAX_PARTS);
        assert_eq!(ps % (1024 * 1024), 0);
    }

    // The resume state round-trips through JSON, as the collector's journal stores it.
    #[test]
    fn state_round_trips() {
        let s = MultipartUpload {
            key: "blobs/sha256/ab".into(),
            upload_id: "u1".into(),
            part_size: MIN_PART_SIZE,
            size: 12,
            sha256: "ab".into(),
            parts: vec![UploadedPart {
                number: 1,
                etag: "\"e\"".into(),
                sha256_b64: "x".into(),
            }],
        };
        let json = serde_json::to_string(&s).unwrap();
        let back: MultipartUpload = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert!(back.matches("blobs/sha256/ab", 12, "ab"));
        assert!(back.part(1).is_some() && back.part(2).is_none());
    }
}
