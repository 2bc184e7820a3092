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

use super::{KEY_FILE, SEAL_DIR, SEAL_VERSION, SealError, Statement, VERIFY_SH, VERIFY_TXT};
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
    let meta = fs::metadata(bag).map_err(SealError::io(bag))?;
    if !meta.is_dir() {
        return Err(SealError::Key(format!(
            "{} is not a bag folder (seal a folder; serialize it afterwards)",
            bag.display()
        )));
    }
    // A seal interrupted by a crash is finished (or its temporaries removed) first.
    super::journal::recover(bag)?;
    // What a sealed bag may not hold, then full validation; every reason at once.
    let mut problems = sealability(bag);
    problems.extend(super::journal::leftover_temporaries(bag));
    let store = DirStore::new(bag);
    let vopts = ValidateOptions {
        mode: Mode::Full,
        ..Default::default()
    };
    let report = crate::package::verify::validate(&store, &vopts, engine, progress);
    let mut warnings = Vec::new();
    let mut invalid = false;
    for p in report.problems {
        if p.is_error() {
            invalid = true;
            problems.push(p);
        } else {
            warnings.push(p);
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
    match crate::bagit::validate::read_declaration(&store) {
        Some(d) if d.encoding == Encoding::Utf8 => {}
        _ => problems.push(
            Problem::new(
                Code::SealUnsupportedBag,
                "bagit.txt does not declare UTF-8 tag files",
            )
            .file("bagit.txt"),
        ),
    }
    let algorithms = tag_algorithms(bag, &mut problems);
    let stamped: Vec<String> = fs::read_dir(bag.join(SEAL_DIR))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(super::timestamp::TOKEN_EXTENSION))
                .collect()
        })
        .unwrap_or_default();
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
    if super::custody::has_entries(bag) {
        problems.push(
            Problem::new(
                Code::SealHasCustody,
                format!(
                    "{} has a custody log: sealing it again would break the chain of its entries",
                    bag.display()
                ),
            )
            .file(super::custody::CUSTODY_DIR),
        );
    }
    if !problems.is_empty() {
        return Err(SealError::Refused(problems));
    }

    // bag-info.txt with the seal fields.
    let info_path = bag.join("bag-info.txt");
    let bytes = fsutil::read_regular(&info_path).map_err(SealError::io(&info_path))?;
    let mut info: BagInfo = baginfo::parse(
        &bytes[..],
        "bag-info.txt",
        Encoding::Utf8,
        Version::V1_0,
        &mut crate::verdict::Problems::default(),
    );
    let key_id = super::key_id(pk);
    let public_key = pk.to_base64();
    let signer_name = super::one_line(opts.signer_name.as_deref().unwrap_or(&key_id));
    let sealed = crate::bagit::create::bagging_time(None);
    let bag_name = match info.get("External-Identifier") {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => folder_name(bag)?,
    };
    info.set("Seal-Version", SEAL_VERSION);
    info.set("Seal-Signer-Key", public_key.as_str());
    info.set("Seal-Signer-Name", signer_name.as_str());
    info.set(
        "Seal-Algorithms",
        std::iter::once("minisign-ed25519ph".to_string())
            .chain(algorithms.iter().map(|a| a.name().to_string()))
            .collect::<Vec<_>>()
            .join("; "),
    );
    info.set("Seal-Created", sealed.as_str());
    // The bag names the shape it has (profiles/qoima-evidence-1.0.json), so that `qoima
    // validate` checks it; a profile the bag already names (a repository's) is kept.
    if info.get("BagIt-Profile-Identifier").is_none() {
        info.set("BagIt-Profile-Identifier", super::EVIDENCE_PROFILE);
    }
    // Every new file is made in memory first, and written by one journaled commit.
    let pk_box = pk.to_box().map_err(|e| SealError::Key(e.to_string()))?;
    let verify_txt =
        super::script::verify_txt(&bag_name, &public_key, &key_id, &signer_name, &sealed);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("bag-info.txt".into(), info.render().into_bytes()),
        (KEY_FILE.into(), pk_box.to_string().into_bytes()),
        (VERIFY_TXT.into(), verify_txt.into_bytes()),
        (
            VERIFY_SH.into(),
            super::script::VERIFY_SH.as_bytes().to_vec(),
        ),
    ];

    // Every tag manifest, recomputed over the union of what they listed and the seal's files.
    let listed = tag_paths(bag, &algorithms)?;
    let mut texts: Vec<_> = algorithms
        .iter()
        .map(|&a| (a, manifest::file_name(true, a), String::new()))
        .collect();
    for path in &listed {
        let digests = match files.iter().find(|(rel, _)| rel == path) {
            Some((_, data)) => {
                digest_all(&algorithms, &mut &data[..]).map_err(SealError::io(&bag.join(path)))?
            }
            None => {
                let p = bag.join(path);
                fsutil::open_regular(&p)
                    .and_then(|mut file| digest_all(&algorithms, &mut file))
                    .map_err(SealError::io(&p))?
            }
        };
        for ((_, _, text), digest) in texts.iter_mut().zip(&digests) {
            text.push_str(&manifest::render([(path.as_str(), digest)]));
        }
    }

    // The signatures, one per tag manifest; stale ones (of tag manifests gone) removed.
    let stale: Vec<String> = fs::read_dir(bag.join(SEAL_DIR))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("tagmanifest-")
                        && n.ends_with(".txt.minisig")
                        && !texts.iter().any(|(_, tm, _)| *n == format!("{tm}.minisig"))
                })
                .map(|n| format!("{SEAL_DIR}/{n}"))
                .collect()
        })
        .unwrap_or_default();
    let mut signatures = Vec::new();
    for (_, name, text) in &texts {
        let statement = Statement {
            bag: bag_name.clone(),
            tag_manifest: name.trim_end_matches(".txt").to_string(),
            sha256: digest_bytes(Algorithm::Sha256, text.as_bytes()),
            sealed: sealed.clone(),
            signer: signer_name.clone(),
        };
        let sig = minisign::sign(
            Some(pk),
            sk,
            text.as_bytes(),
            Some(&statement.render()),
            Some(&format!("qoima seal of {name}, key {key_id}")),
        )
        .map_err(|e| SealError::Key(format!("cannot sign {name}: {e}")))?;
        let rel = format!("{SEAL_DIR}/{name}.minisig");
        files.push((name.clone(), text.clone().into_bytes()));
        files.push((rel.clone(), sig.to_string().into_bytes()));
        signatures.push(SignedManifest {
            tag_manifest: name.clone(),
            signature: rel,
            statement,
        });
    }
    // The tag manifests go in after the files they list, the signatures last.
    files.sort_by_key(|(rel, _)| {
        if rel.starts_with(&format!("{SEAL_DIR}/")) {
            2
        } else {
            usize::from(matches!(manifest::classify(rel), Some((true, _))))
        }
    });
    super::journal::commit(bag, &files, &stale)?;
    Ok(SealSummary {
        bag: bag.to_path_buf(),
        bag_name,
        key_id,
        public_key,
        signer_name,
        sealed,
        signatures,
        problems: warnings,
    })
}

