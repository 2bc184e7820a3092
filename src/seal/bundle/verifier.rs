//! Verifying a bundle (`qoima verify-seal NAME.tar.age`): the outer signature and what it
//! vouches for, the time-stamps over it, the `verify.sh` beside it, the ciphertext (read once,
//! hashed and decrypted), the envelope, and then the sealed bag inside, in full. Each step adds
//! one named check to the report; a step whose failure makes the rest meaningless ends it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::decrypt::{CiphertextRead, DecryptFailure, copy_plaintext, read_ciphertext, stage_tar};
use super::format::{BundlePaths, BundleStatement, EXTENSION, envelope_field};
use super::recipients::BundleIdentity;
use super::signature::{Signed, outer_signature};
use crate::archive::unpack::{StageError, Staged};
use crate::bagit::BagError;
use crate::digest::{Algorithm, Engine, Progress, digest_bytes};
use crate::error::{Code, Problem};
use crate::seal::check::Check;
use crate::seal::keys::TrustedKey;
use crate::seal::verify::{Pins, SealReport};
use crate::store::Limits;

/// Verifies the encrypted bundle `file` (`NAME.tar.age`): the signature of its
/// `NAME.tar.age.sha256` by a trusted key, the ciphertext against that digest (and the
/// envelope), decryption with `identities`, and then the sealed bag inside, in full
/// ([`crate::seal::verify_seal`]). The ciphertext is read once; the plaintext is written to a
/// private temporary folder, unpacked only when the ciphertext is the signed one, and removed
/// afterwards.
pub fn verify_bundle(
    file: &Path,
    trusted: &[TrustedKey],
    pins: Pins,
    identities: &[BundleIdentity],
    engine: &Engine,
    progress: &dyn Progress,
) -> SealReport {
    let mut report = SealReport::new(file);
    let names = Names::of(file);
    let signed = check_signature(&mut report, &names, trusted);
    check_timestamps(&mut report, &names, pins);
    check_script(&mut report, &names, signed.statement.as_ref());
    let Some(scratch) = scratch_folder(&mut report) else {
        return finish(report);
    };
    let read = read_bundle(file, identities, &signed, &scratch);
    let ciphertext_ok = check_ciphertext(&mut report, &names, &signed, &read.sha256);
    check_envelope(&mut report, &names, signed.statement.as_ref(), &read.sha256);
    let Some(plaintext_bytes) = check_decryption(&mut report, &names, identities, read.plaintext)
    else {
        return finish(report);
    };
    // Anyone can encrypt to a recipient: a tar whose ciphertext no trusted key signed is not
    // unpacked.
    let Some(statement) = signed.statement.filter(|_| ciphertext_ok) else {
        return finish(report);
    };
    let unpacked = unpack_bag(&mut report, &names, &scratch, read.staged, plaintext_bytes);
    let Some(bag_dir) = unpacked else {
        return finish(report);
    };
    let inner = crate::seal::verify_seal(&bag_dir, trusted, pins, engine, progress);
    merge_inner(&mut report, inner);
    check_binding(&mut report, &bag_dir, &statement);
    finish(report)
}

/// A bundle's files, and their names as the report gives them.
struct Names {
    /// The folder of the bundle.
    dir: PathBuf,
    /// The bundle's label, `NAME`.
    name: String,
    /// `NAME.tar.age`.
    ciphertext: String,
    /// `NAME.tar.age.sha256`.
    checksum: String,
    /// `NAME.tar.age.sha256.minisig`.
    signature: String,
    /// `NAME.envelope.txt`.
    envelope: String,
    paths: BundlePaths,
}

impl Names {
    fn of(file: &Path) -> Names {
        let ciphertext = file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = ciphertext
            .strip_suffix(EXTENSION)
            .unwrap_or(&ciphertext)
            .to_string();
        let dir = file
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let checksum = format!("{ciphertext}.sha256");
        Names {
            paths: BundlePaths::new(&dir, &name),
            signature: format!("{checksum}.minisig"),
            envelope: format!("{name}.envelope.txt"),
            checksum,
            ciphertext,
            name,
            dir,
        }
    }
}

