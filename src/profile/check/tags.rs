//! The rules on tags: the bag names the profile (`BagIt-Profile-Identifier`), and the tags of
//! `bag-info.txt` (`Bag-Info`) and of other tag files (`x-qoima-Tag-Files-Info`) are present,
//! non-empty, among the allowed values and not repeated when the profile says so.

use std::collections::BTreeMap;

use super::subject::{Chosen, Subject, list};
use crate::error::{Code, Problem};
use crate::profile::model::TagRule;

/// The bag-info file the rules are written for.
const INFO_FILE: &str = "bag-info.txt";

/// `BagIt-Profile-Identifier`: the bag names the profile, by its identifier or one of its
/// aliases.
pub(super) fn identifier(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Subject {
        profile,
        facts,
        chosen,
        who,
    } = subject;
    let ids: Vec<&str> = facts
        .info
        .iter()
        .filter(|(label, _)| label.eq_ignore_ascii_case("BagIt-Profile-Identifier"))
        .map(|(_, value)| value.trim())
        .collect();
    if ids.is_empty() {
        out.push(
            Problem::new(
                Code::ProfileIdMissing,
                format!(
                    "{INFO_FILE} has no BagIt-Profile-Identifier; a bag conforming to {who} names {}",
                    profile.identifier()
                ),
            )
            .file(INFO_FILE)
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
                "{INFO_FILE} names the profile {}, not {} ({who}){tail}",
                ids.join(", "),
                profile.identifier()
            ),
        )
        .file(INFO_FILE)
        .field("BagIt-Profile-Identifier"),
    );
}

/// `Bag-Info`: the tags of `bag-info.txt`.
pub(super) fn bag_info(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Subject {
        profile,
        facts,
        who,
        ..
    } = subject;
    check_tags(&profile.bag_info, &facts.info, INFO_FILE, who, out);
}

/// `x-qoima-Tag-Files-Info`: the tags of other tag files.
pub(super) fn other_tag_files(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Subject {
        profile,
        facts,
        who,
        ..
    } = subject;
    for (file, rules) in &profile.other_tag_info {
        match facts.other_tag_info.iter().find(|(found, _)| found == file) {
            Some((_, elements)) => check_tags(rules, elements, file, who, out),
            // A missing file is reported once, as a missing tag file, when the profile requires
            // it; otherwise each required tag is reported missing.
            None if profile.tag_files_required.contains(file) => {}
            None => check_tags(rules, &[], file, who, out),
        }
    }
}

