//! Exif, read as the family the content is identified as, whatever its structure.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = qoima::fuzzing::exif(data);
});
