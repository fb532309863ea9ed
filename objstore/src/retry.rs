//! Retrying transient failures with capped exponential backoff and jitter.
//!
//! The collector retries forever (`max_attempts: None`): an outage delays an upload, it
//! never drops one. Only [`Error::Transient`] is retried; every other error is returned
//! at once.
//!
//! Metrics: `crashsift_objstore_retries_total` (see [`crate::metrics`]).

use std::future::Future;
use std::time::Duration;

use crate::Error;

/// How to retry: delays double from `initial` up to `max`, with up to 25% jitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    /// `None` retries forever.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    /// Forever, from 1 s up to 5 minutes between attempts.
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            max_attempts: None,
        }
    }
}

impl RetryPolicy {
    /// A fast policy for tests: a few milliseconds between attempts, forever.
    pub fn fast() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(50),
            max_attempts: None,
        }
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 1), without jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(30);
        let factor = 1u32 << shift;
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay with jitter in `[base, base * 1.25]`, from a cheap clock-derived value.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.base_delay(attempt);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let quarter = base / 4;
        let jitter = quarter.mul_f64(f64::from(nanos % 1000) / 1000.0);
        base + jitter
    }
}

/// Runs `op` until it succeeds, fails with a non-transient error, or the policy's attempts
/// run out (then the last transient error is returned). `what` names the operation in logs.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, what: &str, mut op: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() => {
                if policy.max_attempts.is_some_and(|max| attempt >= max) {
                    return Err(e);
                }
                let delay = policy.delay(attempt);
                crate::metrics::record_retry();
                tracing::warn!(what, attempt, delay_ms = delay.as_millis() as u64, error = %e, "transient object-store failure, retrying");
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    // Delays double and are capped at the maximum.
    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
            max_attempts: None,
        };
        assert_eq!(p.base_delay(1), Duration::from_millis(100));
        assert_eq!(p.base_delay(2), Duration::from_millis(200));
        assert_eq!(p.base_delay(3), Duration::from_millis(400));
        assert_eq!(p.base_delay(4), Duration::from_millis(500));
        assert_eq!(p.base_delay(100), Duration::from_millis(500));
        let d = p.delay(2);
        assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(250));
    }

    // Transient errors are retried until success; other errors return at once.
    #[tokio::test]
    async fn retries_only_transient() {
        let calls = AtomicU32::new(0);
        let out = retry(&RetryPolicy::fast(), "test", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 3 {
                Err(Error::Transient {
                    key: "k".into(),
                    reason: "boom".into(),
                })
            } else {
                Ok(n)
            }
        })
        .await
        .unwrap();
        assert_eq!(out, 3);

        let calls = AtomicU32::new(0);
        let err = retry(&RetryPolicy::fast(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(Error::Rejected {
                key: "k".into(),
                reason: "no".into(),
            })
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Rejected { .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    // A bounded policy gives up after its attempts and returns the transient error.
    #[tokio::test]
    async fn bounded_policy_gives_up() {
        let p = RetryPolicy {
            max_attempts: Some(2),
            ..RetryPolicy::fast()
        };
        let calls = AtomicU32::new(0);
        let err = retry(&p, "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(Error::Transient {
                key: "k".into(),
                reason: "down".into(),
            })
        })
        .await
        .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
