//! One-pass collection: layouts, both stores, idempotence, resumption, safety.

use crashsift_collector::collect_once;
use crashsift_model::crash::ArtifactKind;
use crashsift_objstore::testing::{Fault, FaultRule, Match, S3Server};
use crashsift_objstore::{ObjectStore, RetryPolicy};

use crate::harness::*;

/// Builds all four layouts, collects once, and checks every manifest and blob.
async fn all_layouts_into(store: &ObjectStore) {
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    let debian_dir = debian(&crash);
    rhel(&crash, 3000);
    suse(&crash);
    plain(&crash);
    write(&crash.join("kexec_cmd"), b"kexec -p ...");
    write(&crash.join("kdump_lock"), b"");
    let cfg = config(&crash, &tmp.path().join("state"));
    let summary = collect_once(&cfg, store).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let mut ids: Vec<String> = summary.uploaded.iter().map(|c| c.to_string()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "testhost-127.0.0.1-2026-12-04-12-00-00",
            "testhost-2026-12-04-12-00",
            "testhost-202612041200",
            "testhost-soak"
        ]
    );

    let m = manifest(store, "testhost-202612041200").await;
    assert_eq!(m.layout, "kdump-tools");
    assert_eq!(m.host, "testhost");
    assert_eq!(m.source_dir, "202612041200");
    assert_eq!(m.kernel_release.as_deref(), Some("6.1.0-28-amd64"));
    assert_eq!(
        m.build_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(m.crashed_at, Some(1_796_385_600));
    assert!(!m.incomplete);
    let names: Vec<&str> = m.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["dmesg.202612041200", "dump.202612041200"]);
    assert_eq!(m.artifacts[1].kind, ArtifactKind::Vmcore);
    for a in &m.artifacts {
        let blob = store.get(&a.key, 1 << 20).await.unwrap();
        assert_eq!(sha256_hex(&blob), a.sha256);
        assert_eq!(blob.len() as u64, a.size);
        assert_eq!(blob, std::fs::read(debian_dir.join(&a.name)).unwrap());
    }

    let m = manifest(store, "testhost-127.0.0.1-2026-12-04-12-00-00").await;
    assert_eq!(m.layout, "rhel");
    assert_eq!(m.kernel_release.as_deref(), Some("6.8.0-45-generic"));
    assert_eq!(m.artifacts.last().unwrap().name, "vmcore");
    assert_eq!(m.artifacts.len(), 3);

    let m = manifest(store, "testhost-2026-12-04-12-00").await;
    assert_eq!(m.layout, "suse");
    assert_eq!(m.artifacts.len(), 3);

    let m = manifest(store, "testhost-soak").await;
    assert_eq!(m.layout, "plain");
    assert!(m.artifacts.iter().any(|a| a.kind == ArtifactKind::Kfence));
    assert_eq!(m.build_id, None);

    // Sources are never deleted.
    assert!(debian_dir.join("dump.202612041200").exists());
    assert!(crash.join("kexec_cmd").exists());
    // Identical files in several crashes are one blob: 11 artifacts, 7 distinct contents
    // (the KFENCE log twice, the RHEL/SUSE/plain kernel log three times).
    let blobs = store.list("blobs/sha256/").await.unwrap();
    let manifests = store.list("crashes/").await.unwrap();
    assert_eq!(manifests.len(), 4);
    assert_eq!(blobs.len(), 7, "{blobs:?}");
}

// Every layout lands in a local object directory with correct manifests and blobs.
#[tokio::test]
async fn layouts_upload_to_local() {
    let out = tempfile::tempdir().unwrap();
    all_layouts_into(&local_store(out.path()).await).await;
}

// Every layout lands in S3 (the in-process server) with correct manifests and blobs.
#[tokio::test]
async fn layouts_upload_to_s3() {
    let s3 = S3Server::start().await.unwrap();
    all_layouts_into(&s3.object_store("crashes", "v1").await.unwrap()).await;
}

