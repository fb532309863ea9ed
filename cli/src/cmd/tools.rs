//! The standalone tools: `parse`, `symbolize`, `dmesg`. Each lives in its library crate;
//! this only wires stdin/stdout and the exit code.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::exit;

pub fn parse(args: crashsift_report::cli::ParseArgs) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = crashsift_report::cli::run(&args, &mut out)?;
    out.flush()?;
    Ok(exit::from_outcome(outcome))
}

pub fn symbolize(args: crashsift_symbolize::cli::SymbolizeArgs) -> Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = crashsift_symbolize::cli::run(&args, &mut input, &mut out)?;
    out.flush()?;
    Ok(exit::from_outcome(outcome))
}

pub fn dmesg(args: crashsift_vmcore::cli::DmesgArgs) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = crashsift_vmcore::cli::run(&args, &mut out)?;
    out.flush()?;
    Ok(exit::from_outcome(outcome))
}
