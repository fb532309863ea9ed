//! `vmcore-dmesg-bench [--json] VMCORE`: the `crashsift dmesg` code path as a standalone
//! binary, for bench/vmcore/run.sh until the `crashsift` binary wires it.

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    dmesg: crashsift_vmcore::cli::DmesgArgs,
}

fn main() {
    let args = Args::parse();
    let stdout = std::io::stdout();
    match crashsift_vmcore::cli::run(&args.dmesg, &mut stdout.lock()) {
        Ok(crashsift_model::Outcome::Clean) => {}
        Ok(crashsift_model::Outcome::SoftErrors) => std::process::exit(3),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
