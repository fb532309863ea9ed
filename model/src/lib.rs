//! The crash model shared by every crashsift service.
//!
//! A host crashes; the collector uploads one [`crash::Crash`] (a dump or log bundle with its
//! [`crash::Artifact`]s, described by a [`crash::Manifest`]). The analyzer finds
//! [`report::Report`]s in its kernel log, each with [`report::Stack`]s of
//! [`report::Frame`]s, and files each report under a [`group::Group`] keyed by its
//! [`ids::Signature`]. The ticketer opens one [`group::Ticket`] per group.
//!
//! Start with [`report`]: it is what the parser produces and everything else consumes.

pub mod crash;
pub mod group;
pub mod ids;
pub mod report;

pub use ids::{BuildId, CrashId, IdError, Signature};

/// How a command that processes a batch finished, short of failing outright. The CLI
/// maps it to an exit code (0 for `Clean`, 3 for `SoftErrors`; see `crashsift::exit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every item was processed.
    Clean,
    /// Some items failed; they were logged and set aside, the rest was processed.
    SoftErrors,
}

impl Outcome {
    /// Combines two outcomes: soft errors anywhere make the whole soft.
    pub fn and(self, other: Outcome) -> Outcome {
        if self == Outcome::Clean && other == Outcome::Clean {
            Outcome::Clean
        } else {
            Outcome::SoftErrors
        }
    }
}
