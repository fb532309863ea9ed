//! Fuzzes ELF + DWARF loading and lookups: any bytes must give an error or answers, never a panic.
#![no_main]

use crashsift_symbolize::DebugObject;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = DebugObject::from_bytes(Path::new("fuzz.elf"), data.to_vec()) else {
        return;
    };
    // Look up the symbols' own addresses and a spread of pcs around the fixture's text.
    let mut pcs: Vec<u64> = (0..64u64).map(|i| 0xffff_ffff_8100_0000 + i * 5).collect();
    pcs.extend((0..64u64).map(|i| 0x10_0000 + i * 3));
    obj.prepare(&pcs, 1);
    for pc in &pcs {
        let _ = obj.source_and_function(*pc);
    }
    let frame = crashsift_model::report::Frame {
        function: Some("outer".into()),
        offset: Some(4),
        size: Some(0x20),
        ..Default::default()
    };
    if let Ok(p) = obj.frame_pcs(&frame, None) {
        let _ = obj.resolve(&frame, &p);
    }
    let _ = obj.encode_index(1);
});
