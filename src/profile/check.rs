//! Holding a bag to a profile: the facts a profile can ask about ([`BagFacts`], gathered once
//! from any store), and [`check`], which turns every broken rule into a coded problem.
//!
//! The check does not re-validate the bag: checksums, missing or extra payload files are the
//! validator's findings (`BAG-…`). A profile says what a *valid* bag must also hold, so both
//! reports are needed for a verdict. Every profile problem is of kind *invalid*: in qoima
//! *incomplete* means the bag lost content it lists, while a bag that misses a profile's
//! requirement is whole but does not conform.

use std::collections::BTreeMap;

use super::glob;
use super::{Profile, Serialization, TagRule};
use crate::bagit::{baginfo, declaration, manifest, text::Encoding};
use crate::digest::normalize_name;
use crate::error::{Code, Problem};
use crate::store::{EntryKind, LinkTarget, Store};

/// The largest other tag file read for the `x-qoima-Tag-Files-Info` extension: such files are
/// a few lines of `Label: value`; anything bigger is not one and is left unread.
const MAX_OTHER_TAG_FILE: u64 = 1 << 20;

/// What a profile needs to know about a bag, gathered once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BagFacts {
    /// `BagIt-Version` from `bagit.txt` (`None` if it cannot be read).
    pub version: Option<String>,
    /// The `bag-info.txt` elements in order, labels as written.
    pub info: Vec<(String, String)>,
    /// The algorithm names of the payload manifests present (`sha256`).
    pub manifests: Vec<String>,
    /// The algorithm names of the tag manifests present.
    pub tag_manifests: Vec<String>,
    /// Whether `fetch.txt` is present.
    pub has_fetch: bool,
    /// The payload files, as `data/…` paths.
    pub payload_files: Vec<String>,
    /// The total size of the payload files in bytes (for `Data-Empty`).
    pub payload_bytes: u64,
    /// Every file outside `data/`, bag-relative (`bagit.txt`, `aptrust-info.txt`,
    /// `metadata/dc.xml`).
    pub tag_files: Vec<String>,
    /// `None` for a folder; for an archive its media type, e.g. `application/zip`,
    /// `application/tar`, `application/gzip`.
    pub serialization: Option<String>,
    /// The elements of other root-level `*.txt` tag files (not manifests, `bagit.txt`,
    /// `bag-info.txt` or `fetch.txt`; at most 1 MiB each), read as `Label: value` for the
    /// `x-qoima-Tag-Files-Info` extension: file name and elements.
    pub other_tag_info: Vec<(String, Vec<(String, String)>)>,
    /// For an archive, whether its folder is named like the archive (`None` for a folder).
    pub folder_named_like_archive: Option<bool>,
}

impl BagFacts {
    /// Gathers the facts from a bag in any store. `serialization` is the archive's media type,
    /// or `None` for a folder. Tag files that cannot be parsed give what could be read (the
    /// validator reports their problems); only a store that cannot be listed is an `Err`.
    pub fn from_store(store: &dyn Store, serialization: Option<&str>) -> std::io::Result<BagFacts> {
        let entries = store.list()?;
        let mut facts = BagFacts {
            serialization: serialization.map(str::to_string),
            folder_named_like_archive: serialization.map(|_| {
                !store
                    .problems()
                    .iter()
                    .any(|p| p.code == crate::error::Code::ArchiveNameMismatch)
            }),
            ..BagFacts::default()
        };
        let mut candidates = Vec::new();
        for e in &entries {
            let is_file = matches!(
                e.kind,
                EntryKind::File
                    | EntryKind::Special
                    | EntryKind::Symlink(LinkTarget::InsideFile(_) | LinkTarget::Outside(_))
                    | EntryKind::Symlink(LinkTarget::Broken)
            );
            if !is_file {
                continue;
            }
            if e.path.starts_with("data/") {
                facts.payload_files.push(e.path.clone());
                facts.payload_bytes = facts.payload_bytes.saturating_add(e.size);
                continue;
            }
            facts.tag_files.push(e.path.clone());
            if e.path.contains('/') {
                continue;
            }
            if let Some((tag, alg)) = manifest::classify(&e.path) {
                let name = normalize_name(alg);
                if tag {
                    facts.tag_manifests.push(name);
                } else {
                    facts.manifests.push(name);
                }
            } else if e.path == "fetch.txt" {
                facts.has_fetch = true;
            } else if e.path.ends_with(".txt")
                && e.path != "bagit.txt"
                && e.is_readable_file()
                && e.size <= MAX_OTHER_TAG_FILE
            {
                candidates.push(e.path.clone());
            }
        }

        let decl = store
            .open("bagit.txt")
            .ok()
            .and_then(|mut r| declaration::parse(&mut r, &mut crate::verdict::Problems::default()));
        let version = decl
            .map(|d| d.version)
            .unwrap_or(crate::bagit::Version::V1_0);
        let encoding = decl.map(|d| d.encoding).unwrap_or(Encoding::Utf8);
        facts.version = decl.map(|d| d.version.to_string());
        let info_file = version.info_file();
        let read_info = |file: &str| -> Vec<(String, String)> {
            match store.open(file) {
                Ok(r) => baginfo::parse(
                    r,
                    file,
                    encoding,
                    version,
                    &mut crate::verdict::Problems::default(),
                )
                .elements()
                .iter()
                .map(|e| (e.label.clone(), e.value.clone()))
                .collect(),
                Err(_) => Vec::new(),
            }
        };
        facts.info = read_info(info_file);
        for file in candidates {
            if file != info_file {
                let elements = read_info(&file);
                facts.other_tag_info.push((file, elements));
            }
        }
        Ok(facts)
    }
}

