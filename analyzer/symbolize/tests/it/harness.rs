//! Paths of the committed fixtures and of the rig, and small helpers.

use crashsift_model::report::Frame;
use crashsift_symbolize::frame::parse_frame_line;
use std::path::PathBuf;

/// `fixtures/dwarf/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/dwarf")
        .join(name)
}

/// The rig directory, or `None` after saying loudly that it is missing.
pub fn rig() -> Option<PathBuf> {
    let dir =
        PathBuf::from(std::env::var("CRASHSIFT_RIG_DIR").unwrap_or_else(|_| "/work/rig".into()));
    if dir
        .join("dbg/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64")
        .is_file()
    {
        Some(dir)
    } else {
        eprintln!(
            "RIG MISSING: {} has no Debian vmlinux; run ../shared/rig/make-vmcore.sh DIR and set CRASHSIFT_RIG_DIR",
            dir.display()
        );
        None
    }
}

/// Parses one printed frame, panicking (test only) when it is not one.
pub fn frame(line: &str, exact: bool) -> Frame {
    parse_frame_line(line, exact)
        .unwrap_or_else(|| panic!("not a frame: {line}"))
        .frame
}

/// Reads a JSON Lines file.
pub fn jsonl(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}
