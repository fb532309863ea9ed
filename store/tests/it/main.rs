//! Store tests: every test runs on SQLite and on PostgreSQL (a fresh database each).

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use crashsift_model::CrashId;
use crashsift_model::crash::{Artifact, ArtifactKind, Crash};
use crashsift_model::group::{Ticket, TicketState};
use crashsift_model::report::{Kind, Report};
use crashsift_store::testing::TestDb;
use crashsift_store::{GroupFilter, NewReport, Regroup};

fn crash(id: &str, host: &str, kernel: &str) -> Crash {
    Crash {
        id: CrashId::parse(id).unwrap(),
        host: host.into(),
        boot_id: Some("b0".into()),
        kernel_release: Some(kernel.into()),
        build_id: None,
        layout: "kdump-tools".into(),
        crashed_at: Some(1_700_000_000),
        collected_at: 1_700_000_100,
        analyzed_at: None,
        incomplete: false,
        artifacts: vec![Artifact {
            name: "dmesg.202612041200".into(),
            kind: ArtifactKind::Dmesg,
            size: 10,
            sha256: "00".repeat(32),
            key: format!("blobs/sha256/{}", "00".repeat(32)),
        }],
    }
}

fn report(sig: &str, title: &str, kernel: &str) -> Report {
    Report {
        kind: Kind::Kfence,
        sub_kind: Some("use-after-free".into()),
        title: title.into(),
        access: None,
        guilty_frame: Some("f".into()),
        signature: sig.into(),
        aliases: vec![format!("alias:{sig}")],
        corrupted: false,
        corrupted_reason: None,
        cpu: None,
        pid: None,
        comm: None,
        kernel_release: Some(kernel.into()),
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

fn new(source: &str, idx: i64, r: Report) -> NewReport {
    NewReport {
        source: source.into(),
        idx,
        report: r,
    }
}

// A crash is recorded once and queues exactly one job; re-inserting changes nothing.
#[tokio::test]
async fn crashes_are_idempotent_and_queue_one_job() {
    for db in TestDb::both().await {
        let s = &db.store;
        let c = crash("h1-1", "h1", "6.1.0");
        assert!(
            s.insert_crash(&c, "crashes/h1-1/manifest.json")
                .await
                .unwrap()
        );
        assert!(
            !s.insert_crash(&c, "crashes/h1-1/manifest.json")
                .await
                .unwrap()
        );
        assert!(s.has_crash(&c.id).await.unwrap());
        s.fill_crash_kernel(&c.id, Some("other"), Some("abcd"))
            .await
            .unwrap();
        let filled = s.crash(&c.id).await.unwrap().unwrap();
        assert_eq!(
            filled.kernel_release.as_deref(),
            Some("6.1.0"),
            "a known release is kept"
        );
        assert_eq!(
            filled.build_id.as_deref(),
            Some("abcd"),
            "a missing build id is filled"
        );
        let got = s.crash(&c.id).await.unwrap().unwrap();
        assert_eq!(got.artifacts, c.artifacts);
        let claim = s.claim_job("w1", 60).await.unwrap().unwrap();
        assert_eq!(claim.crash_id, c.id);
        assert!(s.claim_job("w2", 60).await.unwrap().is_none(), "{}", db.url);
        s.finish_job(&c.id, Ok(())).await.unwrap();
        assert!(s.crash(&c.id).await.unwrap().unwrap().analyzed_at.is_some());
        assert!(s.claim_job("w1", 60).await.unwrap().is_none());
        assert_eq!(s.requeue_all().await.unwrap(), 1);
        assert!(s.claim_job("w1", 60).await.unwrap().is_some());
    }
}

// A failed job is retried, and after the attempt limit it stays failed with its error.
#[tokio::test]
async fn failed_jobs_retry_then_stop() {
    for db in TestDb::both().await {
        let s = &db.store;
        let c = crash("h1-2", "h1", "6.1.0");
        s.insert_crash(&c, "k").await.unwrap();
        for _ in 0..crashsift_store::crashes::MAX_ATTEMPTS {
            let claim = s.claim_job("w", 60).await.unwrap().expect("claimable");
            s.finish_job(&claim.crash_id, Err("boom".into()))
                .await
                .unwrap();
        }
        assert!(s.claim_job("w", 60).await.unwrap().is_none());
        let failed = s.failed_jobs().await.unwrap();
        assert_eq!(failed, vec![(c.id.clone(), "boom".to_owned())]);
    }
}

// An expired lease makes a running job claimable by another analyzer.
#[tokio::test]
async fn expired_leases_are_reclaimed() {
    for db in TestDb::both().await {
        let s = &db.store;
        s.insert_crash(&crash("h1-3", "h1", "6.1.0"), "k")
            .await
            .unwrap();
        assert!(s.claim_job("dead", -10).await.unwrap().is_some());
        assert!(s.claim_job("alive", 60).await.unwrap().is_some());
    }
}

// Reports with one signature share a group whose count, kernels and hosts add up;
// recording the same reports again adds nothing.
#[tokio::test]
async fn reports_group_by_signature() {
    for db in TestDb::both().await {
        let s = &db.store;
        let (c1, c2) = (crash("h1-4", "h1", "6.1.0"), crash("h2-4", "h2", "6.2.0"));
        s.insert_crash(&c1, "k1").await.unwrap();
        s.insert_crash(&c2, "k2").await.unwrap();
        let a = report("v1:kfence:f", "KFENCE: use-after-free read in f", "6.1.0");
        let b = report("v1:kfence:g", "KFENCE: use-after-free read in g", "6.1.0");
        let touched = s
            .record_reports(
                &c1.id,
                "h1",
                100,
                &[new("dmesg", 0, a.clone()), new("dmesg", 1, b.clone())],
            )
            .await
            .unwrap();
        assert_eq!(touched.len(), 2);
        let mut a2 = a.clone();
        a2.kernel_release = Some("6.2.0".into());
        s.record_reports(&c2.id, "h2", 200, &[new("dmesg", 0, a2.clone())])
            .await
            .unwrap();
        assert!(
            s.record_reports(&c2.id, "h2", 200, &[new("dmesg", 0, a2)])
                .await
                .unwrap()
                .is_empty()
        );
        let groups = s.groups(&GroupFilter::default()).await.unwrap();
        assert_eq!(groups.len(), 2);
        let ga = &groups[0];
        assert_eq!(ga.signature.as_str(), "v1:kfence:f");
        assert_eq!((ga.count, ga.first_seen, ga.last_seen), (2, 100, 200));
        assert_eq!(ga.kernels, vec!["6.1.0", "6.2.0"]);
        assert_eq!(ga.hosts, vec!["h1", "h2"]);
        assert_eq!(s.group_reports(ga.id, 10).await.unwrap().len(), 2);
        assert_eq!(s.crash_reports(&c1.id).await.unwrap().len(), 2);
    }
}

// A merge moves reports and files future reports of the merged signature under the
// target; a split pins a signature to its own group again.
#[tokio::test]
async fn merges_and_splits_stick_for_new_reports() {
    for db in TestDb::both().await {
        let s = &db.store;
        let c = crash("h1-5", "h1", "6.1.0");
        s.insert_crash(&c, "k").await.unwrap();
        let a = report("v1:kfence:f", "A", "6.1.0");
        let b = report("v1:kfence:g", "B", "6.1.0");
        s.record_reports(
            &c.id,
            "h1",
            100,
            &[new("d", 0, a.clone()), new("d", 1, b.clone())],
        )
        .await
        .unwrap();
        let ga = s.group_for_signature("v1:kfence:f").await.unwrap().unwrap();
        let gb = s.group_for_signature("v1:kfence:g").await.unwrap().unwrap();
        s.merge_groups(ga.id, gb.id).await.unwrap();
        assert!(s.merge_groups(ga.id, ga.id).await.is_err());
        assert!(
            s.merge_groups(ga.id, gb.id).await.is_err(),
            "merging a merged group again is refused"
        );
        s.record_reports(&c.id, "h1", 150, &[new("d", 2, b.clone())])
            .await
            .unwrap();
        let merged = s.group(ga.id).await.unwrap().unwrap();
        assert_eq!(merged.count, 3);
        assert_eq!(
            s.group(gb.id).await.unwrap().unwrap().merged_into,
            Some(ga.id)
        );
        assert_eq!(s.groups(&GroupFilter::default()).await.unwrap().len(), 1);
        let split = s.split_signature(ga.id, "v1:kfence:g").await.unwrap();
        assert_eq!(s.group(split).await.unwrap().unwrap().count, 2);
        assert_eq!(s.group(ga.id).await.unwrap().unwrap().count, 1);
        assert!(s.split_signature(ga.id, "v1:kfence:f").await.is_err());
        s.record_reports(&c.id, "h1", 160, &[new("d", 3, b)])
            .await
            .unwrap();
        assert_eq!(s.group(split).await.unwrap().unwrap().count, 3);
    }
}

// Regrouping under new signatures keeps an engineer's merge: the merged signatures'
// reports still share one group under the new version.
#[tokio::test]
async fn regroup_translates_merges() {
    for db in TestDb::both().await {
        let s = &db.store;
        let c = crash("h1-6", "h1", "6.1.0");
        s.insert_crash(&c, "k").await.unwrap();
        s.record_reports(
            &c.id,
            "h1",
            100,
            &[
                new("d", 0, report("v1:kfence:f", "A", "6.1.0")),
                new("d", 1, report("v1:kfence:g", "B", "6.1.0")),
                new("d", 2, report("v1:kfence:h", "C", "6.1.0")),
            ],
        )
        .await
        .unwrap();
        let ga = s.group_for_signature("v1:kfence:f").await.unwrap().unwrap();
        let gb = s.group_for_signature("v1:kfence:g").await.unwrap().unwrap();
        s.merge_groups(ga.id, gb.id).await.unwrap();
        s.upsert_ticket(
            &Ticket {
                group_id: ga.id,
                key: None,
                state: TicketState::DryRun,
                summary: "A".into(),
                description: "d".into(),
                labels: vec!["crashsift".into()],
                updated_at: 1,
            },
            2,
        )
        .await
        .unwrap();
        let all = s.reports_after(0, 100).await.unwrap();
        let items: Vec<Regroup> = all
            .into_iter()
            .map(|r| {
                let mut rep = r.report;
                rep.signature = rep.signature.replace("v1:", "v2:");
                Regroup {
                    report_id: r.id,
                    report: rep,
                }
            })
            .collect();
        let summary = s.regroup(&items).await.unwrap();
        assert_eq!(summary.reports, 3);
        let groups = s.groups(&GroupFilter::default()).await.unwrap();
        let counts: Vec<(String, i64)> = groups
            .iter()
            .map(|g| (g.signature.to_string(), g.count))
            .collect();
        assert!(counts.contains(&("v2:kfence:f".into(), 2)), "{counts:?}");
        assert!(counts.contains(&("v2:kfence:h".into(), 1)), "{counts:?}");
        assert_eq!(groups.len(), 2, "{counts:?}");
        let new_a = s.group_for_signature("v2:kfence:f").await.unwrap().unwrap();
        assert!(
            s.ticket(new_a.id).await.unwrap().is_some(),
            "ticket follows its reports"
        );
        // A new v2 report of the merged signature joins the merged group.
        s.record_reports(
            &c.id,
            "h1",
            300,
            &[new("d", 9, report("v2:kfence:g", "B", "6.1.0"))],
        )
        .await
        .unwrap();
        assert_eq!(s.group(new_a.id).await.unwrap().unwrap().count, 3);
    }
}

// Tickets round-trip and are replaced in place.
#[tokio::test]
async fn tickets_upsert() {
    for db in TestDb::both().await {
        let s = &db.store;
        let c = crash("h1-7", "h1", "6.1.0");
        s.insert_crash(&c, "k").await.unwrap();
        s.record_reports(
            &c.id,
            "h1",
            1,
            &[new("d", 0, report("v1:kfence:f", "A", "6.1.0"))],
        )
        .await
        .unwrap();
        let g = s.group_for_signature("v1:kfence:f").await.unwrap().unwrap();
        let mut t = Ticket {
            group_id: g.id,
            key: None,
            state: TicketState::DryRun,
            summary: "A".into(),
            description: "first".into(),
            labels: vec!["crashsift".into()],
            updated_at: 1,
        };
        s.upsert_ticket(&t, 1).await.unwrap();
        t.description = "second".into();
        s.upsert_ticket(&t, 2).await.unwrap();
        assert!(
            s.groups_needing_tickets().await.unwrap().is_empty(),
            "rendered at its count"
        );
        let more = [
            new("d", 1, report("v1:kfence:f", "A", "6.1.0")),
            new("d", 2, report("v1:kfence:f", "A", "6.1.0")),
        ];
        s.record_reports(&c.id, "h1", 2, &more).await.unwrap();
        let due = s.groups_needing_tickets().await.unwrap();
        assert_eq!(
            due.iter().map(|g| g.id).collect::<Vec<_>>(),
            vec![g.id],
            "recurred"
        );
        let (got, count) = s.ticket(g.id).await.unwrap().unwrap();
        assert_eq!((got.description.as_str(), count), ("second", 2));
        assert_eq!(s.ticket_count().await.unwrap(), 1);
    }
}

// A bad URL names the accepted forms; an unreachable server names the address.
#[tokio::test]
async fn bad_urls_fail_clearly() {
    let err = crashsift_store::Store::connect("mysql://x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected sqlite://"), "{err}");
    let err = crashsift_store::Store::connect("postgres://nobody:pw@127.0.0.1:1/x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:1") && !err.contains("pw@"), "{err}");
}