/// The files that are always allowed whatever `Tag-Files-Allowed` says: the declaration, the
/// bag-info (either name), the manifests, the tag manifests and `fetch.txt`.
fn always_allowed(path: &str) -> bool {
    matches!(
        path,
        "bagit.txt" | "bag-info.txt" | "package-info.txt" | "fetch.txt"
    ) || manifest::classify(path).is_some()
}

/// Media types that name the same serialization.
fn canonical_media_type(m: &str) -> String {
    let m = m.trim().to_ascii_lowercase();
    match m.as_str() {
        "application/x-tar" => "application/tar".into(),
        "application/x-gzip" | "application/x-gtar" | "application/tar+gzip" => {
            "application/gzip".into()
        }
        "application/x-zip" | "application/x-zip-compressed" => "application/zip".into(),
        _ => m,
    }
}

/// Whether two BagIt versions are the same (`1.0` and `1.00` are; `0.97` and `0.970` too).
fn same_version(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Option<(u32, u32)> {
        let (x, y) = s.trim().split_once('.')?;
        Some((x.parse().ok()?, y.parse().ok()?))
    };
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

fn list(v: &[String]) -> String {
    v.join(", ")
}

/// How the profile a bag is checked against was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// The bag named it (or it was made for it): naming another identifier is an error,
    /// `PROF-002`.
    ByBag,
    /// The user named it (`validate --profile`): the user's word settles which profile applies,
    /// so a bag that names it by another identifier gets a warning, `BAG-W060`.
    ByUser,
}

/// Every rule of `profile` the bag breaks, as coded problems naming the file (`bag-info.txt`, a
/// manifest, …) and the field (the tag label) where one applies.
pub fn check(profile: &Profile, facts: &BagFacts) -> Vec<Problem> {
    check_chosen(profile, facts, Chosen::ByBag)
}