/// What one read of the ciphertext gave.
struct BundleRead {
    /// The ciphertext's sha256.
    sha256: io::Result<String>,
    /// The size of the plaintext tar, or why it could not be had.
    plaintext: Result<u64, DecryptFailure>,
    /// The tar's entries, staged (only when the ciphertext is the signed one).
    staged: Option<Result<Staged, StageError>>,
}

/// Adds the check `name` to `report`: passed (saying `ok`) when `found` holds no error, else
/// failed, naming the first error.
fn push(report: &mut SealReport, name: &str, found: Vec<Problem>, ok: String) {
    let errors: Vec<&Problem> = found.iter().filter(|problem| problem.is_error()).collect();
    let detail = match errors.as_slice() {
        [] => ok,
        [problem] => problem.to_string(),
        [problem, rest @ ..] => format!("{problem} (and {} more)", rest.len()),
    };
    report.checks.push(Check {
        check: name.to_string(),
        passed: errors.is_empty(),
        detail,
    });
    report.problems.extend(found);
}

fn finish(mut report: SealReport) -> SealReport {
    report.sealed = !report.checks.is_empty() && report.checks.iter().all(|check| check.passed);
    report
}

/// Step 1: the signature of the ciphertext's digest.
fn check_signature(report: &mut SealReport, names: &Names, trusted: &[TrustedKey]) -> Signed {
    let mut signed = outer_signature(&names.paths, &names.ciphertext, trusted);
    let problems = std::mem::take(&mut signed.problems);
    push(
        report,
        "bundle-signature",
        problems,
        format!(
            "{} verifies with trusted key {}: {} and the statement are the sealer's",
            names.signature,
            signed.signer.as_deref().unwrap_or("?"),
            names.checksum
        ),
    );
    signed
}

/// Time-stamps over that signature (`NAME.tar.age.sha256.minisig.TSA.tsr` beside it).
fn check_timestamps(report: &mut SealReport, names: &Names, pins: Pins) {
    let (tokens, problems) = crate::seal::timestamp::check_folder(
        &names.dir,
        "",
        &format!("{}.", names.signature),
        &|name| name == names.signature,
        pins.tsa_roots,
    );
    crate::seal::verify::record_timestamps(
        report,
        "the encrypted bundle",
        tokens,
        problems,
        pins.tsa_roots.is_some(),
    );
}

/// The `verify.sh` beside the bundle, when there is one, is the one the sealer signed
/// (recipients run it).
fn check_script(report: &mut SealReport, names: &Names, statement: Option<&BundleStatement>) {
    let script_name = crate::seal::VERIFY_SH;
    let script = names.dir.join(script_name);
    let Some(want) = statement.map(|statement| statement.verify_sh_sha256.clone()) else {
        return;
    };
    if fs::symlink_metadata(&script).is_err() {
        return;
    }
    let found = crate::seal::timestamp::read_limited(&script)
        .map(|data| digest_bytes(Algorithm::Sha256, &data))
        .unwrap_or_else(|_| "(not a regular file)".to_string());
    let mut problems = Vec::new();
    if found != want {
        problems.push(
            Problem::new(
                Code::SealBundleScript,
                format!(
                    "{script_name} beside the bundle has sha256 {found}, but the signed statement names {want}"
                ),
            )
            .file(script_name),
        );
    }
    push(
        report,
        "bundle-script",
        problems,
        format!("{script_name} beside the bundle is the script the sealer signed (sha256 {want})"),
    );
}

/// The private folder the ciphertext is decrypted into; when it cannot be made, the failed
/// check says so.
fn scratch_folder(report: &mut SealReport) -> Option<PrivateDir> {
    match PrivateDir::new() {
        Ok(scratch) => Some(scratch),
        Err(e) => {
            push(
                report,
                "decryption",
                vec![Problem::new(
                    Code::SealBundleScratch,
                    format!("cannot make a private temporary folder to decrypt into: {e}"),
                )],
                String::new(),
            );
            None
        }
    }
}

