//! The rules on what the bag holds: the manifest and tag manifest algorithms
//! (`Manifests-Required`/`-Allowed`, `Tag-Manifests-Required`/`-Allowed`), `fetch.txt`
//! (`Allow-Fetch.txt`, `Fetch.txt-Required`), an empty payload (`Data-Empty`), and the tag and
//! payload files required and allowed.

use super::subject::{Subject, list};
use super::tags::describe_rules;
use crate::bagit::manifest;
use crate::error::{Code, Problem};
use crate::glob;

/// `Manifests-Required` and `Manifests-Allowed`: the payload manifests' algorithms.
pub(super) fn manifests(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let profile = subject.profile;
    let kind = ManifestKind {
        prefix: "manifest",
        missing: Code::ProfileManifestMissing,
        not_allowed: Code::ProfileManifestNotAllowed,
    };
    kind.check(
        &subject.facts.manifests,
        &profile.manifests_required,
        profile.manifests_allowed.as_deref(),
        &subject.who,
        out,
    );
}

/// `Tag-Manifests-Required` and `Tag-Manifests-Allowed`: the tag manifests' algorithms.
pub(super) fn tag_manifests(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let profile = subject.profile;
    let kind = ManifestKind {
        prefix: "tagmanifest",
        missing: Code::ProfileTagManifestMissing,
        not_allowed: Code::ProfileTagManifestNotAllowed,
    };
    kind.check(
        &subject.facts.tag_manifests,
        &profile.tag_manifests_required,
        profile.tag_manifests_allowed.as_deref(),
        &subject.who,
        out,
    );
}

/// Payload or tag manifests: their file prefix and their codes.
struct ManifestKind {
    prefix: &'static str,
    missing: Code,
    not_allowed: Code,
}

impl ManifestKind {
    /// Every required algorithm is present, then every present one is allowed.
    fn check(
        &self,
        present: &[String],
        required: &[String],
        allowed: Option<&[String]>,
        who: &str,
        out: &mut Vec<Problem>,
    ) {
        let prefix = self.prefix;
        for algorithm in required {
            if !present.contains(algorithm) {
                let file = format!("{prefix}-{algorithm}.txt");
                out.push(
                    Problem::new(
                        self.missing,
                        format!("{file} is missing; {who} requires a {algorithm} {prefix}"),
                    )
                    .file(file),
                );
            }
        }
        if let Some(allowed) = allowed {
            for algorithm in present {
                if !allowed.contains(algorithm) {
                    let file = format!("{prefix}-{algorithm}.txt");
                    out.push(
                        Problem::new(
                            self.not_allowed,
                            format!(
                                "{file}: {who} does not allow {algorithm} {prefix}s (allowed: {})",
                                list(allowed)
                            ),
                        )
                        .file(file),
                    );
                }
            }
        }
    }
}

/// `Allow-Fetch.txt`.
pub(super) fn fetch_allowed(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    if subject.facts.has_fetch && !subject.profile.allow_fetch {
        out.push(
            Problem::new(
                Code::ProfileFetchNotAllowed,
                format!(
                    "fetch.txt is present, but {} does not allow it",
                    subject.who
                ),
            )
            .file("fetch.txt"),
        );
    }
}

/// `Fetch.txt-Required`.
pub(super) fn fetch_required(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    if !subject.facts.has_fetch && subject.profile.fetch_required {
        out.push(
            Problem::new(
                Code::ProfileFetchRequired,
                format!("fetch.txt is missing; {} requires one", subject.who),
            )
            .file("fetch.txt"),
        );
    }
}

/// `Data-Empty`: `data/` holds no file, or one empty file.
pub(super) fn data_empty(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let facts = subject.facts;
    if !subject.profile.data_empty {
        return;
    }
    let count = facts.payload_files.len();
    if count > 1 || facts.payload_bytes > 0 {
        out.push(
            Problem::new(
                Code::ProfileDataNotEmpty,
                format!(
                    "data/ holds {count} file(s) of {} byte(s); {} requires it to be empty \
                     or to hold one zero-byte file",
                    facts.payload_bytes, subject.who
                ),
            )
            .file("data/"),
        );
    }
}

