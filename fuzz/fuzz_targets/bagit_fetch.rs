//! `fetch.txt`, under each encoding and version qoima reads.
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima_fuzz::READINGS;

fuzz_target!(|data: &[u8]| {
    for (encoding, version) in READINGS {
        let mut problems = qoima::verdict::Problems::default();
        let _ = qoima::bagit::fetch::parse(data, encoding, version, &mut problems);
    }
});
