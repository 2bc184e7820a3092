//! `collection.toml`, the collection's own Dublin Core, as `qoima check` and `qoima package` read it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = qoima_fuzz::scratch().join("collection");
    std::fs::create_dir_all(&root).expect("a scratch collection folder");
    std::fs::write(root.join("collection.toml"), data).expect("the scratch folder is writable");
    let _ = qoima::metadata::load_collection(&root);
});
