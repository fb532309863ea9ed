//! The real Debian 6.1 kernel from the rig (`../shared/rig/make-vmcore.sh`): a sample of
//! vmlinux addresses against llvm-symbolizer, the real panic stack of the rig's console
//! log, and module frames against binutils and elfutils (expectations recorded by
//! `bench/symbolize/make_rig_expect.sh`). Without the rig they say so loudly and return.

use crate::harness::{fixture, jsonl, rig};
use crashsift_symbolize::frame::parse_frame_line;
use crashsift_symbolize::{KernelRef, Symbolizer, SymbolizerConfig};
use std::path::PathBuf;

const KV: &str = "6.1.0-57-amd64";

fn vmlinux(rig: &std::path::Path) -> PathBuf {
    rig.join(format!("dbg/usr/lib/debug/boot/vmlinux-{KV}"))
}

/// Clone suffixes, which binutils and elfutils never print (they name by DWARF).
fn strip_clone(name: &str) -> &str {
    let mut n = name;
    loop {
        let before = n;
        for suffix in [".cold", ".isra", ".constprop", ".part"] {
            if let Some(i) = n.rfind(suffix) {
                let tail = &n[i + suffix.len()..];
                if tail.is_empty()
                    || (tail.starts_with('.') && tail[1..].bytes().all(|b| b.is_ascii_digit()))
                {
                    n = &n[..i];
                }
            }
        }
        if n == before {
            return n;
        }
    }
}

type Chain = Vec<(String, String, u32)>;

fn chain_of(v: &serde_json::Value) -> Chain {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let f = |i: usize| e[i].as_str().unwrap_or("").to_owned();
                    (
                        f(0),
                        if f(1) == "??" { String::new() } else { f(1) },
                        e[2].as_u64().unwrap_or(0) as u32,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Equal chains, where a `??` (or empty) function in the reference matches any name.
fn same(got: &Chain, want: &Chain) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g.1 == w.1 && g.2 == w.2 && (w.0.is_empty() || w.0 == "??" || g.0 == w.0))
}

