//! The C fixtures with pinned addresses: exact inline chains, clones, duplicated static
//! names, return addresses, KASLR, the relocatable module, and agreement with
//! llvm-symbolizer and binutils addr2line on every byte of every function.

use crate::harness::{fixture, frame, jsonl};
use crashsift_symbolize::{DebugObject, FrameError, KernelRef, Symbolizer, SymbolizerConfig};
use std::path::Path;

const FIXTURES: [&str; 3] = ["vmlinux-dwarf4", "vmlinux-dwarf5", "vmlinux-dwarf5-zlib"];
const SRC: &str = "/fixtures/dwarf/src";

fn symbolizer(vmlinux: &str) -> Symbolizer {
    Symbolizer::new(SymbolizerConfig {
        vmlinux: Some(fixture(vmlinux)),
        modules: vec![fixture("fixmod.ko")],
        debug_roots: vec![],
        ..SymbolizerConfig::default()
    })
}

/// (function, file, line) of each chain entry.
fn chain_of(source: &[crashsift_model::report::SourceLoc]) -> Vec<(String, String, u32)> {
    source
        .iter()
        .map(|s| {
            (
                s.function.clone(),
                s.file.clone().unwrap_or_default(),
                s.line.unwrap_or(0),
            )
        })
        .collect()
}

// The three-deep inline chain of `outer` comes out innermost first with exact lines and
// columns, in DWARF 4, DWARF 5 and zlib-compressed DWARF 5.
#[test]
fn inline_chain_in_every_dwarf_flavor() {
    for f in FIXTURES {
        let s = symbolizer(f);
        let r = s
            .symbolize_frame(&frame("outer+0x0/0x20", true), &KernelRef::default())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let file = format!("{SRC}/inline.c");
        assert_eq!(
            chain_of(&r.source),
            vec![
                ("leaf".into(), file.clone(), 6),
                ("middle".into(), file.clone(), 12),
                ("outer".into(), file, 17)
            ],
            "{f}"
        );
        let inl: Vec<bool> = r.source.iter().map(|s| s.inlined).collect();
        assert_eq!(inl, [true, true, false], "{f}");
        assert_eq!(r.source[0].column, Some(11), "{f}");
    }
}

// A `.cold` part is named as the symbol table names it, with its source function.
#[test]
fn cold_clone_names_symbol_and_source_function() {
    let s = symbolizer("vmlinux-dwarf5");
    let r = s
        .symbolize_frame(
            &frame("split_me.cold+0x0/0x19", true),
            &KernelRef::default(),
        )
        .expect("resolves");
    let last = r.source.last().expect("non-empty chain");
    assert_eq!(last.function, "split_me.cold");
    assert_eq!(r.source_function.as_deref(), Some("split_me"));
    assert_eq!(last.file.as_deref(), Some(&*format!("{SRC}/inline.c")));
    assert_eq!(last.line, Some(30));
}

