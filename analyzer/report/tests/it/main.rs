//! Integration tests of crashsift-report: the fixture corpus with snapshots, invariance
//! of signatures under transforms, and the rig's real console log.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod corpus;
mod demo;
mod invariance;
mod quality;
mod rig;
mod support;
