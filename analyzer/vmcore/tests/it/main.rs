//! Integration tests of the vmcore reader: committed synthetic fixtures of every format,
//! the real dumps of the rig where it exists, and the research note's independent
//! generator (synth_vmcore.py) where python3 and ../shared exist.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod builder;
mod fixtures;
mod rig;
