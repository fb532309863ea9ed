//! Fuzzes the persisted index reader: damaged index files are rejected, never trusted blindly.
#![no_main]

use crashsift_model::BuildId;
use crashsift_symbolize::index;
use crashsift_symbolize::mmap::Bytes;
use crashsift_symbolize::table::TableView;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The build id the header claims (so the fuzzer gets past the id check).
    let claimed = data
        .get(12..16)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .and_then(|n| data.get(16..16 + (n as usize).min(32)));
    let Some(Ok(id)) = claimed.map(BuildId::from_bytes) else {
        return;
    };
    // Raw bytes, and the same bytes re-sealed with a valid checksum (to reach the decoder).
    let mut sealed = data.to_vec();
    if sealed.len() >= 8 {
        let n = sealed.len() - 8;
        let sum = index::checksum(&sealed[..n]);
        sealed[n..].copy_from_slice(&sum.to_le_bytes());
    }
    for bytes in [data.to_vec(), sealed] {
        if let Ok((symtab, table)) = index::decode(Bytes::Owned(bytes), &id) {
            for pc in [0u64, 0x1000, 0x1004, u64::MAX] {
                let _ = table.chain(pc);
                let _ = symtab.containing(pc);
            }
        }
    }
});
