//! Making a bag that conforms: [`prepare`] fills what a profile fixes into the options of a bag
//! about to be made, and refuses — before anything is written — when the user must still give a
//! value or has given one the profile does not allow.
//!
//! It fills: `BagIt-Profile-Identifier`; every tag with a single allowed value or a `default`
//! that the user did not give; the manifest algorithms the profile requires. What it cannot
//! fill it names, with the allowed values, so the user can pass them with `--info LABEL=VALUE`.
//! qoima writes `bagit.txt`, `bag-info.txt`, the manifests and the tag manifests (with the same
//! algorithms); a required tag file beyond those (APTrust's `aptrust-info.txt`) cannot be made
//! by `qoima bag` yet, and `prepare` says so rather than produce a bag that would not conform.

use super::check::describe_rules;
use super::model::{Profile, TagRule};
use crate::bagit::BagOptions;
use crate::digest::Algorithm;
use crate::glob;

/// The bag-info elements qoima computes itself (see `bagit::create`): a profile requiring them
/// is satisfied without the user.
const COMPUTED: &[&str] = &[
    "Bagging-Date",
    "Bag-Software-Agent",
    "Payload-Oxum",
    "Bag-Size",
];

/// For bag creation: fills the profile's fixed values into `opts` (see the module comment).
/// `Err` lists, one message each, every value the user must give or change.
pub fn prepare(profile: &Profile, opts: &mut BagOptions) -> Result<(), Vec<String>> {
    prepare_for(profile, opts, &[])
}

