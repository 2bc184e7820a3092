//! The unencrypted files of an encrypted bundle: `NAME.envelope.txt`, the
//! `NAME.tar.age.sha256` checksum line, and the signed statements (the outer signature's
//! trusted comment, and a sealed bag's).
#![no_main]
use libfuzzer_sys::fuzz_target;
use qoima::seal::bundle::{BundleStatement, parse_checksum};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for label in ["Ciphertext-SHA256", "Tag-Manifest-SHA256"] {
        let _ = qoima::fuzzing::envelope_field(&text, label);
    }
    let _ = parse_checksum(&text, "bundle.tar.age");
    if let Some(statement) = BundleStatement::parse(&text) {
        let _ = statement.render();
    }
    if let Some(statement) = qoima::seal::Statement::parse(&text) {
        let _ = statement.render();
    }
});
