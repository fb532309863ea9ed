//! Fuzzes the whole reader (format detection, ELF/kdump/flattened parsing, translation,
//! printk ring) on arbitrary bytes: it must return a log or an error, never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crashsift_vmcore::read_log_from_bytes(data);
});
