//! `metadata.csv`: delimiter detection, the header, records, repeats and cell checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = qoima::fuzzing::csv_sidecar(data, None);
});
