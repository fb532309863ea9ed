//! The object store: where crash artifacts and manifests live.
//!
//! One narrow interface, [`ObjectStore`], chosen by URL: `s3://bucket/prefix` (AWS or any
//! S3-compatible server, through `aws-sdk-s3`) or `file:///path` (a local directory, the
//! embedded default). Every write is a conditional create ([`PutOutcome`]): content is
//! addressed by hash, so writing twice is never needed and never happens. Large files go
//! up as resumable multipart uploads whose progress ([`MultipartUpload`]) the caller
//! journals. Errors say whether to retry ([`Error::Transient`]); [`retry::retry`] does so
//! with backoff.
//!
//! Start reading at [`store`], then [`s3`].
//!
//! With the `testing` feature, [`testing`] runs an in-process S3 server over HTTP with
//! fault injection, for tests of this and other crates.

pub mod error;
pub mod key;
pub mod local;
pub mod metrics;
pub mod multipart;
pub mod retry;
pub mod s3;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::Error;
pub use key::validate_key;
pub use local::LocalStore;
pub use multipart::{MultipartUpload, UploadedPart};
pub use retry::{RetryPolicy, retry};
pub use s3::{S3Options, S3Store};
pub use store::{ObjectStore, StoreOptions};

/// What a conditional create did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// This call wrote the object.
    Created,
    /// An object was already there under the key; nothing was written.
    AlreadyExists,
}

/// What `head` knows about an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
}
