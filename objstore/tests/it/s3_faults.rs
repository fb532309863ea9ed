//! S3-only behaviour under injected faults: retries, resumption, lost responses.

use crashsift_objstore::testing::{Fault, FaultRule, Match, S3Server};
use crashsift_objstore::{MultipartUpload, PutOutcome, RetryPolicy, retry};

use crate::suite::pattern_file;

fn once() -> RetryPolicy {
    RetryPolicy {
        max_attempts: Some(1),
        ..RetryPolicy::fast()
    }
}

// A 500 and a dropped connection are Transient, and the retry helper gets through them.
#[tokio::test]
async fn transient_errors_are_retried() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("bkt", "").await.unwrap();
    s3.inject(FaultRule::new(Match::put_object(), Fault::Status(500)));
    let err = store.put_if_absent("k1", b"v").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    s3.inject(FaultRule::new(Match::put_object(), Fault::Drop));
    let err = store.put_if_absent("k1", b"v").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    s3.inject(FaultRule::new(Match::put_object(), Fault::Status(503)).times(3));
    let out = retry(&RetryPolicy::fast(), "put", || {
        store.put_if_absent("k2", b"v")
    })
    .await
    .unwrap();
    assert_eq!(out, PutOutcome::Created);
    let hits = s3
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/k2"))
        .count();
    assert_eq!(hits, 4, "three faults then success");
    assert_eq!(store.get("k2", 10).await.unwrap(), b"v");
}

// A put whose response is lost is retried, finds the object, and nothing is written twice.
#[tokio::test]
async fn lost_put_response() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("bkt", "p").await.unwrap();
    s3.inject(FaultRule::new(Match::put_object(), Fault::ApplyThenDrop));
    let out = retry(&RetryPolicy::fast(), "put", || {
        store.put_if_absent("k", b"v")
    })
    .await
    .unwrap();
    assert_eq!(out, PutOutcome::AlreadyExists);
    assert_eq!(store.get("k", 10).await.unwrap(), b"v");
}

// An upload interrupted after part 1 resumes from the saved state and sends only parts 2
// and 3 again.
#[tokio::test]
async fn multipart_resumes_from_state() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("bkt", "p").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("vmcore");
    let sha = pattern_file(&src, 11 * 1024 * 1024);
    s3.inject(FaultRule::new(Match::upload_part(), Fault::Status(500)).skip(1));
    let mut saved: Option<MultipartUpload> = None;
    let mut state = None;
    let err = store
        .put_file_resumable("blobs/v", &src, &sha, &once(), &mut state, &mut |s| {
            saved = s.cloned();
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let journal = saved.clone().expect("state was saved");
    assert_eq!(journal.parts.len(), 1);
    assert_eq!(s3.count(&Match::upload_part()), 2);

    // A "restarted" process: a new store, state read back from the journal as JSON.
    let store2 = s3.object_store("bkt", "p").await.unwrap();
    let json = serde_json::to_string(&journal).unwrap();
    let mut state = Some(serde_json::from_str::<MultipartUpload>(&json).unwrap());
    let out = store2
        .put_file_resumable("blobs/v", &src, &sha, &once(), &mut state, &mut |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(out, PutOutcome::Created);
    assert_eq!(s3.count(&Match::upload_part()), 4, "parts 2 and 3 only");
    let back = tmp.path().join("back");
    store2.get_to_file("blobs/v", &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
}

// A Complete whose response is lost is retried; the server's refusal of the replay is
// resolved by looking at the object, which is there.
#[tokio::test]
async fn lost_complete_response() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("bkt", "p").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("vmcore");
    let sha = pattern_file(&src, 6 * 1024 * 1024);
    s3.inject(FaultRule::new(
        Match::complete_multipart(),
        Fault::ApplyThenDrop,
    ));
    let mut state = None;
    let out = store
        .put_file_resumable(
            "blobs/c",
            &src,
            &sha,
            &RetryPolicy::fast(),
            &mut state,
            &mut |_| Ok(()),
        )
        .await
        .unwrap();
    assert_eq!(out, PutOutcome::AlreadyExists);
    assert_eq!(
        store.head("blobs/c").await.unwrap().unwrap().size,
        6 * 1024 * 1024
    );
}

// A stale upload id (aborted on the server) makes the upload start over, not fail.
#[tokio::test]
async fn aborted_upload_restarts() {
    let s3 = S3Server::start().await.unwrap();
    let store = s3.object_store("bkt", "p").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("vmcore");
    let sha = pattern_file(&src, 11 * 1024 * 1024);
    s3.inject(FaultRule::new(Match::upload_part(), Fault::Status(500)).skip(1));
    let mut state = None;
    let _ = store
        .put_file_resumable("blobs/a", &src, &sha, &once(), &mut state, &mut |_| Ok(()))
        .await
        .unwrap_err();
    let st = state.clone().unwrap();
    store.abort_multipart(&st).await.unwrap();
    let out = store
        .put_file_resumable("blobs/a", &src, &sha, &once(), &mut state, &mut |_| Ok(()))
        .await;
    match out {
        Ok(PutOutcome::Created) => {
            let back = tmp.path().join("back");
            store.get_to_file("blobs/a", &back).await.unwrap();
            assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
        }
        other => panic!("expected a restarted upload, got {other:?}"),
    }
}
