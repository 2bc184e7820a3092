//! Sorting a bag's files into confirmed, changed, missing, new and moved, against the
//! baseline recorded at its first audit. Pure: the auditor gathers the facts, this decides.

use std::collections::{BTreeMap, HashMap};

use super::model::{Baseline, ClassCounts, FileClass, Finding};

/// What an audit knows about the bag now, in the baseline's algorithm.
#[derive(Debug, Default)]
pub struct Current {
    /// Payload files on disk now, with their actual digest (hex), when it could be computed.
    pub files: BTreeMap<String, Option<String>>,
    /// The payload manifest's lines now (path → hex digest), in the baseline's algorithm;
    /// `None` when the bag no longer has a manifest in that algorithm.
    pub manifest: Option<BTreeMap<String, String>>,
    /// The tag manifest's lines now (path → hex digest), in the baseline's algorithm.
    pub tags: Option<BTreeMap<String, String>>,
}

/// The classification of every file, and whether the manifests were re-written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Classified {
    /// Files by class.
    pub counts: ClassCounts,
    /// Every file not confirmed, and every tag file that differs from the baseline.
    pub findings: Vec<Finding>,
    /// The manifests differ from the baseline's (re-bagged).
    pub manifest_rewritten: bool,
}

/// Classifies the bag's files against `baseline`.
///
/// - a baseline path whose file now has the baseline's digest is **confirmed**;
/// - one whose file has another digest (or could not be read) is **changed**;
/// - one whose file is gone is **moved** when a file not at the baseline now has its
///   digest (the first such path, in order), else **missing**;
/// - a file not at the baseline, and not the destination of a move, is **new**.
///
/// The manifests count as **re-written** when the tag manifest, or any payload manifest line,
/// differs from the baseline's: someone made the bag anew, so that it may validate against
/// itself while its content is not what was deposited.
pub fn classify(baseline: &Baseline, now: &Current) -> Classified {
    let mut out = Classified::default();
    let base: HashMap<&str, &str> = baseline
        .files
        .iter()
        .map(|(path, digest, _)| (path.as_str(), digest.as_str()))
        .collect();
    let moved_to = baseline_files(baseline, now, &base, &mut out);
    new_files(baseline, now, &base, &moved_to, &mut out);
    // Both are checked, so that every differing tag file is a finding.
    let manifest_differs = manifest_differs(baseline, now, &base);
    let tags_differ = tags_differ(baseline, now, &mut out.findings);
    out.manifest_rewritten = manifest_differs || tags_differ;
    out
}

/// Sorts every baseline file into confirmed, changed, moved or missing; returns the moves
/// (new path → baseline path).
fn baseline_files<'a>(
    baseline: &'a Baseline,
    now: &'a Current,
    base: &HashMap<&str, &str>,
    out: &mut Classified,
) -> HashMap<&'a str, &'a str> {
    // New paths by digest, for moves: a digest may be claimed once per new path.
    let mut new_by_digest: HashMap<&str, Vec<&str>> = HashMap::new();
    for (path, digest) in &now.files {
        if !base.contains_key(path.as_str())
            && let Some(digest) = digest
        {
            new_by_digest
                .entry(digest.as_str())
                .or_default()
                .push(path.as_str());
        }
    }
    let mut moved_to: HashMap<&str, &str> = HashMap::new();
    for (path, digest, _) in &baseline.files {
        let (class, finding_path, detail) = match now.files.get(path) {
            Some(Some(actual)) if actual == digest => {
                out.counts.add(FileClass::Confirmed);
                continue;
            }
            Some(actual) => (
                FileClass::Changed,
                path.clone(),
                match actual {
                    Some(actual) => format!(
                        "{} was {digest} at the baseline, is {actual} now",
                        baseline.algorithm
                    ),
                    None => "could not be read".to_string(),
                },
            ),
            None => {
                let destination = new_by_digest
                    .get_mut(digest.as_str())
                    .and_then(|paths| (!paths.is_empty()).then(|| paths.remove(0)));
                match destination {
                    Some(to) => {
                        moved_to.insert(to, path.as_str());
                        (
                            FileClass::Moved,
                            to.to_string(),
                            format!("was {path} at the baseline (same content)"),
                        )
                    }
                    None => (
                        FileClass::Missing,
                        path.clone(),
                        "at the baseline, not in the bag now".to_string(),
                    ),
                }
            }
        };
        out.counts.add(class);
        out.findings.push(Finding {
            path: finding_path,
            class: Some(class),
            code: None,
            detail,
        });
    }
    moved_to
}

