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
mod facts;
pub use crate::glob;
mod json;
mod parse;
mod prepare;

use std::path::{Path, PathBuf};

pub use check::{Chosen, check, check_chosen};
pub use facts::BagFacts;
pub use prepare::{prepare, prepare_for};

/// Why a profile could not be used. The message names the profile (file or built-in name),
/// the JSON field where it applies, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile file could not be read.
    #[error("cannot read the BagIt profile {path}: {source}; check the path and its permissions")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The profile is not JSON.
    #[error(
        "{origin} is not a JSON BagIt profile: {message}; a profile is a JSON object (see docs/profiles.md)"
    )]
    NotJson {
        /// File or built-in name.
        origin: String,
        /// The JSON parser's message, with line and column.
        message: String,
    },
    /// A field is missing, of the wrong type, or holds a value the spec does not allow.
    #[error("{origin}: field {field}: {message}")]
    Field {
        /// File or built-in name.
        origin: String,
        /// The JSON field, e.g. `Bag-Info.Access.values` or `Manifests-Required`.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The name is neither a built-in nor an existing file.
    #[error(
        "no BagIt profile named {name:?}: it is not a built-in ({builtins}) nor a file that exists"
    )]
    Unknown {
        /// What was asked for.
        name: String,
        /// The built-in names, comma-separated.
        builtins: String,
    },
}

/// `Serialization`: whether a bag may, must or must not be an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serialization {
    /// `forbidden`: the bag must be a folder.
    Forbidden,
    /// `required`: the bag must be an archive of a type in `Accept-Serialization`.
    Required,
    /// `optional` (the default): either; an archive must be of an accepted type.
    Optional,
}

/// The `BagIt-Profile-Info` section: what the profile is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileInfo {
    /// `BagIt-Profile-Identifier`: the URI bags name in their `bag-info.txt`.
    pub identifier: String,
    /// `Source-Organization`.
    pub source_organization: String,
    /// `External-Description`.
    pub external_description: String,
    /// `Version`: the profile's own version.
    pub version: String,
    /// `BagIt-Profile-Version`: the version of the profiles spec followed (`1.1.0` when absent,
    /// as the spec says).
    pub spec_version: String,
    /// `Contact-Name`, if given.
    pub contact_name: Option<String>,
    /// `Contact-Phone`, if given.
    pub contact_phone: Option<String>,
    /// `Contact-Email`, if given.
    pub contact_email: Option<String>,
}

/// The rule for one tag (a `Bag-Info` entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRule {
    /// The label, as the profile writes it (matched without regard to case).
    pub name: String,
    /// `required` (default false): present, with a non-empty value.
    pub required: bool,
    /// `values`: the allowed values (empty: any).
    pub values: Vec<String>,
    /// `repeatable` (default true): may appear more than once.
    pub repeatable: bool,
    /// `description`: notes for people; not checked.
    pub description: Option<String>,
    /// `default` (a qoima extension, also found in DART profiles as `defaultValue`): the value
    /// [`prepare`] fills in when the user gives none.
    pub default: Option<String>,
}

/// A parsed BagIt profile: every rule, with the spec's defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Where it came from: the file path, or the built-in name.
    pub origin: String,
    /// `BagIt-Profile-Info`.
    pub info: ProfileInfo,
    /// `Bag-Info`: rules for `bag-info.txt`, in the profile's order.
    pub bag_info: Vec<TagRule>,
    /// `x-qoima-Tag-Files-Info` (a qoima extension): rules for the tags of other root-level tag
    /// files, e.g. APTrust's `aptrust-info.txt`; file name and rules, in the profile's order.
    pub other_tag_info: Vec<(String, Vec<TagRule>)>,
    /// `Manifests-Required`: normalised algorithm names (`sha256`).
    pub manifests_required: Vec<String>,
    /// `Manifests-Allowed` (spec 1.3): `None` allows every algorithm.
    pub manifests_allowed: Option<Vec<String>>,
    /// `Tag-Manifests-Required`.
    pub tag_manifests_required: Vec<String>,
    /// `Tag-Manifests-Allowed` (spec 1.3): `None` allows every algorithm.
    pub tag_manifests_allowed: Option<Vec<String>>,
    /// `Allow-Fetch.txt` (default true).
    pub allow_fetch: bool,
    /// `Fetch.txt-Required` (spec 1.3; default false).
    pub fetch_required: bool,
    /// `Data-Empty` (spec 1.3; default false): `data/` holds no file or one empty file.
    pub data_empty: bool,
    /// `Serialization` (default optional).
    pub serialization: Serialization,
    /// `Accept-Serialization`: media types (empty: any type, when serialization is optional).
    pub accept_serialization: Vec<String>,
    /// `Accept-BagIt-Version`: `None` when the profile does not say.
    pub accept_bagit_version: Option<Vec<String>>,
    /// `Tag-Files-Required`: bag-relative paths.
    pub tag_files_required: Vec<String>,
    /// `Tag-Files-Allowed` (spec 1.2): patterns; `None` allows every tag file.
    pub tag_files_allowed: Option<Vec<String>>,
    /// `Payload-Files-Required` (spec 1.4): bag-relative paths; one ending in `/` asks for a
    /// folder holding at least one file.
    pub payload_files_required: Vec<String>,
    /// `Payload-Files-Allowed` (spec 1.4): patterns; `None` allows every payload file.
    pub payload_files_allowed: Option<Vec<String>>,
    /// `x-qoima-Folder-Named-Like-Archive` (a qoima extension): a serialized bag's single
    /// folder must have the archive's name without its extension (APTrust requires it).
    pub folder_named_like_archive: bool,
    /// `x-qoima-Identifier-Aliases` (a qoima extension): other identifiers that name this same
    /// profile, as bags in the wild write them (the raw GitHub URL of the same JSON, `http:`
    /// spellings). A bag naming one of them names this profile.
    pub identifier_aliases: Vec<String>,
}

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

    /// `BagIt-Profile-Identifier`: the URI a conforming bag names in its `bag-info.txt`.
    pub fn identifier(&self) -> &str {
        &self.info.identifier
    }

    /// Whether `identifier` (trimmed) names this profile: its own identifier or one of its
    /// aliases, compared exactly.
    pub fn is_known_as(&self, identifier: &str) -> bool {
        let id = identifier.trim();
        id == self.identifier() || self.identifier_aliases.iter().any(|alias| alias == id)
    }

    /// How messages name the profile: its origin and version, e.g. `aptrust-2.3 (version 2.3)`.
    pub fn display_name(&self) -> String {
        format!("{} (version {})", self.origin, self.info.version)
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