/// Step 2: the ciphertext, read once: hashed, and decrypted into a private temporary folder.
///
/// The ciphertext is hashed first, alone: only the one the sealer signed is decrypted into
/// files (anyone can encrypt to a recipient, and could fill their disk with entries); any
/// other is decrypted into nothing, for age's verdict. The second read hashes it again, so
/// a file replaced between the reads is caught. The signed one is staged as it is
/// decrypted: its files' data under numbers, given their names only once the second
/// digest is the signed one too.
fn read_bundle(
    file: &Path,
    identities: &[BundleIdentity],
    signed: &Signed,
    scratch: &PrivateDir,
) -> BundleRead {
    let (first, not_decrypted): CiphertextRead = read_ciphertext(file, &[], &mut |_| Ok(0));
    let signed_matches = signed.statement.is_some()
        && matches!((&first, &signed.sha256), (Ok(found), Some(want)) if found == want);
    let mut staged = None;
    let (sha256, plaintext) = if identities.is_empty() {
        (first, not_decrypted)
    } else if signed_matches {
        let (read, stage) = stage_tar(file, identities, &scratch.0.join("stage"));
        staged = stage;
        read
    } else {
        read_ciphertext(file, identities, &mut |reader| {
            copy_plaintext(reader, &mut io::sink())
        })
    };
    BundleRead {
        sha256,
        plaintext,
        staged,
    }
}

/// Step 3: the ciphertext is the one signed. Returns whether it is.
fn check_ciphertext(
    report: &mut SealReport,
    names: &Names,
    signed: &Signed,
    sha256: &io::Result<String>,
) -> bool {
    let Some(want) = &signed.sha256 else {
        return false;
    };
    let file_name = &names.ciphertext;
    let mut problems = Vec::new();
    let mut ciphertext_ok = false;
    match sha256 {
        Ok(found) if found == want => ciphertext_ok = true,
        Ok(found) => problems.push(
            Problem::new(
                Code::SealBundleSignature,
                format!(
                    "{file_name} has sha256 {found}, but the signed {} says {want}: the ciphertext was altered, truncated or swapped",
                    names.checksum
                ),
            )
            .file(file_name),
        ),
        Err(e) => problems.push(
            Problem::new(Code::TagFileUnreadable, format!("cannot read {file_name}: {e}"))
                .file(file_name),
        ),
    }
    push(
        report,
        "ciphertext",
        problems,
        format!("{file_name} has the signed sha256 {want}"),
    );
    ciphertext_ok
}

/// Step 4: the envelope (a description; the signature is what counts).
fn check_envelope(
    report: &mut SealReport,
    names: &Names,
    statement: Option<&BundleStatement>,
    sha256: &io::Result<String>,
) {
    let envelope_name = &names.envelope;
    let mut problems = Vec::new();
    match fs::read_to_string(&names.paths.envelope) {
        Err(e) => problems.push(
            Problem::new(
                Code::SealBundleEnvelope,
                format!("cannot read {envelope_name}: {e}"),
            )
            .file(envelope_name),
        ),
        Ok(text) => {
            let mut want = Vec::new();
            if let Ok(digest) = sha256 {
                want.push(("Ciphertext-SHA256", digest.clone()));
            }
            if let Some(statement) = statement {
                want.push(("Tag-Manifest-SHA256", statement.tag_manifest_sha256.clone()));
            }
            for (label, value) in want {
                let found = envelope_field(&text, label).map(str::to_ascii_lowercase);
                if found.as_deref() != Some(value.as_str()) {
                    problems.push(
                        Problem::new(
                            Code::SealBundleEnvelope,
                            format!(
                                "{envelope_name} says {label} {}, but it is {value}",
                                found.as_deref().unwrap_or("(missing)")
                            ),
                        )
                        .file(envelope_name)
                        .field(label),
                    );
                }
            }
        }
    }
    push(
        report,
        "envelope",
        problems,
        format!("{envelope_name} holds the ciphertext's sha256 and the signed tag-manifest digest"),
    );
}

/// Step 5: decryption. Returns the size of the plaintext tar, when decrypted.
fn check_decryption(
    report: &mut SealReport,
    names: &Names,
    identities: &[BundleIdentity],
    plaintext: Result<u64, DecryptFailure>,
) -> Option<u64> {
    match plaintext {
        Ok(bytes) => {
            push(
                report,
                "decryption",
                Vec::new(),
                format!("decrypted with the identities given ({bytes} bytes of tar)"),
            );
            Some(bytes)
        }
        Err(e) => {
            let code = match e {
                DecryptFailure::NoIdentity => Code::SealBundleNoIdentity,
                _ => Code::SealBundleDamaged,
            };
            let message = if identities.is_empty() {
                "no identity given (-i IDENTITY_FILE): the bag inside cannot be checked".to_string()
            } else {
                e.to_string()
            };
            push(
                report,
                "decryption",
                vec![Problem::new(code, message).file(&names.ciphertext)],
                String::new(),
            );
            None
        }
    }
}

