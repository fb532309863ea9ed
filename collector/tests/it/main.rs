//! Collector integration tests: dump layouts built in temp dirs, uploaded to a local
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
//! directory and to the in-process S3 server.

mod collect;
mod daemon;
mod harness;
