//! One chain-of-custody entry (`custody/NNNNNN.json`), held to its canonical form.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = qoima::seal::custody::parse_entry(data) {
        let _ = entry.canonical();
    }
});
