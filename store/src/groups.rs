//! Reports filed under groups: one group per group key, normally the report's signature,
//! unless an engineer's rule (a merge or a split, table `signature_rules`) files the
//! signature elsewhere. Regrouping after a signature version change translates those
//! rules to the new signatures, so merges and splits stick.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crashsift_model::group::Group;
use crashsift_model::report::{Kind, Report};
use crashsift_model::{CrashId, Signature};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Result, Store, StoreError, now};

/// One report to file, from one source (artifact) of a crash.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// The artifact the report was read from (`vmcore`, `dmesg.202612041200`, ...).
    pub source: String,
    /// Position of the report within its source.
    pub idx: i64,
    pub report: Report,
}

/// A report as stored, with its group.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub id: i64,
    pub crash_id: CrashId,
    pub source: String,
    pub idx: i64,
    pub group_id: Option<i64>,
    pub host: String,
    pub kernel: Option<String>,
    pub seen_at: i64,
    pub report: Report,
}

/// Which groups to list.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub kind: Option<String>,
    pub limit: Option<i64>,
}

/// The new signature of one stored report, computed by the analyzer's current rules.
#[derive(Debug, Clone)]
pub struct Regroup {
    pub report_id: i64,
    pub report: Report,
}

impl Store {
    /// Files a crash's reports under their groups, in one transaction. A report already
    /// stored (same crash, source and index) is left alone, so analyzing a crash twice
    /// adds nothing. Returns the ids of the groups that gained a report.
    pub async fn record_reports(
        &self,
        crash_id: &CrashId,
        host: &str,
        seen_at: i64,
        reports: &[NewReport],
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool().begin().await?;
        let mut touched = BTreeSet::new();
        for new in reports {
            let r = &new.report;
            let key = resolve_key(&mut tx, &r.signature).await?;
            let group_id = ensure_group(&mut tx, &key, r, seen_at).await?;
            let body = serde_json::to_string(r)
                .map_err(|e| StoreError::Corrupt(format!("report of {crash_id}: {e}")))?;
            let inserted = sqlx::query(
                "INSERT INTO reports (crash_id, source, idx, kind, title, signature, group_id, \
                 guilty_frame, corrupted, host, kernel, seen_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (crash_id, source, idx) DO NOTHING",
            )
            .bind(crash_id.as_str())
            .bind(&new.source)
            .bind(new.idx)
            .bind(r.kind.as_str())
            .bind(&r.title)
            .bind(&r.signature)
            .bind(group_id)
            .bind(r.guilty_frame.as_deref())
            .bind(i64::from(r.corrupted))
            .bind(host)
            .bind(r.kernel_release.as_deref())
            .bind(seen_at)
            .bind(body)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !inserted {
                continue;
            }
            sqlx::query(
                "UPDATE crash_groups SET count = count + 1, \
                 first_seen = CASE WHEN $1 < first_seen THEN $1 ELSE first_seen END, \
                 last_seen = CASE WHEN $1 > last_seen THEN $1 ELSE last_seen END \
                 WHERE id = $2",
            )
            .bind(seen_at)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
            add_group_facts(&mut tx, group_id, host, r).await?;
            touched.insert(group_id);
        }
        tx.commit().await?;
        Ok(touched.into_iter().collect())
    }

