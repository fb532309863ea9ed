//! The committed fixtures under fixtures/vmcore/: rebuilt from their layout on every run
//! and compared byte for byte (set CRASHSIFT_UPDATE_FIXTURES=1 to rewrite them), then read
//! back through `crashsift_vmcore::open`.

use std::path::PathBuf;

use crashsift_vmcore::{Caller, Error};

use crate::builder::{self, Codec, ElfKind, Expected, Ring};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vmcore")
}

const RING: Ring = Ring {
    size_bits: 12,
    count_bits: 7,
    exact_fit_stays: false,
};

fn ring_machine(exact_fit_stays: bool) -> (builder::Machine, Vec<Expected>) {
    if !exact_fit_stays {
        return builder::lockless(&builder::messages(400, 7), RING);
    }
    // The first message seed whose live records include a block ending exactly at the
    // ring's end (deterministic: the same seed every run).
    let ring = Ring {
        exact_fit_stays,
        ..RING
    };
    (1..)
        .map(|seed| builder::lockless(&builder::messages(400, seed), ring))
        .find(|(_, exp)| {
            exp.iter()
                .any(|e| e.placement == builder::Placement::ExactFit)
        })
        .expect("some seed yields an exact fit")
}

/// Every fixture: (file name, bytes, expected records).
fn all() -> Vec<(&'static str, Vec<u8>, Vec<Expected>)> {
    let (m, exp) = ring_machine(false);
    let (fit, fit_exp) = ring_machine(true);
    let (leg, leg_exp) = builder::legacy(&builder::messages(200, 11), 8192);
    let kdump_lzo = builder::kdump(&m, Codec::Lzo);
    vec![
        (
            "lockless-elf-virtual.vmcore",
            builder::elf(&m, ElfKind::Virtual),
            exp.clone(),
        ),
        (
            "lockless-elf-physical.vmcore",
            builder::elf(&m, ElfKind::Physical),
            exp.clone(),
        ),
        (
            "lockless-kdump-raw.vmcore",
            builder::kdump(&m, Codec::None),
            exp.clone(),
        ),
        (
            "lockless-kdump-zlib.vmcore",
            builder::kdump(&m, Codec::Zlib),
            exp.clone(),
        ),
        ("lockless-kdump-lzo.vmcore", kdump_lzo.clone(), exp.clone()),
        (
            "lockless-kdump-snappy.vmcore",
            builder::kdump(&m, Codec::Snappy),
            exp.clone(),
        ),
        (
            "lockless-kdump-zstd.vmcore",
            builder::kdump(&m, Codec::Zstd),
            exp.clone(),
        ),
        (
            "lockless-flat-kdump-lzo.vmcore",
            builder::flatten(&kdump_lzo),
            exp.clone(),
        ),
        (
            "lockless-exactfit-elf-virtual.vmcore",
            builder::elf(&fit, ElfKind::Virtual),
            fit_exp,
        ),
        (
            "legacy-elf-virtual.vmcore",
            builder::elf(&leg, ElfKind::Virtual),
            leg_exp,
        ),
    ]
}

// Checks that each committed fixture is exactly what the builder makes from its layout.
#[test]
fn fixtures_are_current() {
    let update = std::env::var_os("CRASHSIFT_UPDATE_FIXTURES").is_some();
    for (name, bytes, expected) in all() {
        let path = dir().join(name);
        let txt = dir().join(name.replace(".vmcore", ".expected.txt"));
        let text = builder::dmesg_text(&expected);
        if update {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            std::fs::write(&txt, &text).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with CRASHSIFT_UPDATE_FIXTURES=1)",
                path.display()
            )
        });
        assert!(
            committed == bytes,
            "{name} differs from its layout; rerun with CRASHSIFT_UPDATE_FIXTURES=1"
        );
        assert_eq!(
            std::fs::read_to_string(&txt).unwrap(),
            text,
            "{name} expected text"
        );
    }
}

// Checks every format: the reader's dmesg text, levels, callers and seqs match the layout.
#[test]
fn every_fixture_reads_back() {
    for (name, _, expected) in all() {
        let vmcore =
            crashsift_vmcore::open(&dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            vmcore.vmcoreinfo().osrelease(),
            Some("6.1.0-fixture"),
            "{name}"
        );
        assert_eq!(
            vmcore.vmcoreinfo().build_id(),
            Some("6a2b4ac77585b8cf102cba771300e573c8489b69")
        );
        assert_eq!(vmcore.vmcoreinfo().kernel_offset(), Some(0x2a00_0000));
        let log = vmcore.read_log().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(log.warnings.is_empty(), "{name}: {:?}", log.warnings);
        assert!(
            expected.len() > 20,
            "{name}: the layout keeps too few records to test anything"
        );
        assert_eq!(
            log.to_dmesg_text(),
            builder::dmesg_text(&expected),
            "{name}"
        );
        for (got, want) in log.records.iter().zip(&expected) {
            assert_eq!(got.seq, want.seq, "{name}");
            assert_eq!(got.level, Some(want.msg.level), "{name} seq {}", want.seq);
            assert_eq!(
                got.caller,
                Some(Caller::from_raw(want.msg.caller)),
                "{name}"
            );
        }
    }
}