/// [`check`], with the identifier rule softened when the user chose the profile.
pub fn check_chosen(profile: &Profile, facts: &BagFacts, chosen: Chosen) -> Vec<Problem> {
    let mut out = Vec::new();
    let who = profile.display_name();
    let info_file = "bag-info.txt";

    check_identifier(profile, facts, chosen, &mut out);

    // Tags.
    check_tags(&profile.bag_info, &facts.info, info_file, &who, &mut out);
    for (file, rules) in &profile.other_tag_info {
        match facts.other_tag_info.iter().find(|(f, _)| f == file) {
            Some((_, elements)) => check_tags(rules, elements, file, &who, &mut out),
            // A missing file is reported once, as a missing tag file, when the profile requires
            // it; otherwise each required tag is reported missing.
            None if profile.tag_files_required.contains(file) => {}
            None => check_tags(rules, &[], file, &who, &mut out),
        }
    }

    // Manifests.
    for (present, required, allowed, tag) in [
        (
            &facts.manifests,
            &profile.manifests_required,
            &profile.manifests_allowed,
            false,
        ),
        (
            &facts.tag_manifests,
            &profile.tag_manifests_required,
            &profile.tag_manifests_allowed,
            true,
        ),
    ] {
        let (prefix, missing_code, forbidden_code) = if tag {
            (
                "tagmanifest",
                Code::ProfileTagManifestMissing,
                Code::ProfileTagManifestNotAllowed,
            )
        } else {
            (
                "manifest",
                Code::ProfileManifestMissing,
                Code::ProfileManifestNotAllowed,
            )
        };
        for a in required {
            if !present.contains(a) {
                let file = format!("{prefix}-{a}.txt");
                out.push(
                    Problem::new(
                        missing_code,
                        format!("{file} is missing; {who} requires a {a} {prefix}"),
                    )
                    .file(file),
                );
            }
        }
        if let Some(allowed) = allowed {
            for a in present {
                if !allowed.contains(a) {
                    let file = format!("{prefix}-{a}.txt");
                    out.push(
                        Problem::new(
                            forbidden_code,
                            format!(
                                "{file}: {who} does not allow {a} {prefix}s (allowed: {})",
                                list(allowed)
                            ),
                        )
                        .file(file),
                    );
                }
            }
        }
    }

    // fetch.txt.
    if facts.has_fetch && !profile.allow_fetch {
        out.push(
            Problem::new(
                Code::ProfileFetchNotAllowed,
                format!("fetch.txt is present, but {who} does not allow it"),
            )
            .file("fetch.txt"),
        );
    }
    if !facts.has_fetch && profile.fetch_required {
        out.push(
            Problem::new(
                Code::ProfileFetchRequired,
                format!("fetch.txt is missing; {who} requires one"),
            )
            .file("fetch.txt"),
        );
    }

    // Data-Empty.
    if profile.data_empty {
        let n = facts.payload_files.len();
        if n > 1 || facts.payload_bytes > 0 {
            out.push(
                Problem::new(
                    Code::ProfileDataNotEmpty,
                    format!(
                        "data/ holds {n} file(s) of {} byte(s); {who} requires it to be empty \
                         or to hold one zero-byte file",
                        facts.payload_bytes
                    ),
                )
                .file("data/"),
            );
        }
    }

    // Serialization.
    match (&facts.serialization, profile.serialization) {
        (None, Serialization::Required) => out.push(Problem::new(
            Code::ProfileSerializationRequired,
            format!(
                "the bag is a folder; {who} requires it serialized as {}",
                list(&profile.accept_serialization)
            ),
        )),
        (Some(m), Serialization::Forbidden) => out.push(Problem::new(
            Code::ProfileSerializationForbidden,
            format!("the bag is an archive ({m}); {who} requires a folder"),
        )),
        (Some(m), _) if !profile.accept_serialization.is_empty() => {
            let c = canonical_media_type(m);
            if !profile
                .accept_serialization
                .iter()
                .any(|a| canonical_media_type(a) == c)
            {
                out.push(Problem::new(
                    Code::ProfileSerializationNotAccepted,
                    format!(
                        "the bag is serialized as {m}; {who} accepts only {}",
                        list(&profile.accept_serialization)
                    ),
                ));
            }
        }
        _ => {}
    }

    if profile.folder_named_like_archive && facts.folder_named_like_archive == Some(false) {
        out.push(Problem::new(
            Code::ProfileFolderName,
            format!(
                "the folder inside the archive is not named like the archive; {who} requires \
                 the archive's name without its extension (see ARC-W001)"
            ),
        ));
    }

    // BagIt version.
    if let (Some(v), Some(accepted)) = (&facts.version, &profile.accept_bagit_version)
        && !accepted.iter().any(|a| same_version(a, v))
    {
        out.push(
            Problem::new(
                Code::ProfileBagItVersion,
                format!(
                    "bagit.txt declares BagIt {v}; {who} accepts only {}",
                    list(accepted)
                ),
            )
            .file("bagit.txt")
            .field("BagIt-Version"),
        );
    }

    // Tag files.
    for req in &profile.tag_files_required {
        if !facts.tag_files.contains(req) {
            let mut msg = format!("{req} is missing; {who} requires it");
            if let Some((_, rules)) = profile.other_tag_info.iter().find(|(f, _)| f == req) {
                msg.push_str(&format!(" (with {})", describe_rules(rules)));
            }
            out.push(Problem::new(Code::ProfileTagFileMissing, msg).file(req.as_str()));
        }
    }
    if let Some(allowed) = &profile.tag_files_allowed {
        for f in &facts.tag_files {
            if !always_allowed(f) && !glob::matches_any(allowed, f) {
                out.push(
                    Problem::new(
                        Code::ProfileTagFileNotAllowed,
                        format!(
                            "{f} is a tag file {who} does not allow (Tag-Files-Allowed: {})",
                            list(allowed)
                        ),
                    )
                    .file(f.as_str()),
                );
            }
        }
    }

    // Payload files.
    for req in &profile.payload_files_required {
        let present = if req.ends_with('/') {
            facts
                .payload_files
                .iter()
                .any(|f| f.starts_with(req.as_str()))
        } else {
            facts.payload_files.contains(req)
        };
        if !present {
            let what = if req.ends_with('/') {
                "is missing or empty"
            } else {
                "is missing"
            };
            out.push(
                Problem::new(
                    Code::ProfilePayloadFileMissing,
                    format!("{req} {what}; {who} requires it"),
                )
                .file(req.as_str()),
            );
        }
    }
    if let Some(allowed) = &profile.payload_files_allowed {
        for f in &facts.payload_files {
            if !glob::matches_any(allowed, f) {
                out.push(
                    Problem::new(
                        Code::ProfilePayloadFileNotAllowed,
                        format!(
                            "{f} is a payload file {who} does not allow (Payload-Files-Allowed: {})",
                            list(allowed)
                        ),
                    )
                    .file(f.as_str()),
                );
            }
        }
    }
    out
}

