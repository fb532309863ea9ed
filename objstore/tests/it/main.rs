//! Object-store tests: one suite run against a local directory and the in-process S3.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod s3_faults;
mod suite;
