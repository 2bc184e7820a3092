//! What a profile can ask about a bag ([`BagFacts`]), gathered once from any store, so that
//! the rules in `check` read plain data and can be tested without a bag on disk.

use crate::bagit::{Version, baginfo, declaration, manifest, text::Encoding};
use crate::digest::normalize_name;
use crate::store::{Entry, EntryKind, LinkTarget, Store};

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
                    .any(|problem| problem.code == crate::error::Code::ArchiveNameMismatch)
            }),
            ..BagFacts::default()
        };
        let candidates = facts.sort_entries(&entries);
        facts.read_tag_elements(store, candidates);
        Ok(facts)
    }

    /// Sorts the listing into payload files, tag files, manifests and `fetch.txt`; returns the
    /// other root-level `*.txt` files worth reading as `Label: value` elements.
    fn sort_entries(&mut self, entries: &[Entry]) -> Vec<String> {
        let mut candidates = Vec::new();
        for entry in entries {
            let is_file = matches!(
                entry.kind,
                EntryKind::File
                    | EntryKind::Special
                    | EntryKind::Symlink(LinkTarget::InsideFile(_) | LinkTarget::Outside(_))
                    | EntryKind::Symlink(LinkTarget::Broken)
            );
            if !is_file {
                continue;
            }
            if entry.path.starts_with("data/") {
                self.payload_files.push(entry.path.clone());
                self.payload_bytes = self.payload_bytes.saturating_add(entry.size);
                continue;
            }
            self.tag_files.push(entry.path.clone());
            if entry.path.contains('/') {
                continue;
            }
            if let Some((tag, algorithm)) = manifest::classify(&entry.path) {
                let name = normalize_name(algorithm);
                if tag {
                    self.tag_manifests.push(name);
                } else {
                    self.manifests.push(name);
                }
            } else if entry.path == "fetch.txt" {
                self.has_fetch = true;
            } else if entry.path.ends_with(".txt")
                && entry.path != "bagit.txt"
                && entry.is_readable_file()
                && entry.size <= MAX_OTHER_TAG_FILE
            {
                candidates.push(entry.path.clone());
            }
        }
        candidates
    }

    /// Reads `bagit.txt` for the version and encoding, then the bag-info file and every
    /// candidate tag file as `Label: value` elements.
    fn read_tag_elements(&mut self, store: &dyn Store, candidates: Vec<String>) {
        let declared = store.open("bagit.txt").ok().and_then(|mut reader| {
            declaration::parse(&mut reader, &mut crate::verdict::Problems::default())
        });
        let version = declared
            .map(|declaration| declaration.version)
            .unwrap_or(Version::V1_0);
        let encoding = declared
            .map(|declaration| declaration.encoding)
            .unwrap_or(Encoding::Utf8);
        self.version = declared.map(|declaration| declaration.version.to_string());
        let info_file = version.info_file();
        let read_info = |file: &str| -> Vec<(String, String)> {
            match store.open(file) {
                Ok(reader) => baginfo::parse(
                    reader,
                    file,
                    encoding,
                    version,
                    &mut crate::verdict::Problems::default(),
                )
                .elements()
                .iter()
                .map(|element| (element.label.clone(), element.value.clone()))
                .collect(),
                Err(_) => Vec::new(),
            }
        };
        self.info = read_info(info_file);
        for file in candidates {
            if file != info_file {
                let elements = read_info(&file);
                self.other_tag_info.push((file, elements));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let bag = BagFacts::from_store(&store, Some("application/zip")).unwrap();
        assert_eq!(bag.version.as_deref(), Some("0.97"));
        assert_eq!(
            bag.info,
            [
                ("Source-Organization".to_string(), "Example".to_string()),
                (
                    "BagIt-Profile-Identifier".to_string(),
                    "https://x".to_string()
                )
            ]
        );
        assert_eq!(bag.manifests, ["sha256"]);
        assert_eq!(bag.tag_manifests, ["md5"]);
        assert!(bag.has_fetch);
        assert_eq!(bag.payload_files, ["data/a.txt", "data/sub/b.txt"]);
        assert_eq!(bag.payload_bytes, 5);
        assert_eq!(
            bag.tag_files,
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
        assert_eq!(bag.serialization.as_deref(), Some("application/zip"));
        assert_eq!(bag.other_tag_info.len(), 1);
        assert_eq!(bag.other_tag_info[0].0, "aptrust-info.txt");
        assert_eq!(bag.other_tag_info[0].1[0].0, "Title");
        assert!(bag.other_tag_info[0].1[0].1.starts_with("Letters"));
    }
}
