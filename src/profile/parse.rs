//! Reading a profile's JSON into a [`Profile`], with the spec's defaults, refusing what the spec
//! does not allow.
//!
//! Top-level keys are matched without regard to case and unknown ones are ignored, so a profile
//! written for a later version of the spec still loads (its new rules are then not checked).
//! A known key with the wrong type, or a value outside the spec's choices, is a
//! [`ProfileError::Field`] naming the key: checking bags against a profile qoima misread would
//! give verdicts nobody can trust.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::glob;
use super::{Profile, ProfileError, ProfileInfo, Serialization, TagRule};
use crate::digest::normalize_name;

/// The key of qoima's extension for tags in other tag files.
pub(super) const OTHER_TAG_INFO: &str = "x-qoima-Tag-Files-Info";
/// A qoima extension: a serialized bag's folder must be named like the archive (APTrust).
pub(super) const FOLDER_NAMED_LIKE_ARCHIVE: &str = "x-qoima-Folder-Named-Like-Archive";
/// A qoima extension: other identifiers bags name the same profile by (the raw URL of the same
/// JSON, an `http:` spelling), accepted as the profile's own.
pub(super) const IDENTIFIER_ALIASES: &str = "x-qoima-Identifier-Aliases";

struct Ctx<'a> {
    origin: &'a str,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ProfileError {
        ProfileError::Field {
            origin: self.origin.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The value of `key` in `obj`, matched without regard to case.
fn get<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn bool_field(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
    default: bool,
) -> Result<bool, ProfileError> {
    match get(obj, key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(cx.err(
            field,
            format!(
                "must be true or false (without quotes), not {}",
                type_name(v)
            ),
        )),
    }
}

fn string_list(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Vec<String>>, ProfileError> {
    let Some(v) = get(obj, key) else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(cx.err(
            field,
            format!(
                "must be a list of strings such as [\"a\", \"b\"], not {}",
                type_name(v)
            ),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.trim().to_string()),
            other => Err(cx.err(
                format!("{field}[{i}]"),
                format!(
                    "must be a string (write it in quotes, e.g. \"1.0\"), not {}",
                    type_name(other)
                ),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn opt_string(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, ProfileError> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(v) => Err(cx.err(field, format!("must be a string, not {}", type_name(v)))),
    }
}

fn required_string(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    section: &str,
) -> Result<String, ProfileError> {
    let field = format!("{section}.{key}");
    match opt_string(cx, obj, key, &field)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(cx.err(
            field,
            format!("is required by the BagIt Profiles spec; add \"{key}\": \"…\" to {section}"),
        )),
    }
}

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
        if let Some(d) = &default
            && !values.is_empty()
            && !values.contains(d)
        {
            return Err(cx.err(
                format!("{field}.default"),
                format!(
                    "{d:?} is not among the allowed values ({})",
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
        .map(|(i, a)| {
            let n = normalize_name(a);
            if n.is_empty() {
                Err(cx.err(
                    format!("{key}[{i}]"),
                    "must name an algorithm, e.g. \"sha256\"",
                ))
            } else {
                Ok(n)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn relative_path(cx: &Ctx, field: String, p: &str) -> Result<(), ProfileError> {
    if p.is_empty() || p.starts_with('/') || p.contains('\\') || p.split('/').any(|seg| seg == "..")
    {
        return Err(cx.err(
            field,
            format!("{p:?} is not a bag-relative path (use `/`, no leading `/`, no `..`)"),
        ));
    }
    Ok(())
}

/// The keys of every JSON object, in the order written: `serde_json` keeps objects sorted (the
/// crate is built without `preserve_order`), but a profile's tag rules are reported in the
/// author's order.
#[derive(Default)]
struct KeyOrder(Vec<(String, KeyOrder)>);

impl KeyOrder {
    fn child(&self, key: &str) -> Option<&KeyOrder> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .or_else(|| self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, t)| t)
    }

    fn position(&self, key: &str) -> usize {
        self.0
            .iter()
            .position(|(k, _)| k == key)
            .unwrap_or(usize::MAX)
    }
}

impl<'de> Deserialize<'de> for KeyOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, KeyOrder>()? {
                    keys.push((k, v));
                }
                Ok(KeyOrder(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyOrder, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyOrder::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_unit<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_none<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The entries of `obj` in the order written (`order`), else sorted.
fn ordered<'v>(
    obj: &'v Map<String, Value>,
    order: Option<&KeyOrder>,
) -> Vec<(&'v String, &'v Value)> {
    let mut entries: Vec<_> = obj.iter().collect();
    if let Some(order) = order {
        entries.sort_by_key(|(k, _)| order.position(k));
    }
    entries
}

pub(super) fn parse(bytes: &[u8], origin: &str) -> Result<Profile, ProfileError> {
    let cx = Ctx { origin };
    let root: Value = serde_json::from_slice(bytes).map_err(|e| ProfileError::NotJson {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    // Cannot fail where the parse above succeeded; an empty order only loses the ordering.
    let order: KeyOrder = serde_json::from_slice(bytes).unwrap_or_default();
    let Value::Object(root) = root else {
        return Err(cx.err(
            "(top level)",
            format!("a profile is a JSON object {{…}}, not {}", type_name(&root)),
        ));
    };

    // BagIt-Profile-Info.
    let info = match get(&root, "BagIt-Profile-Info") {
        Some(Value::Object(o)) => o,
        Some(v) => {
            return Err(cx.err(
                "BagIt-Profile-Info",
                format!("must be an object, not {}", type_name(v)),
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
    let sec = "BagIt-Profile-Info";
    let info = ProfileInfo {
        identifier: required_string(&cx, info, "BagIt-Profile-Identifier", sec)?,
        source_organization: required_string(&cx, info, "Source-Organization", sec)?,
        external_description: required_string(&cx, info, "External-Description", sec)?,
        version: required_string(&cx, info, "Version", sec)?,
        spec_version: opt_string(
            &cx,
            info,
            "BagIt-Profile-Version",
            "BagIt-Profile-Info.BagIt-Profile-Version",
        )?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "1.1.0".to_string()),
        contact_name: opt_string(&cx, info, "Contact-Name", "BagIt-Profile-Info.Contact-Name")?,
        contact_phone: opt_string(
            &cx,
            info,
            "Contact-Phone",
            "BagIt-Profile-Info.Contact-Phone",
        )?,
        contact_email: opt_string(
            &cx,
            info,
            "Contact-Email",
            "BagIt-Profile-Info.Contact-Email",
        )?,
    };

    // Bag-Info and the extension.
    let bag_info = match get(&root, "Bag-Info") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(o)) => tag_rules(&cx, o, order.child("Bag-Info"), "Bag-Info")?,
        Some(v) => {
            return Err(cx.err(
                "Bag-Info",
                format!("must be an object of tag rules, not {}", type_name(v)),
            ));
        }
    };
    let mut other_tag_info = Vec::new();
    match get(&root, OTHER_TAG_INFO) {
        None | Some(Value::Null) => {}
        Some(Value::Object(files)) => {
            let files_order = order.child(OTHER_TAG_INFO);
            for (file, rules) in ordered(files, files_order) {
                let field = format!("{OTHER_TAG_INFO}.{file}");
                if file.contains('/')
                    || file.is_empty()
                    || ["bagit.txt", "bag-info.txt", "fetch.txt"]
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(file))
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
                let rules_order = files_order.and_then(|o| o.child(file));
                other_tag_info.push((file.clone(), tag_rules(&cx, rules, rules_order, &field)?));
            }
        }
        Some(v) => {
            return Err(cx.err(
                OTHER_TAG_INFO,
                format!(
                    "must be an object mapping tag files to tag rules, not {}",
                    type_name(v)
                ),
            ));
        }
    }

    // Manifests.
    let manifests_required = algorithms(&cx, &root, "Manifests-Required")?.unwrap_or_default();
    let manifests_allowed = algorithms(&cx, &root, "Manifests-Allowed")?;
    let tag_manifests_required =
        algorithms(&cx, &root, "Tag-Manifests-Required")?.unwrap_or_default();
    let tag_manifests_allowed = algorithms(&cx, &root, "Tag-Manifests-Allowed")?;
    for (req, allowed, key) in [
        (&manifests_required, &manifests_allowed, "Manifests-Allowed"),
        (
            &tag_manifests_required,
            &tag_manifests_allowed,
            "Tag-Manifests-Allowed",
        ),
    ] {
        if let Some(allowed) = allowed
            && let Some(missing) = req.iter().find(|a| !allowed.contains(a))
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

    let identifier_aliases =
        string_list(&cx, &root, IDENTIFIER_ALIASES, IDENTIFIER_ALIASES)?.unwrap_or_default();
    if let Some(i) = identifier_aliases.iter().position(String::is_empty) {
        return Err(cx.err(
            format!("{IDENTIFIER_ALIASES}[{i}]"),
            "must not be empty; remove it or write the identifier",
        ));
    }

    // Fetch, data.
    let allow_fetch = bool_field(&cx, &root, "Allow-Fetch.txt", "Allow-Fetch.txt", true)?;
    let folder_named_like_archive = bool_field(
        &cx,
        &root,
        FOLDER_NAMED_LIKE_ARCHIVE,
        FOLDER_NAMED_LIKE_ARCHIVE,
        false,
    )?;
    let fetch_required = bool_field(
        &cx,
        &root,
        "Fetch.txt-Required",
        "Fetch.txt-Required",
        false,
    )?;
    if fetch_required && !allow_fetch {
        return Err(cx.err(
            "Fetch.txt-Required",
            "is true while Allow-Fetch.txt is false; a bag cannot satisfy both",
        ));
    }
    let data_empty = bool_field(&cx, &root, "Data-Empty", "Data-Empty", false)?;

    // Serialization.
    let serialization = match opt_string(&cx, &root, "Serialization", "Serialization")? {
        None => Serialization::Optional,
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "forbidden" => Serialization::Forbidden,
            "required" => Serialization::Required,
            "optional" => Serialization::Optional,
            _ => {
                return Err(cx.err(
                    "Serialization",
                    format!("{s:?} is not one of \"forbidden\", \"required\", \"optional\""),
                ));
            }
        },
    };
    let accept_serialization: Vec<String> =
        string_list(&cx, &root, "Accept-Serialization", "Accept-Serialization")?
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.to_ascii_lowercase())
            .collect();
    if serialization == Serialization::Required && accept_serialization.is_empty() {
        return Err(cx.err(
            "Accept-Serialization",
            "must list at least one media type (e.g. \"application/zip\") when Serialization \
             is \"required\"",
        ));
    }
    let accept_bagit_version =
        string_list(&cx, &root, "Accept-BagIt-Version", "Accept-BagIt-Version")?;
    if accept_bagit_version.as_ref().is_some_and(|v| v.is_empty()) {
        return Err(cx.err(
            "Accept-BagIt-Version",
            "must list at least one BagIt version, e.g. [\"1.0\"]",
        ));
    }

    // Tag and payload files.
    let tag_files_required =
        string_list(&cx, &root, "Tag-Files-Required", "Tag-Files-Required")?.unwrap_or_default();
    for (i, p) in tag_files_required.iter().enumerate() {
        relative_path(&cx, format!("Tag-Files-Required[{i}]"), p)?;
        if p.starts_with("data/") {
            return Err(cx.err(
                format!("Tag-Files-Required[{i}]"),
                format!("{p:?} is in data/, so it is a payload file; use Payload-Files-Required"),
            ));
        }
    }
    let tag_files_allowed = string_list(&cx, &root, "Tag-Files-Allowed", "Tag-Files-Allowed")?
        .map(|v| v.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>());
    if let Some(allowed) = &tag_files_allowed
        && let Some(p) = tag_files_required
            .iter()
            .find(|p| !glob::matches_any(allowed, p))
    {
        return Err(cx.err(
            "Tag-Files-Allowed",
            format!("must allow every required tag file, but does not match {p:?}"),
        ));
    }
    let payload_files_required = string_list(
        &cx,
        &root,
        "Payload-Files-Required",
        "Payload-Files-Required",
    )?
    .unwrap_or_default();
    for (i, p) in payload_files_required.iter().enumerate() {
        let field = format!("Payload-Files-Required[{i}]");
        relative_path(&cx, field.clone(), p)?;
        if !p.starts_with("data/") || p == "data/" {
            return Err(cx.err(
                field,
                format!("{p:?} is not a payload path; payload paths start with data/"),
            ));
        }
    }
    let payload_files_allowed =
        string_list(&cx, &root, "Payload-Files-Allowed", "Payload-Files-Allowed")?;
    if let Some(allowed) = &payload_files_allowed
        && let Some(p) = payload_files_required
            .iter()
            .filter(|p| !p.ends_with('/'))
            .find(|p| !glob::matches_any(allowed, p))
    {
        return Err(cx.err(
            "Payload-Files-Allowed",
            format!("must allow every required payload file, but does not match {p:?}"),
        ));
    }

    Ok(Profile {
        origin: origin.to_string(),
        info,
        bag_info,
        other_tag_info,
        manifests_required,
        manifests_allowed,
        tag_manifests_required,
        tag_manifests_allowed,
        allow_fetch,
        fetch_required,
        data_empty,
        serialization,
        accept_serialization,
        accept_bagit_version,
        tag_files_required,
        tag_files_allowed,
        payload_files_required,
        payload_files_allowed,
        folder_named_like_archive,
        identifier_aliases,
    })
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
            e => panic!("not a field error: {e}"),
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
        let p = parse(MINIMAL.as_bytes(), "m.json").unwrap();
        assert_eq!(p.info.spec_version, "1.1.0");
        assert!(p.allow_fetch);
        assert!(!p.fetch_required);
        assert!(!p.data_empty);
        assert_eq!(p.serialization, Serialization::Optional);
        assert!(p.manifests_allowed.is_none());
        assert!(p.tag_files_allowed.is_none());
        assert!(p.accept_bagit_version.is_none());
        assert!(p.bag_info.is_empty());
    }

    #[test]
    fn tag_rules_and_algorithm_names_are_read() {
        let p = parse(
            with(
                r#""Bag-Info": {"Access": {"required": true, "values": ["A", "B"], "repeatable": false, "description": "who", "default": "A", "unknown-key": 1}},
                   "manifests-required": ["SHA-256"], "Manifests-Allowed": ["sha256", "sha512"]"#,
            )
            .as_bytes(),
            "t.json",
        )
        .unwrap();
        let t = &p.bag_info[0];
        assert_eq!(t.name, "Access");
        assert!(t.required && !t.repeatable);
        assert_eq!(t.values, ["A", "B"]);
        assert_eq!(t.default.as_deref(), Some("A"));
        assert_eq!(p.manifests_required, ["sha256"]);
    }

    #[test]
    fn not_json_names_the_origin() {
        let e = parse(b"{ not json", "bad.json").unwrap_err();
        assert!(matches!(e, ProfileError::NotJson { .. }));
        let s = e.to_string();
        assert!(s.starts_with("bad.json is not a JSON BagIt profile"), "{s}");
        assert!(s.contains("line 1"), "{s}");
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
        let e = parse(br#"{"BagIt-Profile-Info": 3}"#, "p.json").unwrap_err();
        assert_eq!(
            e.to_string(),
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
        let p = parse(
            with(r#""Future-Rule": [1], "allow-fetch.TXT": false"#).as_bytes(),
            "t.json",
        )
        .unwrap();
        assert!(!p.allow_fetch);
    }
}