/// `Tag-Files-Required`.
pub(super) fn tag_files_required(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Subject {
        profile,
        facts,
        who,
        ..
    } = subject;
    for required in &profile.tag_files_required {
        if !facts.tag_files.contains(required) {
            let mut message = format!("{required} is missing; {who} requires it");
            if let Some((_, rules)) = profile
                .other_tag_info
                .iter()
                .find(|(file, _)| file == required)
            {
                message.push_str(&format!(" (with {})", describe_rules(rules)));
            }
            out.push(Problem::new(Code::ProfileTagFileMissing, message).file(required.as_str()));
        }
    }
}

/// `Tag-Files-Allowed`: the BagIt files themselves are always allowed.
pub(super) fn tag_files_allowed(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Some(allowed) = &subject.profile.tag_files_allowed else {
        return;
    };
    for file in &subject.facts.tag_files {
        if !always_allowed(file) && !glob::matches_any(allowed, file) {
            out.push(
                Problem::new(
                    Code::ProfileTagFileNotAllowed,
                    format!(
                        "{file} is a tag file {} does not allow (Tag-Files-Allowed: {})",
                        subject.who,
                        list(allowed)
                    ),
                )
                .file(file.as_str()),
            );
        }
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

/// `Payload-Files-Required`: a path ending in `/` asks for a folder holding a file.
pub(super) fn payload_files_required(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let payload_files = &subject.facts.payload_files;
    for required in &subject.profile.payload_files_required {
        let is_folder = required.ends_with('/');
        let present = if is_folder {
            payload_files
                .iter()
                .any(|file| file.starts_with(required.as_str()))
        } else {
            payload_files.contains(required)
        };
        if !present {
            let what = if is_folder {
                "is missing or empty"
            } else {
                "is missing"
            };
            out.push(
                Problem::new(
                    Code::ProfilePayloadFileMissing,
                    format!("{required} {what}; {} requires it", subject.who),
                )
                .file(required.as_str()),
            );
        }
    }
}

/// `Payload-Files-Allowed`.
pub(super) fn payload_files_allowed(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Some(allowed) = &subject.profile.payload_files_allowed else {
        return;
    };
    for file in &subject.facts.payload_files {
        if !glob::matches_any(allowed, file) {
            out.push(
                Problem::new(
                    Code::ProfilePayloadFileNotAllowed,
                    format!(
                        "{file} is a payload file {} does not allow (Payload-Files-Allowed: {})",
                        subject.who,
                        list(allowed)
                    ),
                )
                .file(file.as_str()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{facts, one, profile};
    use crate::error::Code;
    use crate::profile::check;

    #[test]
    fn manifests_required_and_allowed() {
        let spec = profile(r#""Manifests-Required": ["sha512"]"#);
        let mut bag = facts();
        one(
            check(&spec, &bag),
            Code::ProfileManifestMissing,
            Some("manifest-sha512.txt"),
            None,
        );
        bag.manifests.push("sha512".into());
        assert!(check(&spec, &bag).is_empty());
        let spec = profile(r#""Manifests-Allowed": ["sha512"]"#);
        one(
            check(&spec, &bag),
            Code::ProfileManifestNotAllowed,
            Some("manifest-sha256.txt"),
            None,
        );
        let spec = profile(r#""Manifests-Allowed": ["SHA-256", "sha512"]"#);
        assert!(check(&spec, &bag).is_empty());
    }

    #[test]
    fn tag_manifests_required_and_allowed() {
        let spec = profile(r#""Tag-Manifests-Required": ["md5"]"#);
        let mut bag = facts();
        one(
            check(&spec, &bag),
            Code::ProfileTagManifestMissing,
            Some("tagmanifest-md5.txt"),
            None,
        );
        bag.tag_manifests.push("md5".into());
        assert!(check(&spec, &bag).is_empty());
        let spec = profile(r#""Tag-Manifests-Allowed": ["sha256"]"#);
        one(
            check(&spec, &bag),
            Code::ProfileTagManifestNotAllowed,
            Some("tagmanifest-md5.txt"),
            None,
        );
    }

    #[test]
    fn fetch_allowed_and_required() {
        let mut bag = facts();
        bag.has_fetch = true;
        bag.tag_files.push("fetch.txt".into());
        assert!(check(&profile(""), &bag).is_empty(), "allowed by default");
        one(
            check(&profile(r#""Allow-Fetch.txt": false"#), &bag),
            Code::ProfileFetchNotAllowed,
            Some("fetch.txt"),
            None,
        );
        let spec = profile(r#""Fetch.txt-Required": true"#);
        assert!(check(&spec, &bag).is_empty());
        one(
            check(&spec, &facts()),
            Code::ProfileFetchRequired,
            Some("fetch.txt"),
            None,
        );
    }

    #[test]
    fn data_empty() {
        let spec = profile(r#""Data-Empty": true"#);
        one(
            check(&spec, &facts()),
            Code::ProfileDataNotEmpty,
            Some("data/"),
            None,
        );
        let mut bag = facts();
        bag.payload_bytes = 0;
        assert!(check(&spec, &bag).is_empty(), "one zero-byte file");
        bag.payload_files.push("data/b".into());
        one(
            check(&spec, &bag),
            Code::ProfileDataNotEmpty,
            Some("data/"),
            None,
        );
        bag.payload_files.clear();
        assert!(check(&spec, &bag).is_empty(), "no file");
    }

    #[test]
    fn tag_files_required_and_allowed() {
        let spec = profile(
            r#""Tag-Files-Required": ["metadata/mets.xml"], "Tag-Files-Allowed": ["metadata/*"]"#,
        );
        let mut bag = facts();
        one(
            check(&spec, &bag),
            Code::ProfileTagFileMissing,
            Some("metadata/mets.xml"),
            None,
        );
        bag.tag_files.push("metadata/mets.xml".into());
        bag.tag_files.push("fetch.txt".into());
        assert!(
            check(&spec, &bag).is_empty(),
            "the BagIt files are always allowed"
        );
        bag.tag_files.push("notes.txt".into());
        one(
            check(&spec, &bag),
            Code::ProfileTagFileNotAllowed,
            Some("notes.txt"),
            None,
        );
    }

    #[test]
    fn payload_files_required_and_allowed() {
        let spec = profile(
            r#""Payload-Files-Required": ["data/LICENSE", "data/src/"], "Payload-Files-Allowed": ["data/LICENSE", "data/src/*"]"#,
        );
        let mut bag = facts();
        bag.payload_files = vec!["data/LICENSE".into(), "data/src/a/b.c".into()];
        assert!(check(&spec, &bag).is_empty());
        bag.payload_files = vec!["data/src/a/b.c".into()];
        one(
            check(&spec, &bag),
            Code::ProfilePayloadFileMissing,
            Some("data/LICENSE"),
            None,
        );
        bag.payload_files = vec!["data/LICENSE".into()];
        let problem = one(
            check(&spec, &bag),
            Code::ProfilePayloadFileMissing,
            Some("data/src/"),
            None,
        );
        assert!(problem.message.contains("missing or empty"), "{problem}");
        bag.payload_files = vec![
            "data/LICENSE".into(),
            "data/src/x".into(),
            "data/other.bin".into(),
        ];
        one(
            check(&spec, &bag),
            Code::ProfilePayloadFileNotAllowed,
            Some("data/other.bin"),
            None,
        );
    }
}