    /// Live groups (not merged away, with at least one report), most recent first.
    pub async fn groups(&self, filter: &GroupFilter) -> Result<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "{GROUP_COLUMNS} WHERE merged_into IS NULL AND count > 0 \
             AND ($1 = '' OR kind = $1) ORDER BY last_seen DESC, id LIMIT $2"
        ))
        .bind(filter.kind.clone().unwrap_or_default())
        .bind(filter.limit.unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        self.groups_from_rows(&rows).await
    }

    /// Live groups whose ticket is missing or was rendered at a lower count than the
    /// group has now: the ticketer's work list, found in one query.
    pub async fn groups_needing_tickets(&self) -> Result<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "{GROUP_COLUMNS} WHERE merged_into IS NULL AND count > 0 AND NOT EXISTS \
             (SELECT 1 FROM tickets t WHERE t.group_id = crash_groups.id \
              AND t.rendered_count >= crash_groups.count) ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        self.groups_from_rows(&rows).await
    }

    /// How many live groups there are.
    pub async fn group_count(&self) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM crash_groups WHERE merged_into IS NULL AND count > 0",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get("n")?)
    }

    /// One group by id (merged groups included: they say where they went).
    pub async fn group(&self, id: i64) -> Result<Option<Group>> {
        let row = sqlx::query(&format!("{GROUP_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.group_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// The group a signature files under, if it has one yet.
    pub async fn group_for_signature(&self, signature: &str) -> Result<Option<Group>> {
        let mut tx = self.pool().begin().await?;
        let key = resolve_key(&mut tx, signature).await?;
        tx.commit().await?;
        let row = sqlx::query(&format!("{GROUP_COLUMNS} WHERE group_key = $1"))
            .bind(&key)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.group_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// The reports of a group, newest first.
    pub async fn group_reports(&self, group_id: i64, limit: i64) -> Result<Vec<StoredReport>> {
        let rows = sqlx::query(&format!(
            "{REPORT_COLUMNS} WHERE group_id = $1 ORDER BY seen_at DESC, id DESC LIMIT $2"
        ))
        .bind(group_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// The reports of one crash, in order.
    pub async fn crash_reports(&self, crash_id: &CrashId) -> Result<Vec<StoredReport>> {
        let rows = sqlx::query(&format!(
            "{REPORT_COLUMNS} WHERE crash_id = $1 ORDER BY source, idx"
        ))
        .bind(crash_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// Every stored report, in id order, `batch` at a time starting after `after_id`.
    pub async fn reports_after(&self, after_id: i64, batch: i64) -> Result<Vec<StoredReport>> {
        let rows = sqlx::query(&format!(
            "{REPORT_COLUMNS} WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(batch)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// Replaces the stored body of a report (after resymbolization); its group is kept.
    pub async fn update_report_body(&self, report_id: i64, report: &Report) -> Result<()> {
        let body = serde_json::to_string(report)
            .map_err(|e| StoreError::Corrupt(format!("report {report_id}: {e}")))?;
        sqlx::query("UPDATE reports SET body = $1 WHERE id = $2")
            .bind(body)
            .bind(report_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The groups sharing an alias with this one (merge suggestions).
    pub async fn similar_groups(&self, group_id: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT b.group_id AS gid, b.alias AS alias FROM aliases a \
             JOIN aliases b ON a.alias = b.alias AND b.group_id <> a.group_id \
             JOIN crash_groups g ON g.id = b.group_id AND g.merged_into IS NULL \
             WHERE a.group_id = $1 ORDER BY gid",
        )
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("gid")?, r.try_get("alias")?)))
            .collect()
    }

    /// Merges group `from` into group `into`: its reports move, every signature it held
    /// is filed under `into` from now on (a rule that survives regrouping), and `from`
    /// records where it went.
    pub async fn merge_groups(&self, into: i64, from: i64) -> Result<()> {
        if into == from {
            return Err(StoreError::Invalid(format!(
                "cannot merge group {into} into itself"
            )));
        }
        let mut tx = self.pool().begin().await?;
        let into_key = live_group_key(&mut tx, into).await?;
        let from_key = live_group_key(&mut tx, from).await?;
        let now = now();
        // Earlier merges into `from` now point at `into`.
        sqlx::query("UPDATE signature_rules SET group_key = $1 WHERE group_key = $2")
            .bind(&into_key)
            .bind(&from_key)
            .execute(&mut *tx)
            .await?;
        let sigs: Vec<String> =
            sqlx::query("SELECT DISTINCT signature FROM reports WHERE group_id = $1")
                .bind(from)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("signature"))
                .collect::<Result<_, _>>()?;
        let sigs: BTreeSet<String> = sigs.into_iter().chain([from_key.clone()]).collect();
        for sig in &sigs {
            set_rule(&mut tx, sig, &into_key, "merge", now).await?;
        }
        sqlx::query("UPDATE reports SET group_id = $1 WHERE group_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO aliases (alias, group_id) SELECT alias, $1 FROM aliases WHERE group_id = $2 \
             ON CONFLICT (alias, group_id) DO NOTHING",
        )
        .bind(into)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE crash_groups SET merged_into = $1 WHERE id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        recompute_group(&mut tx, into).await?;
        recompute_group(&mut tx, from).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Splits the reports with `signature` out of group `group_id` into a group of their
    /// own, and pins that signature there (a rule that survives regrouping). Returns the
    /// new group's id.
    pub async fn split_signature(&self, group_id: i64, signature: &str) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        let key = live_group_key(&mut tx, group_id).await?;
        if key == signature {
            return Err(StoreError::Invalid(format!(
                "{signature} is the key of group {group_id}; split the other signatures out of it instead"
            )));
        }
        let sample = sqlx::query(&format!(
            "{REPORT_COLUMNS} WHERE group_id = $1 AND signature = $2 ORDER BY id LIMIT 1"
        ))
        .bind(group_id)
        .bind(signature)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(sample) = sample else {
            return Err(StoreError::Invalid(format!(
                "group {group_id} holds no report with signature {signature}"
            )));
        };
        let sample = report_from_row(&sample)?;
        set_rule(&mut tx, signature, signature, "split", now()).await?;
        let new_id = ensure_group(&mut tx, signature, &sample.report, sample.seen_at).await?;
        sqlx::query("UPDATE crash_groups SET merged_into = NULL WHERE id = $1")
            .bind(new_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reports SET group_id = $1 WHERE group_id = $2 AND signature = $3")
            .bind(new_id)
            .bind(group_id)
            .bind(signature)
            .execute(&mut *tx)
            .await?;
        recompute_group(&mut tx, group_id).await?;
        recompute_group(&mut tx, new_id).await?;
        tx.commit().await?;
        Ok(new_id)
    }

    /// Files every listed report under its new signature, in one transaction. Engineer
    /// rules are first translated: a rule on an old signature applies to the new
    /// signatures of the reports that had it, and points at the new key of the group it
    /// pointed at. Groups left empty keep their row (and ticket) with a count of zero; a
    /// ticket follows the majority of its group's reports when the new group has none.
    pub async fn regroup(&self, items: &[Regroup]) -> Result<RegroupSummary> {
        let mut tx = self.pool().begin().await?;
        // Old state of the reports being regrouped.
        let mut old: HashMap<i64, (String, Option<i64>)> = HashMap::new();
        for chunk in items.chunks(500) {
            for item in chunk {
                let row = sqlx::query("SELECT signature, group_id FROM reports WHERE id = $1")
                    .bind(item.report_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = row {
                    old.insert(
                        item.report_id,
                        (row.try_get("signature")?, row.try_get("group_id")?),
                    );
                }
            }
        }
        // old signature -> new signatures (counted), old group key -> new signatures.
        let mut sig_map: HashMap<String, BTreeMap<String, usize>> = HashMap::new();
        for item in items {
            if let Some((old_sig, _)) = old.get(&item.report_id) {
                *sig_map
                    .entry(old_sig.clone())
                    .or_default()
                    .entry(item.report.signature.clone())
                    .or_default() += 1;
            }
        }
        let majority = |m: &BTreeMap<String, usize>| -> Option<String> {
            m.iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(s, _)| s.clone())
        };
        // Translate the rules.
        let rules: Vec<(String, String, String)> =
            sqlx::query("SELECT signature, group_key, origin FROM signature_rules")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get("signature")?,
                        r.try_get("group_key")?,
                        r.try_get("origin")?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?;
        let now = now();
        let mut rules_translated = 0;
        for (sig, key, origin) in &rules {
            let Some(new_sigs) = sig_map.get(sig) else {
                continue;
            };
            let new_key = sig_map
                .get(key)
                .and_then(majority)
                .unwrap_or_else(|| key.clone());
            for new_sig in new_sigs.keys() {
                let target = if origin == "split" && sig == key {
                    new_sig.clone()
                } else {
                    new_key.clone()
                };
                if new_sig != sig || &target != key {
                    set_rule(&mut tx, new_sig, &target, origin, now).await?;
                    rules_translated += 1;
                }
            }
        }
        // Refile the reports.
        let mut touched: BTreeSet<i64> = BTreeSet::new();
        let mut moves: HashMap<i64, BTreeMap<i64, usize>> = HashMap::new();
        let mut changed = 0;
        for item in items {
            let r = &item.report;
            let key = resolve_key(&mut tx, &r.signature).await?;
            let seen_at: i64 = sqlx::query("SELECT seen_at FROM reports WHERE id = $1")
                .bind(item.report_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("seen_at")?;
            let gid = ensure_group(&mut tx, &key, r, seen_at).await?;
            let body = serde_json::to_string(r)
                .map_err(|e| StoreError::Corrupt(format!("report {}: {e}", item.report_id)))?;
            sqlx::query(
                "UPDATE reports SET signature = $1, group_id = $2, kind = $3, title = $4, \
                 guilty_frame = $5, corrupted = $6, body = $7 WHERE id = $8",
            )
            .bind(&r.signature)
            .bind(gid)
            .bind(r.kind.as_str())
            .bind(&r.title)
            .bind(r.guilty_frame.as_deref())
            .bind(i64::from(r.corrupted))
            .bind(body)
            .bind(item.report_id)
            .execute(&mut *tx)
            .await?;
            add_aliases(&mut tx, gid, &r.aliases).await?;
            touched.insert(gid);
            if let Some((old_sig, old_gid)) = old.get(&item.report_id) {
                if old_sig != &r.signature || *old_gid != Some(gid) {
                    changed += 1;
                }
                if let Some(og) = old_gid {
                    touched.insert(*og);
                    *moves.entry(*og).or_default().entry(gid).or_default() += 1;
                }
            }
        }
        // Tickets follow the majority of their group's reports.
        for (og, dests) in &moves {
            let Some((&dest, _)) = dests.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            else {
                continue;
            };
            if dest == *og {
                continue;
            }
            let dest_has: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE group_id = $1")
                    .bind(dest)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            let still: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reports WHERE group_id = $1")
                .bind(*og)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if dest_has == 0 && still == 0 {
                sqlx::query("UPDATE tickets SET group_id = $1 WHERE group_id = $2")
                    .bind(dest)
                    .bind(*og)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for gid in &touched {
            recompute_group(&mut tx, *gid).await?;
        }
        tx.commit().await?;
        Ok(RegroupSummary {
            reports: items.len(),
            changed,
            rules_translated,
        })
    }

    async fn groups_from_rows(&self, rows: &[AnyRow]) -> Result<Vec<Group>> {
        let mut groups = Vec::with_capacity(rows.len());
        for row in rows {
            groups.push(self.group_from_row(row).await?);
        }
        Ok(groups)
    }

    async fn group_from_row(&self, r: &AnyRow) -> Result<Group> {
        let id: i64 = r.try_get("id")?;
        let key: String = r.try_get("group_key")?;
        let kernels =
            sqlx::query("SELECT kernel FROM group_kernels WHERE group_id = $1 ORDER BY kernel")
                .bind(id)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get("kernel"))
                .collect::<Result<_, _>>()?;
        let hosts = sqlx::query("SELECT host FROM group_hosts WHERE group_id = $1 ORDER BY host")
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get("host"))
            .collect::<Result<_, _>>()?;
        Ok(Group {
            id,
            signature: Signature::parse(&key)
                .map_err(|e| StoreError::Corrupt(format!("group {id}: {e}")))?,
            title: r.try_get("title")?,
            kind: Kind::from_str_lossy(&r.try_get::<String, _>("kind")?),
            guilty_frame: r.try_get("guilty_frame")?,
            first_seen: r.try_get("first_seen")?,
            last_seen: r.try_get("last_seen")?,
            count: r.try_get("count")?,
            kernels,
            hosts,
            merged_into: r.try_get("merged_into")?,
        })
    }
}

/// What a regroup changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegroupSummary {
    pub reports: usize,
    pub changed: usize,
    pub rules_translated: usize,
}

const GROUP_COLUMNS: &str = "SELECT id, group_key, title, kind, guilty_frame, first_seen, \
    last_seen, count, merged_into FROM crash_groups";

const REPORT_COLUMNS: &str = "SELECT id, crash_id, source, idx, group_id, host, kernel, \
    seen_at, body FROM reports";

fn report_from_row(r: &AnyRow) -> Result<StoredReport> {
    let id: i64 = r.try_get("id")?;
    let crash_id: String = r.try_get("crash_id")?;
    let body: String = r.try_get("body")?;
    Ok(StoredReport {
        id,
        crash_id: CrashId::parse(&crash_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        source: r.try_get("source")?,
        idx: r.try_get("idx")?,
        group_id: r.try_get("group_id")?,
        host: r.try_get("host")?,
        kernel: r.try_get("kernel")?,
        seen_at: r.try_get("seen_at")?,
        report: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("report {id}: {e}")))?,
    })
}

/// The group key a signature files under: an engineer's rule, else the signature.
async fn resolve_key(tx: &mut Transaction<'_, Any>, signature: &str) -> Result<String> {
    let row = sqlx::query("SELECT group_key FROM signature_rules WHERE signature = $1")
        .bind(signature)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("group_key")?,
        None => signature.to_owned(),
    })
}

async fn set_rule(
    tx: &mut Transaction<'_, Any>,
    signature: &str,
    key: &str,
    origin: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO signature_rules (signature, group_key, origin, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (signature) DO UPDATE SET group_key = excluded.group_key, origin = excluded.origin",
    )
    .bind(signature)
    .bind(key)
    .bind(origin)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The id of the group with `key`, created from `report` when missing.
async fn ensure_group(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    report: &Report,
    seen_at: i64,
) -> Result<i64> {
    Signature::parse(key).map_err(|e| StoreError::Invalid(format!("report signature: {e}")))?;
    sqlx::query(
        "INSERT INTO crash_groups (group_key, title, kind, guilty_frame, first_seen, last_seen, count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5, 0, $6) ON CONFLICT (group_key) DO NOTHING",
    )
    .bind(key)
    .bind(&report.title)
    .bind(report.kind.as_str())
    .bind(report.guilty_frame.as_deref())
    .bind(seen_at)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT id FROM crash_groups WHERE group_key = $1")
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("id")?)
}

async fn live_group_key(tx: &mut Transaction<'_, Any>, id: i64) -> Result<String> {
    let row = sqlx::query("SELECT group_key, merged_into FROM crash_groups WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Err(StoreError::Invalid(format!("no group {id}")));
    };
    if let Some(into) = row.try_get::<Option<i64>, _>("merged_into")? {
        return Err(StoreError::Invalid(format!(
            "group {id} was merged into group {into}"
        )));
    }
    Ok(row.try_get("group_key")?)
}

async fn add_group_facts(
    tx: &mut Transaction<'_, Any>,
    group_id: i64,
    host: &str,
    r: &Report,
) -> Result<()> {
    if let Some(kernel) = &r.kernel_release {
        sqlx::query(
            "INSERT INTO group_kernels (group_id, kernel) VALUES ($1, $2) ON CONFLICT (group_id, kernel) DO NOTHING",
        )
        .bind(group_id)
        .bind(kernel)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO group_hosts (group_id, host) VALUES ($1, $2) ON CONFLICT (group_id, host) DO NOTHING",
    )
    .bind(group_id)
    .bind(host)
    .execute(&mut **tx)
    .await?;
    add_aliases(tx, group_id, &r.aliases).await
}

/// Records a report's alias keys on its group (merge suggestions).
async fn add_aliases(
    tx: &mut Transaction<'_, Any>,
    group_id: i64,
    aliases: &[String],
) -> Result<()> {
    for alias in aliases {
        sqlx::query(
            "INSERT INTO aliases (alias, group_id) VALUES ($1, $2) ON CONFLICT (alias, group_id) DO NOTHING",
        )
        .bind(alias)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Recomputes a group's count, times, kernels and hosts from its reports.
async fn recompute_group(tx: &mut Transaction<'_, Any>, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE crash_groups SET \
         count = (SELECT COUNT(*) FROM reports r WHERE r.group_id = $1), \
         first_seen = COALESCE((SELECT MIN(seen_at) FROM reports r WHERE r.group_id = $1), first_seen), \
         last_seen = COALESCE((SELECT MAX(seen_at) FROM reports r WHERE r.group_id = $1), last_seen) \
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    for (table, column, source) in [
        ("group_kernels", "kernel", "kernel"),
        ("group_hosts", "host", "host"),
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE group_id = $1"))
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO {table} (group_id, {column}) SELECT DISTINCT group_id, {source} FROM reports \
             WHERE group_id = $1 AND {source} IS NOT NULL"
        ))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
