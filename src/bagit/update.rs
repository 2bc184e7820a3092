//! Updating a bag after a deliberate change (`qoima bag --update`): the payload is read once,
//! the manifests (in the algorithms asked for), bag-info.txt's Payload-Oxum and Bag-Size and
//! the tag manifests are rewritten, and what was added, removed or changed is reported.
//!
//! The steps:
//! 1. finish an interrupted update from its journal, if there is one (and stop there);
//! 2. read the bag as it stands: bagit.txt, bag-info.txt, the payload manifests' algorithms,
//!    and refuse what cannot be updated (no data/, a fetch.txt, a sealed or packaged bag
//!    without `--force`);
//! 3. scan data/ and hash it once, in the new algorithms and one old one to compare with;
//! 4. write every new tag file into a staging folder, through `create::write_tag_files`
//!    (the user's tag files too, so the tag manifests hash what they list);
//! 5. let the caller record the change (a sealed bag's custody entry), then commit the staged
//!    files by the journal of [`super::update_journal`].
//!
//! Bagging-Date and Bag-Software-Agent are kept, as bagit-python's `save()` keeps them: they say
//! when and by what the bag was made; the update is said by the report (and, on a sealed bag,
//! by the custody log). The caller holds the bag's lock ([`crate::fsutil::DirLock`]).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::baginfo::{self, BagInfo};
use super::create::{BagError, BagOptions, SourceFile, hash_files, scan_source, write_tag_files};
use super::declaration::{self, Version};
use super::manifest;
use super::text::Encoding;
use super::update_journal::{self as journal, Journal};
use crate::digest::{Algorithm, Digest, Engine, FileDigests, Progress};
use crate::error::{Code, Problem};

/// The folder of a sealed bag's signatures, where the tag manifests as sealed are kept.
pub const SEAL_DIR: &str = "seal";
/// The folder of a sealed bag's custody log.
const CUSTODY_DIR: &str = "custody";
/// A packaged bag's METS, at its root.
const METS: &str = "mets.xml";

/// How to update.
#[derive(Clone, Debug, Default)]
pub struct UpdateOptions {
    /// Algorithms to add to the bag's.
    pub add: Vec<Algorithm>,
    /// Algorithms to remove from the bag's.
    pub remove: Vec<Algorithm>,
    /// Algorithms the bag's profile requires: never removed.
    pub required: Vec<Algorithm>,
    /// Update a sealed or packaged bag anyway (see [`Protection`]).
    pub force: bool,
}

/// What else depends on the bag's manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protection {
    /// Nothing: a plain bag.
    None,
    /// A seal signs its tag manifests (`seal/`), or a custody log chains to them (`custody/`).
    Sealed,
    /// A METS at its root describes every payload file with its checksum.
    Packaged,
}

/// What an update did.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateSummary {
    /// The bag.
    pub bag: PathBuf,
    /// This run finished an interrupted update (and did nothing else).
    pub resumed: bool,
    /// What depends on the manifests.
    pub protection: Protection,
    /// Payload files added since the manifests were written (`data/…`).
    pub added: Vec<String>,
    /// Payload files the manifests listed that are gone.
    pub removed: Vec<String>,
    /// Payload files whose content differs from the manifests'.
    pub changed: Vec<String>,
    /// The manifest algorithms now.
    pub algorithms: Vec<Algorithm>,
    /// Algorithms added.
    pub algorithms_added: Vec<Algorithm>,
    /// Algorithms removed.
    pub algorithms_removed: Vec<Algorithm>,
    /// The user's tag files, hashed again into the tag manifests.
    pub tag_files: Vec<String>,
    /// Payload-Oxum before the update, when bag-info.txt had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_oxum_before: Option<String>,
    /// Payload-Oxum now.
    pub payload_oxum: String,
    /// Payload files now.
    pub files: u64,
    /// Payload bytes now.
    pub bytes: u64,
    /// The bag's seal no longer holds (its tag manifests as sealed are kept in `seal/`).
    pub seal_broken: bool,
    /// The custody entry that records the change (e.g. `custody/000003.json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody_entry: Option<String>,
    /// Warnings.
    pub problems: Vec<Problem>,
}

