//! The `crashsift` binary: parse the command line (flags, environment, config file), set
//! up tracing, run one command, map its result to an exit code (see `exit`).

mod args;
mod cmd;
mod config;
mod exit;
mod logging;
mod metrics;
mod setup;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match parse_cli(argv) {
        Ok(cli) => cli,
        Err(e) => return e,
    };
    let verbosity = if cli.quiet {
        -1
    } else {
        cli.verbose.min(3) as i8
    };
    logging::init(cli.log_format, verbosity);
    // The standalone tools are synchronous and start no runtime, which keeps
    // `crashsift dmesg` within its memory budget.
    let result = match cmd::run_sync(cli.command) {
        Ok(result) => result,
        Err(command) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(cmd::run(*command)),
            Err(e) => {
                eprintln!("crashsift: cannot start the async runtime: {e}");
                return ExitCode::from(exit::FAILURE);
            }
        },
    };
    match result {
        Ok(code) => code,
        // A reader that went away (`crashsift groups list | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("crashsift: error: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Parses flags and environment, then fills options left at their defaults from the
/// config file.
fn parse_cli(argv: Vec<std::ffi::OsString>) -> Result<args::Cli, ExitCode> {
    let usage = |e: clap::Error| {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() {
            exit::USAGE
        } else {
            exit::OK
        })
    };
    let matches = args::Cli::command()
        .try_get_matches_from(argv.clone())
        .map_err(usage)?;
    let matches = match matches.get_one::<std::path::PathBuf>("config") {
        Some(path) => {
            let file = config::load(path).map_err(|e| {
                eprintln!("crashsift: error: {e:#}");
                ExitCode::from(exit::USAGE)
            })?;
            config::apply(args::Cli::command(), argv, &matches, &file).map_err(|e| {
                eprintln!("crashsift: error: {e:#}");
                ExitCode::from(exit::USAGE)
            })?
        }
        None => matches,
    };
    args::Cli::from_arg_matches(&matches).map_err(usage)
}
