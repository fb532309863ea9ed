//! Exit codes, in one place: 0 ok, 1 failure, 2 usage, 3 finished with soft errors.

use crashsift_model::Outcome;
use std::process::ExitCode;

/// Everything worked.
pub const OK: u8 = 0;
/// The command failed (a bad URL, an unreachable database, an unreadable input).
pub const FAILURE: u8 = 1;
/// The command line was wrong.
pub const USAGE: u8 = 2;
/// The command finished, but some items failed and were set aside.
pub const SOFT_ERRORS: u8 = 3;

/// Maps a batch outcome to its exit code.
pub fn from_outcome(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Clean => ExitCode::from(OK),
        Outcome::SoftErrors => ExitCode::from(SOFT_ERRORS),
    }
}
