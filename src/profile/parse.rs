//! Reading a profile's JSON into a [`Profile`], with the spec's defaults, refusing what the spec
//! does not allow.
//!
//! Top-level keys are matched without regard to case and unknown ones are ignored, so a profile
//! written for a later version of the spec still loads (its new rules are then not checked).
//! A known key with the wrong type, or a value outside the spec's choices, is a
//! [`ProfileError::Field`] naming the key: checking bags against a profile qoima misread would
//! give verdicts nobody can trust. The sections are read in a fixed order, so the error a
//! profile with several faults gets is always the same one.

use serde_json::{Map, Value};

use super::json::{
    Ctx, KeyOrder, bool_field, get, opt_string, ordered, required_string, string_list, type_name,
};
use super::model::{Profile, ProfileError, ProfileInfo, Serialization, TagRule};
use crate::digest::normalize_name;
use crate::glob;

/// The key of qoima's extension for tags in other tag files.
pub(super) const OTHER_TAG_INFO: &str = "x-qoima-Tag-Files-Info";
/// A qoima extension: a serialized bag's folder must be named like the archive (APTrust).
pub(super) const FOLDER_NAMED_LIKE_ARCHIVE: &str = "x-qoima-Folder-Named-Like-Archive";
/// A qoima extension: other identifiers bags name the same profile by (the raw URL of the same
/// JSON, an `http:` spelling), accepted as the profile's own.
pub(super) const IDENTIFIER_ALIASES: &str = "x-qoima-Identifier-Aliases";

/// The profile's JSON as a list of steps, each reading one section.
pub(super) fn parse(bytes: &[u8], origin: &str) -> Result<Profile, ProfileError> {
    let cx = Ctx { origin };
    let (root, order) = read_root(&cx, bytes)?;
    let info = profile_info(&cx, &root)?;
    let bag_info = bag_info_rules(&cx, &root, &order)?;
    let other_tag_info = other_tag_info_rules(&cx, &root, &order)?;
    let manifests = manifest_rules(&cx, &root)?;
    let identifier_aliases = identifier_aliases(&cx, &root)?;
    let switches = switches(&cx, &root)?;
    let form = form_rules(&cx, &root)?;
    let (tag_files_required, tag_files_allowed) = tag_file_rules(&cx, &root)?;
    let (payload_files_required, payload_files_allowed) = payload_file_rules(&cx, &root)?;
    Ok(Profile {
        origin: origin.to_string(),
        info,
        bag_info,
        other_tag_info,
        manifests_required: manifests.required,
        manifests_allowed: manifests.allowed,
        tag_manifests_required: manifests.tag_required,
        tag_manifests_allowed: manifests.tag_allowed,
        allow_fetch: switches.allow_fetch,
        fetch_required: switches.fetch_required,
        data_empty: switches.data_empty,
        serialization: form.serialization,
        accept_serialization: form.accept_serialization,
        accept_bagit_version: form.accept_bagit_version,
        tag_files_required,
        tag_files_allowed,
        payload_files_required,
        payload_files_allowed,
        folder_named_like_archive: switches.folder_named_like_archive,
        identifier_aliases,
    })
}

/// The top-level object, and the order its keys were written in.
fn read_root(cx: &Ctx, bytes: &[u8]) -> Result<(Map<String, Value>, KeyOrder), ProfileError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|error| ProfileError::NotJson {
        origin: cx.origin.to_string(),
        message: error.to_string(),
    })?;
    // Cannot fail where the parse above succeeded; an empty order only loses the ordering.
    let order: KeyOrder = serde_json::from_slice(bytes).unwrap_or_default();
    let Value::Object(root) = root else {
        return Err(cx.err(
            "(top level)",
            format!("a profile is a JSON object {{…}}, not {}", type_name(&root)),
        ));
    };
    Ok((root, order))
}

