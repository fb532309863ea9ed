//! Fuzz target: the collector's pure decisions (layout, metadata, ids, object keys)
//! never panic and keep their invariants on any directory listing or text.
#![no_main]

use crashsift_collector::layout::{Decision, DirListing, Entry, EntryType, JournalVerdict, decide};
use crashsift_collector::meta;
use crashsift_model::crash::ArtifactKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Each line is an entry: <type char><name>; sizes and mtimes come from the bytes.
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate().take(64) {
        let mut chars = line.chars();
        let kind = match chars.next() {
            Some('f') => EntryType::File,
            Some('d') => EntryType::Dir,
            Some('l') => EntryType::Symlink,
            _ => EntryType::Other,
        };
        let name = chars.as_str();
        // A real directory never holds two entries of the same name.
        if entries.iter().any(|e: &Entry| e.name == name) {
            continue;
        }
        let b = data.get(i).copied().unwrap_or(0);
        entries.push(Entry {
            name: name.to_owned(),
            kind,
            size: u64::from(b) * 1000,
            mtime: i64::from(b) * 7 - 100,
        });
    }
    let listing = DirListing {
        rel_dir: text.lines().next().unwrap_or("").to_owned(),
        entries: entries.clone(),
        readme: text.contains("README").then(|| text.to_string()),
    };
    let now = 1000;
    match decide(&listing, now, 60, JournalVerdict::Pending) {
        Decision::Upload { artifacts, .. } => {
            assert!(!artifacts.is_empty());
            for a in &artifacts {
                let e = entries.iter().find(|e| e.name == a.name).expect("artifact is an entry");
                assert_eq!(e.kind, EntryType::File, "only regular files are uploaded");
            }
            let first_vmcore = artifacts.iter().position(|a| a.kind == ArtifactKind::Vmcore);
            if let Some(i) = first_vmcore {
                assert!(artifacts[i..].iter().all(|a| a.kind == ArtifactKind::Vmcore), "vmcores last");
            }
        }
        Decision::Wait { until, .. } => assert!(until > now),
        Decision::Ignore { .. } => {}
    }
    assert!(matches!(
        decide(&listing, now, 60, JournalVerdict::Done),
        Decision::Ignore { .. }
    ));

    if let Some(t) = meta::crashed_at_from_dir(&text) {
        assert!((0..253_402_300_800).contains(&t));
    }
    let id = meta::crash_id_for(&text, &text);
    assert!(crashsift_model::CrashId::parse(id.as_str()).is_ok());
    let (_, build_id) = meta::vmcoreinfo_fields(data);
    if let Some(b) = build_id {
        assert!(crashsift_model::BuildId::parse(&b).is_ok());
    }
    let _ = meta::kernel_release_from_log(&text);
    if crashsift_objstore::validate_key(&text).is_ok() {
        assert!(!text.starts_with('/'));
        assert!(text.split('/').all(|s| s != ".." && s != "." && !s.is_empty()));
    }
});
