//! Fuzz target: `parse` never panics, and every report it returns is self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    for r in crashsift_report::parse(&text) {
        assert!(r.start_line < r.end_line && r.end_line <= lines, "line range");
        assert_eq!(crashsift_report::signature(&r).to_string(), r.signature);
        assert!(crashsift_model::Signature::parse(&r.signature).is_ok());
    }
});
