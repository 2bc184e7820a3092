//! What to put in a new bag and the rules around it: the options, the junk names
//! `--exclude-junk` leaves out, the exclusion patterns, the tag files a user may add, and
//! the Bagging-Date.

use crate::bagit::baginfo::BagInfo;
use crate::bagit::manifest;
use crate::digest::Algorithm;

/// What to put in a new bag.
#[derive(Clone, Debug)]
pub struct BagOptions {
    /// Manifest algorithms (default sha256 and sha512).
    pub algorithms: Vec<Algorithm>,
    /// The user's bag-info elements, in order.
    pub info: BagInfo,
    /// Bag what symbolic links point to (otherwise a link is refused).
    pub follow_links: bool,
    /// Hard-link payload files into a new bag instead of copying them, where the source and
    /// the bag share a filesystem (each file that cannot be linked is copied). qoima never
    /// writes to a linked file; an edit made later through either name changes both.
    pub link: bool,
    /// Bagging-Date; default from `SOURCE_DATE_EPOCH`, else today (UTC).
    pub date: Option<chrono::NaiveDate>,
    /// Further tag files the user supplies (bag-relative name, content), e.g. the
    /// `aptrust-info.txt` a profile requires; written and listed in the tag manifests.
    pub tag_files: Vec<(String, Vec<u8>)>,
    /// Patterns of source files and folders to leave out of the payload (`--exclude`, and
    /// [`JUNK`] with `--exclude-junk`); see [`excluded_by`].
    pub exclude: Vec<String>,
}

/// The names file browsers and operating systems leave behind: Finder's `.DS_Store` and
/// AppleDouble `._*` files, Spotlight's and the Trash's folders, Windows Explorer's
/// `Thumbs.db`, `ehthumbs.db` and `desktop.ini`. `--exclude-junk` leaves them out.
pub const JUNK: &[&str] = &[
    ".DS_Store",
    "._*",
    ".Spotlight-V100",
    ".Trashes",
    ".fseventsd",
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
];

/// Whether `name` (one path component) is operating-system junk (see [`JUNK`]).
pub fn is_junk(name: &str) -> bool {
    JUNK.iter().any(|p| crate::glob::matches(p, name))
}

/// Whether the source-relative path `rel` is left out by one of `patterns`: a pattern without
/// `/` is matched against every component of the path (so a folder's name leaves out all it
/// holds), a pattern with `/` against the whole path and each of its folders.
pub fn excluded_by(patterns: &[String], rel: &str) -> bool {
    patterns.iter().any(|pattern| {
        if pattern.contains('/') {
            let pattern = pattern.trim_end_matches('/');
            let mut prefix = rel;
            loop {
                if crate::glob::matches(pattern, prefix) {
                    return true;
                }
                match prefix.rsplit_once('/') {
                    Some((parent, _)) => prefix = parent,
                    None => return false,
                }
            }
        } else {
            rel.split('/')
                .any(|component| crate::glob::matches(pattern, component))
        }
    })
}

impl Default for BagOptions {
    fn default() -> Self {
        BagOptions {
            algorithms: vec![Algorithm::Sha256, Algorithm::Sha512],
            info: BagInfo::new(),
            follow_links: false,
            link: false,
            date: None,
            tag_files: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Why `name` cannot be a tag file the user adds, if it cannot: it must be a safe relative
/// path outside `data/`, and not a file qoima writes itself.
pub fn tag_file_refusal(name: &str) -> Option<String> {
    if let Some(why) = crate::paths::unsafe_reason(name) {
        return Some(why.to_string());
    }
    if name == "data" || name.starts_with("data/") {
        return Some("it would be payload (under data/)".into());
    }
    let reserved = name == "bagit.txt"
        || name == "bag-info.txt"
        || name == "fetch.txt"
        || manifest::classify(name).is_some();
    if reserved {
        return Some("qoima writes that file itself".into());
    }
    None
}

/// The Bagging-Date: the option, else `SOURCE_DATE_EPOCH`, else today in UTC.
pub fn bagging_date(opt: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    opt.or_else(|| {
        let secs: i64 = std::env::var("SOURCE_DATE_EPOCH")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(chrono::DateTime::from_timestamp(secs, 0)?.date_naive())
    })
    .unwrap_or_else(|| chrono::Utc::now().date_naive())
}

/// The time a bag is made, as an `xs:dateTime` in UTC: the Bagging-Date option at midnight,
/// else `SOURCE_DATE_EPOCH`, else now — so that reproducible runs give identical METS headers.
pub fn bagging_time(opt: Option<chrono::NaiveDate>) -> String {
    if let Some(date) = opt {
        return format!("{}T00:00:00Z", date.format("%Y-%m-%d"));
    }
    let time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
