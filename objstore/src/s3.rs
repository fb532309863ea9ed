//! The S3 backend (`s3://bucket/prefix`), through `aws-sdk-s3`.
//!
//! Portable across AWS and S3-compatible servers: checksums are computed by us (SHA-256,
//! whole object for single puts, per part for multipart) and sent as plain
//! `x-amz-checksum-sha256` headers, with the SDK's own checksum calculation set to
//! "when required" (its default aws-chunked CRC32 trailer is refused by many servers).
//! Every create is conditional (`If-None-Match: *`), so nothing is written twice.
//! Large files go up in parts read straight from disk, one part at a time, so memory
//! stays bounded whatever the size; the caller journals [`MultipartUpload`] to resume.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use sha2::{Digest, Sha256};

use crate::key::{join, validate_key, validate_prefix};
use crate::multipart::{MultipartUpload, UploadedPart, effective_part_size, plan_parts};
use crate::retry::{RetryPolicy, retry};
use crate::{Error, ObjectInfo, PutOutcome, metrics};

/// How to reach an S3 (or S3-compatible) service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    /// `http(s)://host:port` of an S3-compatible server; `None` for AWS.
    pub endpoint_url: Option<String>,
    /// Signing region; `None` takes it from the standard chain, else `us-east-1`.
    pub region: Option<String>,
    /// Path-style addressing (`host/bucket/key`), needed by most self-hosted servers.
    pub force_path_style: bool,
    /// Static credentials `(access key, secret key)`; `None` uses the standard chain
    /// (environment, profile, web identity, container, instance metadata).
    pub static_credentials: Option<(String, String)>,
    pub connect_timeout: Duration,
    /// Bound on one HTTP attempt (a whole part upload must fit in it).
    pub attempt_timeout: Duration,
    /// Attempts the SDK itself makes per request before reporting a transient error.
    pub sdk_max_attempts: u32,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            endpoint_url: None,
            region: None,
            force_path_style: false,
            static_credentials: None,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(600),
            sdk_max_attempts: 3,
        }
    }
}

/// A bucket and a key prefix on an S3 service.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    part_size: u64,
    multipart_threshold: u64,
    list_page_size: i32,
}

