//! The end-to-end demo's logs (`fixtures/reports/demo-*.txt`, copies of
//! `fixtures/demo/logs/*.dmesg`) and the exact-pc rule for stack frames, checked against
//! the log generator's truth (`demo-generator-frames.json`, a copy of
//! `fixtures/demo/logs/expected.json`).

use crate::support::{fixtures_dir, read_lossy};
use crashsift_model::report::{Frame, Kind, Report};

fn parse_fixture(name: &str) -> Vec<Report> {
    crashsift_report::parse(&read_lossy(&fixtures_dir().join(name)))
}

fn text(f: &Frame) -> String {
    let module = f
        .module
        .as_ref()
        .map(|m| format!(" [{m}]"))
        .unwrap_or_default();
    format!(
        "{}+{:#x}/{:#x}{module}",
        f.function.as_deref().unwrap_or("?"),
        f.offset.unwrap_or(0),
        f.size.unwrap_or(0)
    )
}

// A KFENCE report closed by its `====` line and followed by the panic_on_warn panic it
// caused is one complete KFENCE report: not corrupted, the panic's trace kept as the
// `panic` stack, its `RIP:` borrowed as the report's faulting pc.
#[test]
fn kfence_then_panic_is_one_clean_report() {
    let r = parse_fixture("demo-kfence-panic.txt");
    assert_eq!(r.len(), 1, "{r:#?}");
    let r = &r[0];
    assert_eq!(r.kind, Kind::Kfence);
    assert!(!r.corrupted, "{:?}", r.corrupted_reason);
    assert_eq!(r.guilty_frame.as_deref(), Some("demo_uaf_read"));
    let rip = r
        .rip
        .as_ref()
        .expect("rip from the panic's RIP: 0010: line");
    assert_eq!(
        (text(rip), rip.exact),
        ("demo_uaf_read+0x5/0x10".into(), true)
    );
    let names: Vec<&str> = r.stacks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["access", "alloc", "free", "panic"]);
    assert_eq!(r.taint, None, "`Not tainted` is None");
}

// The RHEL log holds a WARNING and a NULL pointer oops, each uncorrupted, blamed on the
// demo function, with the taint flags of the oops (`G W`) and none for the WARNING.
#[test]
fn rhel_warning_and_oops() {
    let r = parse_fixture("demo-rhel-warn-oops.txt");
    let got: Vec<(Kind, Option<&str>, bool, Option<&str>)> = r
        .iter()
        .map(|r| {
            (
                r.kind,
                r.guilty_frame.as_deref(),
                r.corrupted,
                r.taint.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Kind::Warning, Some("demo_mod_submit"), false, None),
            (
                Kind::NullPointerDereference,
                Some("demo_queue_pop"),
                false,
                Some("GW")
            ),
        ]
    );
    let a = r[1].access.as_ref().expect("the #PF access");
    assert_eq!(a.address, Some(8));
    assert!(
        r.iter()
            .all(|r| r.kernel_release.as_deref() == Some("6.1.0-crashsift-demo"))
    );
}

// Every reliable parsed frame of the demo logs is exact exactly when the log generator
// printed a faulting pc there, for frame texts it printed one way only.
#[test]
fn demo_frames_exact_as_generated() {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("demo-generator-frames.json"))
            .expect("fixtures/reports/demo-generator-frames.json"),
    )
    .expect("json");
    let mut by_text: std::collections::HashMap<String, Vec<bool>> = Default::default();
    for e in truth["frames"].as_array().expect("frames") {
        let t = e["frame"].as_str().expect("frame").to_owned();
        by_text
            .entry(t)
            .or_default()
            .push(e["exact"].as_bool().expect("exact"));
    }
    let mut checked = 0;
    for name in ["demo-kfence-panic.txt", "demo-rhel-warn-oops.txt"] {
        for r in parse_fixture(name) {
            let frames = r.rip.iter().chain(r.stacks.iter().flat_map(|s| &s.frames));
            for f in frames {
                let t = text(f);
                let want = by_text
                    .get(&t)
                    .unwrap_or_else(|| panic!("{t} not generated"));
                if want.iter().all(|&x| x == want[0]) {
                    assert_eq!(f.exact, want[0], "{name}: {t}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 60, "only {checked} frames checked");
}

// KFENCE read/write faults print the pt_regs stack (first frame exact); invalid frees and
// corruption reports print stack_trace_save() return addresses; KASAN prints dump_stack()
// return addresses; arm64 marks its exact entry `(P)`.
#[test]
fn first_frame_exactness_by_report_kind() {
    let first_exact = |name: &str| -> Vec<bool> {
        parse_fixture(name)[0].stacks[0]
            .frames
            .iter()
            .map(|f| f.exact)
            .take(2)
            .collect()
    };
    assert_eq!(first_exact("docs-kfence-1.txt"), [true, false]); // out-of-bounds read
    assert_eq!(first_exact("docs-kfence-2.txt"), [true, false]); // use-after-free read
    assert_eq!(first_exact("docs-kfence-5.txt"), [true, false]); // invalid read
    assert_eq!(first_exact("docs-kfence-3.txt"), [false, false]); // invalid free
    assert_eq!(first_exact("docs-kfence-4.txt"), [false, false]); // memory corruption
    assert_eq!(first_exact("docs-kasan-1.txt"), [false, false]);
    assert_eq!(first_exact("handmade-arm64-null.txt"), [true, false]); // `(P)`
    // no alloc/free stack frame of any KFENCE report is exact
    for n in 1..=5 {
        for s in &parse_fixture(&format!("docs-kfence-{n}.txt"))[0].stacks {
            if s.name != "access" {
                assert!(s.frames.iter().all(|f| !f.exact), "kfence-{n} {}", s.name);
            }
        }
    }
}

// The `? ` copy of the faulting pc that x86 prints from pt_regs is exact; other `? `
// frames and every return address are not.
#[test]
fn stale_copy_of_rip_is_exact() {
    let r = parse_fixture("demo-rhel-warn-oops.txt");
    let oops = &r[1].stacks[0].frames;
    let marked: Vec<String> = oops.iter().filter(|f| f.exact).map(text).collect();
    assert_eq!(marked, ["demo_queue_pop+0x8/0x20"]);
    assert!(oops.iter().filter(|f| f.exact).all(|f| !f.reliable));
}
