//! A zip bag read in place: the central directory, the screening of its entries, and the
//! start of each entry's data (stored or deflated, checked against its CRC).
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima::store::Limits;
use qoima::store::ZipStore;

fuzz_target!(|data: &[u8]| {
    let path = qoima_fuzz::scratch_file("bag.zip", data);
    if let Ok(store) = ZipStore::open(&path, &Limits::default()) {
        qoima_fuzz::read_store(&store);
    }
});
