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
        .map(|(p, d, _)| (p.as_str(), d.as_str()))
        .collect();
    // New paths by digest, for moves: a digest may be claimed once per new path.
    let mut new_by_digest: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, d) in &now.files {
        if !base.contains_key(p.as_str())
            && let Some(d) = d
        {
            new_by_digest
                .entry(d.as_str())
                .or_default()
                .push(p.as_str());
        }
    }
    let mut moved_to: HashMap<&str, &str> = HashMap::new();
    for (path, digest, _) in &baseline.files {
        match now.files.get(path) {
            Some(Some(d)) if d == digest => out.counts.add(FileClass::Confirmed),
            Some(actual) => {
                out.counts.add(FileClass::Changed);
                out.findings.push(Finding {
                    path: path.clone(),
                    class: Some(FileClass::Changed),
                    code: None,
                    detail: match actual {
                        Some(a) => format!(
                            "{} was {digest} at the baseline, is {a} now",
                            baseline.algorithm
                        ),
                        None => "could not be read".to_string(),
                    },
                });
            }
            None => {
                let dest = new_by_digest
                    .get_mut(digest.as_str())
                    .and_then(|v| (!v.is_empty()).then(|| v.remove(0)));
                match dest {
                    Some(to) => {
                        moved_to.insert(to, path.as_str());
                        out.counts.add(FileClass::Moved);
                        out.findings.push(Finding {
                            path: to.to_string(),
                            class: Some(FileClass::Moved),
                            code: None,
                            detail: format!("was {path} at the baseline (same content)"),
                        });
                    }
                    None => {
                        out.counts.add(FileClass::Missing);
                        out.findings.push(Finding {
                            path: path.clone(),
                            class: Some(FileClass::Missing),
                            code: None,
                            detail: "at the baseline, not in the bag now".to_string(),
                        });
                    }
                }
            }
        }
    }
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
                Some(d) => format!("not at the baseline ({} {d})", baseline.algorithm),
                None => "not at the baseline".to_string(),
            },
        });
    }
    // ---- were the manifests made anew? ----
    let manifest_differs = match &now.manifest {
        None => !baseline.files.is_empty(),
        Some(m) => {
            m.len() != base.len()
                || m.iter()
                    .any(|(p, d)| base.get(p.as_str()).is_none_or(|b| *b != d.as_str()))
        }
    };
    let base_tags: BTreeMap<&str, &str> = baseline
        .tags
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_str()))
        .collect();
    let mut tags_differ = false;
    if !base_tags.is_empty() {
        let now_tags: BTreeMap<&str, &str> = now
            .tags
            .iter()
            .flatten()
            .map(|(p, d)| (p.as_str(), d.as_str()))
            .collect();
        for (p, d) in &base_tags {
            let detail = match now_tags.get(p) {
                Some(n) if n == d => continue,
                Some(n) => format!(
                    "tag file differs from the baseline ({} was {d}, is {n})",
                    baseline.algorithm
                ),
                None => "tag file listed at the baseline, not in the tag manifest now".into(),
            };
            tags_differ = true;
            out.findings.push(Finding {
                path: p.to_string(),
                class: None,
                code: None,
                detail,
            });
        }
        for p in now_tags.keys() {
            if !base_tags.contains_key(p) {
                tags_differ = true;
                out.findings.push(Finding {
                    path: p.to_string(),
                    class: None,
                    code: None,
                    detail: "tag file not listed at the baseline".into(),
                });
            }
        }
    }
    out.manifest_rewritten = manifest_differs || tags_differ;
    out
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

    fn classes(c: &Classified) -> Vec<(String, Option<FileClass>)> {
        c.findings
            .iter()
            .map(|f| (f.path.clone(), f.class))
            .collect()
    }

    #[test]
    fn an_untouched_bag_is_all_confirmed() {
        let c = classify(
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
        assert_eq!(c.counts.confirmed, 4);
        assert!(c.findings.is_empty());
        assert!(!c.manifest_rewritten);
    }

    #[test]
    fn the_five_classes_on_disk_without_rebagging() {
        // a: bit rot; b: renamed to b2 on disk; c: deleted; e: a stray new file; d: fine.
        let c = classify(
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
            c.counts,
            ClassCounts {
                confirmed: 1,
                changed: 1,
                missing: 1,
                new: 1,
                moved: 1
            }
        );
        assert_eq!(
            classes(&c),
            [
                ("data/a.jpg".into(), Some(FileClass::Changed)),
                ("data/b2.jpg".into(), Some(FileClass::Moved)),
                ("data/c.jpg".into(), Some(FileClass::Missing)),
                ("data/e.jpg".into(), Some(FileClass::New)),
            ]
        );
        assert!(c.findings[1].detail.contains("was data/b.jpg"));
        // The manifests are as deposited: the changes are on disk only.
        assert!(!c.manifest_rewritten);
    }

    #[test]
    fn a_rebagged_altered_file_is_changed_and_the_manifest_rewritten() {
        // The bag validates against itself (manifest says a!), but the baseline said aa.
        let c = classify(
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
        assert_eq!(c.counts.changed, 1);
        assert!(c.manifest_rewritten);
        assert_eq!(
            classes(&c),
            [
                ("data/a.jpg".into(), Some(FileClass::Changed)),
                ("manifest-sha512.txt".into(), None),
            ]
        );
    }

    #[test]
    fn a_swap_of_two_files_is_two_changes_and_unreadable_is_changed() {
        let c = classify(
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
        assert_eq!((c.counts.changed, c.counts.confirmed), (3, 1));
        assert_eq!(c.findings[2].detail, "could not be read");
    }

    #[test]
    fn duplicated_content_moves_once_and_the_rest_is_new() {
        let c = classify(
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
        assert_eq!((c.counts.moved, c.counts.new), (1, 1));
        assert_eq!(
            classes(&c),
            [
                ("data/x/d.jpg".into(), Some(FileClass::Moved)),
                ("data/y/d.jpg".into(), Some(FileClass::New)),
            ]
        );
    }

    #[test]
    fn a_manifest_gone_or_a_tag_file_added_is_a_rewrite() {
        let mut n = now(
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
        let c = classify(&baseline(), &n);
        assert!(c.manifest_rewritten);
        assert_eq!(classes(&c), [("x.txt".into(), None)]);
        n.manifest = None;
        n.tags = Some(
            TAGS.iter()
                .map(|(p, d)| (p.to_string(), d.to_string()))
                .collect(),
        );
        assert!(classify(&baseline(), &n).manifest_rewritten);
    }
}
