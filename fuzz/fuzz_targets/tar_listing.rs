//! A tar or tar.gz bag, opened as `validate` opens any file (by content): the headers (GNU,
//! PAX, long names), the screening of entries, and the start of each entry's data.
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima::store::Limits;

fuzz_target!(|data: &[u8]| {
    let path = qoima_fuzz::scratch_file("bag.tar", data);
    if let Ok((store, _format)) = qoima::store::open(&path, &Limits::default(), false) {
        qoima_fuzz::read_store(store.as_ref());
    }
});
