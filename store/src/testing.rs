//! Test support: a fresh database per test, on SQLite (a temp file) or on the machine's
//! PostgreSQL server (a new database, dropped afterwards). A missing PostgreSQL fails the
//! test with what to start; it never skips.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Store;

/// Where tests find PostgreSQL; override with `CRASHSIFT_TEST_PG`.
pub fn postgres_admin_url() -> String {
    std::env::var("CRASHSIFT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that lives as long as the value.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(#[allow(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    /// A fresh SQLite file in a temp directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir for the test database");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::connect(&url)
            .await
            .expect("open test SQLite database");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh database on the local PostgreSQL server.
    pub async fn postgres() -> TestDb {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let admin = postgres_admin_url();
        let name = format!(
            "crashsift_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            crate::now()
        );
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for this test and is not reachable at {admin}: {e}. \
                 Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start \
                 (or set CRASHSIFT_TEST_PG)"
            )
        });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("CRASHSIFT_TEST_PG must end in /DATABASE"),
        };
        let store = Store::connect(&url)
            .await
            .expect("open test PostgreSQL database");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { admin, name },
        }
    }

    /// One of each, for tests that run on both backends.
    pub async fn both() -> Vec<TestDb> {
        vec![TestDb::sqlite().await, TestDb::postgres().await]
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin, name } = &self.cleanup {
            // Dropping needs a connection outside the test's runtime, which this drop
            // blocks: a thread with its own runtime, best effort. The test's pool is left
            // alone; `WITH (FORCE)` ends its sessions server-side.
            let admin = admin.clone();
            let name = name.clone();
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}
