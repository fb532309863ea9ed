//! The rig's real console logs (a sysrq-triggered panic of Debian's 6.1 kernel, and the
//! same with a kdump capture kernel booting right after it).

use std::path::PathBuf;

fn rig_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(std::env::var("CRASHSIFT_RIG_DIR").unwrap_or_else(|_| "/work/rig".into()));
    if dir.join("console.log").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "RIG MISSING: {} has no console.log; run ../shared/rig/make-vmcore.sh DIR",
            dir.display()
        );
        None
    }
}

// The live rig console log yields exactly the sysrq panic, blamed on sysrq_handle_crash.
#[test]
fn rig_console_panic() {
    let Some(dir) = rig_dir() else { return };
    let text = String::from_utf8_lossy(&std::fs::read(dir.join("console.log")).expect("read"))
        .into_owned();
    let reports = crashsift_report::parse(&text);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let r = &reports[0];
    assert_eq!(r.kind, crashsift_model::report::Kind::Panic);
    assert_eq!(r.guilty_frame.as_deref(), Some("sysrq_handle_crash"));
    assert_eq!(r.kernel_release.as_deref(), Some("6.1.0-57-amd64"));
    assert!(r.kaslr_offset.is_some());
    assert!(!r.corrupted, "{:?}", r.corrupted_reason);
    assert!(
        r.stacks[0].frames.iter().all(|f| !f.exact),
        "call trace frames are return addresses"
    );
}

// In the kdump capture log the panic ends where the capture kernel boots, and the two
// rig logs share one signature.
#[test]
fn rig_kdump_console_same_signature() {
    let Some(dir) = rig_dir() else { return };
    let read = |p: PathBuf| String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned();
    let Ok(kdump) = std::fs::read(dir.join("kdump/console.log")) else {
        eprintln!("RIG MISSING: no kdump/console.log; run ../shared/rig/make-kdump.sh DIR");
        return;
    };
    let a = crashsift_report::parse(&read(dir.join("console.log")));
    let b = crashsift_report::parse(&String::from_utf8_lossy(&kdump));
    assert_eq!(b.len(), 1, "{b:#?}");
    assert!(b[0].text.lines().all(|l| !l.contains("Linux version")));
    assert_eq!(a[0].signature, b[0].signature);
}