/// As [`prepare`], for a bag that will also hold `extra_tag_files` beside the ones qoima always
/// writes (`qoima package` writes `mets.xml`, `metadata/dc.xml`, `metadata/report.json`): those
/// satisfy `Tag-Files-Required` and must be allowed by `Tag-Files-Allowed`.
pub fn prepare_for(
    profile: &Profile,
    opts: &mut BagOptions,
    extra_tag_files: &[&str],
) -> Result<(), Vec<String>> {
    let who = profile.display_name();
    let mut errors = Vec::new();

    // The profile's identifier, kept beside any other the user gave (a bag may conform to
    // several profiles); one of its aliases, given by the user, names it already.
    let id = profile.identifier();
    if !opts
        .info
        .get_all("BagIt-Profile-Identifier")
        .any(|given| profile.is_known_as(given))
    {
        opts.info.push("BagIt-Profile-Identifier", id);
    }

    for rule in &profile.bag_info {
        if rule.name.eq_ignore_ascii_case("BagIt-Profile-Identifier") {
            continue;
        }
        prepare_tag(rule, opts, &who, &mut errors);
    }

    // Manifests: qoima writes a payload and a tag manifest for each algorithm.
    prepare_algorithms(profile, opts, &who, &mut errors);

    // The BagIt version qoima writes.
    if let Some(accepted) = &profile.accept_bagit_version
        && !accepted
            .iter()
            .any(|version| version.trim() == "1.0" || version.trim() == "1.00")
    {
        errors.push(format!(
            "{who} accepts BagIt {} only; qoima writes BagIt 1.0",
            accepted.join(", ")
        ));
    }

    if profile.fetch_required {
        errors.push(format!(
            "{who} requires a fetch.txt; qoima does not make holey bags"
        ));
    }

    // Tag files.
    let written = |file: &str| {
        matches!(file, "bagit.txt" | "bag-info.txt")
            || crate::bagit::manifest::classify(file).is_some()
            || extra_tag_files.contains(&file)
    };
    for required in &profile.tag_files_required {
        if !written(required) {
            let mut message = format!(
                "{who} requires the tag file {required}, which qoima does not write itself: \
                 write it and add it with --tag-file {required}=FILE"
            );
            if let Some((_, rules)) = profile
                .other_tag_info
                .iter()
                .find(|(file, _)| file == required)
            {
                let needs = describe_rules(rules);
                if !needs.is_empty() {
                    message.push_str(&format!(". {required} must hold {needs}"));
                }
            }
            errors.push(message);
        }
    }
    if let Some(allowed) = &profile.tag_files_allowed {
        for file in extra_tag_files {
            if !glob::matches_any(allowed, file) {
                errors.push(format!(
                    "{who} does not allow the tag file {file} (Tag-Files-Allowed: {})",
                    allowed.join(", ")
                ));
            }
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn prepare_tag(rule: &TagRule, opts: &mut BagOptions, who: &str, errors: &mut Vec<String>) {
    let name = rule.name.as_str();
    let allowed = rule.values.join(", ");
    let given: Vec<String> = opts.info.get_all(name).map(str::to_string).collect();
    if given.is_empty() {
        let fill = match (&rule.default, rule.values.as_slice()) {
            (Some(default), _) => Some(default.clone()),
            (None, [only]) if rule.required => Some(only.clone()),
            _ => None,
        };
        if let Some(value) = fill {
            opts.info.push(name, value);
        } else if rule.required && !COMPUTED.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            errors.push(if rule.values.is_empty() {
                format!("{who} requires {name} in bag-info.txt; give it with --info '{name}=…'")
            } else {
                format!(
                    "{who} requires {name} in bag-info.txt, one of: {allowed}; give it with \
                     --info '{name}=VALUE'"
                )
            });
        }
        return;
    }
    if rule.required && given.iter().all(|value| value.trim().is_empty()) {
        errors.push(format!(
            "{who} requires a value for {name}; it was given empty"
        ));
    }
    if !rule.values.is_empty() {
        for value in &given {
            if !rule
                .values
                .iter()
                .any(|candidate| candidate == value.trim())
            {
                errors.push(format!(
                    "{name}={value:?} is not allowed by {who}; allowed: {allowed}"
                ));
            }
        }
    }
    if !rule.repeatable && given.len() > 1 {
        errors.push(format!(
            "{name} was given {} times; {who} allows it once",
            given.len()
        ));
    }
}

fn prepare_algorithms(
    profile: &Profile,
    opts: &mut BagOptions,
    who: &str,
    errors: &mut Vec<String>,
) {
    let default_pair = opts.algorithms == BagOptions::default().algorithms;
    // Allowed for both the payload and the tag manifests, since qoima writes one of each.
    let allowed = |algorithm: Algorithm| {
        profile
            .manifests_allowed
            .as_ref()
            .is_none_or(|names| names.iter().any(|name| name == algorithm.name()))
            && profile
                .tag_manifests_allowed
                .as_ref()
                .is_none_or(|names| names.iter().any(|name| name == algorithm.name()))
    };
    let mut required = Vec::new();
    for name in profile
        .manifests_required
        .iter()
        .chain(&profile.tag_manifests_required)
    {
        match Algorithm::from_manifest_name(name) {
            Some(algorithm) => {
                if !required.contains(&algorithm) {
                    required.push(algorithm);
                }
            }
            None => errors.push(format!(
                "{who} requires {name} manifests, which qoima cannot compute"
            )),
        }
    }
    if default_pair {
        // qoima's own default (sha256 + sha512) was not the user's choice: keep what the profile
        // allows of it rather than refuse.
        opts.algorithms.retain(|&algorithm| allowed(algorithm));
    } else {
        for &algorithm in &opts.algorithms {
            if !allowed(algorithm) {
                errors.push(format!(
                    "{who} does not allow {algorithm} manifests; allowed: {}",
                    allowed_names(profile)
                ));
            }
        }
    }
    for algorithm in required {
        if !opts.algorithms.contains(&algorithm) {
            opts.algorithms.push(algorithm);
        }
        if !allowed(algorithm) {
            errors.push(format!(
                "{who} requires {algorithm} manifests but does not allow {algorithm} tag \
                 manifests, and qoima writes both with the same algorithms"
            ));
        }
    }
    if opts.algorithms.is_empty() {
        let choice = [
            "sha512", "sha256", "sha384", "sha224", "blake3", "sha1", "md5",
        ]
        .iter()
        .filter_map(|name| Algorithm::from_manifest_name(name))
        .find(|&algorithm| allowed(algorithm));
        match choice {
            Some(algorithm) => opts.algorithms.push(algorithm),
            None => errors.push(format!(
                "{who} allows no manifest algorithm qoima can compute (allowed: {})",
                allowed_names(profile)
            )),
        }
    }
}

fn allowed_names(profile: &Profile) -> String {
    match (&profile.manifests_allowed, &profile.tag_manifests_allowed) {
        (Some(payload), Some(tag)) => {
            let both: Vec<&str> = payload
                .iter()
                .filter(|name| tag.contains(name))
                .map(String::as_str)
                .collect();
            both.join(", ")
        }
        (Some(names), None) | (None, Some(names)) => names.join(", "),
        (None, None) => "any".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(extra: &str) -> Profile {
        let json = format!(
            r#"{{
            "BagIt-Profile-Info": {{
                "BagIt-Profile-Identifier": "https://example.org/p.json",
                "Source-Organization": "Example Archive",
                "External-Description": "For tests",
                "Version": "1"
            }}{}{extra}
        }}"#,
            if extra.is_empty() { "" } else { "," }
        );
        Profile::parse(json.as_bytes(), "p.json").unwrap()
    }

    #[test]
    fn identifier_is_added_once() {
        let spec = profile("");
        let mut opts = BagOptions::default();
        prepare(&spec, &mut opts).unwrap();
        prepare(&spec, &mut opts).unwrap();
        let ids: Vec<_> = opts.info.get_all("BagIt-Profile-Identifier").collect();
        assert_eq!(ids, ["https://example.org/p.json"]);
        assert_eq!(opts.algorithms, BagOptions::default().algorithms);
    }

    #[test]
    fn fixed_and_default_values_are_filled() {
        let spec = profile(
            r#""Bag-Info": {
                "Source-Organization": {"required": true, "values": ["Example Archive"]},
                "Rights": {"default": "CC0"},
                "Bagging-Date": {"required": true},
                "Payload-Oxum": {"required": true}
            }"#,
        );
        let mut opts = BagOptions::default();
        prepare(&spec, &mut opts).unwrap();
        assert_eq!(
            opts.info.get("Source-Organization"),
            Some("Example Archive")
        );
        assert_eq!(opts.info.get("Rights"), Some("CC0"));
        assert!(!opts.info.contains("Bagging-Date"), "qoima computes it");
        // A value the user gave is kept.
        let mut opts = BagOptions::default();
        opts.info.push("rights", "Public domain");
        prepare(&spec, &mut opts).unwrap();
        assert_eq!(
            opts.info.get_all("Rights").collect::<Vec<_>>(),
            ["Public domain"]
        );
    }

    #[test]
    fn missing_and_disallowed_values_are_refused() {
        let spec = profile(
            r#""Bag-Info": {
                "Title": {"required": true},
                "Access": {"required": true, "values": ["Consortia", "Institution", "Restricted"]},
                "Kind": {"values": ["a", "b"], "repeatable": false}
            }"#,
        );
        let mut opts = BagOptions::default();
        let errors = prepare(&spec, &mut opts).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].contains("requires Title") && errors[0].contains("--info 'Title=…'"));
        assert!(
            errors[1].contains("Consortia, Institution, Restricted"),
            "{}",
            errors[1]
        );
        let mut opts = BagOptions::default();
        opts.info.push("Title", "Letters");
        opts.info.push("Access", "Public");
        opts.info.push("Kind", "a");
        opts.info.push("Kind", "b");
        let errors = prepare(&spec, &mut opts).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].contains("Access=\"Public\" is not allowed"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("Kind was given 2 times"),
            "{}",
            errors[1]
        );
        let mut opts = BagOptions::default();
        opts.info.push("Title", " ");
        opts.info.push("Access", "Institution");
        let errors = prepare(&spec, &mut opts).unwrap_err();
        assert!(errors[0].contains("given empty"), "{errors:#?}");
    }

    #[test]
    fn algorithms_follow_the_profile() {
        // The default pair is narrowed to what is allowed, and required ones are added.
        let spec =
            profile(r#""Manifests-Required": ["md5"], "Manifests-Allowed": ["md5", "sha256"]"#);
        let mut opts = BagOptions::default();
        prepare(&spec, &mut opts).unwrap();
        assert_eq!(opts.algorithms, [Algorithm::Sha256, Algorithm::Md5]);
        // A user's explicit choice outside the allowed list is refused.
        let mut opts = BagOptions {
            algorithms: vec![Algorithm::Blake3],
            ..BagOptions::default()
        };
        let errors = prepare(&spec, &mut opts).unwrap_err();
        assert!(errors[0].contains("does not allow blake3"), "{errors:#?}");
        assert!(errors[0].contains("md5, sha256"), "{errors:#?}");
        // Nothing of the default allowed: the best allowed algorithm is chosen.
        let spec = profile(r#""Manifests-Allowed": ["sha1", "md5"]"#);
        let mut opts = BagOptions::default();
        prepare(&spec, &mut opts).unwrap();
        assert_eq!(opts.algorithms, [Algorithm::Sha1]);
        // Tag manifests are written with the same algorithms.
        let spec = profile(r#""Tag-Manifests-Allowed": ["sha256"]"#);
        let mut opts = BagOptions::default();
        prepare(&spec, &mut opts).unwrap();
        assert_eq!(opts.algorithms, [Algorithm::Sha256]);
        let spec = profile(r#""Manifests-Required": ["sha3-256"]"#);
        let errors = prepare(&spec, &mut BagOptions::default()).unwrap_err();
        assert!(errors[0].contains("cannot compute"), "{errors:#?}");
    }

    #[test]
    fn what_qoima_cannot_write_is_said() {
        let spec = profile(r#""Accept-BagIt-Version": ["0.97"]"#);
        let errors = prepare(&spec, &mut BagOptions::default()).unwrap_err();
        assert!(errors[0].contains("qoima writes BagIt 1.0"), "{errors:#?}");
        let spec = profile(r#""Fetch.txt-Required": true"#);
        let errors = prepare(&spec, &mut BagOptions::default()).unwrap_err();
        assert!(errors[0].contains("fetch.txt"), "{errors:#?}");
        let spec = profile(
            r#""Tag-Files-Required": ["mets.xml"], "Tag-Files-Allowed": ["mets.xml", "metadata/*"]"#,
        );
        assert!(prepare(&spec, &mut BagOptions::default()).is_err());
        let mut opts = BagOptions::default();
        prepare_for(&spec, &mut opts, &["mets.xml", "metadata/dc.xml"]).unwrap();
        let errors = prepare_for(&spec, &mut opts, &["mets.xml", "report.json"]).unwrap_err();
        assert!(
            errors[0].contains("does not allow the tag file report.json"),
            "{errors:#?}"
        );
    }

    #[test]
    fn aptrust_needs_what_qoima_cannot_write() {
        let apt = Profile::builtin("aptrust").unwrap();
        let mut opts = BagOptions::default();
        opts.info.push("Source-Organization", "Example University");
        let errors = prepare(&apt, &mut opts).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let error = &errors[0];
        assert!(
            error.contains("aptrust-info.txt, which qoima does not write itself"),
            "{error}"
        );
        assert!(
            error.contains("Title, Access (one of Consortia, Institution, Restricted)"),
            "{error}"
        );
        assert!(error.contains("Storage-Option (one of Standard"), "{error}");
        // What could be filled was: the identifier and md5 (required) beside sha256.
        assert_eq!(
            opts.info.get("BagIt-Profile-Identifier"),
            Some(apt.identifier())
        );
        assert_eq!(
            opts.algorithms,
            [Algorithm::Sha256, Algorithm::Sha512, Algorithm::Md5]
        );
    }

    #[test]
    fn btr_prepares_cleanly() {
        let btr = Profile::builtin("btr").unwrap();
        let mut opts = BagOptions::default();
        let errors = prepare(&btr, &mut opts).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].contains("Source-Organization"), "{errors:#?}");
        opts.info.push("Source-Organization", "Example University");
        prepare(&btr, &mut opts).unwrap();
        assert_eq!(opts.algorithms, [Algorithm::Sha256, Algorithm::Sha512]);
    }
}
