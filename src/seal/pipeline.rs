//! `qoima seal` as one workflow, so that the CLI only gathers options and renders: seal the
//! bag, time-stamp the seal's signatures (so that the tokens travel inside the bundle), encrypt
//! the sealed bag, time-stamp the bundle's signed digest. A bag that already carries proofs
//! over its seal (a custody log, time-stamps) is not sealed again — that would break the log
//! and orphan the tokens — but encrypted as it is, once its seal verifies with the key given.
//!
//! Each step runs only when the one before it succeeded, and [`SealOutcome`] says how far it
//! got: a token that could not be had stops before encryption (the seal is sound; the user
//! stamps later and encrypts again).

use std::path::{Path, PathBuf};

use minisign::{PublicKey, SecretKey};

use super::bundle::{self, BundleRecipient, BundleSummary, EncryptOptions};
use super::layout::{CUSTODY_DIR, SEAL_DIR, has_entries, is_stamped};
use super::timestamp::{self, AddedToken};
use super::{Pins, SealError, SealOptions, SealSummary, TrustedKey, seal_bag, verify_seal};
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};

/// `--tsa`: the authorities to ask right after signing (`(url, token name)`), and the roots
/// to check their replies with.
#[derive(Clone, Debug, Default)]
pub struct Stamping {
    /// Each authority's URL and the name its tokens get.
    pub authorities: Vec<(String, String)>,
    /// The trusted TSA roots (PEM), when given.
    pub roots: Option<Vec<u8>>,
}

/// What `qoima seal` is asked to do besides sealing.
#[derive(Clone, Debug)]
pub struct SealPlan {
    /// How to seal.
    pub options: SealOptions,
    /// The secret key's file, as the user named it (for messages).
    pub key_file: PathBuf,
    /// Encrypt the sealed bag into a bundle (`-o` with recipients).
    pub encrypt: Option<EncryptOptions>,
    /// Time-stamp the seal and the bundle (`--tsa`).
    pub stamping: Option<Stamping>,
}

/// How the workflow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything asked was done.
    Done,
    /// The bag was refused (not sealable, or its seal does not verify): nothing was written.
    Refused,
    /// A step could not be done (I/O, an authority that did not answer or was refused): what
    /// came before it stands.
    Failed,
}

/// What the workflow did.
#[derive(Clone, Debug)]
pub struct SealOutcome {
    /// How it ended.
    pub status: Status,
    /// The bag already carried proofs over its seal and was encrypted as it was sealed.
    pub as_sealed: bool,
    /// The seal made.
    pub seal: Option<SealSummary>,
    /// The bundle written.
    pub bundle: Option<BundleSummary>,
    /// The tokens added (over the seal's signatures, then the bundle's).
    pub added: Vec<AddedToken>,
    /// Token files that were already there.
    pub skipped: Vec<String>,
    /// What went wrong, in a sentence that says what to do.
    pub error: Option<String>,
    /// The problems to show: the seal's warnings, the refusal's reasons, the tokens'.
    pub problems: Vec<Problem>,
}

/// Runs `qoima seal` on the bag folder `bag` with the key pair `(sk, pk)` as `plan` says.
pub fn seal(
    bag: &Path,
    (sk, pk): (&SecretKey, &PublicKey),
    plan: &SealPlan,
    engine: &Engine,
    progress: &dyn Progress,
) -> SealOutcome {
    if let Some(encrypt) = &plan.encrypt
        && (has_entries(bag) || is_stamped(bag))
    {
        return encrypt_as_sealed(bag, (sk, pk), plan, encrypt, engine, progress);
    }
    let mut result = seal_bag(bag, sk, pk, &plan.options, engine, progress);
    if let Ok(summary) = &mut result {
        summary.problems.extend(match &plan.encrypt {
            None => sensitive_fields(bag),
            Some(encrypt) => ssh_caveat(encrypt),
        });
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => return refused_or_failed(error),
    };
    let mut stamped = Stamped::default();
    // The seal's signatures are stamped before the bag is encrypted, so that the tokens
    // travel inside the bundle; then the bundle's signed digest.
    stamped.stamp_with(plan.stamping.as_ref(), bag);
    let seal_stamp_failure = stamped.failure();
    let bundle = match (&plan.encrypt, seal_stamp_failure) {
        (Some(encrypt), None) => Some(bundle::encrypt_sealed_bag(bag, sk, pk, encrypt, progress)),
        _ => None,
    };
    if let Some(Ok(written)) = &bundle {
        stamped.stamp_with(plan.stamping.as_ref(), &written.ciphertext);
    }
    let error = match seal_stamp_failure {
        Some(when) => Some(seal_stamp_error(plan.encrypt.is_some(), when)),
        None => bundle_error(bundle.as_ref(), stamped.failure()),
    };
    let mut problems = summary.problems.clone();
    problems.extend(stamped.problems);
    SealOutcome {
        status: if error.is_some() {
            Status::Failed
        } else {
            Status::Done
        },
        as_sealed: false,
        seal: Some(summary),
        bundle: bundle.and_then(Result::ok),
        added: stamped.added,
        skipped: stamped.skipped,
        error,
        problems,
    }
}

