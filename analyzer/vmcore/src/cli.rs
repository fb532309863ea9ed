//! `crashsift dmesg [--json] VMCORE`: prints the kernel log of a vmcore.
//!
//! Human output is `crash log`'s: `[%5lu.%06lu] text` per line. `--json` is a contract:
//! one JSON object per record and line, `{"seq","ts_nsec","level","caller","text"}`, with
//! `level` null when the layout does not reveal it and `caller` a `T<pid>`/`C<cpu>` string
//! or null. Warnings about missing parts go to stderr and make the outcome `SoftErrors`.

use std::io::Write;
use std::path::PathBuf;

use crashsift_model::Outcome;

/// Arguments of `crashsift dmesg`.
#[derive(Debug, Clone, clap::Args)]
pub struct DmesgArgs {
    /// The vmcore: ELF, kdump-compressed, or makedumpfile flattened.
    pub vmcore: PathBuf,
    /// Print one JSON object per record (seq, ts_nsec, level, caller, text).
    #[arg(long)]
    pub json: bool,
}

/// Why `crashsift dmesg` failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The dump could not be read.
    #[error(transparent)]
    Vmcore(#[from] crate::Error),
    /// The output could not be written.
    #[error("writing the log: {0}")]
    Write(#[from] std::io::Error),
}

/// Runs `crashsift dmesg`: the log to `out`, warnings to stderr.
pub fn run(args: &DmesgArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let vmcore = crate::open(&args.vmcore)?;
    let log = vmcore.read_log()?;
    if args.json {
        let mut buf = std::io::BufWriter::new(out);
        for r in &log.records {
            let line = serde_json::json!({
                "seq": r.seq,
                "ts_nsec": r.ts_nsec,
                "level": r.level,
                "caller": r.caller.map(|c| c.to_string()),
                "text": r.text,
            });
            writeln!(buf, "{line}")?;
        }
        buf.flush()?;
    } else {
        out.write_all(log.to_dmesg_text().as_bytes())?;
        out.flush()?;
    }
    for w in &log.warnings {
        eprintln!("warning: {}: {w}", args.vmcore.display());
    }
    Ok(if log.warnings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::SoftErrors
    })
}
