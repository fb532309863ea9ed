//! Integration tests of crashsift-symbolize: fixtures built from C (`fixtures/dwarf`),
//! bad files, debug-file lookup and sources (debuginfod over a local HTTP server), the CLI,
//! and the real Debian kernel where the rig exists.

mod bad_input;
mod cli;
mod fixtures;
mod harness;
mod rig;
mod sources;
