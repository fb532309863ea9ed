//! The command line: one clap-derive struct per command. Every option is also a
//! `CRASHSIFT_*` environment variable and a key of the config file (see `config`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;

/// Linux kernel crash forensics: from /var/crash to one symbolized, deduplicated issue.
#[derive(Debug, Parser)]
#[command(name = "crashsift", version, propagate_version = true)]
pub struct Cli {
    /// A TOML config file whose keys are the long option names.
    #[arg(long, global = true, env = "CRASHSIFT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "CRASHSIFT_LOG_FORMAT",
        value_enum,
        default_value = "human"
    )]
    pub log_format: LogFormat,
    /// More logging (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole pipeline in one process: collect, analyze, group, render tickets (dry-run).
    Run(RunArgs),
    /// Watch the crash directory and upload complete dumps to the object store.
    Collector(CollectorArgs),
    /// Find uploaded crashes, read their logs, parse, symbolize and group them.
    Analyzer(AnalyzerArgs),
    /// Render (dry-run) one issue per crash group.
    Ticketer(TicketerArgs),
    /// Parse kernel logs and print the crash reports they hold.
    Parse(crashsift_report::cli::ParseArgs),
    /// Symbolize frames or addresses read from stdin against a vmlinux.
    Symbolize(crashsift_symbolize::cli::SymbolizeArgs),
    /// Print the kernel log held in a vmcore, without vmlinux.
    Dmesg(crashsift_vmcore::cli::DmesgArgs),
    /// Query and curate crash groups.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Query crashes.
    #[command(subcommand)]
    Crashes(CrashesCommand),
    /// Redo analysis over history: resymbolize, regroup, or reanalyze.
    Reprocess(ReprocessArgs),
}

/// Where state lives. Defaults keep everything under one data directory.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the embedded defaults (SQLite file, local objects, collector state).
    #[arg(long, env = "CRASHSIFT_DATA_DIR", default_value = "crashsift-data")]
    pub data_dir: PathBuf,
    /// The database: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://DATA_DIR/crashsift.db]
    #[arg(long, env = "CRASHSIFT_DB", value_name = "URL")]
    pub db: Option<String>,
    /// The object store: file:///PATH or s3://BUCKET/PREFIX [default: file://DATA_DIR/objects]
    #[arg(long, env = "CRASHSIFT_OBJECTS", value_name = "URL")]
    pub objects: Option<String>,
    /// S3 endpoint URL for S3-compatible servers (MinIO, Ceph).
    #[arg(long, env = "CRASHSIFT_S3_ENDPOINT", value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, env = "CRASHSIFT_S3_REGION")]
    pub s3_region: Option<String>,
    /// Use path-style S3 addressing (most S3-compatible servers need it).
    #[arg(long, env = "CRASHSIFT_S3_PATH_STYLE")]
    pub s3_path_style: bool,
}

/// Collector options.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// The directory kdump writes dumps to.
    #[arg(long, env = "CRASHSIFT_CRASH_DIR", default_value = "/var/crash")]
    pub crash_dir: PathBuf,
    /// The collector's journal directory [default: DATA_DIR/collector]
    #[arg(long, env = "CRASHSIFT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Host name recorded with each crash [default: this machine's]
    #[arg(long, env = "CRASHSIFT_HOST")]
    pub host: Option<String>,
    /// Seconds a dump left -incomplete must stay unchanged before it is uploaded flagged.
    #[arg(long, env = "CRASHSIFT_QUIET_PERIOD", default_value_t = 600)]
    pub quiet_period: u64,
    /// Seconds between full rescans of the crash directory.
    #[arg(long, env = "CRASHSIFT_RESCAN_INTERVAL", default_value_t = 600)]
    pub rescan_interval: u64,
    /// Poll the crash directory instead of inotify (NFS).
    #[arg(long, env = "CRASHSIFT_POLL")]
    pub poll: bool,
    /// Touch this file when a KFENCE report is collected.
    #[arg(long, env = "CRASHSIFT_KFENCE_MARKER")]
    pub kfence_marker: Option<PathBuf>,
    /// pstore directories to collect (e.g. /sys/fs/pstore); repeatable.
    #[arg(
        long = "pstore-dir",
        env = "CRASHSIFT_PSTORE_DIRS",
        value_delimiter = ','
    )]
    pub pstore_dirs: Vec<PathBuf>,
}