/// `Title (required), Access (one of A, B)` — for messages about a whole tag file.
pub(super) fn describe_rules(rules: &[TagRule]) -> String {
    rules
        .iter()
        .filter(|r| r.required)
        .map(|r| {
            if r.values.is_empty() {
                r.name.clone()
            } else {
                format!("{} (one of {})", r.name, list(&r.values))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The bag names the profile: by its identifier or one of its aliases.
fn check_identifier(profile: &Profile, facts: &BagFacts, chosen: Chosen, out: &mut Vec<Problem>) {
    let info_file = "bag-info.txt";
    let who = profile.display_name();
    let ids: Vec<&str> = facts
        .info
        .iter()
        .filter(|(l, _)| l.eq_ignore_ascii_case("BagIt-Profile-Identifier"))
        .map(|(_, v)| v.trim())
        .collect();
    if ids.is_empty() {
        out.push(
            Problem::new(
                Code::ProfileIdMissing,
                format!(
                    "{info_file} has no BagIt-Profile-Identifier; a bag conforming to {who} names {}",
                    profile.identifier()
                ),
            )
            .file(info_file)
            .field("BagIt-Profile-Identifier"),
        );
        return;
    }
    if ids.iter().any(|id| profile.is_known_as(id)) {
        return;
    }
    let (code, tail) = match chosen {
        Chosen::ByBag => (Code::ProfileIdMismatch, String::new()),
        Chosen::ByUser => (
            Code::ProfileIdOther,
            "; checked against it because you named it".to_string(),
        ),
    };
    out.push(
        Problem::new(
            code,
            format!(
                "{info_file} names the profile {}, not {} ({who}){tail}",
                ids.join(", "),
                profile.identifier()
            ),
        )
        .file(info_file)
        .field("BagIt-Profile-Identifier"),
    );
}

/// Holds the elements of one tag file to the rules.
fn check_tags(
    rules: &[TagRule],
    elements: &[(String, String)],
    file: &str,
    who: &str,
    out: &mut Vec<Problem>,
) {
    // Group the values by rule, labels compared without regard to case.
    let mut by_rule: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (label, value) in elements {
        if let Some(i) = rules
            .iter()
            .position(|r| r.name.eq_ignore_ascii_case(label))
        {
            by_rule.entry(i).or_default().push(value.as_str());
        }
    }
    for (i, rule) in rules.iter().enumerate() {
        // The identifier is checked once, above, against this profile's.
        if file == "bag-info.txt" && rule.name.eq_ignore_ascii_case("BagIt-Profile-Identifier") {
            continue;
        }
        let values = by_rule.get(&i).map(Vec::as_slice).unwrap_or_default();
        let name = rule.name.as_str();
        if values.is_empty() {
            if rule.required {
                let mut msg = format!("{file} has no {name}, which {who} requires");
                if !rule.values.is_empty() {
                    msg.push_str(&format!(" (one of {})", list(&rule.values)));
                }
                out.push(
                    Problem::new(Code::ProfileTagMissing, msg)
                        .file(file)
                        .field(name),
                );
            }
            continue;
        }
        if rule.required && values.iter().all(|v| v.trim().is_empty()) {
            out.push(
                Problem::new(
                    Code::ProfileTagEmpty,
                    format!("{file}: {name} is empty, but {who} requires a value"),
                )
                .file(file)
                .field(name),
            );
        }
        if !rule.values.is_empty() {
            for v in values {
                if !rule.values.iter().any(|a| a == v.trim()) {
                    out.push(
                        Problem::new(
                            Code::ProfileTagValue,
                            format!(
                                "{file}: {name} is {}, which {who} does not allow (allowed: {})",
                                crate::paths::quoted(v),
                                list(&rule.values)
                            ),
                        )
                        .file(file)
                        .field(name),
                    );
                }
            }
        }
        if !rule.repeatable && values.len() > 1 {
            out.push(
                Problem::new(
                    Code::ProfileTagRepeated,
                    format!(
                        "{file}: {name} appears {} times; {who} allows it once",
                        values.len()
                    ),
                )
                .file(file)
                .field(name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "https://example.org/profiles/test-1.json";

    fn profile(extra: &str) -> Profile {
        let json = format!(
            r#"{{
            "BagIt-Profile-Info": {{
                "BagIt-Profile-Identifier": "{ID}",
                "Source-Organization": "Example Archive",
                "External-Description": "For tests",
                "Version": "1"
            }}{}{extra}
        }}"#,
            if extra.is_empty() { "" } else { "," }
        );
        Profile::parse(json.as_bytes(), "test.json").unwrap()
    }

    /// A conforming folder bag with sha256 manifests and one payload file.
    fn facts() -> BagFacts {
        BagFacts {
            version: Some("1.0".into()),
            info: vec![
                ("BagIt-Profile-Identifier".into(), ID.into()),
                ("Source-Organization".into(), "Example Archive".into()),
            ],
            manifests: vec!["sha256".into()],
            tag_manifests: vec!["sha256".into()],
            has_fetch: false,
            payload_files: vec!["data/a.txt".into()],
            payload_bytes: 10,
            tag_files: vec![
                "bag-info.txt".into(),
                "bagit.txt".into(),
                "manifest-sha256.txt".into(),
                "tagmanifest-sha256.txt".into(),
            ],
            serialization: None,
            other_tag_info: Vec::new(),
            folder_named_like_archive: None,
        }
    }

    /// The single problem, asserting its code, file and field.
    fn one(problems: Vec<Problem>, code: Code, file: Option<&str>, field: Option<&str>) -> Problem {
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let p = problems.into_iter().next().unwrap();
        assert_eq!(p.code, code, "{p}");
        assert_eq!(p.location.file.as_deref(), file, "{p}");
        assert_eq!(p.location.field.as_deref(), field, "{p}");
        assert_eq!(p.kind, code.kind());
        p
    }

    #[test]
    fn a_conforming_bag_has_no_problems() {
        assert!(check(&profile(""), &facts()).is_empty());
    }

    #[test]
    fn identifier_missing_or_other() {
        let p = profile("");
        let mut f = facts();
        f.info.remove(0);
        one(
            check(&p, &f),
            Code::ProfileIdMissing,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        f.info
            .push(("bagit-profile-identifier".into(), "https://other".into()));
        let pr = one(
            check(&p, &f),
            Code::ProfileIdMismatch,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        assert!(pr.message.contains("https://other"), "{pr}");
        // Chosen by the user, another identifier is a warning.
        let pr = one(
            check_chosen(&p, &f, Chosen::ByUser),
            Code::ProfileIdOther,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        assert!(!pr.is_error(), "{pr}");
        // Conforming to several profiles: one of them is this one.
        f.info.push(("BagIt-Profile-Identifier".into(), ID.into()));
        assert!(check(&p, &f).is_empty());
    }

    #[test]
    fn an_alias_names_the_profile() {
        let p = profile(r#""x-qoima-Identifier-Aliases": ["http://example.org/alias.json"]"#);
        let mut f = facts();
        f.info[0].1 = " http://example.org/alias.json ".into();
        assert!(check(&p, &f).is_empty());
    }

    #[test]
    fn required_tag() {
        let p = profile(r#""Bag-Info": {"Contact-Email": {"required": true}}"#);
        let mut f = facts();
        let pr = one(
            check(&p, &f),
            Code::ProfileTagMissing,
            Some("bag-info.txt"),
            Some("Contact-Email"),
        );
        assert!(pr.message.contains("test.json (version 1)"), "{pr}");
        f.info
            .push(("contact-email".into(), "a@example.org".into()));
        assert!(check(&p, &f).is_empty(), "labels match without case");
        f.info.last_mut().unwrap().1 = "  ".into();
        one(
            check(&p, &f),
            Code::ProfileTagEmpty,
            Some("bag-info.txt"),
            Some("Contact-Email"),
        );
        // Not required: absence and emptiness are fine.
        let p = profile(r#""Bag-Info": {"Contact-Email": {"required": false}}"#);
        assert!(check(&p, &f).is_empty());
    }

    #[test]
    fn allowed_values() {
        let p = profile(
            r#""Bag-Info": {"Source-Organization": {"values": ["Example Archive", "Other"]}}"#,
        );
        let mut f = facts();
        assert!(check(&p, &f).is_empty());
        f.info[1].1 = "example archive".into();
        let pr = one(
            check(&p, &f),
            Code::ProfileTagValue,
            Some("bag-info.txt"),
            Some("Source-Organization"),
        );
        assert!(pr.message.contains("Example Archive, Other"), "{pr}");
    }

    #[test]
    fn repeatable() {
        let mut f = facts();
        f.info
            .push(("Source-Organization".into(), "Example Archive".into()));
        assert!(check(&profile(r#""Bag-Info": {"Source-Organization": {}}"#), &f).is_empty());
        let p = profile(r#""Bag-Info": {"Source-Organization": {"repeatable": false}}"#);
        one(
            check(&p, &f),
            Code::ProfileTagRepeated,
            Some("bag-info.txt"),
            Some("Source-Organization"),
        );
    }

    #[test]
    fn manifests_required_and_allowed() {
        let p = profile(r#""Manifests-Required": ["sha512"]"#);
        let mut f = facts();
        one(
            check(&p, &f),
            Code::ProfileManifestMissing,
            Some("manifest-sha512.txt"),
            None,
        );
        f.manifests.push("sha512".into());
        assert!(check(&p, &f).is_empty());
        let p = profile(r#""Manifests-Allowed": ["sha512"]"#);
        one(
            check(&p, &f),
            Code::ProfileManifestNotAllowed,
            Some("manifest-sha256.txt"),
            None,
        );
        let p = profile(r#""Manifests-Allowed": ["SHA-256", "sha512"]"#);
        assert!(check(&p, &f).is_empty());
    }

    #[test]
    fn tag_manifests_required_and_allowed() {
        let p = profile(r#""Tag-Manifests-Required": ["md5"]"#);
        let mut f = facts();
        one(
            check(&p, &f),
            Code::ProfileTagManifestMissing,
            Some("tagmanifest-md5.txt"),
            None,
        );
        f.tag_manifests.push("md5".into());
        assert!(check(&p, &f).is_empty());
        let p = profile(r#""Tag-Manifests-Allowed": ["sha256"]"#);
        one(
            check(&p, &f),
            Code::ProfileTagManifestNotAllowed,
            Some("tagmanifest-md5.txt"),
            None,
        );
    }

    #[test]
    fn fetch_allowed_and_required() {
        let mut f = facts();
        f.has_fetch = true;
        f.tag_files.push("fetch.txt".into());
        assert!(check(&profile(""), &f).is_empty(), "allowed by default");
        one(
            check(&profile(r#""Allow-Fetch.txt": false"#), &f),
            Code::ProfileFetchNotAllowed,
            Some("fetch.txt"),
            None,
        );
        let p = profile(r#""Fetch.txt-Required": true"#);
        assert!(check(&p, &f).is_empty());
        one(
            check(&p, &facts()),
            Code::ProfileFetchRequired,
            Some("fetch.txt"),
            None,
        );
    }

    #[test]
    fn data_empty() {
        let p = profile(r#""Data-Empty": true"#);
        one(
            check(&p, &facts()),
            Code::ProfileDataNotEmpty,
            Some("data/"),
            None,
        );
        let mut f = facts();
        f.payload_bytes = 0;
        assert!(check(&p, &f).is_empty(), "one zero-byte file");
        f.payload_files.push("data/b".into());
        one(
            check(&p, &f),
            Code::ProfileDataNotEmpty,
            Some("data/"),
            None,
        );
        f.payload_files.clear();
        assert!(check(&p, &f).is_empty(), "no file");
    }

    #[test]
    fn a_folder_named_unlike_the_archive_breaks_a_profile_that_says_so() {
        let mut p = Profile::builtin("aptrust").unwrap();
        assert!(p.folder_named_like_archive);
        let mut f = BagFacts {
            serialization: Some("application/tar".into()),
            folder_named_like_archive: Some(false),
            ..BagFacts::default()
        };
        let codes = |p: &Profile, f: &BagFacts| -> Vec<&'static str> {
            check(p, f).iter().map(|x| x.code.as_str()).collect()
        };
        assert!(codes(&p, &f).contains(&"PROF-034"));
        f.folder_named_like_archive = Some(true);
        assert!(!codes(&p, &f).contains(&"PROF-034"));
        f.folder_named_like_archive = Some(false);
        p.folder_named_like_archive = false;
        assert!(!codes(&p, &f).contains(&"PROF-034"));
    }

    #[test]
    fn serialization() {
        let required = profile(
            r#""Serialization": "required", "Accept-Serialization": ["application/zip", "application/tar"]"#,
        );
        let mut f = facts();
        one(
            check(&required, &f),
            Code::ProfileSerializationRequired,
            None,
            None,
        );
        f.serialization = Some("application/x-tar".into());
        assert!(check(&required, &f).is_empty(), "x-tar is tar");
        f.serialization = Some("application/gzip".into());
        one(
            check(&required, &f),
            Code::ProfileSerializationNotAccepted,
            None,
            None,
        );
        let forbidden = profile(r#""Serialization": "forbidden""#);
        one(
            check(&forbidden, &f),
            Code::ProfileSerializationForbidden,
            None,
            None,
        );
        assert!(check(&forbidden, &facts()).is_empty());
        // Optional with no list: any archive, or a folder.
        assert!(check(&profile(r#""Serialization": "optional""#), &f).is_empty());
        assert!(check(&profile(""), &facts()).is_empty());
    }

    #[test]
    fn accept_bagit_version() {
        let p = profile(r#""Accept-BagIt-Version": ["0.97", "1.0"]"#);
        let mut f = facts();
        assert!(check(&p, &f).is_empty());
        f.version = Some("0.96".into());
        let pr = one(
            check(&p, &f),
            Code::ProfileBagItVersion,
            Some("bagit.txt"),
            Some("BagIt-Version"),
        );
        assert!(pr.message.contains("0.97, 1.0"), "{pr}");
        // An unreadable bagit.txt is the validator's finding, not a profile one.
        f.version = None;
        assert!(check(&p, &f).is_empty());
    }

    #[test]
    fn tag_files_required_and_allowed() {
        let p = profile(
            r#""Tag-Files-Required": ["metadata/mets.xml"], "Tag-Files-Allowed": ["metadata/*"]"#,
        );
        let mut f = facts();
        one(
            check(&p, &f),
            Code::ProfileTagFileMissing,
            Some("metadata/mets.xml"),
            None,
        );
        f.tag_files.push("metadata/mets.xml".into());
        f.tag_files.push("fetch.txt".into());
        assert!(
            check(&p, &f).is_empty(),
            "the BagIt files are always allowed"
        );
        f.tag_files.push("notes.txt".into());
        one(
            check(&p, &f),
            Code::ProfileTagFileNotAllowed,
            Some("notes.txt"),
            None,
        );
    }

    #[test]
    fn payload_files_required_and_allowed() {
        let p = profile(
            r#""Payload-Files-Required": ["data/LICENSE", "data/src/"], "Payload-Files-Allowed": ["data/LICENSE", "data/src/*"]"#,
        );
        let mut f = facts();
        f.payload_files = vec!["data/LICENSE".into(), "data/src/a/b.c".into()];
        assert!(check(&p, &f).is_empty());
        f.payload_files = vec!["data/src/a/b.c".into()];
        one(
            check(&p, &f),
            Code::ProfilePayloadFileMissing,
            Some("data/LICENSE"),
            None,
        );
        f.payload_files = vec!["data/LICENSE".into()];
        let pr = one(
            check(&p, &f),
            Code::ProfilePayloadFileMissing,
            Some("data/src/"),
            None,
        );
        assert!(pr.message.contains("missing or empty"), "{pr}");
        f.payload_files = vec![
            "data/LICENSE".into(),
            "data/src/x".into(),
            "data/other.bin".into(),
        ];
        one(
            check(&p, &f),
            Code::ProfilePayloadFileNotAllowed,
            Some("data/other.bin"),
            None,
        );
    }

    #[test]
    fn other_tag_files_extension() {
        let p = profile(
            r#""Tag-Files-Required": ["aptrust-info.txt"],
               "x-qoima-Tag-Files-Info": {"aptrust-info.txt": {"Title": {"required": true}, "Access": {"required": true, "values": ["Consortia", "Institution"]}}}"#,
        );
        let mut f = facts();
        let pr = one(
            check(&p, &f),
            Code::ProfileTagFileMissing,
            Some("aptrust-info.txt"),
            None,
        );
        assert!(
            pr.message
                .contains("Title, Access (one of Consortia, Institution)"),
            "{pr}"
        );
        f.tag_files.push("aptrust-info.txt".into());
        f.other_tag_info.push((
            "aptrust-info.txt".into(),
            vec![("Access".into(), "Public".into())],
        ));
        let problems = check(&p, &f);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert_eq!(problems[0].code, Code::ProfileTagMissing);
        assert_eq!(
            problems[0].location.file.as_deref(),
            Some("aptrust-info.txt")
        );
        assert_eq!(problems[0].location.field.as_deref(), Some("Title"));
        assert_eq!(problems[1].code, Code::ProfileTagValue);
        assert_eq!(problems[1].location.field.as_deref(), Some("Access"));
    }

    /// The situations of the Beyond the Repository sample bags that are the profile's to judge
    /// (bad checksums and extraneous or missing payload files are the validator's).
    #[test]
    fn btr_situations() {
        let btr = Profile::builtin("btr").unwrap();
        let good = BagFacts {
            version: Some("1.0".into()),
            info: vec![
                ("Source-Organization".into(), "Example University".into()),
                ("Bagging-Date".into(), "2020-05-01".into()),
                ("Payload-Oxum".into(), "10.1".into()),
                ("BagIt-Profile-Identifier".into(), btr.identifier().into()),
            ],
            manifests: vec!["sha512".into()],
            tag_manifests: vec!["sha512".into()],
            serialization: Some("application/tar".into()),
            ..facts()
        };
        assert!(check(&btr, &good).is_empty(), "{:#?}", check(&btr, &good));
        let mut sha256 = good.clone();
        sha256.manifests = vec!["sha256".into()];
        assert!(check(&btr, &sha256).is_empty());

        // Missing required tags.
        let mut f = good.clone();
        f.info
            .retain(|(l, _)| l != "Bagging-Date" && l != "Payload-Oxum");
        let problems = check(&btr, &f);
        let fields: Vec<_> = problems
            .iter()
            .map(|p| (p.code, p.location.field.as_deref().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [
                (Code::ProfileTagMissing, "Bagging-Date"),
                (Code::ProfileTagMissing, "Payload-Oxum")
            ]
        );

        // A forbidden fetch.txt.
        let mut f = good.clone();
        f.has_fetch = true;
        one(
            check(&btr, &f),
            Code::ProfileFetchNotAllowed,
            Some("fetch.txt"),
            None,
        );

        // A manifest algorithm BTR does not allow.
        let mut f = good.clone();
        f.manifests.push("blake3".into());
        one(
            check(&btr, &f),
            Code::ProfileManifestNotAllowed,
            Some("manifest-blake3.txt"),
            None,
        );

        // A serialization BTR does not accept, and one it does under another name.
        let mut f = good.clone();
        f.serialization = Some("application/x-rar-compressed".into());
        one(
            check(&btr, &f),
            Code::ProfileSerializationNotAccepted,
            None,
            None,
        );
        f.serialization = Some("application/x-gzip".into());
        assert!(check(&btr, &f).is_empty());

        // A BagIt version BTR does not accept.
        let mut f = good;
        f.version = Some("0.96".into());
        one(
            check(&btr, &f),
            Code::ProfileBagItVersion,
            Some("bagit.txt"),
            Some("BagIt-Version"),
        );
    }

    #[test]
    fn aptrust_situations() {
        let apt = Profile::builtin("aptrust").unwrap();
        let good = BagFacts {
            info: vec![
                ("Source-Organization".into(), "Example University".into()),
                ("BagIt-Profile-Identifier".into(), apt.identifier().into()),
            ],
            manifests: vec!["md5".into(), "sha256".into()],
            tag_manifests: vec!["md5".into()],
            tag_files: vec![
                "aptrust-info.txt".into(),
                "bag-info.txt".into(),
                "bagit.txt".into(),
                "manifest-md5.txt".into(),
            ],
            serialization: Some("application/tar".into()),
            other_tag_info: vec![(
                "aptrust-info.txt".into(),
                vec![
                    ("Title".into(), "Letters".into()),
                    ("Access".into(), "Institution".into()),
                    ("Storage-Option".into(), "Wasabi-TX".into()),
                ],
            )],
            ..facts()
        };
        assert!(check(&apt, &good).is_empty(), "{:#?}", check(&apt, &good));
        // Wasabi-TX is new in 2.3.
        let apt22 = Profile::builtin("aptrust-2.2").unwrap();
        let mut f = good.clone();
        f.info[1].1 = apt22.identifier().into();
        one(
            check(&apt22, &f),
            Code::ProfileTagValue,
            Some("aptrust-info.txt"),
            Some("Storage-Option"),
        );
        // A folder, with only a sha256 manifest.
        let mut f = good;
        f.serialization = None;
        f.manifests = vec!["sha256".into()];
        let codes: Vec<Code> = check(&apt, &f).iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                Code::ProfileManifestMissing,
                Code::ProfileSerializationRequired
            ]
        );
    }

    #[test]
    fn facts_from_a_folder_bag() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("data/sub")).unwrap();
        std::fs::create_dir_all(root.join("metadata")).unwrap();
        std::fs::write(
            root.join("bagit.txt"),
            "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
        )
        .unwrap();
        std::fs::write(
            root.join("bag-info.txt"),
            "Source-Organization: Example\nBagIt-Profile-Identifier: https://x\n",
        )
        .unwrap();
        std::fs::write(
            root.join("aptrust-info.txt"),
            "Title: Letters\n  and more\n",
        )
        .unwrap();
        std::fs::write(root.join("manifest-sha256.txt"), "").unwrap();
        std::fs::write(root.join("tagmanifest-md5.txt"), "").unwrap();
        std::fs::write(root.join("fetch.txt"), "").unwrap();
        std::fs::write(root.join("metadata/dc.xml"), "<x/>").unwrap();
        std::fs::write(root.join("data/a.txt"), "hello").unwrap();
        std::fs::write(root.join("data/sub/b.txt"), "").unwrap();
        let store = crate::store::DirStore::new(root);
        let f = BagFacts::from_store(&store, Some("application/zip")).unwrap();
        assert_eq!(f.version.as_deref(), Some("0.97"));
        assert_eq!(
            f.info,
            [
                ("Source-Organization".to_string(), "Example".to_string()),
                (
                    "BagIt-Profile-Identifier".to_string(),
                    "https://x".to_string()
                )
            ]
        );
        assert_eq!(f.manifests, ["sha256"]);
        assert_eq!(f.tag_manifests, ["md5"]);
        assert!(f.has_fetch);
        assert_eq!(f.payload_files, ["data/a.txt", "data/sub/b.txt"]);
        assert_eq!(f.payload_bytes, 5);
        assert_eq!(
            f.tag_files,
            [
                "aptrust-info.txt",
                "bag-info.txt",
                "bagit.txt",
                "fetch.txt",
                "manifest-sha256.txt",
                "metadata/dc.xml",
                "tagmanifest-md5.txt"
            ]
        );
        assert_eq!(f.serialization.as_deref(), Some("application/zip"));
        assert_eq!(f.other_tag_info.len(), 1);
        assert_eq!(f.other_tag_info[0].0, "aptrust-info.txt");
        assert_eq!(f.other_tag_info[0].1[0].0, "Title");
        assert!(f.other_tag_info[0].1[0].1.starts_with("Letters"));
    }
}
