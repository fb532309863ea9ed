//! An in-process S3 server for tests: `s3s-fs` served over real HTTP/1 on
//! `127.0.0.1:<random port>`, with fault injection in front of it.
//!
//! ```text
//! let s3 = testing::S3Server::start().await?;
//! let store = s3.object_store("bucket", "prefix").await?;
//! s3.inject(FaultRule::new(Match::upload_part(), Fault::Status(500)).skip(1).times(1));
//! ```
//!
//! Faults apply to requests that match, in arrival order: a rule skips its first `skip`
//! matches, then fires `times` times. Every request is recorded ([`S3Server::requests`]),
//! so tests can count what was (re)sent. The server stops when the [`S3Server`] drops.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::s3::S3Options;
use crate::{Error, ObjectStore, StoreOptions};

pub const ACCESS_KEY: &str = "crashsift-test-ak";
pub const SECRET_KEY: &str = "crashsift-test-sk";

/// What an injected fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (an S3 XML error body) without applying the request.
    Status(u16),
    /// Close the connection without applying the request or answering.
    Drop,
    /// Apply the request, then close the connection instead of answering (a lost response).
    ApplyThenDrop,
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// HTTP method, e.g. `"PUT"`; `None` for any.
    pub method: Option<String>,
    /// A substring the query string must contain, e.g. `"partNumber="`.
    pub query_contains: Option<String>,
    /// A substring the path must contain.
    pub path_contains: Option<String>,
    /// The query string must be empty (a plain object request, not a multipart step).
    pub plain_query: bool,
}

impl Match {
    /// Every request.
    pub fn any() -> Self {
        Match::default()
    }
    /// UploadPart requests.
    pub fn upload_part() -> Self {
        Match {
            method: Some("PUT".into()),
            query_contains: Some("partNumber=".into()),
            ..Match::default()
        }
    }
    /// CompleteMultipartUpload requests.
    pub fn complete_multipart() -> Self {
        Match {
            method: Some("POST".into()),
            query_contains: Some("uploadId=".into()),
            ..Match::default()
        }
    }
    /// PutObject requests (a PUT with no query).
    pub fn put_object() -> Self {
        Match {
            method: Some("PUT".into()),
            plain_query: true,
            ..Match::default()
        }
    }
    /// GET requests whose path contains `s`.
    pub fn get_path(s: &str) -> Self {
        Match {
            method: Some("GET".into()),
            path_contains: Some(s.into()),
            ..Match::default()
        }
    }

    fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && (!self.plain_query || query.is_empty() || query == "x-id=PutObject")
    }
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub on: Match,
    pub fault: Fault,
    /// Matching requests let through before the rule fires.
    pub skip: u64,
    /// How many matching requests the rule then hits (`u64::MAX`: all).
    pub times: u64,
}

impl FaultRule {
    /// Fires once on the first matching request.
    pub fn new(on: Match, fault: Fault) -> Self {
        FaultRule {
            on,
            fault,
            skip: 0,
            times: 1,
        }
    }
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }
    pub fn times(mut self, n: u64) -> Self {
        self.times = n;
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The fault applied to it, if any.
    pub fault: Option<Fault>,
}

#[derive(Debug, Default)]
struct Shared {
    rules: Vec<FaultRule>,
    log: Vec<RequestRecord>,
}

impl Shared {
    fn decide(&mut self, method: &str, path: &str, query: &str) -> Option<Fault> {
        let mut fault = None;
        for rule in &mut self.rules {
            if !rule.on.matches(method, path, query) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            if rule.times > 0 {
                rule.times = rule.times.saturating_sub(1);
                fault = Some(rule.fault);
                break;
            }
        }
        self.log.push(RequestRecord {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            fault,
        });
        fault
    }
}