/// `Title (required), Access (one of A, B)` — for messages about a whole tag file.
pub(in crate::profile) fn describe_rules(rules: &[TagRule]) -> String {
    rules
        .iter()
        .filter(|rule| rule.required)
        .map(|rule| {
            if rule.values.is_empty() {
                rule.name.clone()
            } else {
                format!("{} (one of {})", rule.name, list(&rule.values))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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
        if let Some(index) = rules
            .iter()
            .position(|rule| rule.name.eq_ignore_ascii_case(label))
        {
            by_rule.entry(index).or_default().push(value.as_str());
        }
    }
    for (index, rule) in rules.iter().enumerate() {
        // The identifier is checked once, by its own rule, against this profile's.
        if file == INFO_FILE && rule.name.eq_ignore_ascii_case("BagIt-Profile-Identifier") {
            continue;
        }
        let values = by_rule.get(&index).map(Vec::as_slice).unwrap_or_default();
        check_tag(rule, values, file, who, out);
    }
}

/// Holds the values one tag has in a file (none, one or more) to its rule.
fn check_tag(rule: &TagRule, values: &[&str], file: &str, who: &str, out: &mut Vec<Problem>) {
    let name = rule.name.as_str();
    if values.is_empty() {
        if rule.required {
            let mut message = format!("{file} has no {name}, which {who} requires");
            if !rule.values.is_empty() {
                message.push_str(&format!(" (one of {})", list(&rule.values)));
            }
            out.push(
                Problem::new(Code::ProfileTagMissing, message)
                    .file(file)
                    .field(name),
            );
        }
        return;
    }
    if rule.required && values.iter().all(|value| value.trim().is_empty()) {
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
        for value in values {
            if !rule.values.iter().any(|allowed| allowed == value.trim()) {
                out.push(
                    Problem::new(
                        Code::ProfileTagValue,
                        format!(
                            "{file}: {name} is {}, which {who} does not allow (allowed: {})",
                            crate::paths::quoted(value),
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

#[cfg(test)]
mod tests {
    use super::super::tests::{ID, facts, one, profile};
    use crate::error::Code;
    use crate::profile::{Chosen, check, check_chosen};

    #[test]
    fn identifier_missing_or_other() {
        let spec = profile("");
        let mut bag = facts();
        bag.info.remove(0);
        one(
            check(&spec, &bag),
            Code::ProfileIdMissing,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        bag.info
            .push(("bagit-profile-identifier".into(), "https://other".into()));
        let problem = one(
            check(&spec, &bag),
            Code::ProfileIdMismatch,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        assert!(problem.message.contains("https://other"), "{problem}");
        // Chosen by the user, another identifier is a warning.
        let problem = one(
            check_chosen(&spec, &bag, Chosen::ByUser),
            Code::ProfileIdOther,
            Some("bag-info.txt"),
            Some("BagIt-Profile-Identifier"),
        );
        assert!(!problem.is_error(), "{problem}");
        // Conforming to several profiles: one of them is this one.
        bag.info
            .push(("BagIt-Profile-Identifier".into(), ID.into()));
        assert!(check(&spec, &bag).is_empty());
    }

    #[test]
    fn an_alias_names_the_profile() {
        let spec = profile(r#""x-qoima-Identifier-Aliases": ["http://example.org/alias.json"]"#);
        let mut bag = facts();
        bag.info[0].1 = " http://example.org/alias.json ".into();
        assert!(check(&spec, &bag).is_empty());
    }

    #[test]
    fn required_tag() {
        let spec = profile(r#""Bag-Info": {"Contact-Email": {"required": true}}"#);
        let mut bag = facts();
        let problem = one(
            check(&spec, &bag),
            Code::ProfileTagMissing,
            Some("bag-info.txt"),
            Some("Contact-Email"),
        );
        assert!(
            problem.message.contains("test.json (version 1)"),
            "{problem}"
        );
        bag.info
            .push(("contact-email".into(), "a@example.org".into()));
        assert!(check(&spec, &bag).is_empty(), "labels match without case");
        bag.info.last_mut().unwrap().1 = "  ".into();
        one(
            check(&spec, &bag),
            Code::ProfileTagEmpty,
            Some("bag-info.txt"),
            Some("Contact-Email"),
        );
        // Not required: absence and emptiness are fine.
        let spec = profile(r#""Bag-Info": {"Contact-Email": {"required": false}}"#);
        assert!(check(&spec, &bag).is_empty());
    }

    #[test]
    fn allowed_values() {
        let spec = profile(
            r#""Bag-Info": {"Source-Organization": {"values": ["Example Archive", "Other"]}}"#,
        );
        let mut bag = facts();
        assert!(check(&spec, &bag).is_empty());
        bag.info[1].1 = "example archive".into();
        let problem = one(
            check(&spec, &bag),
            Code::ProfileTagValue,
            Some("bag-info.txt"),
            Some("Source-Organization"),
        );
        assert!(
            problem.message.contains("Example Archive, Other"),
            "{problem}"
        );
    }

    #[test]
    fn repeatable() {
        let mut bag = facts();
        bag.info
            .push(("Source-Organization".into(), "Example Archive".into()));
        assert!(check(&profile(r#""Bag-Info": {"Source-Organization": {}}"#), &bag).is_empty());
        let spec = profile(r#""Bag-Info": {"Source-Organization": {"repeatable": false}}"#);
        one(
            check(&spec, &bag),
            Code::ProfileTagRepeated,
            Some("bag-info.txt"),
            Some("Source-Organization"),
        );
    }

    #[test]
    fn other_tag_files_extension() {
        let spec = profile(
            r#""Tag-Files-Required": ["aptrust-info.txt"],
               "x-qoima-Tag-Files-Info": {"aptrust-info.txt": {"Title": {"required": true}, "Access": {"required": true, "values": ["Consortia", "Institution"]}}}"#,
        );
        let mut bag = facts();
        let problem = one(
            check(&spec, &bag),
            Code::ProfileTagFileMissing,
            Some("aptrust-info.txt"),
            None,
        );
        assert!(
            problem
                .message
                .contains("Title, Access (one of Consortia, Institution)"),
            "{problem}"
        );
        bag.tag_files.push("aptrust-info.txt".into());
        bag.other_tag_info.push((
            "aptrust-info.txt".into(),
            vec![("Access".into(), "Public".into())],
        ));
        let problems = check(&spec, &bag);
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
}
