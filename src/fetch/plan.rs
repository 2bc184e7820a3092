//! What to fetch: the owed files of `fetch.txt`, each with every checksum the payload
//! manifests list for it, and the lines refused before anything is downloaded.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use super::{FetchError, FetchOptions};
use crate::bagit::fetch::{self as fetch_txt, FetchEntry};
use crate::bagit::{declaration, manifest};
use crate::digest::{Algorithm, Digest};
use crate::error::{Code, Problem};
use crate::paths;

/// One file to fetch.
#[derive(Clone, Debug)]
pub struct Job {
    /// The fetch.txt line.
    pub entry: FetchEntry,
    /// Every checksum to verify, one per payload manifest qoima can compute.
    pub expected: Vec<(Algorithm, Digest)>,
    /// The most bytes accepted: the declared length, bounded by `--max-bytes`.
    pub limit: Option<u64>,
}

/// The plan of a run.
pub struct Plan {
    /// The files to fetch, in fetch.txt order.
    pub jobs: Vec<Job>,
    /// Lines refused before downloading.
    pub refused: Vec<Problem>,
}

/// Reads the bag's declaration, fetch.txt and payload manifests.
pub fn plan(bag: &Path, opts: &FetchOptions) -> Result<Plan, FetchError> {
    let open = |name: &str| {
        let path = bag.join(name);
        File::open(&path).map_err(|source| FetchError::Read { path, source })
    };
    if !bag.join("bagit.txt").is_file() {
        return Err(FetchError::NotABag {
            path: bag.to_path_buf(),
            why: "there is no bagit.txt".into(),
        });
    }
    let Some(decl) = declaration::parse(
        open("bagit.txt")?,
        &mut crate::verdict::Problems::unlimited(),
    ) else {
        return Err(FetchError::NotABag {
            path: bag.to_path_buf(),
            why: "bagit.txt cannot be read as a BagIt declaration (validate the bag)".into(),
        });
    };
    if !bag.join("fetch.txt").is_file() {
        return Ok(Plan {
            jobs: Vec::new(),
            refused: Vec::new(),
        });
    }
    let mut parse_problems = crate::verdict::Problems::unlimited();
    let entries = fetch_txt::parse(
        open("fetch.txt")?,
        decl.encoding,
        decl.version,
        &mut parse_problems,
    );
    let mut refused = parse_problems.into_vec();
    let wanted: HashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    let manifests = payload_manifests(bag, decl, &wanted)?;
    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    for entry in entries {
        if !seen.insert(entry.path.clone()) {
            continue;
        }
        match job_for(entry, &manifests, opts) {
            Ok(job) => jobs.push(job),
            Err(p) => refused.push(p),
        }
    }
    Ok(Plan { jobs, refused })
}

/// Each payload manifest's algorithm (if qoima computes it) and its digests of the wanted
/// paths; other lines are dropped as soon as they are read.
type Wanted = Vec<(String, Option<Algorithm>, HashMap<String, Digest>)>;

fn payload_manifests(
    bag: &Path,
    decl: declaration::Declaration,
    wanted: &HashSet<&str>,
) -> Result<Wanted, FetchError> {
    let mut names: Vec<String> = std::fs::read_dir(bag)
        .map_err(|source| FetchError::Read {
            path: bag.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| manifest::classify(n).is_some_and(|(tag, _)| !tag))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = bag.join(&name);
        let file = File::open(&path).map_err(|source| FetchError::Read { path, source })?;
        let m = manifest::parse(
            file,
            &name,
            decl.encoding,
            decl.version,
            &mut crate::verdict::Problems::default(),
        );
        let digests = m
            .entries
            .into_iter()
            .filter(|e| wanted.contains(e.path.as_str()))
            .map(|e| (e.path, e.digest))
            .collect();
        out.push((m.file, m.algorithm, digests));
    }
    Ok(out)
}

fn job_for(entry: FetchEntry, manifests: &Wanted, opts: &FetchOptions) -> Result<Job, Problem> {
    let refuse = |code: Code, why: String| {
        Problem::new(code, why)
            .file("fetch.txt")
            .line(entry.line)
            .field(entry.path.as_str())
    };
    let shown = paths::printable(&entry.path);
    let missing: Vec<&str> = manifests
        .iter()
        .filter(|(_, _, d)| !d.contains_key(&entry.path))
        .map(|(f, _, _)| f.as_str())
        .collect();
    if manifests.is_empty() || !missing.is_empty() {
        let where_ = if manifests.is_empty() {
            "the bag has no payload manifest".to_string()
        } else {
            format!("{} does not list it", missing.join(", "))
        };
        return Err(refuse(
            Code::FetchNotInManifest,
            format!("{shown} was not fetched: {where_}, so it could not be verified"),
        ));
    }
    let expected: Vec<(Algorithm, Digest)> = manifests
        .iter()
        .filter_map(|(_, a, d)| Some(((*a)?, d[&entry.path])))
        .collect();
    if expected.is_empty() {
        return Err(refuse(
            Code::FetchUnverifiable,
            format!(
                "{shown} was not fetched: no payload manifest uses an algorithm qoima computes"
            ),
        ));
    }
    if let (Some(declared), Some(max)) = (entry.length, opts.max_bytes)
        && declared > max
    {
        return Err(refuse(
            Code::FetchTooLarge,
            format!(
                "{shown} was not fetched: fetch.txt declares {declared} bytes, more than --max-bytes {max}"
            ),
        ));
    }
    let limit = match (entry.length, opts.max_bytes) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Job {
        entry,
        expected,
        limit,
    })
}
