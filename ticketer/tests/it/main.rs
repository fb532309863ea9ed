//! The dry-run ticketer against a real store (SQLite and PostgreSQL): one ticket per
//! group, nothing on a pass with nothing new, a re-render when a group recurs.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use crashsift_model::CrashId;
use crashsift_model::crash::Crash;
use crashsift_model::report::{Kind, Report};
use crashsift_store::NewReport;
use crashsift_store::testing::TestDb;
use crashsift_ticketer::{TicketerConfig, run_once};

fn report(sig: &str, title: &str) -> Report {
    Report {
        kind: Kind::Warning,
        sub_kind: None,
        title: title.into(),
        access: None,
        guilty_frame: Some("f".into()),
        signature: sig.into(),
        aliases: vec![],
        corrupted: false,
        corrupted_reason: None,
        cpu: None,
        pid: None,
        comm: None,
        kernel_release: Some("6.1.0".into()),
        taint: None,
        hardware: None,
        rip: None,
        stacks: vec![],
        kaslr_offset: None,
        start_line: 0,
        end_line: 1,
        text: title.into(),
    }
}

// Each group gets one dry-run ticket; a pass with nothing new renders nothing; a
// recurrence re-renders its group's ticket, never a second one.
#[tokio::test]
async fn one_ticket_per_group_and_rerender_on_recurrence() {
    for db in TestDb::both().await {
        let s = &db.store;
        let crash = Crash {
            id: CrashId::parse("h-1").unwrap(),
            host: "h".into(),
            boot_id: None,
            kernel_release: Some("6.1.0".into()),
            build_id: None,
            layout: "plain".into(),
            crashed_at: Some(10),
            collected_at: 20,
            analyzed_at: None,
            incomplete: false,
            artifacts: vec![],
        };
        s.insert_crash(&crash, "k").await.unwrap();
        let new = |idx, sig, title| NewReport {
            source: "d".into(),
            idx,
            report: report(sig, title),
        };
        s.record_reports(
            &crash.id,
            "h",
            10,
            &[
                new(0, "v1:warning:f", "WARNING in f"),
                new(1, "v1:warning:g", "WARNING in g"),
            ],
        )
        .await
        .unwrap();
        let cfg = TicketerConfig::default();
        let first = run_once(s, &cfg).await.unwrap();
        assert_eq!(first.created.len(), 2, "{}", db.url);
        assert!(first.updated.is_empty());
        assert!(
            first
                .created
                .iter()
                .all(|r| r.summary.starts_with("[crashsift] WARNING in "))
        );
        let second = run_once(s, &cfg).await.unwrap();
        assert!(second.created.is_empty() && second.updated.is_empty());
        s.record_reports(
            &crash.id,
            "h",
            11,
            &[new(2, "v1:warning:f", "WARNING in f")],
        )
        .await
        .unwrap();
        let third = run_once(s, &cfg).await.unwrap();
        assert!(third.created.is_empty());
        assert_eq!(third.updated.len(), 1);
        assert!(
            third.updated[0].description.contains("Seen 2 time(s)"),
            "{}",
            third.updated[0].description
        );
        assert_eq!(s.ticket_count().await.unwrap(), 2);
    }
}