// A second pass finds everything done and sends no write at all.
#[tokio::test]
async fn second_run_uploads_nothing() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("crashes", "").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    debian(&crash);
    rhel(&crash, 6 * 1024 * 1024);
    let cfg = config(&crash, &tmp.path().join("state"));
    let first = collect_once(&cfg, &store).await.unwrap();
    assert_eq!(first.uploaded.len(), 2);
    let before = s3.requests().len();
    let second = collect_once(&cfg, &store).await.unwrap();
    assert!(second.uploaded.is_empty());
    assert!(second.failed.is_empty());
    assert_eq!(second.skipped, 3, "two done dumps and the empty top level");
    assert_eq!(
        s3.requests().len(),
        before,
        "no request at all on the second pass"
    );
}

// A fresh state directory (journal lost) re-uploads nothing new: every write is
// conditional, so the store still holds exactly one copy.
#[tokio::test]
async fn lost_journal_writes_nothing_twice() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    debian(&crash);
    let cfg = config(&crash, &tmp.path().join("state1"));
    collect_once(&cfg, &store).await.unwrap();
    let m1 = manifest(&store, "testhost-202612041200").await;
    let cfg2 = config(&crash, &tmp.path().join("state2"));
    let again = collect_once(&cfg2, &store).await.unwrap();
    assert_eq!(again.uploaded.len(), 1);
    assert_eq!(
        manifest(&store, "testhost-202612041200").await,
        m1,
        "first manifest kept"
    );
    assert_eq!(store.list("").await.unwrap().len(), 3);
}

// An upload interrupted mid-multipart resumes after a "restart" and sends only the
// missing parts; nothing is written twice.
#[tokio::test]
async fn restart_mid_multipart_resumes() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("crashes", "").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    rhel(&crash, 11 * 1024 * 1024); // three 5 MiB parts
    let state = tmp.path().join("state");
    let mut cfg = config(&crash, &state);
    cfg.retry = RetryPolicy {
        max_attempts: Some(1),
        ..RetryPolicy::fast()
    };
    // Part 2 fails: the first process "dies" there.
    s3.inject(FaultRule::new(Match::upload_part(), Fault::Status(500)).skip(1));
    let first = collect_once(&cfg, &store).await.unwrap();
    assert_eq!(first.failed.len(), 1, "{:?}", first.failed);
    assert!(first.uploaded.is_empty());
    let journal =
        std::fs::read_to_string(state.join("journal/testhost-127.0.0.1-2026-12-04-12-00-00.json"))
            .unwrap();
    assert!(journal.contains("upload_id"), "{journal}");
    assert!(
        !store
            .exists("crashes/testhost-127.0.0.1-2026-12-04-12-00-00/manifest.json")
            .await
            .unwrap()
    );
    // The small artifacts went first and are already there.
    assert_eq!(store.list("blobs/").await.unwrap().len(), 2);

    // "Restart": a new store client, the same state directory.
    let store2 = s3.object_store("crashes", "").await.unwrap();
    let second = collect_once(&cfg, &store2).await.unwrap();
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    assert_eq!(second.uploaded.len(), 1);
    assert_eq!(
        s3.count(&Match::upload_part()),
        4,
        "1 ok + 1 failed + parts 2 and 3"
    );
    assert_eq!(s3.count(&Match::complete_multipart()), 1);
    let m = manifest(&store2, "testhost-127.0.0.1-2026-12-04-12-00-00").await;
    let vm = m.artifacts.iter().find(|a| a.name == "vmcore").unwrap();
    let back = tmp.path().join("back");
    store2.get_to_file(&vm.key, &back).await.unwrap();
    assert_eq!(sha256_hex(&std::fs::read(&back).unwrap()), vm.sha256);
}

