//! End-to-end tests of the `crashsift` binary: the whole pipeline over the fixtures on
//! embedded defaults and on PostgreSQL with an in-process S3 server, bad input, and the
//! config file.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Output;

use crashsift_objstore::testing::{ACCESS_KEY, S3Server, SECRET_KEY};
use crashsift_store::GroupFilter;
use crashsift_store::testing::TestDb;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/var/crash")
}

/// Runs the binary with `args` and extra environment, waiting without blocking the
/// runtime (an in-process S3 server may be serving it).
async fn crashsift(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_crashsift"));
    cmd.args(args)
        .env_remove("CRASHSIFT_DB")
        .env_remove("CRASHSIFT_OBJECTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("spawn crashsift")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The titles every run over the fixtures must find, one group each.
const EXPECTED_TITLES: &[&str] = &[
    "KFENCE: use-after-free read in test_use_after_free_read",
    "KASAN: slab-out-of-bounds Write in kmalloc_oob_right",
    "sysrq_handle_crash",
];

/// One crash per dump directory of the fixtures.
fn fixture_dump_dirs() -> usize {
    std::fs::read_dir(fixtures())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

fn group_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with('#')).collect()
}

// `run --once` over the fixtures stores crashes, reports and groups in SQLite, writes the
// artifacts and manifests under the local object directory, prints one line per group,
// and a second run adds nothing.
#[tokio::test]
async fn run_once_on_embedded_defaults_is_idempotent() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let crash_dir = fixtures();
    let debug_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/debug");
    let args = [
        "-q",
        "run",
        "--once",
        "--crash-dir",
        crash_dir.to_str().unwrap(),
        "--debug-dir",
        debug_dir.to_str().unwrap(),
        "--data-dir",
        data_dir,
        "--host",
        "testhost",
    ];
    let first = crashsift(&args, &[]).await;
    assert!(first.status.success(), "stderr: {}", stderr(&first));
    let out = stdout(&first);
    let lines = group_lines(&out);
    for title in EXPECTED_TITLES {
        assert_eq!(
            lines.iter().filter(|l| l.contains(title)).count(),
            1,
            "{title} in:\n{out}"
        );
    }
    assert!(
        lines.iter().all(|l| l.contains("[hosts: testhost]")),
        "{out}"
    );
    // The demo kernel's debug files are under fixtures/debug: its groups show file:line.
    for (title, at) in [
        (
            "KFENCE: use-after-free read in demo_uaf_read",
            "drivers/demo/demo_core.c:52",
        ),
        (
            "NULL pointer dereference in demo_queue_pop",
            "drivers/demo/demo_queue.c:25",
        ),
        (
            "WARNING in demo_mod_submit",
            "drivers/demo/mod/demo_mod.c:22",
        ),
    ] {
        assert!(
            lines.iter().any(|l| l.contains(title) && l.contains(at)),
            "{title} at {at} in:\n{out}"
        );
    }

    // Artifacts and manifests are in the local object directory.
    let objects = data.path().join("objects");
    let crashes: Vec<_> = std::fs::read_dir(objects.join("crashes"))
        .unwrap()
        .collect();
    assert_eq!(
        crashes.len(),
        fixture_dump_dirs(),
        "one manifest per fixture dump dir: {crashes:?}"
    );
    for c in crashes {
        assert!(c.unwrap().path().join("manifest.json").is_file());
    }
    assert!(
        std::fs::read_dir(objects.join("blobs/sha256"))
            .unwrap()
            .count()
            >= fixture_dump_dirs()
    );

    // The store holds them.
    let store = crashsift_store::Store::connect(&format!("sqlite://{data_dir}/crashsift.db"))
        .await
        .unwrap();
    let groups = store.groups(&GroupFilter::default()).await.unwrap();
    assert_eq!(groups.len(), lines.len());
    let total: i64 = groups.iter().map(|g| g.count).sum();
    assert_eq!(
        store.ticket_count().await.unwrap(),
        groups.len() as i64,
        "one dry-run ticket per group"
    );

    // Run twice: nothing new.
    let second = crashsift(&args, &[]).await;
    assert!(second.status.success(), "stderr: {}", stderr(&second));
    assert_eq!(stdout(&second), out);
    let again = store.groups(&GroupFilter::default()).await.unwrap();
    assert_eq!(again.iter().map(|g| g.count).sum::<i64>(), total);
    assert_eq!(
        store.list_crashes(100).await.unwrap().len(),
        fixture_dump_dirs()
    );
}

