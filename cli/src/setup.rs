//! Builds the clients every command needs (store, object store, symbolizer) from the
//! parsed options, with the embedded defaults under the data directory.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use crashsift_objstore::{ObjectStore, StoreOptions};
use crashsift_store::Store;
use crashsift_symbolize::{Symbolizer, SymbolizerConfig};

use crate::args::{CollectArgs, StoreArgs, SymbolArgs};

/// The database URL: the flag, else SQLite under the data directory.
pub fn db_url(args: &StoreArgs) -> String {
    args.db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("crashsift.db").display()))
}

/// The object store URL: the flag, else a directory under the data directory.
pub fn objects_url(args: &StoreArgs) -> Result<String> {
    if let Some(url) = &args.objects {
        return Ok(url.clone());
    }
    let dir = args.data_dir.join("objects");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create object directory {}", dir.display()))?;
    let abs =
        std::path::absolute(&dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    Ok(format!("file://{}", abs.display()))
}

pub async fn store(args: &StoreArgs) -> Result<Store> {
    let url = db_url(args);
    let store = Store::connect(&url).await?;
    tracing::debug!(db = %store.url(), "database ready");
    Ok(store)
}

pub async fn objects(args: &StoreArgs) -> Result<ObjectStore> {
    let url = objects_url(args)?;
    let mut opts = StoreOptions::default();
    if let Some(endpoint) = &args.s3_endpoint {
        opts.s3.endpoint_url = Some(endpoint.clone());
    }
    if let Some(region) = &args.s3_region {
        opts.s3.region = Some(region.clone());
    }
    if args.s3_path_style {
        opts.s3.force_path_style = true;
    }
    let objects = ObjectStore::open_with(&url, &opts)
        .await
        .with_context(|| format!("cannot open object store {url}"))?;
    tracing::debug!(objects = %objects.describe(), "object store ready");
    Ok(objects)
}

/// The symbolizer; with `objects`, the object store's `symbols/` prefix is searched too.
pub fn symbolizer(
    args: &SymbolArgs,
    data_dir: &Path,
    objects: Option<&ObjectStore>,
) -> Result<Arc<Symbolizer>> {
    let index_dir = args
        .symbol_cache
        .clone()
        .unwrap_or_else(|| data_dir.join("symbols"));
    let debuginfod_urls = std::env::var("DEBUGINFOD_URLS")
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(v) = args.vmlinux.as_ref().filter(|v| !v.is_file()) {
        anyhow::bail!("--vmlinux {}: no such file", v.display());
    }
    let config = SymbolizerConfig {
        vmlinux: args.vmlinux.clone(),
        modules: args.modules.clone(),
        debug_roots: args.debug_dirs.clone(),
        index_dir: Some(index_dir.clone()),
        debuginfod_cache: Some(index_dir.join("debuginfod")),
        debuginfod_urls,
        symbol_source: objects.map(|o| {
            Arc::new(crashsift_analyzer::symbols::ObjectSymbols::new(
                o.clone(),
                index_dir.join("objects"),
            )) as Arc<dyn crashsift_symbolize::SymbolSource>
        }),
        ..SymbolizerConfig::default()
    };
    Ok(Arc::new(Symbolizer::new(config)))
}

pub fn collector_config(
    args: &CollectArgs,
    data_dir: &Path,
) -> Result<crashsift_collector::CollectorConfig> {
    let meta = std::fs::metadata(&args.crash_dir)
        .with_context(|| format!("crash directory {}", args.crash_dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!(
            "crash directory {} is not a directory",
            args.crash_dir.display()
        );
    }
    let state = args
        .state_dir
        .clone()
        .unwrap_or_else(|| data_dir.join("collector"));
    let mut cfg = crashsift_collector::CollectorConfig::new(&args.crash_dir, state);
    cfg.host = args.host.clone();
    cfg.quiet_period = std::time::Duration::from_secs(args.quiet_period);
    cfg.rescan_interval = std::time::Duration::from_secs(args.rescan_interval.max(1));
    cfg.poll = args.poll;
    cfg.kfence_marker = args.kfence_marker.clone();
    cfg.pstore_dirs = args.pstore_dirs.clone();
    Ok(cfg)
}

/// A single pass (`--once`) must end: transient object-store errors are retried a few
/// times, then the crash is reported as failed (the daemon retries forever instead).
pub fn bounded_retry(cfg: &mut crashsift_collector::CollectorConfig) {
    cfg.retry = crashsift_objstore::RetryPolicy {
        max_attempts: Some(6),
        ..crashsift_objstore::RetryPolicy::default()
    };
}