// With the default retry-forever policy, an S3 outage of a few requests only delays
// the upload.
#[tokio::test]
async fn outage_is_retried_until_it_passes() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("crashes", "").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    debian(&crash);
    s3.inject(FaultRule::new(Match::any(), Fault::Status(503)).times(5));
    s3.inject(
        FaultRule::new(Match::put_object(), Fault::Drop)
            .skip(1)
            .times(1),
    );
    let cfg = config(&crash, &tmp.path().join("state"));
    let summary = collect_once(&cfg, &store).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.uploaded.len(), 1);
    let faults = s3.requests().iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(faults, 6);
    assert_eq!(
        manifest(&store, "testhost-202612041200")
            .await
            .artifacts
            .len(),
        2
    );
}

// Symlinks out of the crash directory (to /etc/shadow, to a secret file, a symlinked
// directory) are refused and their targets never uploaded.
#[tokio::test]
async fn symlink_escape_refused() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    let secret = tmp.path().join("secret.txt");
    write(&secret, b"TOP SECRET dmesg-looking text\n");
    let evil = crash.join("evil");
    write(&evil.join("dmesg-real.txt"), PLAIN_DMESG.as_bytes());
    std::os::unix::fs::symlink("/etc/shadow", evil.join("vmcore")).unwrap();
    std::os::unix::fs::symlink(&secret, evil.join("dmesg-secret.txt")).unwrap();
    std::os::unix::fs::symlink("/etc", crash.join("linked-dir")).unwrap();
    let only_links = crash.join("only-links");
    std::fs::create_dir_all(&only_links).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", only_links.join("vmcore")).unwrap();
    let cfg = config(&crash, &tmp.path().join("state"));
    let summary = collect_once(&cfg, &store).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let refused: Vec<String> = summary
        .refused
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(refused.contains(&"vmcore".to_owned()), "{refused:?}");
    assert!(
        refused.contains(&"dmesg-secret.txt".to_owned()),
        "{refused:?}"
    );
    assert!(refused.contains(&"linked-dir".to_owned()), "{refused:?}");
    assert_eq!(summary.uploaded.len(), 1);
    let m = manifest(&store, "testhost-evil").await;
    let names: Vec<&str> = m.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["dmesg-real.txt"]);
    let secret_key = format!(
        "blobs/sha256/{}",
        sha256_hex(&std::fs::read(&secret).unwrap())
    );
    assert!(!store.exists(&secret_key).await.unwrap());
    if let Ok(shadow) = std::fs::read("/etc/shadow") {
        let shadow_key = format!("blobs/sha256/{}", sha256_hex(&shadow));
        assert!(!store.exists(&shadow_key).await.unwrap());
    }
    assert_eq!(store.list("blobs/").await.unwrap().len(), 1);
}

// A dump left `-incomplete` waits out its quiet period, then is uploaded flagged
// incomplete.
#[tokio::test]
async fn incomplete_waits_then_uploads_flagged() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    debian_incomplete(&crash);
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.quiet_period = std::time::Duration::from_secs(3600);
    let summary = collect_once(&cfg, &store).await.unwrap();
    assert!(summary.uploaded.is_empty());
    assert_eq!(summary.waiting.len(), 1);
    assert!(summary.next_deadline().unwrap() > 0);
    assert!(store.list("").await.unwrap().is_empty());

    cfg.quiet_period = std::time::Duration::ZERO;
    let summary = collect_once(&cfg, &store).await.unwrap();
    assert_eq!(summary.uploaded.len(), 1);
    let m = manifest(&store, "testhost-202612041300").await;
    assert!(m.incomplete);
    assert_eq!(m.artifacts.last().unwrap().name, "dump-incomplete");
}

// A KFENCE report in an uploaded log writes the marker file.
#[tokio::test]
async fn kfence_marker_written() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    let marker = tmp.path().join("kfence_fail");
    rhel(&crash, 100);
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.kfence_marker = Some(marker.clone());
    collect_once(&cfg, &store).await.unwrap();
    assert!(!marker.exists(), "no KFENCE in the RHEL fixture");
    debian(&crash);
    collect_once(&cfg, &store).await.unwrap();
    assert!(marker.exists());
}

