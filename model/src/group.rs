//! Crash groups (one per bug) and the tickets opened for them.

use serde::{Deserialize, Serialize};

use crate::ids::Signature;
use crate::report::Kind;

/// All reports that share a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: i64,
    pub signature: Signature,
    pub title: String,
    pub kind: Kind,
    pub guilty_frame: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: i64,
    pub kernels: Vec<String>,
    pub hosts: Vec<String>,
    /// Set when an engineer merged this group into another.
    pub merged_into: Option<i64>,
}

/// The state of a group's ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Rendered only (Jira dry-run).
    DryRun,
    /// A create is in flight; its outcome is not yet known.
    Pending,
    Open,
    Resolved,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::DryRun => "dry_run",
            TicketState::Pending => "pending",
            TicketState::Open => "open",
            TicketState::Resolved => "resolved",
        }
    }

    pub fn from_str_lossy(s: &str) -> TicketState {
        match s {
            "pending" => TicketState::Pending,
            "open" => TicketState::Open,
            "resolved" => TicketState::Resolved,
            _ => TicketState::DryRun,
        }
    }
}

/// The one ticket of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub group_id: i64,
    /// The Jira key (`CRASH-123`), `None` in dry-run or before the create is confirmed.
    pub key: Option<String>,
    pub state: TicketState,
    pub summary: String,
    pub description: String,
    pub labels: Vec<String>,
    pub updated_at: i64,
}
