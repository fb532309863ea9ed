//! The event loop: dumps appearing while it runs are picked up; shutdown is prompt.

use std::time::Duration;

use crashsift_collector::run;
use crashsift_objstore::ObjectStore;

use crate::harness::*;

async fn wait_for(store: &ObjectStore, key: &str) -> bool {
    for _ in 0..200 {
        if store.exists(key).await.unwrap() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn picks_up_new_dump(poll: bool) {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    std::fs::create_dir_all(&crash).unwrap();
    rhel(&crash, 500); // present at start: found by the start-up scan
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.poll = poll;
    cfg.poll_interval = Duration::from_millis(100);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = {
        let cfg = cfg.clone();
        let store = store.clone();
        tokio::spawn(async move {
            run(&cfg, &store, async {
                let _ = rx.await;
            })
            .await
        })
    };
    assert!(
        wait_for(
            &store,
            "crashes/testhost-127.0.0.1-2026-12-04-12-00-00/manifest.json"
        )
        .await
    );
    // Written while running, nested (mkdir -p then files): found through the watcher.
    debian(&crash);
    assert!(wait_for(&store, "crashes/testhost-202612041200/manifest.json").await);
    tx.send(()).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(5), daemon)
        .await
        .expect("shutdown is prompt")
        .unwrap();
    assert!(res.is_ok(), "{res:?}");
}

// With inotify, a dump present at start and one written later are both uploaded.
#[tokio::test]
async fn run_with_inotify() {
    picks_up_new_dump(false).await;
}

// With the PollWatcher fallback, the same holds.
#[tokio::test]
async fn run_with_poll_watcher() {
    picks_up_new_dump(true).await;
}

// A dump in its quiet period is uploaded by the loop once the period ends, with no
// file event to prompt it.
#[tokio::test]
async fn quiet_period_expiry_wakes_the_loop() {
    let out = tempfile::tempdir().unwrap();
    let store = local_store(out.path()).await;
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash");
    debian_incomplete(&crash);
    let mut cfg = config(&crash, &tmp.path().join("state"));
    cfg.quiet_period = Duration::from_secs(2);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = {
        let store = store.clone();
        tokio::spawn(async move {
            run(&cfg, &store, async {
                let _ = rx.await;
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !store
            .exists("crashes/testhost-202612041300/manifest.json")
            .await
            .unwrap()
    );
    assert!(wait_for(&store, "crashes/testhost-202612041300/manifest.json").await);
    let m = manifest(&store, "testhost-202612041300").await;
    assert!(m.incomplete);
    tx.send(()).unwrap();
    daemon.await.unwrap().unwrap();
}
