//! Payload and tag manifests, under each encoding and version qoima reads, and for an
//! algorithm with short digests (md5) and one with long ones (sha512).
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima_fuzz::READINGS;

fuzz_target!(|data: &[u8]| {
    for ((encoding, version), file) in READINGS
        .into_iter()
        .zip(["manifest-sha512.txt", "tagmanifest-md5.txt"])
    {
        let mut problems = qoima::verdict::Problems::default();
        let _ = qoima::bagit::manifest::parse(data, file, encoding, version, &mut problems);
    }
});
