//! The daemon: one event loop over [`Event`], fed by `notify` (inotify, or `PollWatcher`
//! for NFS), a rescan timer and the wake-up for dumps in their quiet period.
//!
//! Events are only hints: every one leads to a full (cheap) scan of the crash directory,
//! after a short debounce; the journal makes repeated scans idempotent. A scan runs at
//! start-up, on every `Rescan` (the timer, or notify's queue overflow), and when a waiting
//! dump's quiet period ends. Access events and metadata changes are not hints (our own
//! reads and hard links cause them).

use std::future::Future;
use std::time::Duration;

use crashsift_objstore::ObjectStore;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::collect::collect_once;
use crate::{CollectorConfig, Error, system};

/// Everything the loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A file-system notification (or a watcher error).
    Fs(notify::Result<notify::Event>),
    /// Scan everything now (timer, or the watcher lost events).
    Rescan,
    /// A deadline passed (debounce or quiet period): scan if something is pending.
    Tick,
    /// Stop.
    Shutdown,
}

/// True when a notify event may mean a dump appeared, grew, or was renamed.
pub fn is_hint(ev: &notify::Event) -> bool {
    if ev.need_rescan() {
        return true;
    }
    match ev.kind {
        EventKind::Access(notify::event::AccessKind::Close(notify::event::AccessMode::Write)) => {
            true
        }
        EventKind::Access(_) => false,
        EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Any | EventKind::Other => true,
    }
}

/// The watcher in use; held only to keep it alive (dropping it stops the events).
enum AnyWatcher {
    Inotify { _w: notify::RecommendedWatcher },
    Poll { _w: notify::PollWatcher },
}

fn start_watcher(
    cfg: &CollectorConfig,
    tx: mpsc::UnboundedSender<Event>,
) -> Result<AnyWatcher, Error> {
    let werr = |e: notify::Error| Error::Watch {
        path: cfg.crash_dir.clone(),
        reason: e.to_string(),
    };
    let handler = {
        let tx = tx.clone();
        move |res: notify::Result<notify::Event>| {
            let _ = tx.send(Event::Fs(res));
        }
    };
    if !cfg.poll {
        match notify::RecommendedWatcher::new(handler.clone(), notify::Config::default()) {
            Ok(mut w) => match w.watch(&cfg.crash_dir, RecursiveMode::Recursive) {
                Ok(()) => return Ok(AnyWatcher::Inotify { _w: w }),
                Err(e) => {
                    tracing::warn!(error = %e, "inotify watch failed; falling back to polling")
                }
            },
            Err(e) => tracing::warn!(error = %e, "inotify unavailable; falling back to polling"),
        }
    }
    let config = notify::Config::default().with_poll_interval(cfg.poll_interval);
    let mut w = notify::PollWatcher::new(handler, config).map_err(werr)?;
    w.watch(&cfg.crash_dir, RecursiveMode::Recursive)
        .map_err(werr)?;
    Ok(AnyWatcher::Poll { _w: w })
}

/// Runs the collector until `shutdown` resolves. Returns an error only when it cannot
/// start (the crash directory cannot be watched or scanned at all); a failing dump or an
/// unreachable object store is logged and retried, never fatal. An upload in flight at
/// shutdown is abandoned; the journal resumes it at the next start.
pub async fn run(
    cfg: &CollectorConfig,
    store: &ObjectStore,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    // 1. Watch first, so nothing that appears during the first scan is missed.
    let watcher = start_watcher(cfg, tx.clone())?;
    let mode = match &watcher {
        AnyWatcher::Inotify { .. } => "inotify",
        AnyWatcher::Poll { .. } => "poll",
    };
    tracing::info!(crash_dir = %cfg.crash_dir.display(), mode, "collector watching");
    // 2. The rescan timer.
    let timer_tx = tx.clone();
    let interval = cfg.rescan_interval.max(Duration::from_millis(10));
    let timer = tokio::spawn(async move {
        let mut t = tokio::time::interval(interval);
        t.tick().await;
        loop {
            t.tick().await;
            if timer_tx.send(Event::Rescan).is_err() {
                break;
            }
        }
    });
    tokio::pin!(shutdown);
    // 3. The loop. A scan is due at start.
    let mut scan_due: Option<tokio::time::Instant> = Some(tokio::time::Instant::now());
    let mut quiet_wake: Option<tokio::time::Instant> = None;
    let result = loop {
        let next = match (scan_due, quiet_wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let event = tokio::select! {
            _ = &mut shutdown => Event::Shutdown,
            ev = rx.recv() => ev.unwrap_or(Event::Shutdown),
            _ = sleep_until(next) => Event::Tick,
        };
        match event {
            Event::Shutdown => break Ok(()),
            Event::Fs(Ok(ev)) => {
                if ev.need_rescan() {
                    tracing::warn!("file watcher lost events; rescanning");
                    scan_due = Some(tokio::time::Instant::now());
                } else if is_hint(&ev) && scan_due.is_none() {
                    scan_due = Some(tokio::time::Instant::now() + cfg.debounce);
                }
            }
            Event::Fs(Err(e)) => {
                tracing::warn!(error = %e, "file watcher error; rescanning");
                scan_due = Some(tokio::time::Instant::now());
            }
            Event::Rescan => scan_due = Some(tokio::time::Instant::now()),
            Event::Tick => {
                let now = tokio::time::Instant::now();
                let due =
                    scan_due.is_some_and(|t| t <= now) || quiet_wake.is_some_and(|t| t <= now);
                if !due {
                    continue;
                }
                scan_due = None;
                quiet_wake = None;
                let pass = tokio::select! {
                    _ = &mut shutdown => break Ok(()),
                    r = collect_once(cfg, store) => r,
                };
                match pass {
                    Ok(summary) => {
                        if !summary.uploaded.is_empty() || !summary.failed.is_empty() {
                            tracing::info!(
                                uploaded = summary.uploaded.len(),
                                failed = summary.failed.len(),
                                waiting = summary.waiting.len(),
                                "collection pass"
                            );
                        }
                        for (path, err) in &summary.failed {
                            tracing::error!(path = %path.display(), error = %err, "collection failed");
                        }
                        if let Some(deadline) = summary.next_deadline() {
                            let secs = deadline.saturating_sub(system::now()).max(0) as u64;
                            quiet_wake = Some(
                                tokio::time::Instant::now()
                                    + Duration::from_secs(secs)
                                    + Duration::from_millis(100),
                            );
                        }
                    }
                    Err(e) => {
                        // The crash directory is unusable right now (deleted, unmounted):
                        // keep running and look again at the next rescan.
                        tracing::error!(error = %e, "scan failed");
                    }
                }
            }
        }
    };
    timer.abort();
    drop(watcher);
    result
}

async fn sleep_until(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
