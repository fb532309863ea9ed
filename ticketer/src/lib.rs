//! The ticketer: one issue per crash group, never two.
//!
//! The database is the source of truth: a group's ticket row says what was rendered or
//! opened, and at which group count. This crate renders an issue from a group
//! ([`render`]) and, in dry-run mode (the embedded default), stores the rendered issue
//! and logs it instead of calling Jira ([`run_once`]).
//!
//! Metrics: `crashsift_ticketer_rendered_total` (counter, via the log line's fields).

pub mod render;

use crashsift_model::group::{Ticket, TicketState};
use crashsift_store::{Store, StoreError};

pub use render::{RenderOptions, Rendered, render};

/// What went wrong ticketing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the ticketer runs.
#[derive(Debug, Clone, Default)]
pub struct TicketerConfig {
    pub render: RenderOptions,
}

/// What one pass did, group by group.
#[derive(Debug, Clone, Default)]
pub struct TicketSummary {
    /// Groups that got their first (dry-run) issue.
    pub created: Vec<Rendered>,
    /// Groups whose issue was re-rendered because they recurred.
    pub updated: Vec<Rendered>,
}

/// One pass over the live groups: each group without a ticket gets one rendered and
/// stored in dry-run state; a group that recurred since its ticket was rendered gets the
/// ticket re-rendered (what a summarizing comment would say). Idempotent: a second pass
/// with nothing new does nothing.
pub async fn run_once(store: &Store, cfg: &TicketerConfig) -> Result<TicketSummary, Error> {
    let mut summary = TicketSummary::default();
    for group in store.groups_needing_tickets().await? {
        let existing = store.ticket(group.id).await?;
        let reports = store.group_reports(group.id, 20).await?;
        let crashes = store.group_crashes(group.id, 20).await?;
        let rendered = render(&group, &reports, &crashes, &cfg.render);
        let ticket = Ticket {
            group_id: group.id,
            key: existing.as_ref().and_then(|(t, _)| t.key.clone()),
            state: existing
                .as_ref()
                .map(|(t, _)| t.state)
                .unwrap_or(TicketState::DryRun),
            summary: rendered.summary.clone(),
            description: rendered.description.clone(),
            labels: rendered.labels.clone(),
            updated_at: crashsift_store::now(),
        };
        store.upsert_ticket(&ticket, group.count).await?;
        if existing.is_some() {
            tracing::info!(group_id = group.id, count = group.count, summary = %rendered.summary, "dry-run: would comment on issue");
            summary.updated.push(rendered);
        } else {
            tracing::info!(group_id = group.id, count = group.count, summary = %rendered.summary, "dry-run: would open issue");
            summary.created.push(rendered);
        }
    }
    Ok(summary)
}
