//! The Prometheus endpoint: `GET /metrics` (text exposition format) and `GET /healthz`,
//! served with `--metrics-addr`. Counters come from each crate's snapshot function;
//! gauges (jobs by state, live groups) are read from the store at scrape time. Labels
//! are bounded (job states only).

use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use crashsift_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Requests larger than this are refused (a scrape is one short line).
const MAX_REQUEST: usize = 8 * 1024;

/// Binds `addr` and serves until the process exits.
pub async fn serve(addr: SocketAddr, store: Option<Store>) -> Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    tracing::info!(%addr, "serving /metrics and /healthz");
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; MAX_REQUEST];
                let mut len = 0;
                // Read until the end of the request line; headers are ignored.
                while len < buf.len() {
                    match tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        stream.read(&mut buf[len..]),
                    )
                    .await
                    {
                        Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                        Ok(Ok(n)) => len += n,
                    }
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let request = String::from_utf8_lossy(&buf[..len]);
                let path = request.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = match path {
                    "/metrics" => ("200 OK", render(store.as_ref()).await),
                    "/healthz" => ("200 OK", "ok\n".to_owned()),
                    _ => ("404 Not Found", "not found\n".to_owned()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    }))
}

/// The exposition text.
pub async fn render(store: Option<&Store>) -> String {
    let mut out = String::new();
    let counters = crashsift_objstore::metrics::snapshot()
        .pairs()
        .into_iter()
        .chain(crashsift_collector::upload::metrics_snapshot())
        .chain(crashsift_analyzer::pipeline::metrics_snapshot());
    for (name, value) in counters {
        let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
    }
    if let Some(store) = store {
        if let Ok(jobs) = store.job_counts().await {
            let _ = writeln!(out, "# TYPE crashsift_analyzer_jobs gauge");
            for (state, n) in jobs {
                let _ = writeln!(out, "crashsift_analyzer_jobs{{state=\"{state}\"}} {n}");
            }
        }
        if let Ok(n) = store.group_count().await {
            let _ = writeln!(out, "# TYPE crashsift_groups gauge\ncrashsift_groups {n}");
        }
    }
    out
}