/// Step 6: the bag inside, placed safely (as the folder the tar names) in a folder of its own,
/// so that no bag's name can meet the scratch folder's. Returns the bag's folder.
fn unpack_bag(
    report: &mut SealReport,
    names: &Names,
    scratch: &PrivateDir,
    staged: Option<Result<Staged, StageError>>,
    plaintext_bytes: u64,
) -> Option<PathBuf> {
    let tar_path = scratch.0.join(format!("{}.tar", names.name));
    let bags = scratch.0.join("bag");
    let refused =
        |code: Code, message: String| BagError::Refused(vec![Problem::new(code, message)]);
    let unpacked = match staged {
        Some(Ok(stage)) => match fs::create_dir(&bags) {
            Ok(()) => stage
                .place(&tar_path, &bags, &Limits::default())
                .map(|placed| placed.folder),
            Err(e) => Err(refused(
                Code::SealBundleScratch,
                format!("cannot write the private temporary folder: {e}"),
            )),
        },
        Some(Err(StageError::Local(e))) => Err(refused(
            Code::SealBundleScratch,
            format!("cannot write the decrypted bag to the private temporary folder: {e}"),
        )),
        Some(Err(e)) => Err(refused(
            Code::SealBundlePlaintext,
            format!("cannot unpack the decrypted tar: {e}"),
        )),
        None => Err(refused(
            Code::SealBundlePlaintext,
            "the decrypted tar was not read".to_string(),
        )),
    };
    match unpacked {
        Ok(bag_dir) => {
            push(
                report,
                "bag-archive",
                Vec::new(),
                format!(
                    "the tar ({plaintext_bytes} bytes) holds one bag folder and nothing unsafe"
                ),
            );
            Some(bag_dir)
        }
        Err(e) => {
            let problems = match e {
                BagError::Refused(problems) => problems,
                e => vec![Problem::new(
                    Code::SealBundleScratch,
                    format!("cannot place the decrypted bag in the private temporary folder: {e}"),
                )],
            };
            push(report, "bag-archive", problems, String::new());
            None
        }
    }
}

/// The report of the bag inside, merged into the bundle's.
fn merge_inner(report: &mut SealReport, inner: SealReport) {
    report.proves.extend(
        inner
            .proves
            .into_iter()
            .filter(|claim| !crate::seal::PROVES.contains(&claim.as_str())),
    );
    report.timestamps.extend(inner.timestamps);
    report.signer_key = inner.signer_key;
    report.key_id = inner.key_id;
    report.signer_name = inner.signer_name;
    report.sealed_at = inner.sealed_at;
    report.checks.extend(inner.checks);
    report.problems.extend(inner.problems);
}

/// Step 7: the signed tag-manifest digest is the inner bag's.
fn check_binding(report: &mut SealReport, bag_dir: &Path, statement: &BundleStatement) {
    let mut problems = Vec::new();
    let tag_manifest = format!("{}.txt", statement.tag_manifest);
    let sha256 = fs::read(bag_dir.join(&tag_manifest))
        .map(|data| digest_bytes(Algorithm::Sha256, &data))
        .unwrap_or_default();
    if sha256 != statement.tag_manifest_sha256 {
        problems.push(
            Problem::new(
                Code::SealBundlePlaintext,
                format!(
                    "the bag inside has {tag_manifest} with sha256 {sha256:?}, but the signed statement says {}",
                    statement.tag_manifest_sha256
                ),
            )
            .file(tag_manifest),
        );
    }
    push(
        report,
        "bundle-binding",
        problems,
        "the outer signature names the bag's signed tag manifest".into(),
    );
}

/// A private (0700) temporary folder, removed when dropped. Decrypted evidence goes there.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> io::Result<PrivateDir> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!(
                "qoima-verify-{}-{nanos:x}-{attempt}",
                std::process::id()
            ));
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(PrivateDir(path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("cannot create a temporary folder"))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
