//! BagIt Profiles (<https://bagit-profiles.github.io/bagit-profiles-specification/>, versions
//! 1.1 to 1.4): a JSON document in which the producer and the consumer of bags agree on what a
//! bag must hold beyond RFC 8493 — required `bag-info.txt` tags and their allowed values, the
//! manifest algorithms, whether `fetch.txt` and serialization are allowed, which tag and payload
//! files may or must be there.
//!
//! The module is three steps, each usable alone:
//! - [`Profile::parse`] reads a profile and refuses a malformed one with a [`ProfileError`]
//!   naming the file and the JSON field (a broken profile is the profile author's problem, not
//!   the bag's, so it is an `Err`, never a problem code);
//! - [`BagFacts::from_store`] gathers once what any profile can ask about a bag, and
//!   [`check`] holds the facts to a profile, returning coded problems (`PROF-…`);
//! - [`prepare`] fills a profile's fixed values into the options of a bag about to be made, or
//!   says which values the user still has to give.
//!
//! Built-in profiles (APTrust 2.2 and 2.3, Beyond the Repository 1.0) are embedded from
//! `profiles/*.json`; `docs/profiles.md` says where each comes from.

mod check;
mod conform;
mod facts;
pub use crate::glob;
mod json;
mod model;
mod parse;
mod prepare;

use std::path::{Path, PathBuf};

pub use check::{Chosen, check, check_chosen};
pub use conform::conform;
pub use facts::BagFacts;
pub use model::{Profile, ProfileError, ProfileInfo, Serialization, TagRule};
pub use prepare::{prepare, prepare_for};

/// A built-in profile: its names and its JSON.
struct Builtin {
    names: &'static [&'static str],
    json: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        names: &["aptrust", "aptrust-2.3"],
        json: include_str!("../../profiles/aptrust-2.3.json"),
    },
    Builtin {
        names: &["aptrust-2.2"],
        json: include_str!("../../profiles/aptrust-2.2.json"),
    },
    Builtin {
        names: &["btr", "btr-1.0"],
        json: include_str!("../../profiles/btr-1.0.json"),
    },
    Builtin {
        names: &["qoima-evidence", "qoima-evidence-1.0"],
        json: include_str!("../../profiles/qoima-evidence-1.0.json"),
    },
];

const BUILTIN_NAMES: &[&str] = &[
    "aptrust",
    "aptrust-2.3",
    "aptrust-2.2",
    "btr",
    "btr-1.0",
    "qoima-evidence",
    "qoima-evidence-1.0",
];

impl Profile {
    /// Parses a profile. `origin` (a file path or a built-in name) is named in every error.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Profile, ProfileError> {
        parse::parse(bytes, origin)
    }

    /// Reads and parses a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let bytes = crate::fsutil::read_bounded(path, crate::fsutil::SMALL_FILE_LIMIT).map_err(
            |source| ProfileError::Read {
                path: path.to_path_buf(),
                source,
            },
        )?;
        Profile::parse(&bytes, &path.display().to_string())
    }

    /// A built-in profile by name (case-insensitive): `aptrust` (= `aptrust-2.3`),
    /// `aptrust-2.2`, `btr` (= `btr-1.0`), `qoima-evidence` (= `qoima-evidence-1.0`, the shape
    /// of a sealed bag).
    pub fn builtin(name: &str) -> Option<Profile> {
        let builtin = BUILTINS.iter().find(|builtin| {
            builtin
                .names
                .iter()
                .any(|known| known.eq_ignore_ascii_case(name))
        })?;
        let canonical = builtin.names.last().copied().unwrap_or(name);
        // The built-ins are tested to parse; a failure here is a build defect.
        Some(
            parse::parse(builtin.json.as_bytes(), canonical)
                .unwrap_or_else(|error| panic!("built-in profile {canonical} is broken: {error}")),
        )
    }

    /// The names [`Profile::builtin`] accepts.
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// A built-in's name, or a path to a JSON profile. A name that is both is read as the
    /// built-in unless it contains a path separator or ends in `.json`.
    pub fn resolve(name_or_path: &str) -> Result<Profile, ProfileError> {
        let looks_like_path = name_or_path.contains(['/', '\\'])
            || name_or_path.to_ascii_lowercase().ends_with(".json");
        if !looks_like_path && let Some(profile) = Profile::builtin(name_or_path) {
            return Ok(profile);
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            return Profile::load(path);
        }
        Err(ProfileError::Unknown {
            name: name_or_path.to_string(),
            builtins: BUILTIN_NAMES.join(", "),
        })
    }
}