/// A running in-process S3 server. Dropping it stops the server and deletes its data.
#[derive(Debug)]
pub struct S3Server {
    addr: SocketAddr,
    root: tempfile::TempDir,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Server {
    /// Starts a server on a random loopback port, storing objects in a fresh temp dir.
    pub async fn start() -> Result<Self, Error> {
        let root = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let fs = s3s_fs::FileSystem::new(root.path())
            .map_err(|e| Error::malformed("", format!("s3s-fs: {e:?}")))?;
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::io("127.0.0.1:0", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("127.0.0.1:0", e))?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let task_shared = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                let shared = task_shared.clone();
                let svc = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                    let service = service.clone();
                    let shared = shared.clone();
                    async move { handle(service, shared, req).await }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(S3Server {
            addr,
            root,
            shared,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory holding the buckets (each bucket is a subdirectory).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// An `s3://` URL for a bucket and prefix on this server (credentials are not in it:
    /// open it with [`S3Server::options`]).
    pub fn url(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "s3://{bucket}/{prefix}?endpoint={}&region=us-east-1&path_style=true",
            self.endpoint_url()
        )
    }

    /// Options that reach this server: its endpoint and credentials, path style, 5 MiB
    /// parts, and no SDK-internal retries (so injected faults reach the caller).
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            part_size: crate::multipart::MIN_PART_SIZE,
            multipart_threshold: crate::multipart::MIN_PART_SIZE,
            list_page_size: 1000,
            s3: S3Options {
                endpoint_url: Some(self.endpoint_url()),
                region: Some("us-east-1".into()),
                force_path_style: true,
                static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
                connect_timeout: std::time::Duration::from_secs(5),
                attempt_timeout: std::time::Duration::from_secs(60),
                sdk_max_attempts: 1,
            },
        }
    }

    /// Creates the bucket if missing.
    pub fn create_bucket(&self, bucket: &str) -> Result<(), Error> {
        crate::key::validate_key(bucket)?;
        let dir = self.root.path().join(bucket);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))
    }

    /// Creates the bucket and opens a store on `bucket/prefix` with [`S3Server::options`].
    pub async fn object_store(&self, bucket: &str, prefix: &str) -> Result<ObjectStore, Error> {
        self.object_store_with(bucket, prefix, &self.options())
            .await
    }

    /// Creates the bucket and opens a store on `bucket/prefix` with the given options
    /// (start from [`S3Server::options`]).
    pub async fn object_store_with(
        &self,
        bucket: &str,
        prefix: &str,
        opts: &StoreOptions,
    ) -> Result<ObjectStore, Error> {
        self.create_bucket(bucket)?;
        ObjectStore::open_with(&self.url(bucket, prefix), opts).await
    }

    /// Adds a fault rule (rules are tried in the order added).
    pub fn inject(&self, rule: FaultRule) {
        self.lock().rules.push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.lock().rules.clear();
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().log.clone()
    }

    /// How many requests seen so far match `m`.
    pub fn count(&self, m: &Match) -> usize {
        self.lock()
            .log
            .iter()
            .filter(|r| m.matches(&r.method, &r.path, &r.query))
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panic while holding the lock can only come from a failing test; keep going.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads and discards a request body.
async fn drain(mut body: Incoming) {
    use hyper::body::Body as _;
    while let Some(Ok(_)) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {}
}

async fn handle(
    service: s3s::service::S3Service,
    shared: Arc<Mutex<Shared>>,
    req: http::Request<Incoming>,
) -> Result<http::Response<s3s::Body>, s3s::HttpError> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let fault = shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .decide(&method, &path, &query);
    match fault {
        None => Ok(service.call(req.map(s3s::Body::from)).await?),
        Some(Fault::Status(status)) => {
            // Read the request body first, as a real server answering an error does:
            // answering mid-upload would make the client fail with a broken pipe instead
            // of seeing the status.
            drain(req.into_body()).await;
            let code = match status {
                503 => "SlowDown",
                500 => "InternalError",
                _ => "InjectedFault",
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected fault</Message></Error>"
            );
            Ok(http::Response::builder()
                .status(status)
                .header("content-type", "application/xml")
                .body(s3s::Body::from(body))
                .map_err(|e| s3s::HttpError::new(Box::new(e)))?)
        }
        Some(Fault::Drop) => Err(injected("connection dropped")),
        Some(Fault::ApplyThenDrop) => {
            let _ = service.call(req.map(s3s::Body::from)).await;
            Err(injected("response dropped after applying"))
        }
    }
}

fn injected(what: &str) -> s3s::HttpError {
    s3s::HttpError::new(Box::new(std::io::Error::other(format!(
        "injected fault: {what}"
    ))))
}