/// `BagIt-Profile-Info`.
fn profile_info(cx: &Ctx, root: &Map<String, Value>) -> Result<ProfileInfo, ProfileError> {
    let info = match get(root, "BagIt-Profile-Info") {
        Some(Value::Object(object)) => object,
        Some(value) => {
            return Err(cx.err(
                "BagIt-Profile-Info",
                format!("must be an object, not {}", type_name(value)),
            ));
        }
        None => {
            return Err(cx.err(
                "BagIt-Profile-Info",
                "is missing; every profile starts with a BagIt-Profile-Info object naming \
                 Source-Organization, External-Description, Version and BagIt-Profile-Identifier",
            ));
        }
    };
    let section = "BagIt-Profile-Info";
    Ok(ProfileInfo {
        identifier: required_string(cx, info, "BagIt-Profile-Identifier", section)?,
        source_organization: required_string(cx, info, "Source-Organization", section)?,
        external_description: required_string(cx, info, "External-Description", section)?,
        version: required_string(cx, info, "Version", section)?,
        spec_version: opt_string(
            cx,
            info,
            "BagIt-Profile-Version",
            "BagIt-Profile-Info.BagIt-Profile-Version",
        )?
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| "1.1.0".to_string()),
        contact_name: opt_string(cx, info, "Contact-Name", "BagIt-Profile-Info.Contact-Name")?,
        contact_phone: opt_string(
            cx,
            info,
            "Contact-Phone",
            "BagIt-Profile-Info.Contact-Phone",
        )?,
        contact_email: opt_string(
            cx,
            info,
            "Contact-Email",
            "BagIt-Profile-Info.Contact-Email",
        )?,
    })
}

/// `Bag-Info`: the rules for `bag-info.txt`, in the author's order.
fn bag_info_rules(
    cx: &Ctx,
    root: &Map<String, Value>,
    order: &KeyOrder,
) -> Result<Vec<TagRule>, ProfileError> {
    match get(root, "Bag-Info") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(object)) => tag_rules(cx, object, order.child("Bag-Info"), "Bag-Info"),
        Some(value) => Err(cx.err(
            "Bag-Info",
            format!("must be an object of tag rules, not {}", type_name(value)),
        )),
    }
}

/// `x-qoima-Tag-Files-Info`: the rules for other root-level tag files, by file.
fn other_tag_info_rules(
    cx: &Ctx,
    root: &Map<String, Value>,
    order: &KeyOrder,
) -> Result<Vec<(String, Vec<TagRule>)>, ProfileError> {
    let files = match get(root, OTHER_TAG_INFO) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(files)) => files,
        Some(value) => {
            return Err(cx.err(
                OTHER_TAG_INFO,
                format!(
                    "must be an object mapping tag files to tag rules, not {}",
                    type_name(value)
                ),
            ));
        }
    };
    let files_order = order.child(OTHER_TAG_INFO);
    let mut other_tag_info = Vec::new();
    for (file, rules) in ordered(files, files_order) {
        let field = format!("{OTHER_TAG_INFO}.{file}");
        if file.contains('/')
            || file.is_empty()
            || ["bagit.txt", "bag-info.txt", "fetch.txt"]
                .iter()
                .any(|reserved| reserved.eq_ignore_ascii_case(file))
        {
            return Err(cx.err(
                field,
                "names a tag file qoima cannot hold to tag rules here: it must be a \
                 root-level tag file other than bagit.txt, bag-info.txt and fetch.txt \
                 (rules for bag-info.txt go in Bag-Info)",
            ));
        }
        let Value::Object(rules) = rules else {
            return Err(cx.err(
                field,
                format!("must be an object of tag rules, not {}", type_name(rules)),
            ));
        };
        let rules_order = files_order.and_then(|files_order| files_order.child(file));
        other_tag_info.push((file.clone(), tag_rules(cx, rules, rules_order, &field)?));
    }
    Ok(other_tag_info)
}

/// The manifest algorithms a profile requires and allows.
struct ManifestRules {
    required: Vec<String>,
    allowed: Option<Vec<String>>,
    tag_required: Vec<String>,
    tag_allowed: Option<Vec<String>>,
}

/// `Manifests-Required`, `Manifests-Allowed`, `Tag-Manifests-Required`,
/// `Tag-Manifests-Allowed`; an allowed list must hold every required algorithm.
fn manifest_rules(cx: &Ctx, root: &Map<String, Value>) -> Result<ManifestRules, ProfileError> {
    let rules = ManifestRules {
        required: algorithms(cx, root, "Manifests-Required")?.unwrap_or_default(),
        allowed: algorithms(cx, root, "Manifests-Allowed")?,
        tag_required: algorithms(cx, root, "Tag-Manifests-Required")?.unwrap_or_default(),
        tag_allowed: algorithms(cx, root, "Tag-Manifests-Allowed")?,
    };
    for (required, allowed, key) in [
        (&rules.required, &rules.allowed, "Manifests-Allowed"),
        (
            &rules.tag_required,
            &rules.tag_allowed,
            "Tag-Manifests-Allowed",
        ),
    ] {
        if let Some(allowed) = allowed
            && let Some(missing) = required
                .iter()
                .find(|algorithm| !allowed.contains(algorithm))
        {
            return Err(cx.err(
                key,
                format!(
                    "must include every required algorithm, but lacks {missing:?}; add it, \
                     or remove it from the required list"
                ),
            ));
        }
    }
    Ok(rules)
}

