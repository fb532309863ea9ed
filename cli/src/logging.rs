//! Tracing, set up once per process: human logs on a terminal, JSON with `--log-format
//! json`, level from `-v`/`-q` or `RUST_LOG`. Logs go to stderr; data goes to stdout.

use tracing_subscriber::EnvFilter;

/// How logs are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// Installs the global subscriber. `verbosity`: 0 = info, 1 = debug, 2+ = trace,
/// negative = warnings only.
pub fn init(format: LogFormat, verbosity: i8) {
    let default = match verbosity {
        i8::MIN..=-1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{default},sqlx=warn,aws_config=warn,aws_smithy_runtime=warn,hyper=warn"
        ))
    });
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
