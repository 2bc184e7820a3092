//! What a BagIt profile is, as qoima holds it: [`Profile`] and its rules, with the spec's
//! defaults filled in, and [`ProfileError`], why one could not be used. Every other file of
//! the module builds on these types; this one imports none of them.

use std::path::PathBuf;

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
    /// [`prepare`](super::prepare) fills in when the user gives none.
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

impl Profile {
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
