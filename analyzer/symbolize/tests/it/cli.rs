//! `crashsift symbolize`: the JSON Lines contract and the plain output.

use crate::harness::fixture;
use crashsift_model::Outcome;
use crashsift_symbolize::cli::{SymbolizeArgs, run};

fn run_on(args: &SymbolizeArgs, input: &str) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = run(args, &mut input.as_bytes(), &mut out).expect("runs");
    (outcome, String::from_utf8(out).expect("utf-8"))
}

// One JSON object per input line, in order, with the documented fields; errors carry
// an "error" field and empty frames, and make the outcome soft.
#[test]
fn json_contract() {
    let args = SymbolizeArgs {
        vmlinux: Some(fixture("vmlinux-dwarf5")),
        modules: Some(fixture("")),
        json: true,
        ..SymbolizeArgs::default()
    };
    let input = "[    2.339586]  outer+0x0/0x20\n0xffffffff81000050\nnot a frame\nnosuchfn+0x1/0x2\nmod_work+0x0/0x13 [fixmod]\n";
    let (outcome, out) = run_on(&args, input);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["input"], "[    2.339586]  outer+0x0/0x20");
    assert_eq!(lines[0]["address"], "0xffffffff81000050");
    let f = &lines[0]["frames"];
    assert_eq!(f[0]["function"], "leaf");
    assert_eq!(f[0]["file"], "/fixtures/dwarf/src/inline.c");
    assert_eq!(f[0]["line"], 6);
    assert_eq!(f[0]["column"], 11);
    assert_eq!(f[0]["inlined"], true);
    assert_eq!(f[2]["inlined"], false);
    assert_eq!(lines[1]["frames"], lines[0]["frames"]);
    assert!(
        lines[2]["error"].is_string()
            && lines[2]["frames"].as_array().is_some_and(|a| a.is_empty())
    );
    assert!(
        lines[3]["error"]
            .as_str()
            .is_some_and(|e| e.contains("nosuchfn"))
    );
    assert_eq!(lines[4]["frames"][0]["function"], "mod_leaf");
    assert!(lines[1].get("error").is_none());
    assert_eq!(outcome, Outcome::SoftErrors);
}

// --callers steps back onto the call; --kaslr-offset removes KASLR from raw addresses.
#[test]
fn callers_and_kaslr() {
    let base = SymbolizeArgs {
        vmlinux: Some(fixture("vmlinux-dwarf5")),
        json: true,
        ..SymbolizeArgs::default()
    };
    let (_, exact) = run_on(&base, "outer+0x4/0x20\n");
    let callers = SymbolizeArgs {
        callers: true,
        ..base.clone()
    };
    let (_, back) = run_on(&callers, "outer+0x4/0x20\n");
    let a: serde_json::Value = serde_json::from_str(exact.trim()).expect("json");
    let b: serde_json::Value = serde_json::from_str(back.trim()).expect("json");
    assert_eq!(a["address"], "0xffffffff81000054");
    assert_eq!(b["address"], "0xffffffff81000053");
    let kaslr = SymbolizeArgs {
        kaslr_offset: Some(0x1000_0000),
        ..base
    };
    let (outcome, out) = run_on(&kaslr, "0xffffffff91000050\n");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["address"], "0xffffffff81000050");
    assert_eq!(outcome, Outcome::Clean);
}

// Plain output keeps the line and appends file:line of the chain, innermost first, in the
// style of decode_stacktrace.sh; non-frame lines pass through unchanged.
#[test]
fn plain_output() {
    let args = SymbolizeArgs {
        vmlinux: Some(fixture("vmlinux-dwarf5")),
        ..SymbolizeArgs::default()
    };
    let (outcome, out) = run_on(&args, "Call Trace:\n ? outer+0x0/0x20\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Call Trace:");
    assert_eq!(
        lines[1],
        " ? outer+0x0/0x20 /fixtures/dwarf/src/inline.c:6 /fixtures/dwarf/src/inline.c:12 /fixtures/dwarf/src/inline.c:17"
    );
    assert_eq!(outcome, Outcome::Clean);
}

// SymbolizeArgs embeds as a subcommand of the crashsift binary (clap `Args`) and parses flags.
#[test]
fn args_parse() {
    use clap::Parser;
    fn is_args<T: clap::Args>() {}
    is_args::<SymbolizeArgs>();
    let a = SymbolizeArgs::try_parse_from([
        "symbolize",
        "--vmlinux",
        "/v",
        "--kaslr-offset",
        "0x21200000",
        "--json",
        "--callers",
    ])
    .expect("parses");
    assert_eq!(a.kaslr_offset, Some(0x2120_0000));
    assert!(a.json && a.callers);
    assert!(SymbolizeArgs::try_parse_from(["symbolize", "--kaslr-offset", "zz"]).is_err());
}
