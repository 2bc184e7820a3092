//! A photo as `qoima check` examines it (without `--decode`): identification, the structural
//! check of whichever format it is (JPEG, PNG, TIFF, GIF, WebP, JPEG 2000, HEIF), the
//! technical properties and Exif.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = qoima::photo::examine("photos/item.jpg", data, false);
    let _ = report.is_valid();
});