/// Every file not at the baseline, and not the destination of a move, is new.
fn new_files(
    baseline: &Baseline,
    now: &Current,
    base: &HashMap<&str, &str>,
    moved_to: &HashMap<&str, &str>,
    out: &mut Classified,
) {
    for (path, digest) in &now.files {
        if base.contains_key(path.as_str()) || moved_to.contains_key(path.as_str()) {
            continue;
        }
        out.counts.add(FileClass::New);
        out.findings.push(Finding {
            path: path.clone(),
            class: Some(FileClass::New),
            code: None,
            detail: match digest {
                Some(digest) => format!("not at the baseline ({} {digest})", baseline.algorithm),
                None => "not at the baseline".to_string(),
            },
        });
    }
}

/// The payload manifest differs from the baseline (gone, or any line added, removed or
/// changed).
fn manifest_differs(baseline: &Baseline, now: &Current, base: &HashMap<&str, &str>) -> bool {
    match &now.manifest {
        None => !baseline.files.is_empty(),
        Some(manifest) => {
            manifest.len() != base.len()
                || manifest.iter().any(|(path, digest)| {
                    base.get(path.as_str())
                        .is_none_or(|at_baseline| *at_baseline != digest.as_str())
                })
        }
    }
}

/// Whether the tag manifest differs from the baseline's; each differing tag file is a
/// finding.
fn tags_differ(baseline: &Baseline, now: &Current, findings: &mut Vec<Finding>) -> bool {
    let base_tags: BTreeMap<&str, &str> = baseline
        .tags
        .iter()
        .map(|(path, digest)| (path.as_str(), digest.as_str()))
        .collect();
    if base_tags.is_empty() {
        return false;
    }
    let now_tags: BTreeMap<&str, &str> = now
        .tags
        .iter()
        .flatten()
        .map(|(path, digest)| (path.as_str(), digest.as_str()))
        .collect();
    let mut differ = false;
    let mut tag_finding = |path: &str, detail: String| {
        differ = true;
        findings.push(Finding {
            path: path.to_string(),
            class: None,
            code: None,
            detail,
        });
    };
    for (path, digest) in &base_tags {
        let detail = match now_tags.get(path) {
            Some(current) if current == digest => continue,
            Some(current) => format!(
                "tag file differs from the baseline ({} was {digest}, is {current})",
                baseline.algorithm
            ),
            None => "tag file listed at the baseline, not in the tag manifest now".into(),
        };
        tag_finding(path, detail);
    }
    for path in now_tags.keys() {
        if !base_tags.contains_key(path) {
            tag_finding(path, "tag file not listed at the baseline".into());
        }
    }
    differ
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> Baseline {
        Baseline {
            algorithm: "sha512".into(),
            files: vec![
                ("data/a.jpg".into(), "aa".into(), 1),
                ("data/b.jpg".into(), "bb".into(), 1),
                ("data/c.jpg".into(), "cc".into(), 1),
                ("data/d.jpg".into(), "dd".into(), 1),
            ],
            tags: vec![
                ("bag-info.txt".into(), "i1".into()),
                ("manifest-sha512.txt".into(), "m1".into()),
            ],
        }
    }

    fn now(
        files: &[(&str, Option<&str>)],
        manifest: &[(&str, &str)],
        tags: &[(&str, &str)],
    ) -> Current {
        Current {
            files: files
                .iter()
                .map(|(p, d)| (p.to_string(), d.map(String::from)))
                .collect(),
            manifest: Some(
                manifest
                    .iter()
                    .map(|(p, d)| (p.to_string(), d.to_string()))
                    .collect(),
            ),
            tags: Some(
                tags.iter()
                    .map(|(p, d)| (p.to_string(), d.to_string()))
                    .collect(),
            ),
        }
    }

    const MANIFEST: [(&str, &str); 4] = [
        ("data/a.jpg", "aa"),
        ("data/b.jpg", "bb"),
        ("data/c.jpg", "cc"),
        ("data/d.jpg", "dd"),
    ];
    const TAGS: [(&str, &str); 2] = [("bag-info.txt", "i1"), ("manifest-sha512.txt", "m1")];

    fn classes(classified: &Classified) -> Vec<(String, Option<FileClass>)> {
        classified
            .findings
            .iter()
            .map(|f| (f.path.clone(), f.class))
            .collect()
    }

    #[test]
    fn an_untouched_bag_is_all_confirmed() {
        let classified = classify(
            &baseline(),
            &now(
                &[
                    ("data/a.jpg", Some("aa")),
                    ("data/b.jpg", Some("bb")),
                    ("data/c.jpg", Some("cc")),
                    ("data/d.jpg", Some("dd")),
                ],
                &MANIFEST,
                &TAGS,
            ),
        );
        assert_eq!(classified.counts.confirmed, 4);
        assert!(classified.findings.is_empty());
        assert!(!classified.manifest_rewritten);
    }

    #[test]
    fn the_five_classes_on_disk_without_rebagging() {
        // a: bit rot; b: renamed to b2 on disk; c: deleted; e: a stray new file; d: fine.
        let classified = classify(
            &baseline(),
            &now(
                &[
                    ("data/a.jpg", Some("a!")),
                    ("data/b2.jpg", Some("bb")),
                    ("data/d.jpg", Some("dd")),
                    ("data/e.jpg", Some("ee")),
                ],
                &MANIFEST,
                &TAGS,
            ),
        );
        assert_eq!(
            classified.counts,
            ClassCounts {
                confirmed: 1,
                changed: 1,
                missing: 1,
                new: 1,
                moved: 1
            }
        );
        assert_eq!(
            classes(&classified),
            [
                ("data/a.jpg".into(), Some(FileClass::Changed)),
                ("data/b2.jpg".into(), Some(FileClass::Moved)),
                ("data/c.jpg".into(), Some(FileClass::Missing)),
                ("data/e.jpg".into(), Some(FileClass::New)),
            ]
        );
        assert!(classified.findings[1].detail.contains("was data/b.jpg"));
        // The manifests are as deposited: the changes are on disk only.
        assert!(!classified.manifest_rewritten);
    }

    #[test]
    fn a_rebagged_altered_file_is_changed_and_the_manifest_rewritten() {
        // The bag validates against itself (manifest says a!), but the baseline said aa.
        let classified = classify(
            &baseline(),
            &now(
                &[
                    ("data/a.jpg", Some("a!")),
                    ("data/b.jpg", Some("bb")),
                    ("data/c.jpg", Some("cc")),
                    ("data/d.jpg", Some("dd")),
                ],
                &[
                    ("data/a.jpg", "a!"),
                    ("data/b.jpg", "bb"),
                    ("data/c.jpg", "cc"),
                    ("data/d.jpg", "dd"),
                ],
                &[("bag-info.txt", "i1"), ("manifest-sha512.txt", "m2")],
            ),
        );
        assert_eq!(classified.counts.changed, 1);
        assert!(classified.manifest_rewritten);
        assert_eq!(
            classes(&classified),
            [
                ("data/a.jpg".into(), Some(FileClass::Changed)),
                ("manifest-sha512.txt".into(), None),
            ]
        );
    }

    #[test]
    fn a_swap_of_two_files_is_two_changes_and_unreadable_is_changed() {
        let classified = classify(
            &baseline(),
            &now(
                &[
                    ("data/a.jpg", Some("bb")),
                    ("data/b.jpg", Some("aa")),
                    ("data/c.jpg", None),
                    ("data/d.jpg", Some("dd")),
                ],
                &MANIFEST,
                &TAGS,
            ),
        );
        assert_eq!(
            (classified.counts.changed, classified.counts.confirmed),
            (3, 1)
        );
        assert_eq!(classified.findings[2].detail, "could not be read");
    }

    #[test]
    fn duplicated_content_moves_once_and_the_rest_is_new() {
        let classified = classify(
            &baseline(),
            &now(
                &[
                    ("data/a.jpg", Some("aa")),
                    ("data/b.jpg", Some("bb")),
                    ("data/c.jpg", Some("cc")),
                    ("data/x/d.jpg", Some("dd")),
                    ("data/y/d.jpg", Some("dd")),
                ],
                &MANIFEST,
                &TAGS,
            ),
        );
        assert_eq!((classified.counts.moved, classified.counts.new), (1, 1));
        assert_eq!(
            classes(&classified),
            [
                ("data/x/d.jpg".into(), Some(FileClass::Moved)),
                ("data/y/d.jpg".into(), Some(FileClass::New)),
            ]
        );
    }

    #[test]
    fn a_manifest_gone_or_a_tag_file_added_is_a_rewrite() {
        let mut current = now(
            &[
                ("data/a.jpg", Some("aa")),
                ("data/b.jpg", Some("bb")),
                ("data/c.jpg", Some("cc")),
                ("data/d.jpg", Some("dd")),
            ],
            &MANIFEST,
            &[
                ("bag-info.txt", "i1"),
                ("manifest-sha512.txt", "m1"),
                ("x.txt", "x"),
            ],
        );
        let classified = classify(&baseline(), &current);
        assert!(classified.manifest_rewritten);
        assert_eq!(classes(&classified), [("x.txt".into(), None)]);
        current.manifest = None;
        current.tags = Some(
            TAGS.iter()
                .map(|(p, d)| (p.to_string(), d.to_string()))
                .collect(),
        );
        assert!(classify(&baseline(), &current).manifest_rewritten);
    }
}