// A missing crash directory is a clear error naming it.
#[tokio::test]
async fn missing_crash_dir_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&tmp.path().join("nope"), &tmp.path().join("state"));
    let err = collect_once(&cfg, &store).await.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

// pstore records (flat ramoops and systemd's archive) become crashes of Pstore
// artifacts, once: a second pass and a copy of the same records add nothing.
#[tokio::test]
async fn pstore_records_collected_once() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    std::fs::create_dir_all(&crash).unwrap();
    let sys = tmp.path().join("sys-pstore");
    write(
        &sys.join("dmesg-ramoops-0"),
        b"Oops#1 Part1\n<4>[  1.0] BUG: kernel NULL pointer dereference\n",
    );
    write(&sys.join("console-ramoops-0"), b"console noise");
    let archive = tmp.path().join("systemd-pstore");
    // systemd-pstore moved the same record into its archive: same content, same crash.
    write(
        &archive.join("dmesg-ramoops-0"),
        b"Oops#1 Part1\n<4>[  1.0] BUG: kernel NULL pointer dereference\n",
    );
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.pstore_dirs = vec![sys.clone(), archive, tmp.path().join("not-mounted")];
    let first = collect_once(&cfg, &store).await.unwrap();
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(first.uploaded.len(), 1);
    assert_eq!(
        first.skipped, 2,
        "the empty crash dir and the archived copy"
    );
    let id = first.uploaded[0].to_string();
    assert!(id.starts_with("testhost-pstore-"), "{id}");
    let m = manifest(&store, &id).await;
    assert_eq!(m.layout, "pstore");
    assert_eq!(m.artifacts.len(), 1);
    assert_eq!(m.artifacts[0].kind, ArtifactKind::Pstore);
    assert!(
        sys.join("dmesg-ramoops-0").exists(),
        "records are never deleted"
    );
    let second = collect_once(&cfg, &store).await.unwrap();
    assert!(second.uploaded.is_empty());
}

// A vmcore that grows while its parts are going up is not published under its old hash:
// the blob is taken back, and the next pass uploads the final content.
#[tokio::test]
async fn file_changed_during_upload_is_redone() {
    let s3 = std::sync::Arc::new(S3Server::start().await.unwrap());
    let store = s3.object_store("crashes", "").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    let dir = rhel(&crash, 6 * 1024 * 1024);
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.retry = RetryPolicy {
        initial: std::time::Duration::from_millis(1500),
        max: std::time::Duration::from_millis(1500),
        max_attempts: None,
    };
    s3.inject(FaultRule::new(Match::upload_part(), Fault::Status(500)));
    let vmcore = dir.join("vmcore");
    // The append happens once the first part has failed, inside the retry delay.
    let watch = s3.clone();
    let writer = tokio::spawn(async move {
        while !watch.requests().iter().any(|r| r.fault.is_some()) {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&vmcore)
            .unwrap();
        f.write_all(b"late bytes").unwrap();
    });
    let first = collect_once(&cfg, &store).await.unwrap();
    writer.await.unwrap();
    assert_eq!(first.failed.len(), 1, "{:?}", first.failed);
    assert!(
        first.failed[0].1.to_string().contains("changed while"),
        "{}",
        first.failed[0].1
    );
    let second = collect_once(&cfg, &store).await.unwrap();
    assert_eq!(second.uploaded.len(), 1, "{:?}", second.failed);
    let m = manifest(&store, "testhost-127.0.0.1-2026-12-04-12-00-00").await;
    let vm = m.artifacts.iter().find(|a| a.name == "vmcore").unwrap();
    assert_eq!(vm.size, 6 * 1024 * 1024 + 10);
    assert_eq!(
        vm.sha256,
        sha256_hex(&std::fs::read(dir.join("vmcore")).unwrap())
    );
    // Only the final blob and the two small logs remain.
    assert_eq!(store.list("blobs/").await.unwrap().len(), 3);
}
