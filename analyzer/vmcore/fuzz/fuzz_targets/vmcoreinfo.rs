//! Fuzzes the VMCOREINFO parser: any text parses to some struct, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let info = crashsift_vmcore::VmcoreInfo::parse(data);
    let _ = (info.osrelease(), info.build_id(), info.phys_base());
});
