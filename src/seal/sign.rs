//! `qoima seal`: a valid bag folder made into a sealed evidence bundle, in place.
//!
//! Every new file is made in memory first: bag-info.txt (the `Seal-*` fields), the public key,
//! VERIFY.txt, verify.sh, every tag manifest (recomputed, now listing those files), and the
//! signatures in `seal/`. They are then written by one journaled commit ([`super::journal`]):
//! a kill at any instant leaves the bag as it was, or sealed, or a journal that the next
//! `qoima seal` finishes before anything else. Payload files are only read (by validation),
//! never opened for writing. The caller holds the bag's lock ([`fsutil::DirLock`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use minisign::{PublicKey, SecretKey};
use serde::Serialize;

use super::layout::{
    CUSTODY_DIR, KEY_FILE, SEAL_DIR, VERIFY_SH, VERIFY_TXT, external_identifier, folder_name,
    has_entries, is_tag_manifest_signature, seal_tokens,
};
use super::{SEAL_VERSION, SealError, Statement};
use crate::bagit::Version;
use crate::bagit::baginfo::{self, BagInfo};
use crate::bagit::manifest;
use crate::bagit::text::Encoding;
use crate::bagit::validate::{Mode, ValidateOptions};
use crate::digest::{Algorithm, Engine, Progress};
use crate::digest::{Hasher, digest_bytes};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::store::DirStore;

/// How to seal.
#[derive(Clone, Debug, Default)]
pub struct SealOptions {
    /// The sealer's label (`Seal-Signer-Name`, and `signer=` in the statements); default: the
    /// key id.
    pub signer_name: Option<String>,
}

/// One signed tag manifest.
#[derive(Clone, Debug, Serialize)]
pub struct SignedManifest {
    /// e.g. `tagmanifest-sha256.txt`.
    pub tag_manifest: String,
    /// e.g. `seal/tagmanifest-sha256.txt.minisig`.
    pub signature: String,
    /// The signed statement.
    pub statement: Statement,
}

/// What sealing did.
#[derive(Clone, Debug, Serialize)]
pub struct SealSummary {
    /// The bag.
    pub bag: PathBuf,
    /// The name the statements give the bag (External-Identifier, else the folder name).
    pub bag_name: String,
    /// The signer's key id.
    pub key_id: String,
    /// The signer's public key (base64).
    pub public_key: String,
    /// The signer's label.
    pub signer_name: String,
    /// Seal-Created.
    pub sealed: String,
    /// The signatures written.
    pub signatures: Vec<SignedManifest>,
    /// Warnings found while validating the bag before sealing.
    pub problems: Vec<Problem>,
}