/// `x-qoima-Identifier-Aliases`: none may be empty.
fn identifier_aliases(cx: &Ctx, root: &Map<String, Value>) -> Result<Vec<String>, ProfileError> {
    let aliases =
        string_list(cx, root, IDENTIFIER_ALIASES, IDENTIFIER_ALIASES)?.unwrap_or_default();
    if let Some(index) = aliases.iter().position(String::is_empty) {
        return Err(cx.err(
            format!("{IDENTIFIER_ALIASES}[{index}]"),
            "must not be empty; remove it or write the identifier",
        ));
    }
    Ok(aliases)
}

/// The profile's yes-or-no rules.
struct Switches {
    allow_fetch: bool,
    folder_named_like_archive: bool,
    fetch_required: bool,
    data_empty: bool,
}

/// `Allow-Fetch.txt`, `x-qoima-Folder-Named-Like-Archive`, `Fetch.txt-Required` (which
/// `Allow-Fetch.txt: false` contradicts) and `Data-Empty`, read in that order.
fn switches(cx: &Ctx, root: &Map<String, Value>) -> Result<Switches, ProfileError> {
    let allow_fetch = bool_field(cx, root, "Allow-Fetch.txt", "Allow-Fetch.txt", true)?;
    let folder_named_like_archive = bool_field(
        cx,
        root,
        FOLDER_NAMED_LIKE_ARCHIVE,
        FOLDER_NAMED_LIKE_ARCHIVE,
        false,
    )?;
    let fetch_required = bool_field(cx, root, "Fetch.txt-Required", "Fetch.txt-Required", false)?;
    if fetch_required && !allow_fetch {
        return Err(cx.err(
            "Fetch.txt-Required",
            "is true while Allow-Fetch.txt is false; a bag cannot satisfy both",
        ));
    }
    let data_empty = bool_field(cx, root, "Data-Empty", "Data-Empty", false)?;
    Ok(Switches {
        allow_fetch,
        folder_named_like_archive,
        fetch_required,
        data_empty,
    })
}

/// What form a bag may take: folder or archive, which archives, which BagIt versions.
struct FormRules {
    serialization: Serialization,
    accept_serialization: Vec<String>,
    accept_bagit_version: Option<Vec<String>>,
}

/// `Serialization`, `Accept-Serialization` (not empty when serialization is required) and
/// `Accept-BagIt-Version` (not empty when given).
fn form_rules(cx: &Ctx, root: &Map<String, Value>) -> Result<FormRules, ProfileError> {
    let serialization = match opt_string(cx, root, "Serialization", "Serialization")? {
        None => Serialization::Optional,
        Some(text) => match text.to_ascii_lowercase().as_str() {
            "forbidden" => Serialization::Forbidden,
            "required" => Serialization::Required,
            "optional" => Serialization::Optional,
            _ => {
                return Err(cx.err(
                    "Serialization",
                    format!("{text:?} is not one of \"forbidden\", \"required\", \"optional\""),
                ));
            }
        },
    };
    let accept_serialization: Vec<String> =
        string_list(cx, root, "Accept-Serialization", "Accept-Serialization")?
            .unwrap_or_default()
            .into_iter()
            .map(|media_type| media_type.to_ascii_lowercase())
            .collect();
    if serialization == Serialization::Required && accept_serialization.is_empty() {
        return Err(cx.err(
            "Accept-Serialization",
            "must list at least one media type (e.g. \"application/zip\") when Serialization \
             is \"required\"",
        ));
    }
    let accept_bagit_version =
        string_list(cx, root, "Accept-BagIt-Version", "Accept-BagIt-Version")?;
    if accept_bagit_version
        .as_ref()
        .is_some_and(|versions| versions.is_empty())
    {
        return Err(cx.err(
            "Accept-BagIt-Version",
            "must list at least one BagIt version, e.g. [\"1.0\"]",
        ));
    }
    Ok(FormRules {
        serialization,
        accept_serialization,
        accept_bagit_version,
    })
}

