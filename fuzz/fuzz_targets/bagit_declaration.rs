//! `bagit.txt`, as `validate` reads it first.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut problems = qoima::verdict::Problems::default();
    let _ = qoima::bagit::declaration::parse(data, &mut problems);
});
