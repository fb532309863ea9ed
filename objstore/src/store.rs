//! [`ObjectStore`]: the one interface, with its backend chosen by URL.
//!
//! - `file:///path`: a local directory ([`LocalStore`]), the embedded default;
//! - `s3://bucket/prefix`: S3 or an S3-compatible server ([`S3Store`]). Query parameters
//!   `endpoint`, `region` and `path_style` (true/false) override [`S3Options`], so one URL
//!   string can say everything: `s3://crashes/prod?endpoint=http://127.0.0.1:9000&path_style=true`.

use std::path::Path;

use crate::local::LocalStore;
use crate::multipart::MultipartUpload;
use crate::retry::RetryPolicy;
use crate::s3::{S3Options, S3Store};
use crate::{Error, ObjectInfo, PutOutcome};

/// Settings shared by both backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Multipart part size (bytes); clamped to S3's 5 MiB..5 GiB and the 10,000-part limit.
    pub part_size: u64,
    /// Files larger than this go up in parts.
    pub multipart_threshold: u64,
    /// Keys per list page (S3 allows up to 1000).
    pub list_page_size: u32,
    pub s3: S3Options,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            part_size: 16 * 1024 * 1024,
            multipart_threshold: 16 * 1024 * 1024,
            list_page_size: 1000,
            s3: S3Options::default(),
        }
    }
}

/// An object store: a bucket prefix on S3, or a local directory.
#[derive(Debug, Clone)]
pub enum ObjectStore {
    Local(LocalStore),
    S3(S3Store),
}

impl ObjectStore {
    /// A local-directory store at `root` (created if missing), without going through a URL.
    pub fn local(root: impl Into<std::path::PathBuf>) -> Result<Self, Error> {
        Ok(ObjectStore::Local(LocalStore::open(root)?))
    }

    /// Opens the store a URL names, with default options.
    pub async fn open(url: &str) -> Result<Self, Error> {
        Self::open_with(url, &StoreOptions::default()).await
    }