/// `Tag-Files-Required` (bag-relative paths outside `data/`) and `Tag-Files-Allowed` (which
/// must allow every required one).
fn tag_file_rules(
    cx: &Ctx,
    root: &Map<String, Value>,
) -> Result<(Vec<String>, Option<Vec<String>>), ProfileError> {
    let required =
        string_list(cx, root, "Tag-Files-Required", "Tag-Files-Required")?.unwrap_or_default();
    for (index, path) in required.iter().enumerate() {
        relative_path(cx, format!("Tag-Files-Required[{index}]"), path)?;
        if path.starts_with("data/") {
            return Err(cx.err(
                format!("Tag-Files-Required[{index}]"),
                format!(
                    "{path:?} is in data/, so it is a payload file; use Payload-Files-Required"
                ),
            ));
        }
    }
    let allowed =
        string_list(cx, root, "Tag-Files-Allowed", "Tag-Files-Allowed")?.map(|patterns| {
            patterns
                .into_iter()
                .filter(|pattern| !pattern.is_empty())
                .collect::<Vec<_>>()
        });
    if let Some(allowed) = &allowed
        && let Some(path) = required
            .iter()
            .find(|path| !glob::matches_any(allowed, path))
    {
        return Err(cx.err(
            "Tag-Files-Allowed",
            format!("must allow every required tag file, but does not match {path:?}"),
        ));
    }
    Ok((required, allowed))
}

/// `Payload-Files-Required` (paths in `data/`) and `Payload-Files-Allowed` (which must allow
/// every required file; a required folder, ending in `/`, is not matched).
fn payload_file_rules(
    cx: &Ctx,
    root: &Map<String, Value>,
) -> Result<(Vec<String>, Option<Vec<String>>), ProfileError> {
    let required = string_list(cx, root, "Payload-Files-Required", "Payload-Files-Required")?
        .unwrap_or_default();
    for (index, path) in required.iter().enumerate() {
        let field = format!("Payload-Files-Required[{index}]");
        relative_path(cx, field.clone(), path)?;
        if !path.starts_with("data/") || path == "data/" {
            return Err(cx.err(
                field,
                format!("{path:?} is not a payload path; payload paths start with data/"),
            ));
        }
    }
    let allowed = string_list(cx, root, "Payload-Files-Allowed", "Payload-Files-Allowed")?;
    if let Some(allowed) = &allowed
        && let Some(path) = required
            .iter()
            .filter(|path| !path.ends_with('/'))
            .find(|path| !glob::matches_any(allowed, path))
    {
        return Err(cx.err(
            "Payload-Files-Allowed",
            format!("must allow every required payload file, but does not match {path:?}"),
        ));
    }
    Ok((required, allowed))
}

/// The rules of one section (`Bag-Info`, or a file in `x-qoima-Tag-Files-Info`), in the
/// author's order.
fn tag_rules(
    cx: &Ctx,
    section: &Map<String, Value>,
    order: Option<&KeyOrder>,
    prefix: &str,
) -> Result<Vec<TagRule>, ProfileError> {
    let mut out = Vec::new();
    for (name, def) in ordered(section, order) {
        let field = format!("{prefix}.{name}");
        let Value::Object(def) = def else {
            return Err(cx.err(
                field,
                format!(
                    "must be an object such as {{\"required\": true}}, not {}",
                    type_name(def)
                ),
            ));
        };
        if name.trim().is_empty() || name.contains(':') {
            return Err(cx.err(field, "is not a usable tag label (empty, or holds a colon)"));
        }
        let values =
            string_list(cx, def, "values", &format!("{field}.values"))?.unwrap_or_default();
        let default = opt_string(cx, def, "default", &format!("{field}.default"))?;
        if let Some(default) = &default
            && !values.is_empty()
            && !values.contains(default)
        {
            return Err(cx.err(
                format!("{field}.default"),
                format!(
                    "{default:?} is not among the allowed values ({})",
                    values.join(", ")
                ),
            ));
        }
        out.push(TagRule {
            name: name.trim().to_string(),
            required: bool_field(cx, def, "required", &format!("{field}.required"), false)?,
            values,
            repeatable: bool_field(cx, def, "repeatable", &format!("{field}.repeatable"), true)?,
            description: opt_string(cx, def, "description", &format!("{field}.description"))?,
            default,
        });
    }
    Ok(out)
}

