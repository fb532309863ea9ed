//! The one ticket per group: what the ticketer rendered or opened, and when.

use crashsift_model::group::{Ticket, TicketState};
use sqlx::Row;

use crate::{Result, Store, StoreError};

impl Store {
    /// Inserts or replaces a group's ticket, remembering the group count it was rendered at.
    pub async fn upsert_ticket(&self, ticket: &Ticket, rendered_count: i64) -> Result<()> {
        let labels = serde_json::to_string(&ticket.labels).map_err(|e| {
            StoreError::Corrupt(format!("labels of group {}: {e}", ticket.group_id))
        })?;
        sqlx::query(
            "INSERT INTO tickets (group_id, jira_key, state, summary, description, labels, rendered_count, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (group_id) DO UPDATE SET jira_key = excluded.jira_key, state = excluded.state, \
             summary = excluded.summary, description = excluded.description, labels = excluded.labels, \
             rendered_count = excluded.rendered_count, updated_at = excluded.updated_at",
        )
        .bind(ticket.group_id)
        .bind(ticket.key.as_deref())
        .bind(ticket.state.as_str())
        .bind(&ticket.summary)
        .bind(&ticket.description)
        .bind(labels)
        .bind(rendered_count)
        .bind(ticket.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A group's ticket and the group count it was last rendered at.
    pub async fn ticket(&self, group_id: i64) -> Result<Option<(Ticket, i64)>> {
        let row = sqlx::query(
            "SELECT group_id, jira_key, state, summary, description, labels, rendered_count, updated_at \
             FROM tickets WHERE group_id = $1",
        )
        .bind(group_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let labels: String = r.try_get("labels")?;
        let ticket = Ticket {
            group_id: r.try_get("group_id")?,
            key: r.try_get("jira_key")?,
            state: TicketState::from_str_lossy(&r.try_get::<String, _>("state")?),
            summary: r.try_get("summary")?,
            description: r.try_get("description")?,
            labels: serde_json::from_str(&labels)
                .map_err(|e| StoreError::Corrupt(format!("labels of group {group_id}: {e}")))?,
            updated_at: r.try_get("updated_at")?,
        };
        Ok(Some((ticket, r.try_get("rendered_count")?)))
    }

    /// How many tickets exist, for summaries and tests.
    pub async fn ticket_count(&self) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM tickets")
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get("n")?)
    }
}
