//! Process-wide object-store counters, kept as atomics and read as a snapshot.
//!
//! Metrics (Prometheus names; the binary's exporter reads [`snapshot`]):
//! - `crashsift_objstore_requests_total`: requests sent to the backend;
//! - `crashsift_objstore_errors_total`: failed requests;
//! - `crashsift_objstore_retries_total`: transient failures retried by [`crate::retry`];
//! - `crashsift_objstore_uploaded_bytes_total`: bytes written (parts and whole objects);
//! - `crashsift_objstore_objects_created_total`: objects created by a conditional write;
//! - `crashsift_objstore_objects_existing_total`: conditional writes that found the object.

use std::sync::atomic::{AtomicU64, Ordering};

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);
static RETRIES: AtomicU64 = AtomicU64::new(0);
static UPLOADED_BYTES: AtomicU64 = AtomicU64::new(0);
static CREATED: AtomicU64 = AtomicU64::new(0);
static EXISTING: AtomicU64 = AtomicU64::new(0);

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub requests_total: u64,
    pub errors_total: u64,
    pub retries_total: u64,
    pub uploaded_bytes_total: u64,
    pub objects_created_total: u64,
    pub objects_existing_total: u64,
}

/// Reads every counter.
pub fn snapshot() -> Snapshot {
    Snapshot {
        requests_total: REQUESTS.load(Ordering::Relaxed),
        errors_total: ERRORS.load(Ordering::Relaxed),
        retries_total: RETRIES.load(Ordering::Relaxed),
        uploaded_bytes_total: UPLOADED_BYTES.load(Ordering::Relaxed),
        objects_created_total: CREATED.load(Ordering::Relaxed),
        objects_existing_total: EXISTING.load(Ordering::Relaxed),
    }
}

impl Snapshot {
    /// The counters as `(prometheus name, value)` pairs.
    pub fn pairs(&self) -> [(&'static str, u64); 6] {
        [
            ("crashsift_objstore_requests_total", self.requests_total),
            ("crashsift_objstore_errors_total", self.errors_total),
            ("crashsift_objstore_retries_total", self.retries_total),
            (
                "crashsift_objstore_uploaded_bytes_total",
                self.uploaded_bytes_total,
            ),
            (
                "crashsift_objstore_objects_created_total",
                self.objects_created_total,
            ),
            (
                "crashsift_objstore_objects_existing_total",
                self.objects_existing_total,
            ),
        ]
    }
}

pub(crate) fn record_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn record_error() {
    ERRORS.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn record_retry() {
    RETRIES.fetch_add(1, Ordering::Relaxed);
}
pub(crate) fn record_uploaded(bytes: u64) {
    UPLOADED_BYTES.fetch_add(bytes, Ordering::Relaxed);
}
pub(crate) fn record_put(outcome: crate::PutOutcome) {
    match outcome {
        crate::PutOutcome::Created => CREATED.fetch_add(1, Ordering::Relaxed),
        crate::PutOutcome::AlreadyExists => EXISTING.fetch_add(1, Ordering::Relaxed),
    };
}
