//! Shared helpers: fixture paths and the compact snapshot summary of a parse.

use crashsift_model::report::Report;
use serde_json::{Value, json};
use std::path::PathBuf;

/// `fixtures/reports/` of the workspace.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reports")
}

/// Every `*.txt` fixture, sorted.
pub fn fixture_logs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/reports exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

/// Reads a fixture lossily, as the CLI does.
pub fn read_lossy(p: &PathBuf) -> String {
    String::from_utf8_lossy(&std::fs::read(p).expect("fixture readable")).into_owned()
}

/// The compact summary kept in `<name>.expected.json`.
pub fn summary(reports: &[Report]) -> Value {
    Value::Array(
        reports
            .iter()
            .map(|r| {
                json!({
                    "kind": r.kind.as_str(),
                    "sub_kind": r.sub_kind,
                    "title": r.title,
                    "guilty_frame": r.guilty_frame,
                    "signature": r.signature,
                    "aliases": r.aliases,
                    "corrupted": r.corrupted,
                    "corrupted_reason": r.corrupted_reason,
                    "access": r.access,
                    "lines": [r.start_line, r.end_line],
                    "context": {
                        "cpu": r.cpu, "pid": r.pid, "comm": r.comm,
                        "kernel_release": r.kernel_release, "taint": r.taint,
                        "rip": r.rip.as_ref().and_then(|f| f.function.clone()),
                        "kaslr_offset": r.kaslr_offset,
                    },
                    "stacks": r.stacks.iter().map(|s| json!({
                        "name": s.name,
                        "frames": s.frames.iter().map(|f| {
                            let name = f.function.clone().unwrap_or_else(|| format!("{:#x}", f.address.unwrap_or(0)));
                            // `(pc)`: an exact address (the faulting pc), not a return address
                            let name = if f.exact { format!("{name} (pc)") } else { name };
                            if f.reliable { name } else { format!("? {name}") }
                        }).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