impl S3Store {
    /// Builds the client. Nothing is sent until the first request.
    pub async fn open(
        bucket: &str,
        prefix: &str,
        opts: &S3Options,
        part_size: u64,
        multipart_threshold: u64,
        list_page_size: u32,
    ) -> Result<Self, Error> {
        if bucket.is_empty() {
            return Err(Error::malformed("", "s3 url names no bucket"));
        }
        if !prefix.is_empty() {
            validate_key(prefix)?;
        }
        // rustls on ring: HTTPS for AWS, plain HTTP for local test endpoints.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(opts.connect_timeout)
                    .operation_attempt_timeout(opts.attempt_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(opts.sdk_max_attempts.max(1)));
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some((ak, sk)) = &opts.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                ak.clone(),
                sk.clone(),
                None,
                None,
                "crashsift-static",
            ));
        }
        if let Some(ep) = &opts.endpoint_url {
            loader = loader.endpoint_url(ep.clone());
        }
        let sdk = loader.load().await;
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(opts.force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if sdk.region().is_none() {
            conf = conf.region(Region::new("us-east-1"));
        }
        Ok(S3Store {
            client: Client::from_conf(conf.build()),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            part_size,
            multipart_threshold,
            list_page_size: i32::try_from(list_page_size.clamp(1, 1000)).unwrap_or(1000),
        })
    }

    /// The underlying SDK client, for operations this interface does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn full_key(&self, key: &str) -> Result<String, Error> {
        validate_key(key)?;
        Ok(join(&self.prefix, key))
    }

    pub async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, Error> {
        let full = self.full_key(key)?;
        let sum = b64(&Sha256::digest(bytes));
        metrics::record_request();
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .content_length(bytes.len() as i64)
            .checksum_sha256(sum)
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match res {
            Ok(_) => {
                metrics::record_uploaded(bytes.len() as u64);
                Ok(PutOutcome::Created)
            }
            Err(e) if is_precondition_failed(&e) => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(map_err(key, e)),
        }
    }

    /// Uploads a file if absent: one PutObject up to the multipart threshold, else a
    /// resumable multipart upload (see [`crate::ObjectStore::put_file_resumable`]).
    pub async fn put_file_resumable(
        &self,
        key: &str,
        src: &Path,
        sha256_hex: &str,
        policy: &RetryPolicy,
        state: &mut Option<MultipartUpload>,
        save: &mut (dyn FnMut(Option<&MultipartUpload>) -> Result<(), Error> + Send),
    ) -> Result<PutOutcome, Error> {
        let full = self.full_key(key)?;
        let sha_bytes = hex::decode(sha256_hex)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| Error::malformed(key, format!("bad sha256 {sha256_hex:?}")))?;
        let size = std::fs::metadata(src).map_err(|e| Error::io(src, e))?.len();
        if size <= self.multipart_threshold {
            let sum = b64(&sha_bytes);
            return retry(policy, "put object", || async {
                let body = ByteStream::from_path(src)
                    .await
                    .map_err(|e| Error::io(src, std::io::Error::other(e)))?;
                metrics::record_request();
                let res = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&full)
                    .content_length(size as i64)
                    .checksum_sha256(sum.clone())
                    .if_none_match("*")
                    .body(body)
                    .send()
                    .await;
                match res {
                    Ok(_) => {
                        metrics::record_uploaded(size);
                        Ok(PutOutcome::Created)
                    }
                    Err(e) if is_precondition_failed(&e) => Ok(PutOutcome::AlreadyExists),
                    Err(e) => Err(map_err(key, e)),
                }
            })
            .await;
        }

        // Already there (a twin, or our own earlier run that died before journaling).
        if retry(policy, "head object", || self.head(key))
            .await?
            .is_some()
        {
            *state = None;
            save(None)?;
            return Ok(PutOutcome::AlreadyExists);
        }
        let mut restarts = 0u32;
        loop {
            if restarts > 2 {
                return Err(Error::Rejected {
                    key: key.to_owned(),
                    reason: "the server keeps refusing parts of fresh multipart uploads".into(),
                });
            }
            if !state
                .as_ref()
                .is_some_and(|s| s.matches(key, size, &sha256_hex.to_ascii_lowercase()))
            {
                let upload_id = retry(policy, "create multipart upload", || async {
                    metrics::record_request();
                    let out = self
                        .client
                        .create_multipart_upload()
                        .bucket(&self.bucket)
                        .key(&full)
                        .checksum_algorithm(ChecksumAlgorithm::Sha256)
                        .send()
                        .await
                        .map_err(|e| map_err(key, e))?;
                    out.upload_id().map(str::to_owned).ok_or_else(|| {
                        Error::malformed(key, "create multipart upload returned no upload id")
                    })
                })
                .await?;
                *state = Some(MultipartUpload {
                    key: key.to_owned(),
                    upload_id,
                    part_size: effective_part_size(self.part_size, size),
                    size,
                    sha256: sha256_hex.to_ascii_lowercase(),
                    parts: Vec::new(),
                });
                save(state.as_ref())?;
            }
            let Some(st) = state.as_mut() else {
                continue;
            };
            match self.upload_parts(key, &full, src, policy, st, save).await {
                Ok(()) => {}
                Err(PartsError::NoSuchUpload) => {
                    tracing::warn!(
                        key,
                        "multipart upload vanished on the server; starting over"
                    );
                    restarts += 1;
                    *state = None;
                    save(None)?;
                    continue;
                }
                Err(PartsError::Other(e)) => return Err(e),
            }
            let outcome = self.complete(key, &full, policy, st).await;
            match outcome {
                Ok(o) => {
                    *state = None;
                    save(None)?;
                    return Ok(o);
                }
                Err(PartsError::NoSuchUpload) => {
                    restarts += 1;
                    *state = None;
                    save(None)?;
                    continue;
                }
                Err(PartsError::Other(e)) => return Err(e),
            }
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        full: &str,
        src: &Path,
        policy: &RetryPolicy,
        st: &mut MultipartUpload,
        save: &mut (dyn FnMut(Option<&MultipartUpload>) -> Result<(), Error> + Send),
    ) -> Result<(), PartsError> {
        for part in plan_parts(st.size, st.part_size) {
            if st.part(part.number).is_some() {
                continue;
            }
            let sum = part_sha256(src, part.offset, part.len).await?;
            let upload_id = st.upload_id.clone();
            let etag = retry(policy, "upload part", || async {
                let body = ByteStream::read_from()
                    .path(src)
                    .offset(part.offset)
                    .length(Length::Exact(part.len))
                    .build()
                    .await
                    .map_err(|e| Error::io(src, std::io::Error::other(e)))?;
                metrics::record_request();
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(full)
                    .upload_id(&upload_id)
                    .part_number(i32::try_from(part.number).unwrap_or(i32::MAX))
                    .content_length(part.len as i64)
                    .checksum_sha256(sum.clone())
                    .body(body)
                    .send()
                    .await;
                match out {
                    Ok(o) => {
                        metrics::record_uploaded(part.len);
                        Ok(Ok(o.e_tag().unwrap_or_default().to_owned()))
                    }
                    // AWS says NoSuchUpload for an aborted or expired upload; s3s-fs says
                    // AccessDenied. Either way the upload id is dead: start over (bounded
                    // by the caller's restart limit, so a real permission error surfaces).
                    Err(e) if matches!(error_code(&e), Some("NoSuchUpload" | "AccessDenied")) => {
                        Ok(Err(()))
                    }
                    Err(e) => Err(map_err(key, e)),
                }
            })
            .await?
            .map_err(|()| PartsError::NoSuchUpload)?;
            st.parts.push(UploadedPart {
                number: part.number,
                etag,
                sha256_b64: sum,
            });
            save(Some(st))?;
        }
        Ok(())
    }

    async fn complete(
        &self,
        key: &str,
        full: &str,
        policy: &RetryPolicy,
        st: &MultipartUpload,
    ) -> Result<PutOutcome, PartsError> {
        let mut parts: Vec<&UploadedPart> = st.parts.iter().collect();
        parts.sort_by_key(|p| p.number);
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(i32::try_from(p.number).unwrap_or(i32::MAX))
                            .e_tag(&p.etag)
                            .checksum_sha256(&p.sha256_b64)
                            .build()
                    })
                    .collect(),
            ))
            .build();
        let res = retry(policy, "complete multipart upload", || async {
            metrics::record_request();
            let res = self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(full)
                .upload_id(&st.upload_id)
                .multipart_upload(completed.clone())
                .if_none_match("*")
                .send()
                .await;
            match res {
                Ok(_) => Ok(Ok(PutOutcome::Created)),
                Err(e) if is_precondition_failed(&e) => Ok(Ok(PutOutcome::AlreadyExists)),
                // A retried Complete whose first answer was lost: AWS replays success, some
                // servers say NoSuchUpload or AccessDenied. The object decides.
                Err(e) if matches!(error_code(&e), Some("NoSuchUpload" | "AccessDenied")) => {
                    Ok(Err(()))
                }
                Err(e) => Err(map_err(key, e)),
            }
        })
        .await?;
        match res {
            Ok(o) => Ok(o),
            Err(()) => match retry(policy, "head object", || self.head(key)).await? {
                Some(info) if info.size == st.size => Ok(PutOutcome::AlreadyExists),
                _ => Err(PartsError::NoSuchUpload),
            },
        }
    }

    pub async fn abort(&self, st: &MultipartUpload) -> Result<(), Error> {
        let full = self.full_key(&st.key)?;
        metrics::record_request();
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(&st.upload_id)
            .send()
            .await
            .map_err(|e| map_err(&st.key, e))?;
        Ok(())
    }

    /// Starts a GetObject; the caller streams the body.
    async fn get_object(
        &self,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, Error> {
        let full = self.full_key(key)?;
        metrics::record_request();
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| map_err(key, e))
    }

    pub async fn get(&self, key: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let out = self.get_object(key).await?;
        let declared = out.content_length().unwrap_or(0).max(0) as u64;
        if declared > limit {
            return Err(Error::TooLarge {
                key: key.to_owned(),
                size: declared,
                limit,
            });
        }
        let mut body = out.body;
        let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::Transient {
                key: key.to_owned(),
                reason: format!("reading body: {e}"),
            })?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(Error::TooLarge {
                    key: key.to_owned(),
                    size: (buf.len() + chunk.len()) as u64,
                    limit,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    pub async fn get_to_file(&self, key: &str, dest: &Path) -> Result<u64, Error> {
        use tokio::io::AsyncWriteExt;
        let out = self.get_object(key).await?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("obj");
        static TMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = TMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}-{name}", std::process::id()));
        let result = async {
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| Error::io(&tmp, e))?;
            let mut body = out.body;
            let mut total = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::Transient {
                    key: key.to_owned(),
                    reason: format!("reading body: {e}"),
                })?;
                f.write_all(&chunk).await.map_err(|e| Error::io(&tmp, e))?;
                total += chunk.len() as u64;
            }
            f.sync_all().await.map_err(|e| Error::io(&tmp, e))?;
            tokio::fs::rename(&tmp, dest)
                .await
                .map_err(|e| Error::io(dest, e))?;
            Ok(total)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, Error> {
        let full = self.full_key(key)?;
        metrics::record_request();
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                size: out.content_length().unwrap_or(0).max(0) as u64,
            })),
            Err(e) => match map_err(key, e) {
                Error::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        validate_prefix(prefix)?;
        let full_prefix = if self.prefix.is_empty() {
            prefix.to_owned()
        } else {
            format!("{}/{prefix}", self.prefix)
        };
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            metrics::record_request();
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .max_keys(self.list_page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| map_err(prefix, e))?;
            for obj in out.contents() {
                if let Some(k) = obj.key().and_then(|k| k.strip_prefix(strip.as_str())) {
                    keys.push(k.to_owned());
                }
            }
            match (out.is_truncated(), out.next_continuation_token()) {
                (Some(true), Some(t)) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        let full = self.full_key(key)?;
        metrics::record_request();
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(full)
            .send()
            .await
            .map_err(|e| map_err(key, e))?;
        Ok(())
    }
}