/// The outcome of a seal that was not made.
fn refused_or_failed(error: SealError) -> SealOutcome {
    let message = error.to_string();
    let (status, problems) = match error {
        SealError::Refused(problems) => (Status::Refused, problems),
        _ => (Status::Failed, Vec::new()),
    };
    SealOutcome {
        status,
        as_sealed: false,
        seal: None,
        bundle: None,
        added: Vec::new(),
        skipped: Vec::new(),
        error: Some(message),
        problems,
    }
}

/// The error of a seal whose time-stamp could not be had (so nothing was encrypted).
fn seal_stamp_error(encrypting: bool, when: &str) -> String {
    if encrypting {
        format!(
            "the bag was sealed, but a time-stamp could not be had, so it was not encrypted: run `qoima timestamp` on it {when}, then `qoima seal --to` again (a time-stamped bag is encrypted as it is)"
        )
    } else {
        format!(
            "the bag was sealed, but a time-stamp could not be had: run `qoima timestamp` on it {when}"
        )
    }
}

/// The error of the encryption after a good seal, if any: the bundle not written, verify.sh
/// not placed beside it, or no token over its signature.
fn bundle_error(
    bundle: Option<&Result<BundleSummary, SealError>>,
    stamp_failure: Option<&'static str>,
) -> Option<String> {
    match (bundle?, stamp_failure) {
        (Err(e), _) => Some(format!("the bag was sealed, but not encrypted: {e}")),
        (Ok(written), _) if written.verify_sh_error.is_some() => Some(format!(
            "the bag was sealed and the bundle written, but verify.sh could not be put beside it: {}",
            written.verify_sh_error.as_deref().unwrap_or_default()
        )),
        (Ok(written), Some(when)) => Some(format!(
            "the bag was sealed, time-stamped and encrypted, but a time-stamp over the bundle's signature could not be had: run `qoima timestamp {}` {when}",
            written.ciphertext.display()
        )),
        (Ok(_), None) => None,
    }
}

