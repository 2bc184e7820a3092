//! An RFC 3161 time-stamp reply (`.tsr`): the DER of the reply, token and TSTInfo, the
//! imprint, the ESS signing-certificate attribute, and the CMS signature checked by OpenSSL
//! against the test roots. The data is the one the seed tokens stamp, so that mutations get
//! past the imprint check to the signature.
#![no_main]
use libfuzzer_sys::fuzz_target;

const STAMPED: &[u8] = include_bytes!(
    "../../fixtures/seal/cases/40-honest-timestamp/bag/seal/tagmanifest-sha256.txt.minisig"
);
const ROOTS: &[u8] = include_bytes!("../../fixtures/seal/keys/tsa-roots.pem");

fuzz_target!(|data: &[u8]| {
    let _ = qoima::seal::timestamp::verify(data, STAMPED, Some(ROOTS));
});
