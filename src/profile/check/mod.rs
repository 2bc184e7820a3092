//! Holding a bag to a profile: [`check`] runs every rule of the table [`RULES`] over the facts
//! gathered once from the bag ([`BagFacts`]) and turns every broken rule into a coded problem.
//!
//! The check does not re-validate the bag: checksums, missing or extra payload files are the
//! validator's findings (`BAG-…`). A profile says what a *valid* bag must also hold, so both
//! reports are needed for a verdict. Every profile problem is of kind *invalid*: in qoima
//! *incomplete* means the bag lost content it lists, while a bag that misses a profile's
//! requirement is whole but does not conform.
//!
//! The rules live by concern: `tags` (the profile identifier and the tag values of
//! `bag-info.txt` and other tag files), `contents` (manifests, `fetch.txt`, required and
//! allowed tag and payload files), `form` (serialization, the archive's folder name, the BagIt
//! version). A new rule is a function in one of them and a line in [`RULES`]. What they all
//! read is in `subject`; the rule files import it and nothing of this file.

mod contents;
mod form;
mod subject;
mod tags;

use super::facts::BagFacts;
use super::model::Profile;
use crate::error::Problem;
pub use subject::Chosen;
use subject::Subject;

pub(super) use tags::describe_rules;

/// One rule of a profile: adds a problem for each way the bag breaks it.
type Rule = fn(&Subject<'_>, &mut Vec<Problem>);

/// Every rule, named by the profile fields it reads, in the order its problems are reported
/// (tests and golden outputs compare that order). A new rule is a function and a line here.
const RULES: &[(&str, Rule)] = &[
    ("BagIt-Profile-Identifier", tags::identifier),
    ("Bag-Info", tags::bag_info),
    ("x-qoima-Tag-Files-Info", tags::other_tag_files),
    ("Manifests-Required, Manifests-Allowed", contents::manifests),
    (
        "Tag-Manifests-Required, Tag-Manifests-Allowed",
        contents::tag_manifests,
    ),
    ("Allow-Fetch.txt", contents::fetch_allowed),
    ("Fetch.txt-Required", contents::fetch_required),
    ("Data-Empty", contents::data_empty),
    ("Serialization, Accept-Serialization", form::serialization),
    (
        "x-qoima-Folder-Named-Like-Archive",
        form::folder_named_like_archive,
    ),
    ("Accept-BagIt-Version", form::bagit_version),
    ("Tag-Files-Required", contents::tag_files_required),
    ("Tag-Files-Allowed", contents::tag_files_allowed),
    ("Payload-Files-Required", contents::payload_files_required),
    ("Payload-Files-Allowed", contents::payload_files_allowed),
];

/// Every rule of `profile` the bag breaks, as coded problems naming the file (`bag-info.txt`, a
/// manifest, …) and the field (the tag label) where one applies.
pub fn check(profile: &Profile, facts: &BagFacts) -> Vec<Problem> {
    check_chosen(profile, facts, Chosen::ByBag)
}

/// [`check`], with the identifier rule softened when the user chose the profile.
pub fn check_chosen(profile: &Profile, facts: &BagFacts, chosen: Chosen) -> Vec<Problem> {
    let subject = Subject {
        profile,
        facts,
        chosen,
        who: profile.display_name(),
    };
    let mut problems = Vec::new();
    for (_, rule) in RULES {
        rule(&subject, &mut problems);
    }
    problems
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::error::Code;

    pub(super) const ID: &str = "https://example.org/profiles/test-1.json";

    pub(super) fn profile(extra: &str) -> Profile {
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
    pub(super) fn facts() -> BagFacts {
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
    pub(super) fn one(
        problems: Vec<Problem>,
        code: Code,
        file: Option<&str>,
        field: Option<&str>,
    ) -> Problem {
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let problem = problems.into_iter().next().unwrap();
        assert_eq!(problem.code, code, "{problem}");
        assert_eq!(problem.location.file.as_deref(), file, "{problem}");
        assert_eq!(problem.location.field.as_deref(), field, "{problem}");
        assert_eq!(problem.kind, code.kind());
        problem
    }

    #[test]
    fn every_rule_is_named_once() {
        let mut names: Vec<&str> = RULES.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }

    #[test]
    fn a_conforming_bag_has_no_problems() {
        assert!(check(&profile(""), &facts()).is_empty());
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
        let mut bag = good.clone();
        bag.info
            .retain(|(l, _)| l != "Bagging-Date" && l != "Payload-Oxum");
        let problems = check(&btr, &bag);
        let fields: Vec<_> = problems
            .iter()
            .map(|problem| (problem.code, problem.location.field.as_deref().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [
                (Code::ProfileTagMissing, "Bagging-Date"),
                (Code::ProfileTagMissing, "Payload-Oxum")
            ]
        );

        // A forbidden fetch.txt.
        let mut bag = good.clone();
        bag.has_fetch = true;
        one(
            check(&btr, &bag),
            Code::ProfileFetchNotAllowed,
            Some("fetch.txt"),
            None,
        );

        // A manifest algorithm BTR does not allow.
        let mut bag = good.clone();
        bag.manifests.push("blake3".into());
        one(
            check(&btr, &bag),
            Code::ProfileManifestNotAllowed,
            Some("manifest-blake3.txt"),
            None,
        );

        // A serialization BTR does not accept, and one it does under another name.
        let mut bag = good.clone();
        bag.serialization = Some("application/x-rar-compressed".into());
        one(
            check(&btr, &bag),
            Code::ProfileSerializationNotAccepted,
            None,
            None,
        );
        bag.serialization = Some("application/x-gzip".into());
        assert!(check(&btr, &bag).is_empty());

        // A BagIt version BTR does not accept.
        let mut bag = good;
        bag.version = Some("0.96".into());
        one(
            check(&btr, &bag),
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
        let mut bag = good.clone();
        bag.info[1].1 = apt22.identifier().into();
        one(
            check(&apt22, &bag),
            Code::ProfileTagValue,
            Some("aptrust-info.txt"),
            Some("Storage-Option"),
        );
        // A folder, with only a sha256 manifest.
        let mut bag = good;
        bag.serialization = None;
        bag.manifests = vec!["sha256".into()];
        let codes: Vec<Code> = check(&apt, &bag)
            .iter()
            .map(|problem| problem.code)
            .collect();
        assert_eq!(
            codes,
            [
                Code::ProfileManifestMissing,
                Code::ProfileSerializationRequired
            ]
        );
    }
}