// Checks that the ring fixtures exercise what they claim: overwritten records, a live
// wrapped block, and (with the late-2025 rule) a live exact-fit block.
#[test]
fn ring_fixtures_cover_wrap_and_exact_fit() {
    use builder::Placement;
    let (_, expected) = ring_machine(false);
    assert!(
        expected[0].seq > 100,
        "the oldest live record should have been preceded by overwritten ones"
    );
    assert!(expected.iter().any(|e| e.placement == Placement::Wrapped));
    let (_, fit) = ring_machine(true);
    assert!(
        fit.iter().any(|e| e.placement == Placement::ExactFit),
        "no live exact-fit block"
    );
}

// Checks a program header count over 65,535 (PN_XNUM), built in memory.
#[test]
fn extended_program_header_count() {
    let (m, expected) = ring_machine(false);
    let bytes = builder::elf(&m, ElfKind::Xnum(70_000));
    assert_eq!(u16::from_le_bytes([bytes[56], bytes[57]]), 0xffff);
    let log = crashsift_vmcore::read_log_from_bytes(&bytes).unwrap();
    assert_eq!(log.to_dmesg_text(), builder::dmesg_text(&expected));
}

// Checks a kdump dump cut inside its page data: a partial log and a warning naming the truncation.
#[test]
fn truncated_kdump_gives_partial_log() {
    let (m, expected) = ring_machine(false);
    let full = builder::kdump(&m, Codec::None);
    // Raw pages are stored in pfn order and the last one holds the newest records' info.
    let cut = full.len() - 2000;
    let log = crashsift_vmcore::read_log_from_bytes(&full[..cut]).unwrap();
    assert!(
        !log.records.is_empty() && log.records.len() < expected.len(),
        "{} records",
        log.records.len()
    );
    assert!(
        log.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        log.warnings
    );
    let want = builder::dmesg_text(&expected);
    for line in log.to_dmesg_text().lines() {
        assert!(want.contains(line), "record not in the full log: {line}");
    }
}

// Checks an ELF dump cut anywhere: never a panic, and a cut after the headers still says truncated.
#[test]
fn truncated_elf_never_panics() {
    let (m, _) = ring_machine(false);
    let full = builder::elf(&m, ElfKind::Virtual);
    for cut in (0..full.len()).step_by(997) {
        match crashsift_vmcore::read_log_from_bytes(&full[..cut]) {
            Ok(log) => assert!(
                log.warnings.iter().any(|w| w.contains("truncated")),
                "cut {cut}: {:?}",
                log.warnings
            ),
            Err(Error::Malformed(_)) | Err(Error::NoVmcoreinfo) => {}
            Err(e) => panic!("cut {cut}: unexpected {e}"),
        }
    }
}

// Checks a flattened stream cut short: partial data and a warning.
#[test]
fn truncated_flattened_stream_warns() {
    let (m, _) = ring_machine(false);
    let flat = builder::flatten(&builder::kdump(&m, Codec::Zlib));
    // Drop the end marker and the final header rewrite: the header is the placeholder.
    let cut = &flat[..flat.len() - 16 - 4096 - 16 - 10];
    match crashsift_vmcore::read_log_from_bytes(cut) {
        Err(Error::Unsupported(msg)) => assert!(msg.contains("unknown dump format"), "{msg}"),
        other => panic!("expected the placeholder header to be unrecognized, got {other:?}"),
    }
}

// Checks the error kinds: no VMCOREINFO, unknown magic, empty input.
#[test]
fn errors_name_the_problem() {
    let (mut m, _) = ring_machine(false);
    m.vmcoreinfo = String::new();
    let no_info = builder::elf(&m, ElfKind::Physical);
    assert!(matches!(
        crashsift_vmcore::read_log_from_bytes(&no_info),
        Err(Error::NoVmcoreinfo)
    ));
    assert!(matches!(
        crashsift_vmcore::read_log_from_bytes(b"\x1f\x8b\x08garbage"),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        crashsift_vmcore::read_log_from_bytes(b""),
        Err(Error::Malformed(_))
    ));
    let missing = crashsift_vmcore::open(std::path::Path::new("/nonexistent/vmcore"));
    assert!(matches!(missing, Err(Error::Io { .. })));
}

// Checks that garbage pages in the ring lose records with warnings, never panic.
#[test]
fn garbage_ring_pages_warn() {
    let (mut m, _) = ring_machine(false);
    for (i, b) in m.ram[0x22000..0x23000].iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    for (i, b) in m.ram[0x20000..0x20400].iter_mut().enumerate() {
        *b = (i * 7 % 256) as u8;
    }
    let bytes = builder::kdump(&m, Codec::Snappy);
    let log = crashsift_vmcore::read_log_from_bytes(&bytes).unwrap();
    assert!(!log.records.is_empty());
}

// Checks `crashsift dmesg --json`: one object per record with the contract's fields.
#[test]
fn cli_json_lines() {
    let args = crashsift_vmcore::cli::DmesgArgs {
        vmcore: dir().join("lockless-kdump-zlib.vmcore"),
        json: true,
    };
    let mut out = Vec::new();
    let outcome = crashsift_vmcore::cli::run(&args, &mut out).unwrap();
    assert_eq!(outcome, crashsift_model::Outcome::Clean);
    let (_, expected) = ring_machine(false);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), expected.len());
    let first = &lines[0];
    assert_eq!(first["seq"], expected[0].seq);
    assert_eq!(first["ts_nsec"], expected[0].msg.ts_nsec);
    assert_eq!(first["level"], expected[0].msg.level);
    assert_eq!(
        first["caller"],
        Caller::from_raw(expected[0].msg.caller).to_string()
    );
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("msg {}", expected[0].seq))
    );
}