/// A sealed bag with a custody log or time-stamps is encrypted as it is (sealing it again
/// would break the log and orphan the time-stamps), once its seal verifies with the key given.
fn encrypt_as_sealed(
    bag: &Path,
    (sk, pk): (&SecretKey, &PublicKey),
    plan: &SealPlan,
    encrypt: &EncryptOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> SealOutcome {
    let mut outcome = SealOutcome {
        status: Status::Done,
        as_sealed: true,
        seal: None,
        bundle: None,
        added: Vec::new(),
        skipped: Vec::new(),
        error: None,
        problems: Vec::new(),
    };
    let errors = seal_problems_with(bag, pk, engine, progress);
    if !errors.is_empty() {
        outcome.status = Status::Refused;
        outcome.error = Some("the bag was not encrypted".to_string());
        outcome.problems = errors;
        outcome.problems.push(not_as_sealed(bag, &plan.key_file));
        return outcome;
    }
    // More tokens over the seal (and the custody log's head) first, so that they travel
    // inside; then over the bundle's signed digest.
    let mut stamped = Stamped::default();
    stamped.stamp_with(plan.stamping.as_ref(), bag);
    if let Some(when) = stamped.failure() {
        outcome.status = Status::Failed;
        outcome.error = Some(format!(
            "a time-stamp could not be had, so the bag was not encrypted: run `qoima timestamp` on it {when}, then `qoima seal --to` again"
        ));
    } else {
        match bundle::encrypt_sealed_bag(bag, sk, pk, encrypt, progress) {
            Ok(written) => {
                stamped.stamp_with(plan.stamping.as_ref(), &written.ciphertext);
                outcome.error = as_sealed_bundle_error(&written, stamped.failure());
                if outcome.error.is_some() {
                    outcome.status = Status::Failed;
                }
                outcome.problems = ssh_caveat(encrypt);
                outcome.bundle = Some(written);
            }
            Err(e) => {
                outcome.status = Status::Failed;
                outcome.error = Some(format!("the bag was not encrypted: {e}"));
            }
        }
    }
    outcome.problems.extend(stamped.problems);
    outcome.added = stamped.added;
    outcome.skipped = stamped.skipped;
    outcome
}

/// The seal's errors, verified with the sealer's own key. Other custodians' entries are
/// signed by keys this key's holder need not trust here: the recipient checks them against
/// their own list.
fn seal_problems_with(
    bag: &Path,
    pk: &PublicKey,
    engine: &Engine,
    progress: &dyn Progress,
) -> Vec<Problem> {
    let me = [TrustedKey {
        base64: pk.to_base64(),
        key: pk.clone(),
        line: 0,
    }];
    verify_seal(bag, &me, Pins::default(), engine, progress)
        .problems
        .into_iter()
        .filter(|p| p.is_error() && p.code != Code::CustodyUntrustedKey)
        .collect()
}

/// Why a bag carrying proofs over its seal was not encrypted as it is.
fn not_as_sealed(bag: &Path, key_file: &Path) -> Problem {
    let (code, what, file) = if has_entries(bag) {
        (Code::SealHasCustody, "a custody log", CUSTODY_DIR)
    } else {
        (Code::SealHasTimestamps, "time-stamps", SEAL_DIR)
    };
    Problem::new(
        code,
        format!(
            "{} has {what}, so it is encrypted as it is sealed, and that seal does not verify with the key {}",
            bag.display(),
            key_file.display()
        ),
    )
    .file(file)
}

/// The error after a bundle of a bag encrypted as it is: verify.sh not placed, or no token
/// over its signature.
fn as_sealed_bundle_error(
    written: &BundleSummary,
    stamp_failure: Option<&'static str>,
) -> Option<String> {
    match (&written.verify_sh_error, stamp_failure) {
        (Some(e), _) => Some(format!(
            "the bundle is written, but verify.sh could not be put beside it: {e}"
        )),
        (None, Some(when)) => Some(format!(
            "the bundle is written, but a time-stamp over its signature could not be had: run `qoima timestamp {}` {when}",
            written.ciphertext.display()
        )),
        (None, None) => None,
    }
}

/// What `--tsa` did so far.
#[derive(Default)]
struct Stamped {
    added: Vec<AddedToken>,
    skipped: Vec<String>,
    problems: Vec<Problem>,
}

impl Stamped {
    /// Asks for tokens over the signatures of `target` (a sealed bag, or a bundle), when
    /// `stamping` is asked for.
    fn stamp_with(&mut self, stamping: Option<&Stamping>, target: &Path) {
        let Some(stamping) = stamping else {
            return;
        };
        let report = timestamp::stamp_targets(target).and_then(|(base, files)| {
            timestamp::stamp(
                &base,
                &files,
                &stamping.authorities,
                stamping.roots.as_deref(),
            )
        });
        match report {
            Ok(report) => {
                self.added.extend(report.added);
                self.skipped.extend(report.skipped);
                self.problems.extend(report.problems);
            }
            Err(e) => self.problems.push(Problem::new(
                Code::TimestampIo,
                format!("{}: {e}", target.display()),
            )),
        }
    }

    /// When a token could not be had (the command did not do all it was asked; the seal
    /// itself is sound): when to try again.
    fn failure(&self) -> Option<&'static str> {
        let errors: Vec<&Problem> = self.problems.iter().filter(|p| p.is_error()).collect();
        if errors.is_empty() {
            return None;
        }
        let unreachable = errors.iter().all(|p| p.code == Code::TsaUnreachable);
        Some(if unreachable {
            "when the authority answers"
        } else {
            "with another authority, or with the right --tsa-roots (the reply was refused: see the problems)"
        })
    }
}

/// The warning an SSH recipient deserves (SEAL-W051), once per SSH recipient.
fn ssh_caveat(encrypt: &EncryptOptions) -> Vec<Problem> {
    encrypt
        .recipients
        .iter()
        .filter_map(|recipient| match recipient {
            BundleRecipient::Ssh(key) => Some(key),
            BundleRecipient::X25519(_) => None,
        })
        .map(|key| {
            let text = key.to_string();
            let short: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            let short = if short.len() > 40 {
                format!("{}…", &short[..40])
            } else {
                short
            };
            Problem::new(
                Code::SealSshRecipient,
                format!(
                    "the bundle is encrypted to the SSH key {short}: its stanza in the age header reveals a tag of that key to anyone holding the bundle"
                ),
            )
        })
        .collect()
}

/// bag-info.txt elements that name people, addresses or what the material shows (design
/// notes §4.5): worth a warning when the sealed bag will travel unencrypted.
const SENSITIVE: &[&str] = &[
    "Contact-Name",
    "Contact-Phone",
    "Contact-Email",
    "Organization-Address",
    "External-Description",
    "Internal-Sender-Description",
];

/// A warning for each sensitive element of `bag`'s bag-info.txt.
fn sensitive_fields(bag: &Path) -> Vec<Problem> {
    let Ok(text) = crate::fsutil::read_regular_string(&bag.join("bag-info.txt")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let label = label.trim();
        if let Some(element) = SENSITIVE.iter().find(|s| s.eq_ignore_ascii_case(label))
            && !value.trim().is_empty()
        {
            found.push(
                Problem::new(
                    Code::SealSensitiveUnencrypted,
                    format!(
                        "bag-info.txt gives {element}, and the sealed bag is not encrypted: anyone who holds it can read it"
                    ),
                )
                .file("bag-info.txt")
                .line(index as u64 + 1)
                .field(*element),
            );
        }
    }
    found
}
