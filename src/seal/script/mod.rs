//! The two files a sealed bag carries for recipients without qoima: `verify.sh`, a POSIX
//! script that checks the bag with `sha256sum` and `minisign` only, and `VERIFY.txt`, the same
//! steps for a person. Both are listed in the tag manifests, so they are sealed too.
//!
//! The script is the same in every bag (nothing is filled in), so it can be reviewed once. It
//! is kept as shell in `verify.sh` beside this file, so that it reads, diffs and lints as shell
//! (`tests/it/seal_encrypt.rs` runs `shellcheck` on it); its bytes are those of every sealed bag's
//! `verify.sh` and are signed in every bundle's statement, so any edit changes the sealed output.

use super::{DOES_NOT_PROVE, KEY_FILE, PROVES, SEAL_VERSION};

/// `verify.sh`, as written into every sealed bag.
pub const VERIFY_SH: &str = include_str!("verify.sh");

/// `VERIFY.txt` for a bag sealed by `key` (base64) with id `key_id`.
pub fn verify_txt(bag: &str, key: &str, key_id: &str, signer: &str, sealed: &str) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "This bag is sealed ({SEAL_VERSION}).\n\n\
         Bag:     {bag}\n\
         Signer:  {signer}\n\
         Key:     {key} (key id {key_id})\n\
         Sealed:  {sealed} (the signer's own clock)\n\n\
         Trust the key only if you got it from the signer through another channel (their\n\
         website, a printed card, a call): the copy in {KEY_FILE} only names it.\n\n\
         A seal proves:\n"
    ));
    for claim in PROVES {
        text.push_str(&format!("  - {claim};\n"));
    }
    text.push_str("A seal does not prove:\n");
    for claim in DOES_NOT_PROVE {
        text.push_str(&format!("  - {claim};\n"));
    }
    text.push_str(
        "Evidence about earlier provenance comes from inputs kept inside the bag (ProofMode\n\
         proofs, C2PA manifests, EXIF, the sender's statement).\n\n\
         To verify, put the keys you trust in a file (one base64 line each), then either:\n\n\
         \x20   qoima verify-seal BAG --trusted-keys trusted-keys.txt\n\n\
         or, with stock tools only (sha256sum and minisign):\n\n\
         \x20   sh BAG/verify.sh BAG trusted-keys.txt\n\n\
         or by hand, inside the bag:\n\n\
         \x20   sha256sum -c manifest-sha256.txt\n\
         \x20   sha256sum -c tagmanifest-sha256.txt\n\
         \x20   find data -type f | sort      # must be exactly the files manifest-sha256.txt lists\n\
         \x20   minisign -Vm tagmanifest-sha256.txt -x seal/tagmanifest-sha256.txt.minisig -P <trusted key>\n\
         \x20   sha256sum tagmanifest-sha256.txt   # must equal the digest in the trusted comment\n\n\
         bagit.py --validate BAG checks the BagIt part as well. seal/ holds the signatures; it is\n\
         not in the tag manifests, so that later proofs over the seal can be added to it.\n",
    );
    text.push_str(
        "\nseal/*.tsr files, when present, are RFC 3161 time-stamps over the signatures, from a\n\
         time-stamp authority (TSA): proof that the seal existed at the TSA's time. They count\n\
         only against the TSA certificates you trust (obtained from the TSA itself):\n\n\
         \x20   sh BAG/verify.sh -t tsa-roots.pem BAG trusted-keys.txt\n\
         \x20   openssl ts -verify -data seal/tagmanifest-sha256.txt.minisig \\\n\
         \x20       -in seal/tagmanifest-sha256.txt.minisig.<tsa>.tsr -CAfile tsa-roots.pem\n\
         \x20   openssl ts -reply -in seal/tagmanifest-sha256.txt.minisig.<tsa>.tsr -text   # the time\n\n\
         or: qoima verify-seal BAG --trusted-keys trusted-keys.txt --tsa-roots tsa-roots.pem\n",
    );
    text.push_str(
        "\ncustody/, when present, is the custody log: one signed entry per transfer or check\n\
         after sealing, each chained to the one before it (entry 1 to tagmanifest-sha256.txt).\n\
         verify.sh checks it too, against the same trusted keys; pass the head digest a receipt\n\
         gave you with -e to check that no entry was cut from its end (a trusted time-stamp\n\
         over an entry's signature, custody/NNNNNN.json.minisig.<tsa>.tsr, anchors it too):\n\n\
         \x20   sh BAG/verify.sh -e sha256:<head> BAG trusted-keys.txt\n\n\
         or: qoima custody verify BAG --trusted-keys trusted-keys.txt --expect-head sha256:<head>\n",
    );
    text
}
