//! Fuzzes the LZO1X decompressor: arbitrary input into a page-sized buffer, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 4096];
    let _ = crashsift_vmcore::lzo::decompress(data, &mut out);
});