// 1,000 vmlinux addresses agree with llvm-symbolizer --inlines on function, file and line
// for at least 99.9% of those llvm resolves (the 10,000-address run is in BENCHMARKS.md).
#[test]
fn vmlinux_sample_agrees_with_llvm() {
    let Some(rig) = rig() else { return };
    let expect = jsonl(&fixture("rig/vmlinux-llvm-sample.jsonl"));
    let addrs: Vec<u64> = expect
        .iter()
        .map(|v| {
            u64::from_str_radix(v["a"].as_str().unwrap_or("0").trim_start_matches("0x"), 16)
                .expect("hex")
        })
        .collect();
    let s = Symbolizer::new(SymbolizerConfig {
        vmlinux: Some(vmlinux(&rig)),
        ..SymbolizerConfig::default()
    });
    let got = s.symbolize_addresses(&addrs, &KernelRef::default());
    let (mut total, mut agree) = (0, 0);
    for (v, r) in expect.iter().zip(&got) {
        let want = chain_of(&v["c"]);
        if want.first().is_none_or(|w| w.0.is_empty() || w.0 == "??") {
            continue;
        }
        total += 1;
        let ours: Chain = r
            .as_ref()
            .map(|r| {
                r.source
                    .iter()
                    .map(|s| {
                        (
                            s.function.clone(),
                            s.file.clone().unwrap_or_default(),
                            s.line.unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if same(&ours, &want) {
            agree += 1;
        } else {
            eprintln!("{}: llvm {want:?}\n  ours {ours:?}", v["a"]);
        }
    }
    assert!(total > 900, "{total} addresses resolved by llvm");
    assert!(agree * 1000 >= total * 999, "agree {agree}/{total}");
}

// The real panic stack of the rig's console log resolves frame by frame (Call Trace
// entries are return addresses), and the `Kernel Offset:` line makes raw addresses work.
#[test]
fn console_log_panic_stack_resolves() {
    let Some(rig) = rig() else { return };
    let log = std::fs::read_to_string(rig.join("console.log")).expect("console.log");
    let lines: Vec<&str> = log.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains("Call Trace:"))
        .expect("a Call Trace");
    let frames: Vec<_> = lines[start + 1..]
        .iter()
        .take_while(|l| !l.contains("RIP:"))
        .filter_map(|l| parse_frame_line(l, false))
        .map(|p| p.frame)
        .collect();
    assert!(frames.len() >= 20, "{} frames", frames.len());
    let s = Symbolizer::new(SymbolizerConfig {
        vmlinux: Some(vmlinux(&rig)),
        ..SymbolizerConfig::default()
    });
    let res = s.symbolize_frames(&frames, &KernelRef::default());
    for (f, r) in frames.iter().zip(&res) {
        let r = r
            .as_ref()
            .unwrap_or_else(|e| panic!("{:?}: {e}", f.function));
        assert!(
            r.source.last().and_then(|l| l.file.as_ref()).is_some(),
            "{:?} has a file",
            f.function
        );
    }
    let crash = res[frames
        .iter()
        .position(|f| f.function.as_deref() == Some("sysrq_handle_crash"))
        .expect("frame")]
    .as_ref()
    .expect("resolved");
    assert!(
        crash
            .source
            .last()
            .and_then(|l| l.file.as_deref())
            .is_some_and(|f| f.ends_with("drivers/tty/sysrq.c"))
    );
    let cold = res[frames
        .iter()
        .position(|f| f.function.as_deref() == Some("__handle_sysrq.cold"))
        .expect("frame")]
    .as_ref()
    .expect("resolved");
    assert_eq!(
        cold.symbol.as_ref().map(|h| h.name.as_str()),
        Some("__handle_sysrq.cold")
    );
    assert_eq!(cold.source_function.as_deref(), Some("__handle_sysrq"));

    // Raw address: panic's link address + offset from the log.
    let off_line = lines
        .iter()
        .find(|l| l.contains("Kernel Offset:"))
        .expect("Kernel Offset line");
    let hex = off_line
        .split("Kernel Offset: 0x")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("offset");
    let kaslr = u64::from_str_radix(hex, 16).expect("hex");
    let panic_addr = s
        .symbolize_frame(
            &crashsift_symbolize::frame::parse_frame_line("panic+0x0/0x2f4", true)
                .expect("frame")
                .frame,
            &KernelRef::default(),
        )
        .expect("panic")
        .pc;
    let k = KernelRef {
        kaslr_offset: Some(kaslr),
        ..KernelRef::default()
    };
    let raw = s.symbolize_addresses(&[panic_addr + kaslr], &k);
    assert_eq!(
        raw[0]
            .as_ref()
            .expect("raw")
            .source
            .last()
            .map(|l| l.function.as_str()),
        Some("panic")
    );
}

// `func+off/len [module]` frames of ext4, e1000 and mlx5_core agree with binutils
// `addr2line -j SECTION` or eu-addr2line (where these two disagree, binutils has a known
// bug naming trace-event headers; padding bytes have no line in either).
#[test]
fn modules_agree_with_binutils_and_elfutils() {
    let Some(rig) = rig() else { return };
    let mods = rig.join(format!("dbg/usr/lib/debug/lib/modules/{KV}"));
    for m in ["ext4", "e1000", "mlx5_core"] {
        if m == "mlx5_core"
            && !crashsift_symbolize::locate::scan_modules(&mods).contains_key("mlx5_core")
        {
            eprintln!(
                "RIG MISSING: mlx5_core.ko not extracted under {}; see make_rig_expect.sh",
                mods.display()
            );
            continue;
        }
        let s = Symbolizer::new(SymbolizerConfig {
            modules: vec![mods.clone()],
            ..SymbolizerConfig::default()
        });
        let expect = jsonl(&fixture(&format!("rig/{m}-sample.jsonl")));
        let frames: Vec<_> = expect
            .iter()
            .map(|v| {
                parse_frame_line(v["input"].as_str().expect("input"), true)
                    .expect("frame")
                    .frame
            })
            .collect();
        let res = s.symbolize_frames(&frames, &KernelRef::default());
        let (mut agree, mut padding) = (0, 0);
        for (v, r) in expect.iter().zip(&res) {
            let b = chain_of(&v["binutils"]);
            let e = chain_of(&v["eu"]);
            let r = r
                .as_ref()
                .unwrap_or_else(|err| panic!("{}: {err}", v["input"]));
            let mut ours: Chain = r
                .source
                .iter()
                .map(|s| {
                    (
                        strip_clone(&s.function).to_owned(),
                        s.file.clone().unwrap_or_default(),
                        s.line.unwrap_or(0),
                    )
                })
                .collect();
            if let (Some(last), Some(sf)) = (ours.last_mut(), &r.source_function) {
                last.0 = strip_clone(sf).to_owned();
            }
            let strip = |c: Chain| -> Chain {
                c.into_iter()
                    .map(|(f, file, l)| (strip_clone(&f).to_owned(), file, l))
                    .collect()
            };
            let (b, e) = (strip(b), strip(e));
            if same(&ours, &b) || same(&ours, &e) {
                agree += 1;
            } else if b.iter().all(|x| x.2 == 0) {
                padding += 1;
            } else {
                panic!(
                    "{m}: {}\n  binutils {b:?}\n  eu {e:?}\n  ours {ours:?}",
                    v["input"]
                );
            }
        }
        assert!(agree >= 140, "{m}: {agree} agree, {padding} padding");
    }
}