impl UpdateSummary {
    /// Whether the payload changed (a file added, removed or changed).
    pub fn payload_changed(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

/// Records a change before it is committed: given the summary and the staged
/// `tagmanifest-sha256.txt` (when written), returns the record's name (a custody entry).
pub type Recorder<'a> =
    dyn Fn(&UpdateSummary, Option<&[u8]>) -> Result<Option<String>, BagError> + 'a;

/// What an update reads from the bag before it changes anything.
struct Current {
    info: BagInfo,
    version: Version,
    /// The payload manifests' algorithms.
    algorithms: Vec<Algorithm>,
    /// Every manifest and tag manifest at the top, as named.
    manifest_files: Vec<String>,
    protection: Protection,
}

/// Updates the bag folder `bag` (see the module comment). `record` is called, when given, with
/// the changes before they are committed; a sealed bag is refused without it.
pub fn update_bag(
    bag: &Path,
    opts: &UpdateOptions,
    engine: &Engine,
    progress: &dyn Progress,
    record: Option<&Recorder<'_>>,
) -> Result<UpdateSummary, BagError> {
    if journal::recover(bag)? {
        return resumed(bag);
    }
    let current = read_current(bag)?;
    refuse_protected(&current, opts, record.is_some())?;
    let mut warnings = Vec::new();
    let (algorithms, removed_algs) = plan_algorithms(&current, opts, &mut warnings)?;
    let compare = comparison_algorithm(&current.algorithms, &algorithms);
    let data = bag.join("data");
    let (files, scan_warnings) = engine.install(|| scan_source(&data, false, &[]))?;
    warnings.extend(scan_warnings);
    let mut hashed = algorithms.clone();
    hashed.push(compare);
    hashed.sort();
    hashed.dedup();
    progress.stage(
        "hashing",
        files.iter().map(|f| f.size).sum(),
        files.len() as u64,
    );
    let digests = hash_files(&data, &files, &hashed, None, false, engine, progress)?;
    let mut summary = compare_payload(bag, &current, compare, &files, &digests)?;
    summary.algorithms_added = algorithms
        .iter()
        .filter(|a| !current.algorithms.contains(a))
        .copied()
        .collect();
    summary.algorithms_removed = removed_algs;
    summary.algorithms = algorithms.clone();
    refuse_packaged_change(&summary)?;
    if current.version != Version::V1_0 {
        warnings.push(
            Problem::new(
                Code::UpdateVersionRaised,
                format!(
                    "the bag declared BagIt {}; it is now written as BagIt 1.0",
                    current.version
                ),
            )
            .file("bagit.txt"),
        );
    }
    let user_tags = read_user_tag_files(bag)?;
    summary.tag_files = user_tags.iter().map(|(n, _)| n.clone()).collect();
    summary.seal_broken = current.protection == Protection::Sealed;
    summary.problems = warnings;
    let staging = journal::staging_name();
    let staged = stage(
        bag,
        &staging,
        &current,
        &algorithms,
        &files,
        &digests,
        &user_tags,
    );
    let result = staged.and_then(|plan| {
        if let Some(record) = record {
            let root = fs::read(bag.join(&staging).join("tagmanifest-sha256.txt")).ok();
            summary.custody_entry = record(&summary, root.as_deref())?;
        }
        journal::commit(bag, &plan)
    });
    if let Err(e) = result {
        // Before the commit point nothing of the bag changed: the staging folder goes.
        if !bag.join(journal::JOURNAL).exists() {
            let _ = fs::remove_dir_all(bag.join(&staging));
        }
        return Err(e);
    }
    if summary.seal_broken {
        summary.problems.push(seal_broken_warning());
    }
    Ok(summary)
}

/// The summary of a run that only finished an interrupted update.
fn resumed(bag: &Path) -> Result<UpdateSummary, BagError> {
    let current = read_current(bag)?;
    let oxum = current.info.oxum();
    Ok(UpdateSummary {
        bag: bag.to_path_buf(),
        resumed: true,
        protection: current.protection,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        algorithms: current.algorithms,
        algorithms_added: Vec::new(),
        algorithms_removed: Vec::new(),
        tag_files: Vec::new(),
        payload_oxum_before: None,
        payload_oxum: oxum.map(|o| o.to_string()).unwrap_or_default(),
        files: oxum.map_or(0, |o| o.streams),
        bytes: oxum.map_or(0, |o| o.octets),
        seal_broken: false,
        custody_entry: None,
        problems: Vec::new(),
    })
}

fn seal_broken_warning() -> Problem {
    Problem::new(
        Code::UpdateSealBroken,
        format!(
            "THE SEAL IS BROKEN: the bag no longer matches what was sealed; the tag manifests as sealed are kept in {SEAL_DIR}/, and verify-seal will report the change"
        ),
    )
    .file(SEAL_DIR)
}

/// A refusal with one problem (nothing was changed).
fn refuse(code: Code, file: &str, message: String) -> BagError {
    BagError::Refused(vec![Problem::new(code, message).file(file)])
}

/// Reads what the update needs from the bag, refusing a folder that cannot be updated.
fn read_current(bag: &Path) -> Result<Current, BagError> {
    let not_updatable = |file: &str, why: String| {
        refuse(
            Code::UpdateNotUpdatable,
            file,
            format!(
                "{} cannot be updated: {why}; nothing was changed",
                bag.display()
            ),
        )
    };
    let decl_bytes = fs::read(bag.join("bagit.txt"))
        .map_err(|e| not_updatable("bagit.txt", format!("bagit.txt cannot be read ({e})")))?;
    let decl = declaration::parse(&decl_bytes[..], &mut crate::verdict::Problems::default())
        .ok_or_else(|| not_updatable("bagit.txt", "bagit.txt is not a BagIt declaration".into()))?;
    let supported = decl.version
        == (Version {
            major: 0,
            minor: 97,
        })
        || decl.version.major == 1;
    if !supported || decl.encoding != Encoding::Utf8 {
        return Err(not_updatable(
            "bagit.txt",
            format!(
                "it is BagIt {} in {:?}; qoima updates BagIt 0.97 and 1.x in UTF-8",
                decl.version, decl.encoding
            ),
        ));
    }
    if !bag.join("data").is_dir() {
        return Err(not_updatable("data", "it has no data/ folder".into()));
    }
    if fs::symlink_metadata(bag.join("fetch.txt")).is_ok() {
        return Err(refuse(
            Code::UpdateHoley,
            "fetch.txt",
            format!(
                "{} has a fetch.txt: complete it with `qoima fetch` first; nothing was changed",
                bag.display()
            ),
        ));
    }
    let info = match fs::read(bag.join("bag-info.txt")) {
        Ok(b) => baginfo::parse(
            &b[..],
            "bag-info.txt",
            Encoding::Utf8,
            decl.version,
            &mut crate::verdict::Problems::default(),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BagInfo::new(),
        Err(e) => return Err(BagError::io(bag.join("bag-info.txt"))(e)),
    };
    let (algorithms, manifest_files) = manifests(bag, &not_updatable)?;
    Ok(Current {
        info,
        version: decl.version,
        algorithms,
        manifest_files,
        protection: protection(bag),
    })
}

/// The payload manifests' algorithms, and every manifest file at the top.
fn manifests(
    bag: &Path,
    not_updatable: &dyn Fn(&str, String) -> BagError,
) -> Result<(Vec<Algorithm>, Vec<String>), BagError> {
    let mut algorithms = Vec::new();
    let mut files = Vec::new();
    for entry in fs::read_dir(bag).map_err(BagError::io(bag))? {
        let name = entry
            .map_err(BagError::io(bag))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some((tag, alg)) = manifest::classify(&name) else {
            continue;
        };
        match Algorithm::from_manifest_name(alg) {
            Some(algorithm) if !tag => algorithms.push(algorithm),
            Some(_) => {}
            None => {
                return Err(not_updatable(
                    &name,
                    format!(
                        "{name} uses an algorithm qoima does not compute, so it cannot be rewritten; remove it by hand if it may go"
                    ),
                ));
            }
        }
        files.push(name);
    }
    if algorithms.is_empty() {
        return Err(not_updatable("data", "it has no payload manifest".into()));
    }
    algorithms.sort();
    algorithms.dedup();
    files.sort();
    Ok((algorithms, files))
}

/// What depends on the bag's manifests, judged by what its top holds.
pub fn protection(bag: &Path) -> Protection {
    if bag.join(SEAL_DIR).is_dir() || bag.join(CUSTODY_DIR).is_dir() {
        Protection::Sealed
    } else if bag.join(METS).is_file() {
        Protection::Packaged
    } else {
        Protection::None
    }
}

/// Refuses a sealed or packaged bag without `--force`, and a sealed one whose change nobody
/// would record.
fn refuse_protected(
    current: &Current,
    opts: &UpdateOptions,
    recorded: bool,
) -> Result<(), BagError> {
    match current.protection {
        Protection::None => Ok(()),
        Protection::Sealed if !opts.force => Err(refuse(Code::UpdateSealed, SEAL_DIR, "the bag is sealed (it has seal/ or custody/): an update breaks the seal; run again with --force --sign KEY --agent NAME if the change is deliberate. Nothing was changed".into())),
        Protection::Sealed if !recorded => Err(refuse(Code::UpdateSealed, SEAL_DIR, "the bag is sealed: --force breaks the seal, so the change must be recorded, signed, in the custody log: add --sign KEY --agent NAME. Nothing was changed".into())),
        Protection::Packaged if !opts.force => Err(refuse(Code::UpdatePackaged, METS, "the bag is packaged (it has mets.xml): its METS describes every payload file; run again with --force to change only what keeps the METS true (algorithms, tag files), or package the collection again. Nothing was changed".into())),
        _ => Ok(()),
    }
}

/// With `--force` on a packaged bag, a payload change would make the METS false: refused.
fn refuse_packaged_change(summary: &UpdateSummary) -> Result<(), BagError> {
    if summary.protection != Protection::Packaged || !summary.payload_changed() {
        return Ok(());
    }
    let first = summary
        .added
        .iter()
        .chain(&summary.removed)
        .chain(&summary.changed)
        .next();
    Err(refuse(
        Code::UpdatePackaged,
        METS,
        format!(
            "the payload of this packaged bag changed ({} added, {} removed, {} changed; first: {}), and qoima cannot rewrite mets.xml without the collection's metadata: package the collection again with `qoima package`. Nothing was changed",
            summary.added.len(),
            summary.removed.len(),
            summary.changed.len(),
            first
                .map(|f| crate::paths::printable(f))
                .unwrap_or_default()
        ),
    ))
}

/// The algorithms after the update, and those removed. A profile's required algorithm is
/// kept (with a warning); removing the last one is refused.
fn plan_algorithms(
    current: &Current,
    opts: &UpdateOptions,
    warnings: &mut Vec<Problem>,
) -> Result<(Vec<Algorithm>, Vec<Algorithm>), BagError> {
    let mut algorithms: BTreeSet<Algorithm> = current.algorithms.iter().copied().collect();
    algorithms.extend(&opts.add);
    let mut removed = Vec::new();
    for algorithm in &opts.remove {
        if opts.required.contains(algorithm) {
            warnings.push(
                Problem::new(
                    Code::UpdateProfileAlgorithmKept,
                    format!(
                        "{} was kept: the profile the bag names requires it",
                        manifest::file_name(false, *algorithm)
                    ),
                )
                .file("bag-info.txt")
                .field("BagIt-Profile-Identifier"),
            );
        } else if algorithms.remove(algorithm) && current.algorithms.contains(algorithm) {
            removed.push(*algorithm);
        }
    }
    if algorithms.is_empty() {
        return Err(refuse(Code::UpdateNoAlgorithm, "data", "the update would leave the bag without a payload manifest: add an algorithm (--add-algorithm) when removing the last one. Nothing was changed".into()));
    }
    Ok((algorithms.into_iter().collect(), removed))
}

/// The algorithm the old manifests are compared in: the strongest one the bag had that it
/// keeps, else the strongest it had.
fn comparison_algorithm(old: &[Algorithm], new: &[Algorithm]) -> Algorithm {
    let rank = |a: &Algorithm| match a {
        Algorithm::Sha512 => 6,
        Algorithm::Sha384 => 5,
        Algorithm::Sha256 => 4,
        Algorithm::Blake3 => 3,
        Algorithm::Sha224 => 2,
        Algorithm::Sha1 => 1,
        Algorithm::Md5 => 0,
    };
    let kept = old
        .iter()
        .filter(|a| new.contains(a))
        .max_by_key(|a| rank(a));
    *kept
        .or_else(|| old.iter().max_by_key(|a| rank(a)))
        .expect("a bag with a payload manifest")
}

/// Compares the payload as it is with the manifest of `compare`: the report's lists.
fn compare_payload(
    bag: &Path,
    current: &Current,
    compare: Algorithm,
    files: &[SourceFile],
    digests: &[FileDigests],
) -> Result<UpdateSummary, BagError> {
    let name = current
        .manifest_files
        .iter()
        .find(|n| {
            manifest::classify(n)
                .is_some_and(|(tag, a)| !tag && Algorithm::from_manifest_name(a) == Some(compare))
        })
        .expect("the comparison algorithm is one of the bag's");
    let file = fs::File::open(bag.join(name)).map_err(BagError::io(bag.join(name)))?;
    let parsed = manifest::parse(
        std::io::BufReader::new(file),
        name,
        Encoding::Utf8,
        current.version,
        &mut crate::verdict::Problems::default(),
    );
    let mut old: HashMap<String, Digest> = parsed
        .entries
        .into_iter()
        .map(|e| (e.path, e.digest))
        .collect();
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for (file, now) in files.iter().zip(digests) {
        let path = format!("data/{}", file.rel);
        match old.remove(&path) {
            None => added.push(path),
            Some(before) if Some(&before) != now.get(compare) => changed.push(path),
            Some(_) => {}
        }
    }
    let mut removed: Vec<String> = old.into_keys().collect();
    removed.sort();
    let oxum = super::baginfo::Oxum {
        octets: digests.iter().map(|d| d.size).sum(),
        streams: files.len() as u64,
    };
    Ok(UpdateSummary {
        bag: bag.to_path_buf(),
        resumed: false,
        protection: current.protection,
        added,
        removed,
        changed,
        algorithms: Vec::new(),
        algorithms_added: Vec::new(),
        algorithms_removed: Vec::new(),
        tag_files: Vec::new(),
        payload_oxum_before: current
            .info
            .get("Payload-Oxum")
            .map(|s| s.trim().to_string()),
        payload_oxum: oxum.to_string(),
        files: oxum.streams,
        bytes: oxum.octets,
        seal_broken: false,
        custody_entry: None,
        problems: Vec::new(),
    })
}

/// Every file outside data/, seal/ and custody/ that qoima does not write itself, with its
/// content (to be hashed into the tag manifests). A link or special file is refused.
fn read_user_tag_files(bag: &Path) -> Result<Vec<(String, Vec<u8>)>, BagError> {
    let (walked, issues) = crate::fsutil::walk(bag, false, &["data", SEAL_DIR, CUSTODY_DIR]);
    if let Some(crate::fsutil::WalkIssue::Io(path, source)) = issues.into_iter().next() {
        return Err(BagError::Io { path, source });
    }
    let mut out = Vec::new();
    for item in walked {
        let rel = item.rel.to_string_lossy().into_owned();
        let top = !rel.contains('/');
        let ours = top
            && (rel == "bagit.txt"
                || rel == "bag-info.txt"
                || manifest::classify(&rel).is_some()
                || journal::is_journal(&rel));
        if ours || item.file_type.is_dir() {
            continue;
        }
        if !item.file_type.is_file() {
            return Err(refuse(
                Code::UpdateNotUpdatable,
                &rel,
                format!(
                    "{} is a link or special file among the tag files; qoima hashes plain files only. Replace it with the file it stands for. Nothing was changed",
                    crate::paths::printable(&rel)
                ),
            ));
        }
        let path = bag.join(&item.rel);
        let data = fs::read(&path).map_err(BagError::io(&path))?;
        out.push((rel, data));
    }
    Ok(out)
}

/// Writes every new tag file into the staging folder and returns the journal that commits
/// them.
fn stage(
    bag: &Path,
    staging: &str,
    current: &Current,
    algorithms: &[Algorithm],
    files: &[SourceFile],
    digests: &[FileDigests],
    user_tags: &[(String, Vec<u8>)],
) -> Result<Journal, BagError> {
    let dir = bag.join(staging);
    fs::create_dir(&dir).map_err(BagError::io(&dir))?;
    let opts = BagOptions {
        algorithms: algorithms.to_vec(),
        info: current.info.clone(),
        ..BagOptions::default()
    };
    write_tag_files(&dir, files, digests, &opts, user_tags)?;
    let mut plan = Journal::new(staging.to_string());
    plan.put = vec!["bag-info.txt".to_string()];
    for &a in algorithms {
        plan.put.push(manifest::file_name(false, a));
        plan.put.push(manifest::file_name(true, a));
    }
    // bagit.txt last, as a new bag writes it.
    plan.put.push("bagit.txt".to_string());
    plan.remove = current
        .manifest_files
        .iter()
        .filter(|n| !plan.put.contains(n))
        .cloned()
        .collect();
    if current.protection == Protection::Sealed {
        plan.keep_in = Some(SEAL_DIR.to_string());
        plan.keep = current
            .manifest_files
            .iter()
            .filter(|n| matches!(manifest::classify(n), Some((true, _))))
            .filter(|n| bag.join(SEAL_DIR).join(format!("{n}.minisig")).is_file())
            .cloned()
            .collect();
    }
    Ok(plan)
}
