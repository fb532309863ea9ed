//! The real dumps: every dump the rig scripts make must print `crash log`'s lines
//! (reference logs generated once into RIG/ref/ by RIG/ref/gen.sh), and for the capture
//! kernel's dumps the vmcore-dmesg.txt saved at capture time; plus the research note's
//! independent generator, checked against the expected log it writes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn rig() -> Option<PathBuf> {
    let dir =
        PathBuf::from(std::env::var("CRASHSIFT_RIG_DIR").unwrap_or_else(|_| "/work/rig".into()));
    if dir.join("vmcore.elf").exists() {
        Some(dir)
    } else {
        eprintln!(
            "RIG MISSING: {} has no vmcore.elf; run ../shared/rig/make-vmcore.sh DIR and make-kdump.sh DIR",
            dir.display()
        );
        None
    }
}

/// The log lines of a reference, without crash's warnings and blank lines.
fn reference_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| l.starts_with('[') || l.starts_with(' '))
        .map(str::to_owned)
        .collect()
}

fn read_lines(dump: &Path) -> Vec<String> {
    let vmcore = crashsift_vmcore::open(dump).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(vmcore.vmcoreinfo().osrelease(), Some("6.1.0-57-amd64"));
    let log = vmcore.read_log().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        log.warnings.is_empty(),
        "{}: {:?}",
        dump.display(),
        log.warnings
    );
    log.to_dmesg_text().lines().map(str::to_owned).collect()
}

// Checks every rig dump against crash's `log` output (and vmcore-dmesg.txt for the capture dumps).
#[test]
fn rig_dumps_match_crash_log() {
    let Some(rig) = rig() else { return };
    let dumps = [
        "vmcore.elf",
        "vmcore-paged.elf",
        "vmcore.kdump",
        "kdump/proc-vmcore.elf",
        "kdump/dump.zlib",
        "kdump/dump.lzo",
        "kdump/dump.flat",
    ];
    let mut checked = 0;
    for d in dumps {
        let dump = rig.join(d);
        if !dump.exists() {
            eprintln!(
                "RIG MISSING: {} (run ../shared/rig/make-kdump.sh DIR)",
                dump.display()
            );
            continue;
        }
        let got = read_lines(&dump);
        let reference = rig
            .join("ref")
            .join(format!("{}.crash-log.txt", d.replace('/', "_")));
        if reference.exists() {
            assert_eq!(got, reference_lines(&reference), "{d} vs crash log");
        } else {
            eprintln!(
                "RIG MISSING: {} (run {}/ref/gen.sh once)",
                reference.display(),
                rig.display()
            );
        }
        if d.starts_with("kdump/") {
            assert_eq!(
                got,
                reference_lines(&rig.join("kdump/vmcore-dmesg.txt")),
                "{d} vs vmcore-dmesg.txt"
            );
        }
        assert!(got.len() > 100, "{d}: only {} lines", got.len());
        checked += 1;
    }
    assert!(checked > 0);
}

// Checks the research note's independent generator: a sparse 2 GiB ELF with a wrapped ring.
#[test]
fn synth_vmcore_py_matches_its_expected_log() {
    let tool =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/synth_vmcore.py");
    let tool = if tool.exists() {
        tool
    } else {
        PathBuf::from("/work/shared/tools/synth_vmcore.py")
    };
    if !tool.exists() || Command::new("python3").arg("--version").output().is_err() {
        eprintln!(
            "SYNTH TOOL MISSING: {} or python3; skipping the independent-generator check",
            tool.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (core, expected) = (
        tmp.path().join("synth.vmcore"),
        tmp.path().join("expected.txt"),
    );
    let status = Command::new("python3")
        .arg(&tool)
        .arg(&core)
        .arg("--expected")
        .arg(&expected)
        .args(["--text-bits", "14", "--msgs", "3000"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let vmcore = crashsift_vmcore::open(&core).unwrap();
    let log = vmcore.read_log().unwrap();
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    let want = std::fs::read_to_string(&expected).unwrap();
    // The generator prints continuation lines unindented, as vmcore-dmesg does.
    let got: String = log
        .records
        .iter()
        .map(|r| format!("{}{}\n", r.timestamp_prefix(), r.text))
        .collect();
    assert_eq!(got, want);
    assert!(log.records.len() > 50);
}