/// The bag folder's own name (what the statements name a bag without External-Identifier).
pub fn folder_name(bag: &Path) -> Result<String, SealError> {
    let abs = fs::canonicalize(bag).map_err(SealError::io(bag))?;
    Ok(abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default())
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
    for e in entries {
        let rel = e.rel.to_string_lossy().into_owned();
        let ft = e.file_type;
        if !ft.is_file() && !ft.is_dir() {
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
    if let Ok(rd) = fs::read_dir(bag) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let Some((is_tag, alg)) = manifest::classify(&n) else {
                continue;
            };
            match Algorithm::from_manifest_name(alg) {
                Some(a) if is_tag => tag.push(a),
                Some(a) => payload.push(a),
                None if is_tag => problems.push(
                    Problem::new(
                        Code::SealUnsupportedBag,
                        format!("{n} uses an algorithm qoima cannot compute"),
                    )
                    .file(n),
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
        .any(|a| matches!(a, Algorithm::Sha256 | Algorithm::Sha512))
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
    for a in algorithms {
        let name = manifest::file_name(true, *a);
        let p = bag.join(&name);
        if let Ok(f) = fs::File::open(&p) {
            let m = manifest::parse(
                f,
                &name,
                Encoding::Utf8,
                Version::V1_0,
                &mut crate::verdict::Problems::default(),
            );
            set.extend(m.entries.into_iter().map(|e| e.path));
        }
    }
    let rd = fs::read_dir(bag).map_err(SealError::io(bag))?;
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if matches!(manifest::classify(&n), Some((false, _))) {
            set.insert(n);
        }
    }
    for f in ["bagit.txt", "bag-info.txt", KEY_FILE, VERIFY_TXT, VERIFY_SH] {
        set.insert(f.to_string());
    }
    // Every other file outside data/, seal/ and custody/ too: a seal covers the whole bag, so a
    // verifier can refuse any file it does not list (a planted manifest, a note).
    let (walked, _) = fsutil::walk(bag, false, &["data", SEAL_DIR, super::custody::CUSTODY_DIR]);
    for e in walked {
        if e.file_type.is_file()
            && let Some(p) = e.rel.to_str()
        {
            set.insert(p.to_string());
        }
    }
    set.retain(|p| {
        !p.starts_with("data/")
            && !p.starts_with(&format!("{SEAL_DIR}/"))
            && !matches!(manifest::classify(p), Some((true, _)))
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
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for h in &mut hashers {
            h.update(&buf[..n]);
        }
    }
    Ok(hashers.into_iter().map(Hasher::finish).collect())
}
