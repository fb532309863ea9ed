//! One module per command; [`run`] dispatches.

mod crashes;
mod groups;
mod reprocess;
mod run;
mod services;
pub mod show;
mod tools;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::Command;

/// Runs the synchronous commands (the standalone tools) to their exit code; gives any
/// other command back to be run on the async runtime.
pub fn run_sync(command: Command) -> std::result::Result<Result<ExitCode>, Box<Command>> {
    match command {
        Command::Parse(a) => Ok(tools::parse(a)),
        Command::Symbolize(a) => Ok(tools::symbolize(a)),
        Command::Dmesg(a) => Ok(tools::dmesg(a)),
        other => Err(Box::new(other)),
    }
}

/// Runs one async command to its exit code.
pub async fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run(a) => run::run(a).await,
        Command::Collector(a) => services::collector(a).await,
        Command::Analyzer(a) => services::analyzer(a).await,
        Command::Ticketer(a) => services::ticketer(a).await,
        Command::Parse(_) | Command::Symbolize(_) | Command::Dmesg(_) => {
            anyhow::bail!("internal error: a synchronous command reached the runtime")
        }
        Command::Groups(c) => groups::run(c).await,
        Command::Crashes(c) => crashes::run(c).await,
        Command::Reprocess(a) => reprocess::run(a).await,
    }
}

/// Resolves on Ctrl-C or SIGTERM: the shutdown future handed to every daemon.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