// The same pipeline on PostgreSQL and the in-process S3 server (real HTTP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_on_postgres_and_s3() {
    let db = TestDb::postgres().await;
    let s3 = S3Server::start().await.unwrap();
    s3.create_bucket("crashes").unwrap();
    let data = tempfile::tempdir().unwrap();
    let crash_dir = fixtures();
    let objects_url = "s3://crashes/site-a";
    let endpoint = s3.endpoint_url();
    let args = [
        "-q",
        "run",
        "--once",
        "--crash-dir",
        crash_dir.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "--host",
        "pghost",
        "--db",
        &db.url,
        "--objects",
        objects_url,
        "--s3-endpoint",
        &endpoint,
        "--s3-region",
        "us-east-1",
        "--s3-path-style",
    ];
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let first = crashsift(&args, &env).await;
    assert!(first.status.success(), "stderr: {}", stderr(&first));
    let out = stdout(&first);
    for title in EXPECTED_TITLES {
        assert!(out.contains(title), "{title} in:\n{out}");
    }
    let groups = db.store.groups(&GroupFilter::default()).await.unwrap();
    assert_eq!(groups.len(), group_lines(&out).len());
    let store = s3.object_store("crashes", "site-a").await.unwrap();
    let keys = store.list("crashes/").await.unwrap();
    assert_eq!(
        keys.iter()
            .filter(|k| k.ends_with("/manifest.json"))
            .count(),
        fixture_dump_dirs(),
        "{keys:?}"
    );
    let total: i64 = groups.iter().map(|g| g.count).sum();

    let second = crashsift(&args, &env).await;
    assert!(second.status.success(), "stderr: {}", stderr(&second));
    let again = db.store.groups(&GroupFilter::default()).await.unwrap();
    assert_eq!(
        again.iter().map(|g| g.count).sum::<i64>(),
        total,
        "second run adds nothing"
    );
}

