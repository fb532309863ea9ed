//! Stand-alone `crashsift symbolize` for benchmarks and debugging (the real command is
//! wired into the `crashsift` binary): `cargo run --release --example symbolize -- --vmlinux V`.

use clap::Parser;
use crashsift_symbolize::cli::{SymbolizeArgs, run};

fn main() -> std::process::ExitCode {
    let args = SymbolizeArgs::parse();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match run(&args, &mut input, &mut out) {
        Ok(crashsift_model::Outcome::Clean) => std::process::ExitCode::SUCCESS,
        Ok(crashsift_model::Outcome::SoftErrors) => std::process::ExitCode::from(3),
        Err(e) => {
            eprintln!("symbolize: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
