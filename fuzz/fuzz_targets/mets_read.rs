//! A packaged bag's METS, read back for its `fileSec` (locations and checksums).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(xml) = std::str::from_utf8(data) {
        let _ = qoima::describe::mets_read::files(xml);
    }
});
