//! `bag-info.txt` (and `package-info.txt`), under each encoding and version qoima reads.
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima_fuzz::READINGS;

fuzz_target!(|data: &[u8]| {
    for (encoding, version) in READINGS {
        let mut problems = qoima::verdict::Problems::default();
        let info =
            qoima::bagit::baginfo::parse(data, "bag-info.txt", encoding, version, &mut problems);
        let _ = info.oxum();
        let _ = info.render();
    }
});
