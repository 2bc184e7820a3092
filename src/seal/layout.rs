//! Where things sit in a sealed bag, and the names the seal gives them: the folders and files
//! the seal adds, how signature and token files are named, the name the statements give a
//! bag, and an encrypted bundle's extension. Every other seal file asks here, so that none of
//! them has to reach into another feature's file for a name.

use std::fs;
use std::path::Path;

use super::SealError;
use crate::bagit::Version;
use crate::bagit::baginfo::{self, BagInfo};
use crate::bagit::text::Encoding;

/// Where the sealer's public key is kept in the bag (listed in the tag manifests).
pub const KEY_FILE: &str = "metadata/keys/sealer.minisign.pub";
/// The human instructions at the bag's root.
pub const VERIFY_TXT: &str = "VERIFY.txt";
/// The stock-tools verifier at the bag's root.
pub const VERIFY_SH: &str = "verify.sh";
/// The folder of detached signatures (not in the tag manifests).
pub const SEAL_DIR: &str = "seal";
/// The folder of the custody log (not in the tag manifests).
pub const CUSTODY_DIR: &str = "custody";
/// The extension of an RFC 3161 token file (`FILE.TSA.tsr`).
pub const TOKEN_EXTENSION: &str = ".tsr";
/// The extension of an encrypted bundle (`NAME.tar.age`).
pub const BUNDLE_EXTENSION: &str = ".tar.age";

/// Whether `name` (a file name in `seal/`) is a tag manifest's signature,
/// `tagmanifest-ALG.txt.minisig`.
pub fn is_tag_manifest_signature(name: &str) -> bool {
    name.starts_with("tagmanifest-") && name.ends_with(".txt.minisig")
}

/// Whether `name` (a file name in `custody/`) is a custody entry's signature,
/// `NNNNNN.json.minisig`.
pub fn is_custody_signature(name: &str) -> bool {
    name.strip_suffix(".json.minisig")
        .is_some_and(|stem| stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `path` names an encrypted bundle (`*.tar.age`).
pub fn is_bundle(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.len() > BUNDLE_EXTENSION.len() && name.ends_with(BUNDLE_EXTENSION))
}

/// Whether the bag's custody log holds any entry (or signature): once it does, the seal may
/// not be remade, since entry 1 chains to the signed tag manifest.
pub fn has_entries(bag: &Path) -> bool {
    fs::read_dir(bag.join(CUSTODY_DIR)).is_ok_and(|mut listing| {
        listing.any(|entry| {
            entry.is_ok_and(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.ends_with(".json") || name.ends_with(".json.minisig")
            })
        })
    })
}

/// The names of the time-stamp tokens over the seal (`seal/*.tsr`), unsorted.
pub fn seal_tokens(bag: &Path) -> Vec<String> {
    fs::read_dir(bag.join(SEAL_DIR))
        .map(|listing| {
            listing
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(TOKEN_EXTENSION))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the sealed bag `bag` holds time-stamps over its seal (`seal/*.tsr`).
pub fn is_stamped(bag: &Path) -> bool {
    fs::read_dir(bag.join(SEAL_DIR)).is_ok_and(|mut listing| {
        listing.any(|entry| {
            entry.is_ok_and(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .ends_with(TOKEN_EXTENSION)
            })
        })
    })
}

/// The bag folder's own name (what the statements name a bag without External-Identifier).
pub fn folder_name(bag: &Path) -> Result<String, SealError> {
    let absolute = fs::canonicalize(bag).map_err(SealError::io(bag))?;
    Ok(absolute
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default())
}

/// The bag's `bag-info.txt`, read leniently (its problems are validation's to report); empty
/// when it cannot be read.
pub fn read_info(bag: &Path) -> BagInfo {
    crate::fsutil::read_regular(&bag.join("bag-info.txt"))
        .map(|bytes| {
            baginfo::parse(
                &bytes[..],
                "bag-info.txt",
                Encoding::Utf8,
                Version::V1_0,
                &mut crate::verdict::Problems::default(),
            )
        })
        .unwrap_or_default()
}

/// The External-Identifier of `info`, when it holds a non-blank one.
pub fn external_identifier(info: &BagInfo) -> Option<String> {
    match info.get("External-Identifier") {
        Some(id) if !id.trim().is_empty() => Some(id.to_string()),
        _ => None,
    }
}

/// The bag's name, as the seal's statements give it: its External-Identifier, else its folder
/// name (empty when neither can be had).
pub fn bag_name(bag: &Path) -> String {
    external_identifier(&read_info(bag)).unwrap_or_else(|| folder_name(bag).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognised_by_their_form() {
        assert!(is_bundle(Path::new("d/bundle.tar.age")));
        assert!(!is_bundle(Path::new(".tar.age")));
        assert!(!is_bundle(Path::new("bag")));
        assert!(is_tag_manifest_signature("tagmanifest-sha256.txt.minisig"));
        assert!(!is_tag_manifest_signature("manifest-sha256.txt.minisig"));
        assert!(is_custody_signature("000001.json.minisig"));
        assert!(!is_custody_signature("1.json.minisig"));
    }
}
