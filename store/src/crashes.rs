//! Crashes as the collector uploaded them, and the analysis job queue over them.
//!
//! A job is claimed with a lease (`locked_until`): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so many analyzers share the queue without waiting on each
//! other; on SQLite the single writer makes the same `UPDATE ... WHERE crash_id = (SELECT
//! ...)` atomic. A lease that runs out (the analyzer died) makes the job claimable again.

use crashsift_model::CrashId;
use crashsift_model::crash::{Artifact, Crash};
use sqlx::Row;

use crate::{Backend, Result, Store, StoreError, now};

/// A claimed job: analyze this crash before the lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaim {
    pub crash_id: CrashId,
    pub attempts: i64,
}

/// Job states as stored.
pub mod state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
}

/// After this many failed attempts a job stays failed until reprocessed.
pub const MAX_ATTEMPTS: i64 = 5;

impl Store {
    /// Records a crash and queues its analysis. Returns false (and changes nothing) when
    /// the crash is already known, so re-reading a manifest is harmless.
    pub async fn insert_crash(&self, crash: &Crash, manifest_key: &str) -> Result<bool> {
        let artifacts = serde_json::to_string(&crash.artifacts)
            .map_err(|e| StoreError::Corrupt(format!("artifacts of {}: {e}", crash.id)))?;
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO crashes (id, host, boot_id, kernel_release, build_id, layout, \
             crashed_at, collected_at, incomplete, artifacts, manifest_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(crash.id.as_str())
        .bind(&crash.host)
        .bind(crash.boot_id.as_deref())
        .bind(crash.kernel_release.as_deref())
        .bind(crash.build_id.as_deref())
        .bind(&crash.layout)
        .bind(crash.crashed_at)
        .bind(crash.collected_at)
        .bind(i64::from(crash.incomplete))
        .bind(artifacts)
        .bind(manifest_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            sqlx::query(
                "INSERT INTO jobs (crash_id, state, attempts, updated_at) VALUES ($1, $2, 0, $3) \
                 ON CONFLICT (crash_id) DO NOTHING",
            )
            .bind(crash.id.as_str())
            .bind(state::QUEUED)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// True when the crash is already recorded.
    pub async fn has_crash(&self, id: &CrashId) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM crashes WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// One crash by id.
    pub async fn crash(&self, id: &CrashId) -> Result<Option<Crash>> {
        let row = sqlx::query(&format!("{CRASH_COLUMNS} WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| crash_from_row(&r)).transpose()
    }

    /// The most recent crashes, newest first.
    pub async fn list_crashes(&self, limit: i64) -> Result<Vec<Crash>> {
        let rows = sqlx::query(&format!(
            "{CRASH_COLUMNS} ORDER BY collected_at DESC, id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(crash_from_row).collect()
    }

    /// The crashes whose reports fall in a group, newest first.
    pub async fn group_crashes(&self, group_id: i64, limit: i64) -> Result<Vec<Crash>> {
        let rows = sqlx::query(&format!(
            "{CRASH_COLUMNS} WHERE id IN (SELECT crash_id FROM reports WHERE group_id = $1) \
             ORDER BY collected_at DESC, id LIMIT $2"
        ))
        .bind(group_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(crash_from_row).collect()
    }

    /// Fills in a crash's kernel release and build id where the manifest had none (the
    /// analyzer learns them from the vmcore's VMCOREINFO). Known values are kept.
    pub async fn fill_crash_kernel(
        &self,
        id: &CrashId,
        release: Option<&str>,
        build_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE crashes SET kernel_release = COALESCE(kernel_release, $1), \
             build_id = COALESCE(build_id, $2) WHERE id = $3",
        )
        .bind(release)
        .bind(build_id)
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Claims the oldest claimable job for `worker` for `lease_secs` seconds.
    pub async fn claim_job(&self, worker: &str, lease_secs: i64) -> Result<Option<JobClaim>> {
        let now = now();
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = $1, locked_by = $2, locked_until = $3, \
             attempts = attempts + 1, updated_at = $4 \
             WHERE crash_id = (SELECT crash_id FROM jobs \
               WHERE (state = $5 OR (state = $1 AND locked_until < $4)) AND attempts < $6 \
               ORDER BY updated_at, crash_id LIMIT 1{lock}) \
             RETURNING crash_id, attempts"
        );
        let row = sqlx::query(&sql)
            .bind(state::RUNNING)
            .bind(worker)
            .bind(now + lease_secs)
            .bind(now)
            .bind(state::QUEUED)
            .bind(MAX_ATTEMPTS)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            let id: String = r.try_get("crash_id")?;
            Ok(JobClaim {
                crash_id: CrashId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Marks a claimed job done (and the crash analyzed), or records its error: a failed
    /// job is retried until [`MAX_ATTEMPTS`].
    pub async fn finish_job(&self, id: &CrashId, outcome: Result<(), String>) -> Result<()> {
        let now = now();
        let mut tx = self.pool().begin().await?;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE jobs SET state = $1, locked_by = NULL, locked_until = NULL, \
                     last_error = NULL, updated_at = $2 WHERE crash_id = $3",
                )
                .bind(state::DONE)
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE crashes SET analyzed_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            Err(error) => {
                sqlx::query(
                    "UPDATE jobs SET state = CASE WHEN attempts >= $1 THEN $2 ELSE $3 END, \
                     locked_by = NULL, locked_until = NULL, last_error = $4, updated_at = $5 \
                     WHERE crash_id = $6",
                )
                .bind(MAX_ATTEMPTS)
                .bind(state::FAILED)
                .bind(state::QUEUED)
                .bind(error)
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Puts every crash back in the queue (for `crashsift reprocess`). Returns how many.
    pub async fn requeue_all(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, attempts = 0, locked_by = NULL, locked_until = NULL, \
             last_error = NULL, updated_at = $2",
        )
        .bind(state::QUEUED)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Counts jobs by state, for `crashsift` status output and metrics.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }

    /// The failed jobs with their last error.
    pub async fn failed_jobs(&self) -> Result<Vec<(CrashId, String)>> {
        let rows =
            sqlx::query("SELECT crash_id, last_error FROM jobs WHERE state = $1 ORDER BY crash_id")
                .bind(state::FAILED)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("crash_id")?;
                let err: Option<String> = r.try_get("last_error")?;
                Ok((
                    CrashId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    err.unwrap_or_default(),
                ))
            })
            .collect()
    }
}

const CRASH_COLUMNS: &str = "SELECT id, host, boot_id, kernel_release, build_id, layout, \
    crashed_at, collected_at, analyzed_at, incomplete, artifacts FROM crashes";

fn crash_from_row(r: &sqlx::any::AnyRow) -> Result<Crash> {
    let id: String = r.try_get("id")?;
    let artifacts: String = r.try_get("artifacts")?;
    let artifacts: Vec<Artifact> = serde_json::from_str(&artifacts)
        .map_err(|e| StoreError::Corrupt(format!("artifacts of crash {id}: {e}")))?;
    Ok(Crash {
        id: CrashId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        host: r.try_get("host")?,
        boot_id: r.try_get("boot_id")?,
        kernel_release: r.try_get("kernel_release")?,
        build_id: r.try_get("build_id")?,
        layout: r.try_get("layout")?,
        crashed_at: r.try_get("crashed_at")?,
        collected_at: r.try_get("collected_at")?,
        analyzed_at: r.try_get("analyzed_at")?,
        incomplete: r.try_get::<i64, _>("incomplete")? != 0,
        artifacts,
    })
}
