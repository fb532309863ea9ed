//! Data-driven corpus test: every `fixtures/reports/<name>.txt` parses to the summary in
//! `<name>.expected.json`. Set `CRASHSIFT_UPDATE_SNAPSHOTS=1` to rewrite the snapshots
//! (then review the diff by hand: the guilty frame must be the one a human would blame).

use crate::support::{fixture_logs, read_lossy, summary};

// Each fixture log parses exactly to its reviewed snapshot.
#[test]
fn corpus_matches_snapshots() {
    let update = std::env::var("CRASHSIFT_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let logs = fixture_logs();
    assert!(
        logs.len() >= 90,
        "fixture corpus is missing files: {}",
        logs.len()
    );
    let mut failures = Vec::new();
    for log in &logs {
        let got = summary(&crashsift_report::parse(&read_lossy(log)));
        let want_path = log.with_extension("expected.json");
        let got_text = serde_json::to_string_pretty(&got).expect("json") + "\n";
        if update {
            std::fs::write(&want_path, &got_text).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&want_path) {
            Ok(want) if want == got_text => {}
            Ok(_) => failures.push(format!("{}: parse differs from snapshot", log.display())),
            Err(e) => failures.push(format!("{}: no snapshot ({e})", want_path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// Every signature in the corpus is a valid versioned signature that round-trips.
#[test]
fn corpus_signatures_are_valid() {
    for log in fixture_logs() {
        for r in crashsift_report::parse(&read_lossy(&log)) {
            let s = crashsift_model::Signature::parse(&r.signature)
                .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
            assert_eq!(s.version(), crashsift_report::SIGNATURE_VERSION);
            assert_eq!(crashsift_report::signature(&r), s);
        }
    }
}

// The kernel-docs README names the function a human would blame; we agree on each.
#[test]
fn kernel_docs_guilty_frames() {
    let readme = std::fs::read_to_string(crate::support::fixtures_dir().join("docs-README.md"))
        .expect("fixtures/reports/docs-README.md (a copy of the kernel-docs corpus README)");
    let mut checked = 0;
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".txt"))
    {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (file, want) = (cols[1], cols[5]);
        if want == "unclear" {
            continue;
        }
        let path = crate::support::fixtures_dir().join(format!("docs-{file}"));
        let reports = crashsift_report::parse(&read_lossy(&path));
        let wants: Vec<&str> = want.split(" / ").collect();
        if file == "lockdep-splat-2.txt" || file == "bug-hunting-3.txt" {
            // fragments without a header line: no report is the right answer
            assert!(reports.is_empty(), "{file}");
            continue;
        }
        if file == "lockdep-splat-1.txt" {
            // the header half alone: a report, flagged corrupted (its stack is in part 2)
            assert!(reports.len() == 1 && reports[0].corrupted, "{file}");
            let joined = crate::support::fixtures_dir().join("variant-lockdep-splat-joined.txt");
            let r = crashsift_report::parse(&read_lossy(&joined));
            assert_eq!(r[0].guilty_frame.as_deref(), Some(wants[0]), "joined splat");
            checked += 1;
            continue;
        }
        let got = reports.first().and_then(|r| r.guilty_frame.clone());
        assert!(
            got.as_deref().is_some_and(|g| wants.contains(&g)),
            "{file}: guilty {got:?}, README says {want}"
        );
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} README rows checked");
}