    /// Opens the store a URL names.
    pub async fn open_with(url: &str, opts: &StoreOptions) -> Result<Self, Error> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::malformed(url, format!("bad object store url: {e}")))?;
        match parsed.scheme() {
            "file" => {
                if parsed
                    .host_str()
                    .is_some_and(|h| !h.is_empty() && h != "localhost")
                {
                    return Err(Error::malformed(
                        url,
                        "file url must be file:///absolute/path",
                    ));
                }
                let path = parsed
                    .to_file_path()
                    .map_err(|()| Error::malformed(url, "file url does not name a local path"))?;
                Ok(ObjectStore::Local(LocalStore::open(path)?))
            }
            "s3" => {
                let bucket = parsed
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| Error::malformed(url, "s3 url names no bucket"))?
                    .to_owned();
                let prefix = parsed.path().trim_matches('/').to_owned();
                let mut s3 = opts.s3.clone();
                for (k, v) in parsed.query_pairs() {
                    match &*k {
                        "endpoint" => s3.endpoint_url = Some(v.into_owned()),
                        "region" => s3.region = Some(v.into_owned()),
                        "path_style" => {
                            s3.force_path_style = match &*v {
                                "true" | "1" | "yes" => true,
                                "false" | "0" | "no" => false,
                                other => {
                                    return Err(Error::malformed(
                                        url,
                                        format!("path_style={other:?} is not true or false"),
                                    ));
                                }
                            }
                        }
                        other => {
                            return Err(Error::malformed(
                                url,
                                format!("unknown s3 url parameter {other:?}"),
                            ));
                        }
                    }
                }
                Ok(ObjectStore::S3(
                    S3Store::open(
                        &bucket,
                        &prefix,
                        &s3,
                        opts.part_size,
                        opts.multipart_threshold,
                        opts.list_page_size,
                    )
                    .await?,
                ))
            }
            other => Err(Error::malformed(
                url,
                format!("object store url scheme {other:?} is not file or s3"),
            )),
        }
    }

    /// Writes `bytes` under `key` unless an object is already there.
    pub async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, Error> {
        let out = match self {
            ObjectStore::Local(s) => s.put_if_absent(key, bytes).await,
            ObjectStore::S3(s) => s.put_if_absent(key, bytes).await,
        }?;
        crate::metrics::record_put(out);
        Ok(out)
    }

    /// Uploads the file at `path`, whose SHA-256 is `sha256_hex`, unless `key` exists.
    /// Single attempt per request; no resumption state is kept.
    pub async fn put_file_if_absent(
        &self,
        key: &str,
        path: &Path,
        sha256_hex: &str,
    ) -> Result<PutOutcome, Error> {
        let mut state = None;
        let policy = RetryPolicy {
            max_attempts: Some(1),
            ..RetryPolicy::default()
        };
        self.put_file_resumable(key, path, sha256_hex, &policy, &mut state, &mut |_| Ok(()))
            .await
    }

    /// Uploads a file unless `key` exists, resumably. Each request is retried on
    /// transient errors by `policy`. For a multipart upload, `state` holds the progress
    /// (pass what the journal saved, or `None`), and `save` is called after every change so
    /// the caller can persist it durably (with `None` once the upload is finished or
    /// abandoned). The local backend copies in one go and never calls `save`.
    pub async fn put_file_resumable(
        &self,
        key: &str,
        path: &Path,
        sha256_hex: &str,
        policy: &RetryPolicy,
        state: &mut Option<MultipartUpload>,
        save: &mut (dyn FnMut(Option<&MultipartUpload>) -> Result<(), Error> + Send),
    ) -> Result<PutOutcome, Error> {
        let out = match self {
            ObjectStore::Local(s) => {
                crate::retry::retry(policy, "local put", || {
                    s.put_file_if_absent(key, path, sha256_hex)
                })
                .await
            }
            ObjectStore::S3(s) => {
                s.put_file_resumable(key, path, sha256_hex, policy, state, save)
                    .await
            }
        }?;
        crate::metrics::record_put(out);
        Ok(out)
    }

    /// Abandons a multipart upload (S3 only; a no-op locally).
    pub async fn abort_multipart(&self, state: &MultipartUpload) -> Result<(), Error> {
        match self {
            ObjectStore::Local(_) => Ok(()),
            ObjectStore::S3(s) => s.abort(state).await,
        }
    }

    /// Reads a whole object of at most `limit` bytes.
    pub async fn get(&self, key: &str, limit: u64) -> Result<Vec<u8>, Error> {
        match self {
            ObjectStore::Local(s) => s.get(key, limit).await,
            ObjectStore::S3(s) => s.get(key, limit).await,
        }
    }

    /// Streams an object into the file `dest` (written atomically); returns its size.
    pub async fn get_to_file(&self, key: &str, dest: &Path) -> Result<u64, Error> {
        match self {
            ObjectStore::Local(s) => s.get_to_file(key, dest).await,
            ObjectStore::S3(s) => s.get_to_file(key, dest).await,
        }
    }

    /// The object's size, or `None` when it does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, Error> {
        match self {
            ObjectStore::Local(s) => s.head(key).await,
            ObjectStore::S3(s) => s.head(key).await,
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        Ok(self.head(key).await?.is_some())
    }

    /// Every key starting with `prefix` (relative to the store), sorted; all pages.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        match self {
            ObjectStore::Local(s) => s.list(prefix).await,
            ObjectStore::S3(s) => s.list(prefix).await,
        }
    }

    /// Deletes an object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        match self {
            ObjectStore::Local(s) => s.delete(key).await,
            ObjectStore::S3(s) => s.delete(key).await,
        }
    }

    /// The file holding an existing object, when the store is a local directory, so a
    /// reader can use it in place instead of copying it (a vmcore is read a few pages at
    /// a time). `None` for S3, or when the key is invalid or absent.
    pub fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        match self {
            ObjectStore::Local(s) => s.path_of(key).ok().filter(|p| p.is_file()),
            ObjectStore::S3(_) => None,
        }
    }

    /// A short description for logs (never holds credentials).
    pub fn describe(&self) -> String {
        match self {
            ObjectStore::Local(s) => format!("file://{}", s.root().display()),
            ObjectStore::S3(s) => format!("s3://{}", s.bucket()),
        }
    }
}