/// Symbolizer options.
#[derive(Debug, Clone, Args)]
pub struct SymbolArgs {
    /// A vmlinux with DWARF to symbolize against; wins over every search by release or build id.
    #[arg(long, env = "CRASHSIFT_VMLINUX")]
    pub vmlinux: Option<PathBuf>,
    /// Module debug files (*.ko) or directories of them; repeatable.
    #[arg(long = "modules", env = "CRASHSIFT_MODULES", value_delimiter = ',')]
    pub modules: Vec<PathBuf>,
    /// Roots searched for debug files (.build-id/, boot/vmlinux-RELEASE, lib/modules/RELEASE/).
    #[arg(
        long = "debug-dir",
        env = "CRASHSIFT_DEBUG_DIRS",
        value_delimiter = ',',
        default_value = "/usr/lib/debug"
    )]
    pub debug_dirs: Vec<PathBuf>,
    /// Where persisted symbol indexes and debuginfod downloads go [default: DATA_DIR/symbols]
    #[arg(long, env = "CRASHSIFT_SYMBOL_CACHE")]
    pub symbol_cache: Option<PathBuf>,
}

/// `crashsift run`
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Serve Prometheus /metrics and /healthz on this address (e.g. 127.0.0.1:9464).
    #[arg(long, env = "CRASHSIFT_METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub symbols: SymbolArgs,
    /// Process what is there now, print the groups and exit.
    #[arg(long)]
    pub once: bool,
    /// Print the groups as JSON Lines (with --once).
    #[arg(long)]
    pub json: bool,
    /// Seconds between analyzer and ticketer passes.
    #[arg(long, env = "CRASHSIFT_POLL_INTERVAL", default_value_t = 10)]
    pub poll_interval: u64,
}

/// `crashsift collector`
#[derive(Debug, Clone, Args)]
pub struct CollectorArgs {
    /// Serve Prometheus /metrics and /healthz on this address (e.g. 127.0.0.1:9464).
    #[arg(long, env = "CRASHSIFT_METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Upload what is there now and exit.
    #[arg(long)]
    pub once: bool,
}

/// `crashsift analyzer`
#[derive(Debug, Clone, Args)]
pub struct AnalyzerArgs {
    /// Serve Prometheus /metrics and /healthz on this address (e.g. 127.0.0.1:9464).
    #[arg(long, env = "CRASHSIFT_METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub symbols: SymbolArgs,
    /// Analyze what is there now and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between polls for new manifests.
    #[arg(long, env = "CRASHSIFT_POLL_INTERVAL", default_value_t = 10)]
    pub poll_interval: u64,
}

/// `crashsift ticketer`
#[derive(Debug, Clone, Args)]
pub struct TicketerArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Base URL of crashsift's web pages, linked from each issue.
    #[arg(long, env = "CRASHSIFT_WEB_URL")]
    pub web_url: Option<String>,
    /// Render what is pending now and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes.
    #[arg(long, env = "CRASHSIFT_POLL_INTERVAL", default_value_t = 10)]
    pub poll_interval: u64,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// The live groups, most recently seen first.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only groups of this kind (kfence, kasan, warning, ...).
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        limit: Option<i64>,
        /// JSON Lines, one group per line.
        #[arg(long)]
        json: bool,
    },
    /// One group: its facts, symbolized stack and crashes.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// File every report of group FROM under group INTO, for good.
    Merge {
        #[command(flatten)]
        store: StoreArgs,
        into: i64,
        from: i64,
    },
    /// Move the reports with SIGNATURE out of group ID into a group of their own, for good.
    Split {
        #[command(flatten)]
        store: StoreArgs,
        id: i64,
        #[arg(long)]
        signature: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CrashesCommand {
    /// The most recent crashes.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One crash with its artifacts and reports.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// `crashsift reprocess`
#[derive(Debug, Clone, Args)]
pub struct ReprocessArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub symbols: SymbolArgs,
    /// First collect this directory of dumps (kdump layouts or plain) into the object store.
    #[arg(long)]
    pub crash_dir: Option<PathBuf>,
    /// Recompute signatures with the current rules and refile every report.
    #[arg(long)]
    pub regroup: bool,
    /// Symbolize every stored frame again (a vmlinux arrived).
    #[arg(long)]
    pub resymbolize: bool,
    /// Read every crash's artifacts again.
    #[arg(long)]
    pub reanalyze: bool,
    /// Progress and result as JSON Lines.
    #[arg(long)]
    pub json: bool,
}
