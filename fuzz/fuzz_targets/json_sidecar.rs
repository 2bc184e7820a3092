//! `metadata.json`: the array or `items` object, values, and the line of each record.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = qoima::fuzzing::json_sidecar(data);
});