/// A list of algorithm names, normalised (`SHA-256` → `sha256`).
fn algorithms(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, ProfileError> {
    let Some(list) = string_list(cx, obj, key, key)? else {
        return Ok(None);
    };
    list.iter()
        .enumerate()
        .map(|(index, written)| {
            let name = normalize_name(written);
            if name.is_empty() {
                Err(cx.err(
                    format!("{key}[{index}]"),
                    "must name an algorithm, e.g. \"sha256\"",
                ))
            } else {
                Ok(name)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Refuses a path that is not bag-relative.
fn relative_path(cx: &Ctx, field: String, path: &str) -> Result<(), ProfileError> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.split('/').any(|segment| segment == "..")
    {
        return Err(cx.err(
            field,
            format!("{path:?} is not a bag-relative path (use `/`, no leading `/`, no `..`)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MINIMAL: &str = r#"{
        "BagIt-Profile-Info": {
            "BagIt-Profile-Identifier": "https://example.org/profiles/minimal-1.json",
            "Source-Organization": "Example Archive",
            "External-Description": "A minimal profile",
            "Version": "1"
        }
    }"#;

    fn field_error(json: &str) -> (String, String) {
        match parse(json.as_bytes(), "test.json").unwrap_err() {
            ProfileError::Field { field, message, .. } => (field, message),
            error => panic!("not a field error: {error}"),
        }
    }

    fn with(extra: &str) -> String {
        MINIMAL.replacen(
            "\"BagIt-Profile-Info\"",
            &format!("{extra}, \"BagIt-Profile-Info\""),
            1,
        )
    }

    #[test]
    fn minimal_profile_gets_the_spec_defaults() {
        let parsed = parse(MINIMAL.as_bytes(), "m.json").unwrap();
        assert_eq!(parsed.info.spec_version, "1.1.0");
        assert!(parsed.allow_fetch);
        assert!(!parsed.fetch_required);
        assert!(!parsed.data_empty);
        assert_eq!(parsed.serialization, Serialization::Optional);
        assert!(parsed.manifests_allowed.is_none());
        assert!(parsed.tag_files_allowed.is_none());
        assert!(parsed.accept_bagit_version.is_none());
        assert!(parsed.bag_info.is_empty());
    }

    #[test]
    fn tag_rules_and_algorithm_names_are_read() {
        let parsed = parse(
            with(
                r#""Bag-Info": {"Access": {"required": true, "values": ["A", "B"], "repeatable": false, "description": "who", "default": "A", "unknown-key": 1}},
                   "manifests-required": ["SHA-256"], "Manifests-Allowed": ["sha256", "sha512"]"#,
            )
            .as_bytes(),
            "t.json",
        )
        .unwrap();
        let rule = &parsed.bag_info[0];
        assert_eq!(rule.name, "Access");
        assert!(rule.required && !rule.repeatable);
        assert_eq!(rule.values, ["A", "B"]);
        assert_eq!(rule.default.as_deref(), Some("A"));
        assert_eq!(parsed.manifests_required, ["sha256"]);
    }

    #[test]
    fn not_json_names_the_origin() {
        let error = parse(b"{ not json", "bad.json").unwrap_err();
        assert!(matches!(error, ProfileError::NotJson { .. }));
        let message = error.to_string();
        assert!(
            message.starts_with("bad.json is not a JSON BagIt profile"),
            "{message}"
        );
        assert!(message.contains("line 1"), "{message}");
        let (field, _) = field_error("[1, 2]");
        assert_eq!(field, "(top level)");
    }

    #[test]
    fn missing_profile_info_or_its_fields() {
        let (field, msg) = field_error(r#"{"Bag-Info": {}}"#);
        assert_eq!(field, "BagIt-Profile-Info");
        assert!(msg.contains("is missing"), "{msg}");
        let (field, _) = field_error(&MINIMAL.replace("\"Version\": \"1\"", "\"Version\": \"\""));
        assert_eq!(field, "BagIt-Profile-Info.Version");
        let (field, _) = field_error(&MINIMAL.replace("BagIt-Profile-Identifier", "Id"));
        assert_eq!(field, "BagIt-Profile-Info.BagIt-Profile-Identifier");
        let (field, msg) =
            field_error(&MINIMAL.replace("\"Example Archive\"", "{\"name\": \"x\"}"));
        assert_eq!(field, "BagIt-Profile-Info.Source-Organization");
        assert!(msg.contains("not an object"), "{msg}");
        let error = parse(br#"{"BagIt-Profile-Info": 3}"#, "p.json").unwrap_err();
        assert_eq!(
            error.to_string(),
            "p.json: field BagIt-Profile-Info: must be an object, not a number"
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let (field, msg) = field_error(&with(r#""Manifests-Required": "md5""#));
        assert_eq!(field, "Manifests-Required");
        assert!(msg.contains("list of strings"), "{msg}");
        let (field, _) = field_error(&with(r#""Manifests-Required": ["md5", 5]"#));
        assert_eq!(field, "Manifests-Required[1]");
        let (field, msg) = field_error(&with(r#""Accept-BagIt-Version": [1.0]"#));
        assert_eq!(field, "Accept-BagIt-Version[0]");
        assert!(msg.contains("\"1.0\""), "{msg}");
        let (field, _) = field_error(&with(r#""Allow-Fetch.txt": "false""#));
        assert_eq!(field, "Allow-Fetch.txt");
        let (field, _) = field_error(&with(r#""Bag-Info": {"Title": true}"#));
        assert_eq!(field, "Bag-Info.Title");
        let (field, _) = field_error(&with(r#""Bag-Info": {"Title": {"required": "yes"}}"#));
        assert_eq!(field, "Bag-Info.Title.required");
        let (field, _) = field_error(&with(r#""Bag-Info": {"Title": {"values": "a"}}"#));
        assert_eq!(field, "Bag-Info.Title.values");
    }

    #[test]
    fn values_outside_the_spec_are_refused() {
        let (field, msg) = field_error(&with(r#""Serialization": "sometimes""#));
        assert_eq!(field, "Serialization");
        assert!(
            msg.contains("\"forbidden\", \"required\", \"optional\""),
            "{msg}"
        );
        let (field, _) = field_error(&with(r#""Serialization": "required""#));
        assert_eq!(field, "Accept-Serialization");
        let (field, _) = field_error(&with(r#""Accept-BagIt-Version": []"#));
        assert_eq!(field, "Accept-BagIt-Version");
        let (field, msg) = field_error(&with(
            r#""Manifests-Required": ["md5"], "Manifests-Allowed": ["sha256"]"#,
        ));
        assert_eq!(field, "Manifests-Allowed");
        assert!(msg.contains("\"md5\""), "{msg}");
        let (field, _) = field_error(&with(
            r#""Tag-Manifests-Required": ["md5"], "Tag-Manifests-Allowed": ["sha256"]"#,
        ));
        assert_eq!(field, "Tag-Manifests-Allowed");
        let (field, _) = field_error(&with(
            r#""Allow-Fetch.txt": false, "Fetch.txt-Required": true"#,
        ));
        assert_eq!(field, "Fetch.txt-Required");
        let (field, _) = field_error(&with(
            r#""Tag-Files-Required": ["meta/a.xml"], "Tag-Files-Allowed": ["other/*"]"#,
        ));
        assert_eq!(field, "Tag-Files-Allowed");
        let (field, _) = field_error(&with(r#""Tag-Files-Required": ["../x"]"#));
        assert_eq!(field, "Tag-Files-Required[0]");
        let (field, _) = field_error(&with(r#""Tag-Files-Required": ["data/x"]"#));
        assert_eq!(field, "Tag-Files-Required[0]");
        let (field, _) = field_error(&with(r#""Payload-Files-Required": ["LICENSE"]"#));
        assert_eq!(field, "Payload-Files-Required[0]");
        let (field, _) = field_error(&with(
            r#""Payload-Files-Required": ["data/LICENSE"], "Payload-Files-Allowed": ["data/src/*"]"#,
        ));
        assert_eq!(field, "Payload-Files-Allowed");
        let (field, _) = field_error(&with(
            r#""Bag-Info": {"Access": {"values": ["A"], "default": "B"}}"#,
        ));
        assert_eq!(field, "Bag-Info.Access.default");
        let (field, _) = field_error(&with(r#""x-qoima-Tag-Files-Info": {"meta/x.txt": {}}"#));
        assert_eq!(field, "x-qoima-Tag-Files-Info.meta/x.txt");
    }

    #[test]
    fn unknown_keys_are_ignored_and_keys_match_any_case() {
        let parsed = parse(
            with(r#""Future-Rule": [1], "allow-fetch.TXT": false"#).as_bytes(),
            "t.json",
        )
        .unwrap();
        assert!(!parsed.allow_fetch);
    }
}