// A crash directory that does not exist, a bad database URL and a bad object-store URL
// each fail with exit code 1 and a message naming what and why.
#[tokio::test]
async fn bad_input_fails_clearly() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let o = crashsift(
        &[
            "run",
            "--once",
            "--crash-dir",
            "/nonexistent/crash",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/crash") && stderr(&o).contains("No such file"),
        "{}",
        stderr(&o)
    );

    let fx = fixtures();
    let fx = fx.to_str().unwrap();
    let o = crashsift(
        &[
            "run",
            "--once",
            "--crash-dir",
            fx,
            "--data-dir",
            d,
            "--db",
            "mysql://x/y",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected sqlite://"), "{}", stderr(&o));

    let o = crashsift(
        &[
            "run",
            "--once",
            "--crash-dir",
            fx,
            "--data-dir",
            d,
            "--objects",
            "ftp://x/y",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ftp://x/y"), "{}", stderr(&o));

    let o = crashsift(&["parse", "/nonexistent/log.txt"], &[]).await;
    assert_eq!(
        o.status.code(),
        Some(3),
        "an unreadable file is a soft error"
    );
    assert!(
        stderr(&o).contains("/nonexistent/log.txt"),
        "{}",
        stderr(&o)
    );

    let not_a_vmcore = data.path().join("garbage.vmcore");
    std::fs::write(&not_a_vmcore, b"this is not a dump at all").unwrap();
    let o = crashsift(&["dmesg", not_a_vmcore.to_str().unwrap()], &[]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("garbage.vmcore"), "{}", stderr(&o));

    let o = crashsift(&["run", "--bogus-flag"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "usage errors exit 2");
}

// The config file fills options left at their defaults; an environment variable beats
// the file; a secret in the file is refused.
#[tokio::test]
async fn config_file_then_environment_then_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let file_db = tmp.path().join("from-file.db");
    let env_db = tmp.path().join("from-env.db");
    let config = tmp.path().join("crashsift.toml");
    std::fs::write(
        &config,
        format!(
            "db = \"sqlite://{}\"\ndata-dir = \"{}\"\n",
            file_db.display(),
            tmp.path().join("data").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let o = crashsift(&["--config", cfg, "groups", "list"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(file_db.is_file(), "the file's db was used");
    assert_eq!(stdout(&o).trim(), "no crash groups");

    let env_url = format!("sqlite://{}", env_db.display());
    let o = crashsift(
        &["--config", cfg, "groups", "list"],
        &[("CRASHSIFT_DB", &env_url)],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(env_db.is_file(), "the environment beats the file");

    std::fs::write(&config, "jira-token = \"hunter2\"\n").unwrap();
    let o = crashsift(&["--config", cfg, "groups", "list"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("secret") && !stderr(&o).contains("hunter2"),
        "{}",
        stderr(&o)
    );
}

/// `GET path` on a local address, the body on success.
async fn http_get(addr: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    buf.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

// `run` as a daemon collects, analyzes and tickets the fixtures, exports its counters on
// /metrics, answers /healthz, and stops cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_serves_metrics_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let crash_dir = fixtures();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crashsift"))
        .args([
            "-q",
            "run",
            "--crash-dir",
            crash_dir.to_str().unwrap(),
            "--data-dir",
            data.path().to_str().unwrap(),
            "--metrics-addr",
            &addr,
            "--poll-interval",
            "1",
        ])
        .env_remove("CRASHSIFT_DB")
        .env_remove("CRASHSIFT_OBJECTS")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let want = fixture_dump_dirs();
    let mut metrics = String::new();
    for _ in 0..150 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if let Some(body) = http_get(&addr, "/metrics").await {
            metrics = body;
            let analyzed = metrics
                .lines()
                .find_map(|l| l.strip_prefix("crashsift_analyzer_crashes_total "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if analyzed >= want {
                break;
            }
        }
    }
    assert!(
        metrics.contains(&format!("crashsift_analyzer_crashes_total {want}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("crashsift_analyzer_jobs{state=\"done\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("crashsift_objstore_objects_created_total"),
        "{metrics}"
    );
    assert_eq!(http_get(&addr, "/healthz").await.as_deref(), Some("ok\n"));
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("crashsift stops within 30 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// `groups list --json` as parsed JSON objects.
async fn groups_json(data_dir: &str) -> Vec<serde_json::Value> {
    let o = crashsift(&["groups", "list", "--json", "--data-dir", data_dir], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn group_id(groups: &[serde_json::Value], guilty: &str) -> i64 {
    groups
        .iter()
        .find(|g| g["guilty_frame"] == guilty)
        .and_then(|g| g["id"].as_i64())
        .unwrap_or_else(|| panic!("no group blamed on {guilty}: {groups:?}"))
}

// An engineer's merge survives `reprocess --regroup --resymbolize`, and a split undoes it
// for good.
#[tokio::test]
async fn merge_survives_regroup_and_split_undoes_it() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let fx = fixtures();
    let o = crashsift(
        &[
            "-q",
            "run",
            "--once",
            "--crash-dir",
            fx.to_str().unwrap(),
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let before = groups_json(d).await;
    let a = group_id(&before, "demo_uaf_read");
    let b = group_id(&before, "test_use_after_free_read");
    let o = crashsift(
        &[
            "groups",
            "merge",
            &a.to_string(),
            &b.to_string(),
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(groups_json(d).await.len(), before.len() - 1);

    let o = crashsift(
        &[
            "-q",
            "reprocess",
            "--regroup",
            "--resymbolize",
            "--json",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let last: serde_json::Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert_eq!(last["stage"], "done");
    let after = groups_json(d).await;
    assert_eq!(after.len(), before.len() - 1, "the merge stuck: {after:?}");
    let merged = after.iter().find(|g| g["id"] == a).unwrap();
    assert_eq!(merged["count"], 2);

    let sig = before.iter().find(|g| g["id"] == b).unwrap()["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = crashsift(
        &[
            "groups",
            "split",
            &a.to_string(),
            "--signature",
            &sig,
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = crashsift(&["-q", "reprocess", "--regroup", "--data-dir", d], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(groups_json(d).await.len(), before.len(), "the split stuck");
}