/// Finds the profile a bag names in `BagIt-Profile-Identifier`: among the built-ins first,
/// then among the `*.json` files directly in `dirs` (in order; unreadable or malformed files are
/// skipped, since they may be other JSON). Identifiers are compared exactly, after trimming,
/// with each profile's identifier and its aliases ([`Profile::is_known_as`]).
pub fn known(identifier: &str, dirs: &[&Path]) -> Option<Profile> {
    let id = identifier.trim();
    for builtin in BUILTINS {
        let profile = Profile::builtin(builtin.names[0])?;
        if profile.is_known_as(id) {
            return Some(profile);
        }
    }
    for dir in dirs {
        let Ok(listing) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = listing
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
                    && path.is_file()
            })
            .collect();
        files.sort();
        for file in files {
            if let Ok(profile) = Profile::load(&file)
                && profile.is_known_as(id)
            {
                return Some(profile);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_with_their_identifiers() {
        let aptrust = Profile::builtin("aptrust").unwrap();
        assert_eq!(
            aptrust.identifier(),
            "https://raw.githubusercontent.com/APTrust/preservation-services/master/profiles/aptrust-v2.3.json"
        );
        assert_eq!(aptrust.info.version, "2.3");
        assert_eq!(aptrust.origin, "aptrust-2.3");
        assert_eq!(Profile::builtin("APTrust-2.3").unwrap(), aptrust);
        let a22 = Profile::builtin("aptrust-2.2").unwrap();
        assert_eq!(
            a22.identifier(),
            "https://raw.githubusercontent.com/APTrust/preservation-services/master/profiles/aptrust-v2.2.json"
        );
        assert_eq!(a22.info.version, "2.2");
        let btr = Profile::builtin("btr").unwrap();
        assert_eq!(
            btr.identifier(),
            "https://github.com/dpscollaborative/btr_bagit_profile/releases/download/1.0/btr-bagit-profile.json"
        );
        assert_eq!(btr.info.version, "1.0");
        assert_eq!(btr.info.spec_version, "1.3.0");
        assert_eq!(Profile::builtin("btr-1.0").unwrap(), btr);
        for n in Profile::builtin_names() {
            assert!(Profile::builtin(n).is_some(), "{n}");
        }
        assert!(Profile::builtin("dpn").is_none());
    }

    #[test]
    fn builtin_rules_are_the_published_ones() {
        let aptrust = Profile::builtin("aptrust-2.3").unwrap();
        assert_eq!(aptrust.manifests_required, ["md5"]);
        assert_eq!(
            aptrust.manifests_allowed.as_deref().unwrap(),
            ["md5", "sha1", "sha256", "sha512"]
        );
        assert!(!aptrust.allow_fetch);
        assert_eq!(aptrust.serialization, Serialization::Required);
        assert_eq!(aptrust.accept_serialization, ["application/tar"]);
        assert_eq!(aptrust.tag_files_required, ["aptrust-info.txt"]);
        let (file, tags) = &aptrust.other_tag_info[0];
        assert_eq!(file, "aptrust-info.txt");
        let storage = tags.iter().find(|t| t.name == "Storage-Option").unwrap();
        assert!(storage.values.iter().any(|v| v == "Wasabi-TX"));
        let a22 = Profile::builtin("aptrust-2.2").unwrap();
        assert_eq!(a22.manifests_allowed.as_deref().unwrap(), ["md5", "sha256"]);
        let storage = a22.other_tag_info[0]
            .1
            .iter()
            .find(|t| t.name == "Storage-Option")
            .unwrap();
        assert!(!storage.values.iter().any(|v| v.starts_with("Wasabi")));
        let btr = Profile::builtin("btr").unwrap();
        assert!(btr.manifests_required.is_empty());
        assert_eq!(btr.serialization, Serialization::Optional);
        let required: Vec<&str> = btr
            .bag_info
            .iter()
            .filter(|t| t.required)
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            required,
            ["Source-Organization", "Bagging-Date", "Payload-Oxum"]
        );
    }

    #[test]
    fn resolve_names_files_and_unknowns() {
        assert_eq!(
            Profile::resolve("btr").unwrap().identifier(),
            Profile::builtin("btr").unwrap().identifier()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.json");
        std::fs::write(&file, parse::tests::MINIMAL).unwrap();
        let profile = Profile::resolve(file.to_str().unwrap()).unwrap();
        assert_eq!(
            profile.identifier(),
            "https://example.org/profiles/minimal-1.json"
        );
        assert_eq!(profile.origin, file.display().to_string());
        let error = Profile::resolve("no-such-profile").unwrap_err();
        assert!(matches!(error, ProfileError::Unknown { .. }));
        assert!(error.to_string().contains("aptrust-2.2"), "{error}");
        let error =
            Profile::resolve(dir.path().join("missing.json").to_str().unwrap()).unwrap_err();
        assert!(matches!(error, ProfileError::Unknown { .. }), "{error}");
    }

    #[test]
    fn known_finds_builtins_and_folder_profiles() {
        let btr = known(
            " https://github.com/dpscollaborative/btr_bagit_profile/releases/download/1.0/btr-bagit-profile.json ",
            &[],
        )
        .unwrap();
        assert_eq!(btr.origin, "btr-1.0");
        // The raw GitHub URL of the same JSON, as BTR's own sample bags write it.
        let raw = "https://raw.githubusercontent.com/dpscollaborative/btr_bagit_profile/master/btr-bagit-profile.json";
        assert_eq!(known(raw, &[]).unwrap().origin, "btr-1.0");
        assert!(btr.is_known_as(raw));
        assert!(!btr.is_known_as("https://raw.githubusercontent.com/dpscollaborative/other.json"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("minimal.json"), parse::tests::MINIMAL).unwrap();
        let profile = known(
            "https://example.org/profiles/minimal-1.json",
            &[Path::new("/nonexistent"), dir.path()],
        )
        .unwrap();
        assert!(profile.origin.ends_with("minimal.json"));
        assert!(known("https://example.org/other.json", &[dir.path()]).is_none());
    }
}