// A static name used twice is told apart by the printed length; without a length the
// candidates are reported; a length that matches neither is a mismatch.
#[test]
fn duplicate_static_names() {
    let s = symbolizer("vmlinux-dwarf5");
    let k = KernelRef::default();
    let a = s
        .symbolize_frame(&frame("helper+0x0/0x10", true), &k)
        .expect("dup_a helper");
    assert_eq!(
        a.source[0].file.as_deref(),
        Some(&*format!("{SRC}/dup_a.c"))
    );
    assert_eq!(a.source[0].line, Some(6));
    let b = s
        .symbolize_frame(&frame("helper+0x10/0x20", true), &k)
        .expect("dup_b helper");
    assert_eq!(
        b.source.last().and_then(|l| l.file.as_deref()),
        Some(&*format!("{SRC}/dup_b.c"))
    );
    match s.symbolize_frame(&frame("helper+0x0", true), &k) {
        Err(FrameError::Ambiguous { candidates, .. }) => {
            assert_eq!(candidates.len(), 2);
            assert!(candidates.iter().any(|c| c.location.contains("dup_a.c")));
            assert!(candidates.iter().any(|c| c.location.contains("dup_b.c")));
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    match s.symbolize_frame(&frame("helper+0x0/0x30", true), &k) {
        Err(e @ FrameError::Mismatch { .. }) => {
            assert!(e.to_string().contains("wrong debug file"), "{e}")
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // An offset beyond the length is a mismatch too.
    assert!(matches!(
        s.symbolize_frame(&frame("helper+0x40/0x20", true), &k),
        Err(FrameError::Mismatch { .. })
    ));
}

// Return addresses step back one byte; `B+0x0` belongs to the previous function.
#[test]
fn return_addresses_step_back() {
    let s = symbolizer("vmlinux-dwarf5");
    let k = KernelRef::default();
    let exact = s
        .symbolize_frame(&frame("outer+0x4/0x20", true), &k)
        .expect("exact");
    let ret = s
        .symbolize_frame(&frame("outer+0x4/0x20", false), &k)
        .expect("return");
    assert_eq!(exact.pc, ret.pc + 1);
    let prev = s
        .symbolize_frame(&frame("split_me+0x0/0x20", false), &k)
        .expect("B+0x0");
    assert_eq!(prev.symbol.as_ref().map(|h| h.name.as_str()), Some("outer"));
}

// Raw addresses lose the KASLR offset; without it they are out of range.
#[test]
fn raw_addresses_with_kaslr() {
    let s = symbolizer("vmlinux-dwarf5");
    let k = KernelRef {
        kaslr_offset: Some(0x2120_0000),
        ..KernelRef::default()
    };
    let r = s.symbolize_addresses(&[0xffff_ffff_8100_0050 + 0x2120_0000], &k);
    let r = r[0].as_ref().expect("resolves");
    assert_eq!(r.pc, 0xffff_ffff_8100_0050);
    assert_eq!(r.source.last().map(|l| l.function.as_str()), Some("outer"));
    let miss = s.symbolize_addresses(
        &[0xffff_ffff_8100_0050 + 0x2120_0000],
        &KernelRef::default(),
    );
    assert!(matches!(miss[0], Err(FrameError::OutOfRange { .. })));
}

// A name whose `.llvm.<hash>` suffix was stripped by kallsyms still resolves.
#[test]
fn llvm_suffix_stripped_name() {
    let s = symbolizer("vmlinux-dwarf5");
    let r = s
        .symbolize_frame(&frame("lto_alias+0x0/0x9", true), &KernelRef::default())
        .expect("lto_alias.llvm.4242");
    assert_eq!(r.pc, 0xffff_ffff_8100_0120);
}

/// llvm-symbolizer's chain for one address: (function, file, line, column).
fn llvm_chain(v: &serde_json::Value) -> Vec<(String, String, u32, u32)> {
    v["Symbol"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["FunctionName"].as_str().unwrap_or("").to_owned(),
                        s["FileName"].as_str().unwrap_or("").to_owned(),
                        s["Line"].as_u64().unwrap_or(0) as u32,
                        s["Column"].as_u64().unwrap_or(0) as u32,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// Every byte of every function agrees with llvm-symbolizer --inlines on function, file,
// line and column (expectations recorded by fixtures/dwarf/build.sh).
#[test]
fn agrees_with_llvm_symbolizer_on_every_byte() {
    for f in FIXTURES {
        let obj = DebugObject::load(&fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let expect = jsonl(&fixture(&format!("expect/{f}.llvm.jsonl")));
        assert!(expect.len() > 200, "{f}: expectations present");
        let pcs: Vec<u64> = expect
            .iter()
            .map(|v| {
                u64::from_str_radix(
                    v["Address"]
                        .as_str()
                        .unwrap_or("0x0")
                        .trim_start_matches("0x"),
                    16,
                )
                .unwrap_or(0)
            })
            .collect();
        obj.prepare(&pcs, 2);
        let mut bad = Vec::new();
        for (pc, v) in pcs.iter().zip(&expect) {
            let mut want = llvm_chain(v);
            if want.iter().all(|w| w.0.is_empty() && w.1.is_empty()) {
                continue; // llvm knows nothing here (beyond the last symbol)
            }
            let mut got: Vec<(String, String, u32, u32)> = obj
                .source_at(*pc)
                .iter()
                .map(|s| {
                    (
                        s.function.clone(),
                        s.file.clone().unwrap_or_default(),
                        s.line.unwrap_or(0),
                        s.column.unwrap_or(0),
                    )
                })
                .collect();
            // Where llvm has no function name (padding after a function), we name the
            // kallsyms symbol that owns the byte instead: compare the rest.
            for (w, g) in want.iter_mut().zip(got.iter_mut()) {
                if w.0.is_empty() {
                    g.0.clear();
                }
            }
            if got != want {
                bad.push(format!("{pc:#x}: llvm {want:?} ours {got:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{f}: {} of {} differ:\n{}",
            bad.len(),
            pcs.len(),
            bad[..bad.len().min(5)].join("\n")
        );
    }
}

/// Parses `addr2line -a -f -i` output into (address, chain).
/// (function, file, line) entries of one chain.
type Chain = Vec<(String, String, u32)>;

fn binutils_chains(path: &Path) -> Vec<(u64, Chain)> {
    let text = std::fs::read_to_string(path).expect("binutils expectations");
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(u64, Chain)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(hex) = lines[i].strip_prefix("0x") {
            out.push((u64::from_str_radix(hex, 16).expect("address"), Vec::new()));
            i += 1;
        } else if i + 1 < lines.len() {
            let (file, line) = lines[i + 1].rsplit_once(':').unwrap_or(("", "0"));
            let line = line
                .split_whitespace()
                .next()
                .unwrap_or("0")
                .parse()
                .unwrap_or(0);
            let file = if file == "??" { "" } else { file };
            if let Some(last) = out.last_mut() {
                last.1.push((lines[i].to_owned(), file.to_owned(), line));
            }
            i += 2;
        } else {
            break;
        }
    }
    out
}

// Every byte agrees with binutils addr2line -f -i on the chain, where binutils names the
// outermost frame by DWARF (our `source_function`).
#[test]
fn agrees_with_binutils_addr2line() {
    for f in FIXTURES {
        let obj = DebugObject::load(&fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let expect = binutils_chains(&fixture(&format!("expect/{f}.binutils.txt")));
        assert!(expect.len() > 200);
        let mut bad = 0;
        for (pc, want) in &expect {
            let (mut src, sf) = obj.source_and_function(*pc);
            if let (Some(last), Some(sf)) = (src.last_mut(), sf) {
                last.function = sf;
            }
            let got: Vec<(String, String, u32)> = chain_of(&src);
            // Padding bytes outside any line row: binutils prints `??` or line 0.
            if want.iter().all(|w| w.0 == "??" || w.2 == 0) {
                continue;
            }
            if &got != want {
                bad += 1;
                eprintln!("{f} {pc:#x}: binutils {want:?} ours {got:?}");
            }
        }
        assert_eq!(bad, 0, "{f}: chains differ from binutils");
    }
}

// The relocatable module: every byte of every function in .text, .text.unlikely and
// .init.text, as `func+off/len [fixmod]`, agrees with `addr2line -j <section>`.
#[test]
fn relocatable_module_agrees_with_binutils() {
    let s = symbolizer("vmlinux-dwarf5");
    let expect = jsonl(&fixture("expect/fixmod.binutils.jsonl"));
    let sections: std::collections::HashSet<&str> = expect
        .iter()
        .filter_map(|v| v["section"].as_str())
        .collect();
    assert!(
        sections.contains(".text.unlikely") && sections.contains(".init.text"),
        "{sections:?}"
    );
    for v in &expect {
        let input = v["input"].as_str().expect("input");
        let r = s
            .symbolize_frame(&frame(input, true), &KernelRef::default())
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        let (mut src, sf) = (r.source.clone(), r.source_function.clone());
        if let (Some(last), Some(sf)) = (src.last_mut(), sf) {
            last.function = sf;
        }
        let want: Vec<(String, String, u32)> = v["chain"]
            .as_array()
            .expect("chain")
            .iter()
            .map(|c| {
                (
                    c[0].as_str().unwrap_or("").into(),
                    c[1].as_str().unwrap_or("").into(),
                    c[2].as_u64().unwrap_or(0) as u32,
                )
            })
            .collect();
        assert_eq!(chain_of(&src), want, "{input}");
    }
}

// The module inline chain names the module's own source with exact lines.
#[test]
fn module_inline_chain() {
    let s = symbolizer("vmlinux-dwarf5");
    let r = s
        .symbolize_frame(
            &frame("mod_work+0x0/0x13 [fixmod]", true),
            &KernelRef::default(),
        )
        .expect("resolves");
    let file = format!("{SRC}/mod.c");
    assert_eq!(
        chain_of(&r.source),
        vec![
            ("mod_leaf".into(), file.clone(), 7),
            ("mod_work".into(), file, 12)
        ]
    );
}

// A persisted index answers exactly like the DWARF it was built from, in a new symbolizer.
#[test]
fn persisted_index_answers_like_dwarf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = |index: bool| SymbolizerConfig {
        vmlinux: Some(fixture("vmlinux-dwarf4")),
        debug_roots: vec![],
        index_dir: index.then(|| dir.path().to_owned()),
        ..SymbolizerConfig::default()
    };
    let addrs: Vec<u64> = std::fs::read_to_string(fixture("expect/vmlinux-dwarf4.addrs"))
        .expect("addrs")
        .lines()
        .map(|l| u64::from_str_radix(l.trim_start_matches("0x"), 16).expect("hex"))
        .collect();
    let k = KernelRef::default();
    let cold = Symbolizer::new(cfg(false)).symbolize_addresses(&addrs, &k);
    let first = Symbolizer::new(cfg(true)).symbolize_addresses(&addrs, &k);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "one index written");
    let warm = Symbolizer::new(cfg(true)).symbolize_addresses(&addrs, &k);
    assert_eq!(cold, first);
    assert_eq!(cold, warm);
}

// symbolize_report fills every frame of the RIP and the stacks, takes the KASLR offset
// from the report, and records per-frame errors without stopping.
#[test]
fn symbolize_report_fills_frames() {
    use crashsift_model::report::{Kind, Report, Stack};
    let s = symbolizer("vmlinux-dwarf5");
    let mut report = Report {
        kind: Kind::Panic,
        sub_kind: None,
        title: "t".into(),
        access: None,
        guilty_frame: None,
        signature: String::new(),
        aliases: vec![],
        corrupted: false,
        corrupted_reason: None,
        cpu: None,
        pid: None,
        comm: None,
        kernel_release: None,
        taint: None,
        hardware: None,
        rip: None,
        stacks: vec![],
        kaslr_offset: Some(0x1000),
        start_line: 0,
        end_line: 0,
        text: String::new(),
    };
    report.rip = Some(frame("RIP: 0010:outer+0x0/0x20", false));
    let mut raw = frame("0xffffffff81001050", false);
    raw.exact = true;
    report.stacks.push(Stack {
        name: "call_trace".into(),
        frames: vec![
            frame(" helper+0x1/0x10", false),
            frame(" ? nosuch+0x1/0x2", false),
            raw,
        ],
    });
    let sum = s.symbolize_report(&mut report, &KernelRef::default());
    assert_eq!((sum.frames, sum.resolved, sum.failed), (4, 3, 1));
    let rip = report.rip.as_ref().expect("rip");
    assert_eq!(
        rip.source.len(),
        3,
        "RIP is exact: the inline chain of outer+0"
    );
    let st = &report.stacks[0].frames;
    assert_eq!(
        st[0].source[0].file.as_deref(),
        Some("/fixtures/dwarf/src/dup_a.c")
    );
    assert!(
        st[1]
            .symbolize_error
            .as_deref()
            .is_some_and(|e| e.contains("nosuch"))
    );
    assert!(st[1].source.is_empty());
    assert_eq!(
        st[2].source.last().map(|l| l.function.as_str()),
        Some("outer"),
        "KASLR from the report"
    );
}

// A unit first parsed for one pc (other subprograms skipped) is rebuilt in full when a
// later pc falls into a skipped subprogram: the answer equals a fresh full parse.
#[test]
fn partial_unit_parse_is_completed_on_demand() {
    let partial = DebugObject::load(&fixture("vmlinux-dwarf5")).expect("load");
    partial.prepare(&[0xffff_ffff_8100_0050], 1); // outer only
    let fresh = DebugObject::load(&fixture("vmlinux-dwarf5")).expect("load");
    for pc in 0xffff_ffff_8100_0030..0xffff_ffff_8100_00d5u64 {
        assert_eq!(partial.source_at(pc), fresh.source_at(pc), "{pc:#x}");
    }
}

// The symbolizer can be shared across threads (the analyzer runs it on a worker pool).
#[test]
fn symbolizer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Symbolizer>();
    check::<DebugObject>();
}