enum PartsError {
    NoSuchUpload,
    Other(Error),
}

impl From<Error> for PartsError {
    fn from(e: Error) -> Self {
        PartsError::Other(e)
    }
}

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

/// Base64 SHA-256 of `len` bytes at `offset` of `path`, read in 64 KiB chunks.
async fn part_sha256(path: &Path, offset: u64, len: u64) -> Result<String, Error> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&path, e))?;
        let mut rest = len;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        while rest > 0 {
            let want = usize::try_from(rest.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = f.read(&mut buf[..want]).map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                return Err(Error::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "file shrank while uploading",
                    ),
                ));
            }
            hasher.update(&buf[..n]);
            rest -= n as u64;
        }
        Ok(b64(&hasher.finalize()))
    })
    .await
    .map_err(|e| Error::malformed("", format!("hashing task failed: {e}")))?
}

fn error_code<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<&str> {
    match e {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

fn status_of<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn is_precondition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    status_of(e) == Some(412) || error_code(e) == Some("PreconditionFailed")
}

/// Sorts an SDK failure into the variants that decide what the caller does.
fn map_err<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    key: &str,
    e: SdkError<E, HttpResponse>,
) -> Error {
    metrics::record_error();
    let key = key.to_owned();
    let status = status_of(&e);
    let code = error_code(&e).map(str::to_owned);
    let describe = |e: &SdkError<E, HttpResponse>| {
        let mut s = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
        if let Some(st) = status {
            s = format!("http {st}: {s}");
        }
        s
    };
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Error::Transient {
                reason: describe(&e),
                key,
            }
        }
        SdkError::ConstructionFailure(_) => Error::Malformed {
            reason: describe(&e),
            key,
        },
        _ => {
            let transient_code = matches!(
                code.as_deref(),
                Some(
                    "SlowDown"
                        | "RequestTimeout"
                        | "InternalError"
                        | "ServiceUnavailable"
                        | "RequestTimeTooSkewed"
                )
            );
            if matches!(code.as_deref(), Some("NoSuchKey" | "NotFound"))
                || status == Some(404)
                    && code.as_deref() != Some("NoSuchBucket")
                    && code.as_deref() != Some("NoSuchUpload")
            {
                Error::NotFound { key }
            } else if transient_code || status.is_some_and(|s| s >= 500 || s == 429 || s == 408) {
                Error::Transient {
                    reason: describe(&e),
                    key,
                }
            } else {
                Error::Rejected {
                    reason: describe(&e),
                    key,
                }
            }
        }
    }
}
