//! Bad debug files: wrong build, stripped, truncated, corrupt DWARF. Clear errors, no panic.

use crate::harness::{fixture, frame};
use crashsift_model::BuildId;
use crashsift_symbolize::{
    DebugObject, FrameError, KernelRef, SymbolizeError, Symbolizer, SymbolizerConfig,
};

fn build_id_of(name: &str) -> BuildId {
    crashsift_symbolize::elf::read_build_id(&fixture(name))
        .expect("readable")
        .expect("has a build id")
}

// A vmlinux whose build id is not the crash's is refused with both ids in the message.
#[test]
fn wrong_vmlinux_is_a_build_id_mismatch() {
    let s = Symbolizer::new(SymbolizerConfig {
        vmlinux: Some(fixture("vmlinux-dwarf5")),
        debug_roots: vec![],
        ..SymbolizerConfig::default()
    });
    let want = build_id_of("vmlinux-dwarf4");
    let k = KernelRef {
        build_id: Some(want.clone()),
        ..KernelRef::default()
    };
    match s.symbolize_frame(&frame("outer+0x0/0x20", true), &k) {
        Err(FrameError::Object(msg)) => {
            assert!(msg.contains("build id mismatch"), "{msg}");
            assert!(msg.contains(want.as_str()), "{msg}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // The direct API says the same with a typed error.
    assert!(matches!(
        s.open(&fixture("vmlinux-dwarf5"), Some(&want)),
        Err(SymbolizeError::BuildIdMismatch { .. })
    ));
}

// A stripped vmlinux says it has no DWARF.
#[test]
fn stripped_vmlinux() {
    let e = DebugObject::load(&fixture("vmlinux-stripped")).expect_err("no DWARF");
    assert!(matches!(e, SymbolizeError::NoDebugInfo { .. }), "{e}");
    assert!(e.to_string().contains("vmlinux-stripped"), "{e}");
}

// Every truncation of an ELF file gives an error or a usable object, never a panic;
// cutting into the headers is reported as malformed.
#[test]
fn truncated_elf() {
    let bytes = std::fs::read(fixture("vmlinux-dwarf5")).expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vmlinux");
    for cut in (0..bytes.len()).step_by(97).chain([10, 63, 64, 65]) {
        std::fs::write(&path, &bytes[..cut]).expect("write");
        if let Ok(o) = DebugObject::load(&path) {
            let _ = o.source_at(0xffff_ffff_8100_0050);
        }
    }
    std::fs::write(&path, &bytes[..40]).expect("write");
    let e = DebugObject::load(&path).expect_err("cut header");
    assert!(matches!(e, SymbolizeError::Malformed { .. }), "{e}");
}

// Random corruption of the DWARF sections never panics; lookups return something or nothing.
#[test]
fn corrupt_dwarf_does_not_panic() {
    for name in ["vmlinux-dwarf5", "vmlinux-dwarf4", "fixmod.ko"] {
        let bytes = std::fs::read(fixture(name)).expect("fixture");
        let file = object_range(&bytes);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..(1 + round % 8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = file.0 + (seed as usize) % (file.1 - file.0);
                b[at] = (seed >> 32) as u8;
            }
            std::fs::write(&path, &b).expect("write");
            if let Ok(o) = DebugObject::load(&path) {
                let pcs: Vec<u64> = (0..0x130).map(|i| 0xffff_ffff_8100_0000 + i).collect();
                o.prepare(&pcs, 2);
                for pc in pcs {
                    let _ = o.source_at(pc);
                }
                let _ = o.encode_index(1);
            }
        }
    }
}

/// The byte range holding the DWARF sections of a fixture (what we corrupt).
fn object_range(bytes: &[u8]) -> (usize, usize) {
    use object::{Object, ObjectSection};
    let f = object::File::parse(bytes).expect("valid fixture");
    let ranges: Vec<(u64, u64)> = f
        .sections()
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(".debug_")))
        .filter_map(|s| s.file_range())
        .collect();
    let start = ranges.iter().map(|r| r.0).min().expect("debug sections") as usize;
    let end = ranges
        .iter()
        .map(|r| r.0 + r.1)
        .max()
        .expect("debug sections") as usize;
    (start, end)
}

// A file that is not ELF at all is malformed, naming the file.
#[test]
fn not_an_elf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vmlinux-garbage");
    std::fs::write(&path, b"this is not an ELF file at all, just text").expect("write");
    let e = DebugObject::load(&path).expect_err("garbage");
    assert!(e.to_string().contains("vmlinux-garbage"), "{e}");
}

// A compressed section announcing an absurd uncompressed size is refused before any
// allocation (found by fuzzing: 12 GB from a 4 KB file).
#[test]
fn compressed_section_bomb_is_refused() {
    use object::{Object, ObjectSection};
    let mut bytes = std::fs::read(fixture("vmlinux-dwarf5-zlib")).expect("fixture");
    let off = {
        let f = object::File::parse(&*bytes).expect("valid fixture");
        let s = f.section_by_name(".debug_info").expect(".debug_info");
        s.file_range().expect("in file").0 as usize
    };
    // Elf64_Chdr: ch_type u32, ch_reserved u32, ch_size u64.
    bytes[off + 8..off + 16].copy_from_slice(&(12u64 << 30).to_le_bytes());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bomb");
    std::fs::write(&path, &bytes).expect("write");
    let e = DebugObject::load(&path).expect_err("refused");
    assert!(e.to_string().contains("uncompressed bytes"), "{e}");
}

// Inputs that once crashed the fuzz targets load without a panic (fixtures/dwarf/regress).
#[test]
fn fuzz_regressions() {
    let dir = fixture("regress");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regress dir").flatten() {
        n += 1;
        let bytes = std::fs::read(entry.path()).expect("read");
        if let Ok(o) = DebugObject::from_bytes(&entry.path(), bytes) {
            let pcs: Vec<u64> = (0..0x130).map(|i| 0xffff_ffff_8100_0000 + i).collect();
            o.prepare(&pcs, 1);
            for pc in pcs {
                let _ = o.source_at(pc);
            }
        }
    }
    assert!(n >= 2, "regression inputs present");
}