/// Seals the bag folder `bag` with the key pair `(sk, pk)`.
pub fn seal_bag(
    bag: &Path,
    sk: &SecretKey,
    pk: &PublicKey,
    opts: &SealOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<SealSummary, SealError> {
    require_folder(bag)?;
    // A seal interrupted by a crash is finished (or its temporaries removed) first.
    super::journal::recover(bag)?;
    let (algorithms, warnings) = check_sealable(bag, engine, progress)?;
    let fields = SealFields::new(bag, pk, opts)?;
    // Every new file is made in memory first, and written by one journaled commit.
    let mut files = seal_files(pk, &fields, &algorithms)?;
    let texts = tag_manifest_texts(bag, &algorithms, &files)?;
    let stale = stale_signatures(bag, &texts);
    let signatures = sign_tag_manifests(&texts, &fields, (sk, pk), &mut files)?;
    order_for_commit(&mut files);
    super::journal::commit(bag, &files, &stale)?;
    Ok(SealSummary {
        bag: bag.to_path_buf(),
        bag_name: fields.bag_name,
        key_id: fields.key_id,
        public_key: fields.public_key,
        signer_name: fields.signer_name,
        sealed: fields.sealed,
        signatures,
        problems: warnings,
    })
}

/// Only a folder is sealed.
fn require_folder(bag: &Path) -> Result<(), SealError> {
    let meta = fs::metadata(bag).map_err(SealError::io(bag))?;
    if !meta.is_dir() {
        return Err(SealError::Key(format!(
            "{} is not a bag folder (seal a folder; serialize it afterwards)",
            bag.display()
        )));
    }
    Ok(())
}

/// What a sealed bag may not hold, then full validation, then what makes sealing again
/// harmful (time-stamps, a custody log): every reason at once, as [`SealError::Refused`].
/// Returns the tag manifests' algorithms and the validation's warnings.
fn check_sealable(
    bag: &Path,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<(Vec<Algorithm>, Vec<Problem>), SealError> {
    let mut problems = sealability(bag);
    problems.extend(super::journal::leftover_temporaries(bag));
    let store = DirStore::new(bag);
    let warnings = validate_for_seal(bag, &store, engine, progress, &mut problems);
    match crate::bagit::validate::read_declaration(&store) {
        Some(declaration) if declaration.encoding == Encoding::Utf8 => {}
        _ => problems.push(
            Problem::new(
                Code::SealUnsupportedBag,
                "bagit.txt does not declare UTF-8 tag files",
            )
            .file("bagit.txt"),
        ),
    }
    let algorithms = tag_algorithms(bag, &mut problems);
    problems.extend(already_proven(bag));
    if !problems.is_empty() {
        return Err(SealError::Refused(problems));
    }
    Ok((algorithms, warnings))
}

/// Full validation: its errors go to `problems` (with SEAL-010 when there is any), its
/// warnings are returned.
fn validate_for_seal(
    bag: &Path,
    store: &DirStore,
    engine: &Engine,
    progress: &dyn Progress,
    problems: &mut Vec<Problem>,
) -> Vec<Problem> {
    let options = ValidateOptions {
        mode: Mode::Full,
        ..Default::default()
    };
    let report = crate::package::verify::validate(store, &options, engine, progress);
    let mut warnings = Vec::new();
    let mut invalid = false;
    for problem in report.problems {
        if problem.is_error() {
            invalid = true;
            problems.push(problem);
        } else {
            warnings.push(problem);
        }
    }
    if invalid {
        problems.push(Problem::new(
            Code::SealBagInvalid,
            format!(
                "{} is not a valid bag ({}); it was not sealed",
                bag.display(),
                report.verdict.describe()
            ),
        ));
    }
    warnings
}

/// Proofs over the present seal that sealing again would orphan: time-stamps in `seal/`, a
/// custody log.
fn already_proven(bag: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let stamped = seal_tokens(bag);
    if let Some(first) = stamped.first() {
        problems.push(
            Problem::new(
                Code::SealHasTimestamps,
                format!(
                    "{} is time-stamped ({SEAL_DIR}/{first}{}): sealing it again would leave the time-stamps over a seal that is gone",
                    bag.display(),
                    if stamped.len() > 1 {
                        format!(" and {} more", stamped.len() - 1)
                    } else {
                        String::new()
                    }
                ),
            )
            .file(format!("{SEAL_DIR}/{first}")),
        );
    }
    if has_entries(bag) {
        problems.push(
            Problem::new(
                Code::SealHasCustody,
                format!(
                    "{} has a custody log: sealing it again would break the chain of its entries",
                    bag.display()
                ),
            )
            .file(CUSTODY_DIR),
        );
    }
    problems
}

/// The values the seal writes into `bag-info.txt` and its statements.
struct SealFields {
    /// The bag's `bag-info.txt`, as read.
    info: BagInfo,
    key_id: String,
    public_key: String,
    signer_name: String,
    /// Seal-Created.
    sealed: String,
    /// The name the statements give the bag.
    bag_name: String,
}

impl SealFields {
    fn new(bag: &Path, pk: &PublicKey, opts: &SealOptions) -> Result<SealFields, SealError> {
        let info_path = bag.join("bag-info.txt");
        let bytes = fsutil::read_regular(&info_path).map_err(SealError::io(&info_path))?;
        let info: BagInfo = baginfo::parse(
            &bytes[..],
            "bag-info.txt",
            Encoding::Utf8,
            Version::V1_0,
            &mut crate::verdict::Problems::default(),
        );
        let key_id = super::key_id(pk);
        let signer_name = super::one_line(opts.signer_name.as_deref().unwrap_or(&key_id));
        let sealed = crate::bagit::create::bagging_time(None);
        let bag_name = match external_identifier(&info) {
            Some(id) => id,
            None => folder_name(bag)?,
        };
        Ok(SealFields {
            info,
            key_id,
            public_key: pk.to_base64(),
            signer_name,
            sealed,
            bag_name,
        })
    }

    /// `bag-info.txt` with the seal fields (and the evidence profile, when the bag names
    /// none).
    fn render_info(&self, algorithms: &[Algorithm]) -> String {
        let mut info = self.info.clone();
        info.set("Seal-Version", SEAL_VERSION);
        info.set("Seal-Signer-Key", self.public_key.as_str());
        info.set("Seal-Signer-Name", self.signer_name.as_str());
        info.set(
            "Seal-Algorithms",
            std::iter::once("minisign-ed25519ph".to_string())
                .chain(algorithms.iter().map(|a| a.name().to_string()))
                .collect::<Vec<_>>()
                .join("; "),
        );
        info.set("Seal-Created", self.sealed.as_str());
        // The bag names the shape it has (profiles/qoima-evidence-1.0.json), so that `qoima
        // validate` checks it; a profile the bag already names (a repository's) is kept.
        if info.get("BagIt-Profile-Identifier").is_none() {
            info.set("BagIt-Profile-Identifier", super::EVIDENCE_PROFILE);
        }
        info.render()
    }
}

/// The files the seal adds or rewrites, before the tag manifests: `bag-info.txt`, the key,
/// `VERIFY.txt` and `verify.sh`.
fn seal_files(
    pk: &PublicKey,
    fields: &SealFields,
    algorithms: &[Algorithm],
) -> Result<Vec<(String, Vec<u8>)>, SealError> {
    let pk_box = pk.to_box().map_err(|e| SealError::Key(e.to_string()))?;
    let verify_txt = super::script::verify_txt(
        &fields.bag_name,
        &fields.public_key,
        &fields.key_id,
        &fields.signer_name,
        &fields.sealed,
    );
    Ok(vec![
        (
            "bag-info.txt".into(),
            fields.render_info(algorithms).into_bytes(),
        ),
        (KEY_FILE.into(), pk_box.to_string().into_bytes()),
        (VERIFY_TXT.into(), verify_txt.into_bytes()),
        (
            VERIFY_SH.into(),
            super::script::VERIFY_SH.as_bytes().to_vec(),
        ),
    ])
}

/// One tag manifest to write: its algorithm, its name, its text.
type TagManifestText = (Algorithm, String, String);

/// Every tag manifest, recomputed over the union of what they listed and the seal's files
/// (`files`, digested from memory).
fn tag_manifest_texts(
    bag: &Path,
    algorithms: &[Algorithm],
    files: &[(String, Vec<u8>)],
) -> Result<Vec<TagManifestText>, SealError> {
    let listed = tag_paths(bag, algorithms)?;
    let mut texts: Vec<TagManifestText> = algorithms
        .iter()
        .map(|&algorithm| {
            (
                algorithm,
                manifest::file_name(true, algorithm),
                String::new(),
            )
        })
        .collect();
    for path in &listed {
        let digests = match files.iter().find(|(rel, _)| rel == path) {
            Some((_, data)) => {
                digest_all(algorithms, &mut &data[..]).map_err(SealError::io(&bag.join(path)))?
            }
            None => {
                let full = bag.join(path);
                fsutil::open_regular(&full)
                    .and_then(|mut file| digest_all(algorithms, &mut file))
                    .map_err(SealError::io(&full))?
            }
        };
        for ((_, _, text), digest) in texts.iter_mut().zip(&digests) {
            text.push_str(&manifest::render([(path.as_str(), digest)]));
        }
    }
    Ok(texts)
}

/// The signatures in `seal/` of tag manifests the new seal does not have: removed.
fn stale_signatures(bag: &Path, texts: &[TagManifestText]) -> Vec<String> {
    fs::read_dir(bag.join(SEAL_DIR))
        .map(|listing| {
            listing
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| {
                    is_tag_manifest_signature(name)
                        && !texts
                            .iter()
                            .any(|(_, tm, _)| *name == format!("{tm}.minisig"))
                })
                .map(|name| format!("{SEAL_DIR}/{name}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Signs each tag manifest with its statement, adding the manifest and its signature to
/// `files`.
fn sign_tag_manifests(
    texts: &[TagManifestText],
    fields: &SealFields,
    (sk, pk): (&SecretKey, &PublicKey),
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<Vec<SignedManifest>, SealError> {
    let mut signatures = Vec::new();
    for (_, name, text) in texts {
        let statement = Statement {
            bag: fields.bag_name.clone(),
            tag_manifest: name.trim_end_matches(".txt").to_string(),
            sha256: digest_bytes(Algorithm::Sha256, text.as_bytes()),
            sealed: fields.sealed.clone(),
            signer: fields.signer_name.clone(),
        };
        let signature = minisign::sign(
            Some(pk),
            sk,
            text.as_bytes(),
            Some(&statement.render()),
            Some(&format!("qoima seal of {name}, key {}", fields.key_id)),
        )
        .map_err(|e| SealError::Key(format!("cannot sign {name}: {e}")))?;
        let rel = format!("{SEAL_DIR}/{name}.minisig");
        files.push((name.clone(), text.clone().into_bytes()));
        files.push((rel.clone(), signature.to_string().into_bytes()));
        signatures.push(SignedManifest {
            tag_manifest: name.clone(),
            signature: rel,
            statement,
        });
    }
    Ok(signatures)
}

/// The tag manifests go in after the files they list, the signatures last.
fn order_for_commit(files: &mut [(String, Vec<u8>)]) {
    files.sort_by_key(|(rel, _)| {
        if rel.starts_with(&format!("{SEAL_DIR}/")) {
            2
        } else {
            usize::from(matches!(manifest::classify(rel), Some((true, _))))
        }
    });
}

/// What a sealed bag may not hold, found by walking it: fetch.txt, links and special files,
/// payload names that need percent-encoding. Shared by `seal` and `verify-seal`.
pub fn sealability(bag: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    if fs::symlink_metadata(bag.join("fetch.txt")).is_ok() {
        problems.push(
            Problem::new(
                Code::SealFetch,
                "fetch.txt is present: a sealed bag must hold its whole payload",
            )
            .file("fetch.txt"),
        );
    }
    let (entries, _) = fsutil::walk(bag, false, &[]);
    for entry in entries {
        let rel = entry.rel.to_string_lossy().into_owned();
        let file_type = entry.file_type;
        if !file_type.is_file() && !file_type.is_dir() {
            problems.push(
                Problem::new(
                    Code::SealSymlink,
                    format!(
                        "{} is a symbolic link or special file",
                        crate::paths::printable(&rel)
                    ),
                )
                .file(rel.clone()),
            );
        }
        if rel.starts_with("data/") && rel.contains(['%', '\n', '\r']) {
            problems.push(
                Problem::new(
                    Code::SealEncodedName,
                    format!(
                        "{} holds `%`, CR or LF, which manifests write percent-encoded",
                        crate::paths::printable(&rel)
                    ),
                )
                .file(rel),
            );
        }
    }
    problems
}

/// The tag manifests' algorithms: those of the tag manifests present, else those of the
/// payload manifests. Each must be one qoima computes.
fn tag_algorithms(bag: &Path, problems: &mut Vec<Problem>) -> Vec<Algorithm> {
    let mut tag = Vec::new();
    let mut payload = Vec::new();
    if let Ok(listing) = fs::read_dir(bag) {
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((is_tag, alg)) = manifest::classify(&name) else {
                continue;
            };
            match Algorithm::from_manifest_name(alg) {
                Some(algorithm) if is_tag => tag.push(algorithm),
                Some(algorithm) => payload.push(algorithm),
                None if is_tag => problems.push(
                    Problem::new(
                        Code::SealUnsupportedBag,
                        format!("{name} uses an algorithm qoima cannot compute"),
                    )
                    .file(name),
                ),
                None => {}
            }
        }
    }
    let mut out = if tag.is_empty() { payload } else { tag };
    out.sort();
    out.dedup();
    if !out
        .iter()
        .any(|algorithm| matches!(algorithm, Algorithm::Sha256 | Algorithm::Sha512))
    {
        problems.push(Problem::new(
            Code::SealUnsupportedBag,
            "the bag has no sha256 or sha512 (tag) manifest to sign",
        ));
    }
    out
}

/// Every path the new tag manifests list: what any old one listed, bagit.txt, bag-info.txt,
/// every payload manifest, and the seal's own files — never a tag manifest or `seal/`.
fn tag_paths(bag: &Path, algorithms: &[Algorithm]) -> Result<BTreeSet<String>, SealError> {
    let mut set = BTreeSet::new();
    for algorithm in algorithms {
        let name = manifest::file_name(true, *algorithm);
        let path = bag.join(&name);
        if let Ok(file) = fs::File::open(&path) {
            let listed = manifest::parse(
                file,
                &name,
                Encoding::Utf8,
                Version::V1_0,
                &mut crate::verdict::Problems::default(),
            );
            set.extend(listed.entries.into_iter().map(|entry| entry.path));
        }
    }
    let listing = fs::read_dir(bag).map_err(SealError::io(bag))?;
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if matches!(manifest::classify(&name), Some((false, _))) {
            set.insert(name);
        }
    }
    for file in ["bagit.txt", "bag-info.txt", KEY_FILE, VERIFY_TXT, VERIFY_SH] {
        set.insert(file.to_string());
    }
    // Every other file outside data/, seal/ and custody/ too: a seal covers the whole bag, so a
    // verifier can refuse any file it does not list (a planted manifest, a note).
    let (walked, _) = fsutil::walk(bag, false, &["data", SEAL_DIR, CUSTODY_DIR]);
    for entry in walked {
        if entry.file_type.is_file()
            && let Some(path) = entry.rel.to_str()
        {
            set.insert(path.to_string());
        }
    }
    set.retain(|path| {
        !path.starts_with("data/")
            && !path.starts_with(&format!("{SEAL_DIR}/"))
            && !matches!(manifest::classify(path), Some((true, _)))
    });
    Ok(set)
}

/// Every algorithm's digest of what `reader` yields, in one streamed read (a tag file may be
/// large: it is never held whole).
fn digest_all(
    algorithms: &[Algorithm],
    reader: &mut dyn std::io::Read,
) -> std::io::Result<Vec<crate::digest::Digest>> {
    let mut hashers: Vec<Hasher> = algorithms.iter().map(|&a| Hasher::new(a)).collect();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let count = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(count) => count,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for hasher in &mut hashers {
            hasher.update(&buf[..count]);
        }
    }
    Ok(hashers.into_iter().map(Hasher::finish).collect())
}
