//! `crashsift symbolize`: frames or hex addresses on stdin, one resolution per line on
//! stdout, as JSON Lines (`--json`) or in the style of the kernel's `decode_stacktrace.sh`.
//!
//! JSON contract, one object per input line, in order:
//! `{"input": "<line>", "address": "0x..."|null, "symbol": "name+0xoff/0xlen"|null,
//!   "frames": [{"function", "file", "line", "column", "inlined"}]}` (innermost first),
//! with `frames` empty and an `"error"` string when the line cannot be resolved. The
//! outermost frame is named as the symbol table names it (`foo.cold`); when DWARF names
//! the source function differently it adds `"source_function": "foo"`.

use crate::frame::parse_frame_line;
use crate::symbolizer::{KernelRef, Symbolizer, SymbolizerConfig};
use crashsift_model::Outcome;
use crashsift_model::report::SourceLoc;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Options of `crashsift symbolize`.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(
    name = "symbolize",
    about = "Resolve kernel stack frames or addresses to source lines"
)]
pub struct SymbolizeArgs {
    /// The vmlinux with DWARF (e.g. /usr/lib/debug/boot/vmlinux-<release>).
    #[arg(long, env = "CRASHSIFT_VMLINUX")]
    pub vmlinux: Option<PathBuf>,
    /// A directory searched recursively for module debug files (`<module>.ko`).
    #[arg(long, env = "CRASHSIFT_MODULES")]
    pub modules: Option<PathBuf>,
    /// The KASLR offset to remove from raw addresses (`Kernel Offset:` in the log), hex.
    #[arg(long, value_parser = parse_hex_arg)]
    pub kaslr_offset: Option<u64>,
    /// The kernel release, to find debug files under the debug roots.
    #[arg(long, env = "CRASHSIFT_KERNEL_RELEASE")]
    pub release: Option<String>,
    /// Where persisted symbol indexes are kept (built on first use, then warm).
    #[arg(long, env = "CRASHSIFT_SYMBOL_INDEX_DIR")]
    pub index_dir: Option<PathBuf>,
    /// One JSON object per input line.
    #[arg(long)]
    pub json: bool,
    /// Treat inputs as return addresses and resolve the call (address - 1).
    #[arg(long)]
    pub callers: bool,
}

/// Why the command could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("reading stdin: {0}")]
    Input(#[source] std::io::Error),
    #[error("writing stdout: {0}")]
    Output(#[source] std::io::Error),
}

fn parse_hex_arg(s: &str) -> Result<u64, String> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(h, 16).map_err(|e| format!("{s:?} is not a hex number: {e}"))
}

/// Runs the command over `input`, writing to `out`.
pub fn run(
    args: &SymbolizeArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let mut cfg = SymbolizerConfig::from_env();
    cfg.vmlinux = args.vmlinux.clone();
    cfg.modules = args.modules.iter().cloned().collect();
    cfg.index_dir = args.index_dir.clone();
    let sym = Symbolizer::new(cfg);
    let kernel = KernelRef {
        release: args.release.clone(),
        build_id: None,
        kaslr_offset: args.kaslr_offset,
    };
    let mut lines = Vec::new();
    for l in input.lines() {
        lines.push(l.map_err(CliError::Input)?);
    }
    let parsed: Vec<_> = lines
        .iter()
        .map(|l| parse_frame_line(l, !args.callers))
        .collect();
    let frames: Vec<_> = parsed.iter().flatten().map(|p| p.frame.clone()).collect();
    let mut results = sym.symbolize_frames(&frames, &kernel).into_iter();
    let mut outcome = Outcome::Clean;
    for (line, p) in lines.iter().zip(&parsed) {
        let res = p.as_ref().map(|_| results.next());
        let (address, symbol, source, source_function, error) = match res {
            None => (
                None,
                None,
                Vec::new(),
                None,
                Some("not a stack frame or address".to_owned()),
            ),
            Some(None) => (
                None,
                None,
                Vec::new(),
                None,
                Some("internal: missing result".to_owned()),
            ),
            Some(Some(Ok(s))) => {
                let symbol = s
                    .symbol
                    .as_ref()
                    .map(|h| format!("{}+{:#x}/{:#x}", h.name, h.offset, h.len));
                (Some(s.pc), symbol, s.source, s.source_function, None)
            }
            Some(Some(Err(e))) => (None, None, Vec::new(), None, Some(e.to_string())),
        };
        if args.json {
            let n = source.len();
            let frames: Vec<JsonFrame<'_>> = source
                .iter()
                .enumerate()
                .map(|(i, s)| JsonFrame {
                    function: &s.function,
                    file: s.file.as_deref(),
                    line: s.line,
                    column: s.column,
                    inlined: s.inlined,
                    source_function: source_function
                        .as_deref()
                        .filter(|sf| i + 1 == n && *sf != s.function),
                })
                .collect();
            if error.is_some() {
                outcome = Outcome::SoftErrors;
            }
            let obj = JsonLine {
                input: line,
                address: address.map(|a| format!("{a:#x}")),
                symbol,
                frames,
                error,
            };
            serde_json::to_writer(&mut *out, &obj).map_err(|e| CliError::Output(e.into()))?;
            out.write_all(b"\n").map_err(CliError::Output)?;
        } else {
            match (p, error) {
                (None, _) => writeln!(out, "{line}").map_err(CliError::Output)?,
                (Some(_), Some(e)) => {
                    outcome = Outcome::SoftErrors;
                    writeln!(out, "{line} (error: {e})").map_err(CliError::Output)?;
                }
                (Some(_), None) => {
                    let locs: Vec<String> = source.iter().map(plain_loc).collect();
                    writeln!(out, "{} {}", line.trim_end(), locs.join(" "))
                        .map_err(CliError::Output)?;
                }
            }
        }
    }
    out.flush().map_err(CliError::Output)?;
    Ok(outcome)
}

/// One output line of `--json` (the documented contract).
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    input: &'a str,
    address: Option<String>,
    symbol: Option<String>,
    frames: Vec<JsonFrame<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One entry of an inline chain in `--json` output.
#[derive(serde::Serialize)]
struct JsonFrame<'a> {
    function: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    inlined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_function: Option<&'a str>,
}

fn plain_loc(s: &SourceLoc) -> String {
    match (&s.file, s.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => format!("{f}:?"),
        _ => "??:?".to_owned(),
    }
}
