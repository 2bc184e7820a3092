//! `qoima keygen`, `qoima seal` and `qoima verify-seal`.

use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::digest::NoProgress;
use qoima::error::Problem;
use qoima::seal::encrypt::{self, BundleRecipient, BundleSummary, EncryptOptions};
use qoima::seal::timestamp::AddedToken;
use qoima::seal::{self, GeneratedKey, SealError, SealOptions, SealSummary};

use super::super::Exit;
use super::super::args::{Global, KeygenArgs, SealArgs, VerifySealArgs};
use super::super::output;

#[derive(Serialize)]
struct KeygenReport<'a> {
    qoima_version: &'static str,
    command: &'static str,
    key: &'a GeneratedKey,
    exit_code: u8,
}

#[derive(Serialize)]
struct SealJson<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seal: Option<&'a SealSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<&'a BundleSummary>,
    /// The tokens `--tsa` added (over the seal's signatures, then the bundle's).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    timestamps: &'a [AddedToken],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: &'a [Problem],
    exit_code: u8,
}

/// `--tsa`: the authorities to ask right after signing, and the roots to check replies with.
struct Stamper {
    authorities: Vec<(String, String)>,
    roots: Option<Vec<u8>>,
}

/// What `--tsa` did.
#[derive(Default)]
struct Stamped {
    added: Vec<AddedToken>,
    skipped: Vec<String>,
    problems: Vec<Problem>,
}

impl Stamped {
    /// When a token could not be had: the command did not do all it was asked (exit 2; the
    /// seal itself is sound), and what to do about it.
    fn failure(&self) -> Option<(Exit, &'static str)> {
        let errors: Vec<&Problem> = self.problems.iter().filter(|p| p.is_error()).collect();
        if errors.is_empty() {
            return None;
        }
        let unreachable = errors
            .iter()
            .all(|p| p.code == qoima::error::Code::TsaUnreachable);
        Some((
            Exit::Error,
            if unreachable {
                "when the authority answers"
            } else {
                "with another authority, or with the right --tsa-roots (the reply was refused: see the problems)"
            },
        ))
    }
}

impl Stamper {
    /// Read before anything is written, so that a bad --tsa seals nothing.
    fn from_args(a: &SealArgs) -> anyhow::Result<Option<Stamper>> {
        if a.tsa.is_empty() {
            return Ok(None);
        }
        Ok(Some(Stamper {
            authorities: super::timestamp::authorities(&a.tsa, a.tsa_name.as_deref())?,
            roots: super::tsa_roots(a.tsa_roots.as_deref())?,
        }))
    }

    /// Asks for tokens over the signatures of `target` (a sealed bag, or a bundle), adding to
    /// `into`.
    fn stamp(&self, target: &Path, into: &mut Stamped) {
        let report = seal::timestamp::stamp_targets(target).and_then(|(base, files)| {
            seal::timestamp::stamp(&base, &files, &self.authorities, self.roots.as_deref())
        });
        match report {
            Ok(r) => {
                into.added.extend(r.added);
                into.skipped.extend(r.skipped);
                into.problems.extend(r.problems);
            }
            Err(e) => into.problems.push(Problem::new(
                qoima::error::Code::TimestampIo,
                format!("{}: {e}", target.display()),
            )),
        }
    }
}

/// Prints `seal --json`: `done` names the outcome of a success (`sealed`, `encrypted`).
fn seal_json(
    exit: Exit,
    done: &'static str,
    (seal, bundle, timestamps): (Option<&SealSummary>, Option<&BundleSummary>, &[AddedToken]),
    error: Option<String>,
    problems: &[Problem],
) -> anyhow::Result<()> {
    output::json(&SealJson {
        qoima_version: qoima::VERSION,
        command: "seal",
        outcome: match exit {
            Exit::Ok => done,
            Exit::Invalid => "refused",
            Exit::Error => "error",
        },
        seal,
        bundle,
        timestamps,
        error,
        problems,
        exit_code: exit as u8,
    })
}

#[derive(Serialize)]
pub(super) struct VerifyJson<'a, R: Serialize> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(flatten)]
    report: &'a R,
    exit_code: u8,
}

/// The exit status of a verification, and its JSON report with `--json`: `ok_word` when it
/// passed, `not-verified` otherwise.
pub(super) fn verdict<R: Serialize>(
    g: &Global,
    command: &'static str,
    passed: bool,
    ok_word: &'static str,
    report: &R,
) -> anyhow::Result<Exit> {
    let exit = if passed { Exit::Ok } else { Exit::Invalid };
    if g.json {
        output::json(&VerifyJson {
            qoima_version: qoima::VERSION,
            command,
            outcome: if passed { ok_word } else { "not-verified" },
            report,
            exit_code: exit as u8,
        })?;
    }
    Ok(exit)
}

/// The passphrase: `--passphrase-file` (first line), else `$QOIMA_PASSPHRASE`, else asked on
/// the terminal (twice when `confirm`).
fn passphrase(file: Option<&Path>, confirm: bool) -> anyhow::Result<String> {
    if let Some(f) = file {
        let text = qoima::fsutil::read_bounded_text(f, qoima::fsutil::SMALL_FILE_LIMIT)
            .with_context(|| format!("cannot read --passphrase-file {}", f.display()))?;
        let line = text.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            bail!("--passphrase-file {} is empty", f.display());
        }
        return Ok(line);
    }
    if let Ok(p) = std::env::var("QOIMA_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(p);
    }
    let p = rpassword::prompt_password("Passphrase for the secret key: ")
        .context("cannot read a passphrase from the terminal (set QOIMA_PASSPHRASE or use --passphrase-file)")?;
    if p.is_empty() {
        bail!("an empty passphrase protects nothing; use --unencrypted if that is really meant");
    }
    if confirm {
        let again = rpassword::prompt_password("The same passphrase again: ")?;
        if again != p {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(p)
}

pub fn keygen(a: &KeygenArgs, g: &Global) -> anyhow::Result<Exit> {
    let pw = if a.unencrypted {
        None
    } else {
        Some(passphrase(a.passphrase_file.as_deref(), true)?)
    };
    let key = seal::generate(&a.output, pw.as_deref())?;
    if g.json {
        output::json(&KeygenReport {
            qoima_version: qoima::VERSION,
            command: "keygen",
            key: &key,
            exit_code: 0,
        })?;
    }
    if !g.quiet {
        output::stderrln!(
            "secret key: {}{}",
            output::path(&key.secret_key),
            if key.encrypted {
                " (encrypted with the passphrase)"
            } else {
                " (NOT encrypted: for tests and automation only)"
            }
        );
        output::stderrln!("public key: {}", output::path(&key.public_key_file));
        output::stderrln!("key id:     {}", key.key_id);
        output::stderrln!("Publish this line (recipients put it in their --trusted-keys file):");
    }
    if !g.json {
        println!("{}", key.public_key);
    }
    Ok(Exit::Ok)
}

pub fn seal(a: &SealArgs, g: &Global) -> anyhow::Result<Exit> {
    // Recipients are read before anything is written, so that a typo seals nothing.
    let mut recipients = Vec::new();
    for r in &a.to {
        recipients.push(encrypt::parse_recipient(r)?);
    }
    if let Some(f) = &a.recipients_file {
        recipients.extend(encrypt::read_recipients_file(f)?);
    }
    let encrypt_to = match (&a.output, recipients.is_empty()) {
        (Some(dir), false) => {
            encrypt::check_name(&a.bundle_name)?;
            Some(EncryptOptions {
                out_dir: dir.clone(),
                name: a.bundle_name.clone(),
                recipients,
            })
        }
        (Some(_), true) => bail!(
            "-o writes an encrypted bundle: give its recipients with --to age1… or --recipients-file"
        ),
        (None, _) => None,
    };
    if let Some(eo) = &encrypt_to {
        // A bundle written into the bag, or over it, would change what is being sealed.
        let paths = encrypt::BundlePaths::new(&eo.out_dir, &eo.name);
        let script = eo.out_dir.join(qoima::seal::VERIFY_SH);
        let files = [
            paths.ciphertext.as_path(),
            &paths.checksum,
            &paths.signature,
            &paths.envelope,
            &script,
        ];
        if let Err(e) = super::outputs::refuse_writing_into(&a.bag, &eo.out_dir, &files) {
            return Ok(super::outputs::report_refusal(&e));
        }
    }
    let stamper = Stamper::from_args(a)?;
    let (sk, pk) = seal::load_secret_key(&a.sign, || {
        passphrase(a.passphrase_file.as_deref(), false).map_err(|e| SealError::Key(e.to_string()))
    })
    .with_context(|| format!("cannot use the key {}", a.sign.display()))?;
    let engine = super::engine(g)?;
    // Sealing rewrites the bag's tag files: one run at a time, and a second one is refused.
    // The lock is held until the command ends (time-stamps and encryption included).
    let _lock = a
        .bag
        .is_dir()
        .then(|| super::lock(&a.bag, super::Contention::Refuse))
        .transpose()?;
    if let Some(eo) = &encrypt_to
        && (seal::custody::has_entries(&a.bag) || seal::timestamp::is_stamped(&a.bag))
    {
        return encrypt_as_sealed(a, g, (&sk, &pk), eo, stamper.as_ref(), &engine);
    }
    let opts = SealOptions {
        signer_name: a.name.clone(),
    };
    let mut result = seal::seal_bag(&a.bag, &sk, &pk, &opts, &engine, &NoProgress);
    match (&mut result, &encrypt_to) {
        (Ok(s), None) => s.problems.extend(sensitive_fields(&a.bag)),
        (Ok(s), Some(eo)) => s.problems.extend(ssh_caveat(eo)),
        _ => {}
    }
    // --tsa: the seal's signatures are stamped before the bag is encrypted, so that the tokens
    // travel inside the bundle; then the bundle's signed digest.
    let mut stamped = Stamped::default();
    if let (Ok(_), Some(st)) = (&result, &stamper) {
        st.stamp(&a.bag, &mut stamped);
    }
    let seal_stamp_failure = stamped.failure();
    let bundle = match (&result, &encrypt_to, seal_stamp_failure) {
        (Ok(_), Some(eo), None) => Some(encrypt::encrypt_sealed_bag(
            &a.bag,
            &sk,
            &pk,
            eo,
            &NoProgress,
        )),
        _ => None,
    };
    if let (Some(Ok(b)), Some(st)) = (&bundle, &stamper) {
        st.stamp(&b.ciphertext, &mut stamped);
    }
    let bundle_error = match (&bundle, seal_stamp_failure, stamped.failure()) {
        (_, Some((x, when)), _) => Some((
            x,
            if encrypt_to.is_some() {
                format!(
                    "the bag was sealed, but a time-stamp could not be had, so it was not encrypted: run `qoima timestamp` on it {when}, then `qoima seal --to` again (a time-stamped bag is encrypted as it is)"
                )
            } else {
                format!(
                    "the bag was sealed, but a time-stamp could not be had: run `qoima timestamp` on it {when}"
                )
            },
        )),
        (Some(Err(e)), _, _) => Some((
            Exit::Error,
            format!("the bag was sealed, but not encrypted: {e}"),
        )),
        (Some(Ok(b)), _, _) if b.verify_sh_error.is_some() => Some((
            Exit::Error,
            format!(
                "the bag was sealed and the bundle written, but verify.sh could not be put beside it: {}",
                b.verify_sh_error.as_deref().unwrap_or_default()
            ),
        )),
        (Some(Ok(b)), _, Some((x, when))) => Some((
            x,
            format!(
                "the bag was sealed, time-stamped and encrypted, but a time-stamp over the bundle's signature could not be had: run `qoima timestamp {}` {when}",
                b.ciphertext.display()
            ),
        )),
        _ => None,
    };
    let bundle = bundle.as_ref().and_then(|b| b.as_ref().ok());
    let (exit, summary, error, problems) = match &result {
        Ok(s) => {
            let mut problems = s.problems.clone();
            problems.extend(stamped.problems.iter().cloned());
            match &bundle_error {
                Some((x, e)) => (*x, Some(s), Some(e.clone()), problems),
                None => (Exit::Ok, Some(s), None, problems),
            }
        }
        Err(SealError::Refused(p)) => (
            Exit::Invalid,
            None,
            Some(result.as_ref().unwrap_err().to_string()),
            p.clone(),
        ),
        Err(e) => (Exit::Error, None, Some(e.to_string()), Vec::new()),
    };
    if g.json {
        seal_json(
            exit,
            "sealed",
            (summary, bundle, &stamped.added),
            error.clone(),
            &problems,
        )?;
    }
    match (summary, &error) {
        (Some(s), _) => {
            if !g.quiet {
                output::problems(&problems, true, "");
                output::stderrln!(
                    "{}: sealed as {:?} by key {} ({}); {} tag manifest(s) signed in seal/",
                    output::path(&s.bag),
                    s.bag_name,
                    s.key_id,
                    s.signer_name,
                    s.signatures.len()
                );
                super::timestamp::print_tokens(&stamped.added, &stamped.skipped);
                if let Some(b) = bundle {
                    output::stderrln!("{}", bundle_line(b, "encrypted"));
                }
            }
            if let Some(e) = &error {
                output::stderrln!("qoima: {}: {e}", output::path(&a.bag));
            }
        }
        (None, Some(e)) => {
            output::problems(&problems, false, "");
            output::stderrln!("qoima: {}: {e}", output::path(&a.bag));
        }
        (None, None) => {}
    }
    Ok(exit)
}

/// What was written, in one line: `NAME.tar.age: WHAT to N recipient(s), …`.
fn bundle_line(b: &BundleSummary, what: &str) -> String {
    format!(
        "{}: {what} to {} recipient(s), {} bytes; sha256 {} signed in {}, envelope {}",
        output::path(&b.ciphertext),
        b.recipients,
        b.ciphertext_bytes,
        output::path(&b.checksum),
        output::path(&b.signature),
        output::path(&b.envelope)
    )
}

/// The warning an SSH recipient deserves (SEAL-W051), once per SSH recipient.
fn ssh_caveat(eo: &EncryptOptions) -> Vec<Problem> {
    eo.recipients
        .iter()
        .filter(|r| r.is_ssh())
        .map(|r| {
            let BundleRecipient::Ssh(k) = r else {
                unreachable!("filtered to SSH recipients")
            };
            let text = k.to_string();
            let short: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            let short = if short.len() > 40 {
                format!("{}…", &short[..40])
            } else {
                short
            };
            Problem::new(
                qoima::error::Code::SealSshRecipient,
                format!(
                    "the bundle is encrypted to the SSH key {short}: its stanza in the age header reveals a tag of that key to anyone holding the bundle"
                ),
            )
        })
        .collect()
}

/// A sealed bag with a custody log or time-stamps is encrypted as it is (sealing it again
/// would break the log and orphan the time-stamps), once its seal verifies with the key given.
fn encrypt_as_sealed(
    a: &SealArgs,
    g: &Global,
    (sk, pk): (&minisign::SecretKey, &minisign::PublicKey),
    eo: &EncryptOptions,
    stamper: Option<&Stamper>,
    engine: &qoima::digest::Engine,
) -> anyhow::Result<Exit> {
    let mut stamped = Stamped::default();
    let me = [seal::TrustedKey {
        base64: pk.to_base64(),
        key: pk.clone(),
        line: 0,
    }];
    // Other custodians' entries are signed by keys this key's holder need not trust here:
    // the recipient checks them against their own list.
    let report = seal::verify_seal(&a.bag, &me, seal::Pins::default(), engine, &NoProgress);
    let errors: Vec<Problem> = report
        .problems
        .into_iter()
        .filter(|p| p.is_error() && p.code != qoima::error::Code::CustodyUntrustedKey)
        .collect();
    let (exit, bundle, error, problems) = if !errors.is_empty() {
        let mut p = errors;
        let (code, what, file) = if seal::custody::has_entries(&a.bag) {
            (
                qoima::error::Code::SealHasCustody,
                "a custody log",
                seal::custody::CUSTODY_DIR,
            )
        } else {
            (
                qoima::error::Code::SealHasTimestamps,
                "time-stamps",
                seal::SEAL_DIR,
            )
        };
        p.push(
            Problem::new(
                code,
                format!(
                    "{} has {what}, so it is encrypted as it is sealed, and that seal does not verify with the key {}",
                    a.bag.display(),
                    a.sign.display()
                ),
            )
            .file(file),
        );
        (
            Exit::Invalid,
            None,
            Some("the bag was not encrypted".to_string()),
            p,
        )
    } else {
        // --tsa: more tokens over the seal (and the custody log's head) first, so that they
        // travel inside; then over the bundle's signed digest.
        if let Some(st) = stamper {
            st.stamp(&a.bag, &mut stamped);
        }
        match stamped.failure() {
            Some((x, when)) => (
                x,
                None,
                Some(format!(
                    "a time-stamp could not be had, so the bag was not encrypted: run `qoima timestamp` on it {when}, then `qoima seal --to` again"
                )),
                Vec::new(),
            ),
            None => match encrypt::encrypt_sealed_bag(&a.bag, sk, pk, eo, &NoProgress) {
                Ok(b) => {
                    if let Some(st) = stamper {
                        st.stamp(&b.ciphertext, &mut stamped);
                    }
                    let error = match (&b.verify_sh_error, stamped.failure()) {
                        (Some(e), _) => Some((
                            Exit::Error,
                            format!(
                                "the bundle is written, but verify.sh could not be put beside it: {e}"
                            ),
                        )),
                        (None, Some((x, when))) => Some((
                            x,
                            format!(
                                "the bundle is written, but a time-stamp over its signature could not be had: run `qoima timestamp {}` {when}",
                                b.ciphertext.display()
                            ),
                        )),
                        (None, None) => None,
                    };
                    let exit = error.as_ref().map_or(Exit::Ok, |(x, _)| *x);
                    (exit, Some(b), error.map(|(_, e)| e), ssh_caveat(eo))
                }
                Err(e) => (
                    Exit::Error,
                    None,
                    Some(format!("the bag was not encrypted: {e}")),
                    Vec::new(),
                ),
            },
        }
    };
    let mut problems = problems;
    problems.extend(stamped.problems.iter().cloned());
    if g.json {
        seal_json(
            exit,
            "encrypted",
            (None, bundle.as_ref(), &stamped.added),
            error.clone(),
            &problems,
        )?;
    }
    output::problems(&problems, true, "");
    if !g.quiet {
        super::timestamp::print_tokens(&stamped.added, &stamped.skipped);
    }
    if let Some(b) = bundle.as_ref().filter(|_| !g.quiet) {
        output::stderrln!(
            "{}",
            bundle_line(
                b,
                "already sealed (with a custody log or time-stamps): encrypted as it is"
            )
        );
    }
    if let Some(e) = &error {
        output::stderrln!("qoima: {}: {e}", output::path(&a.bag));
    }
    Ok(exit)
}

pub fn verify(a: &VerifySealArgs, g: &Global) -> anyhow::Result<Exit> {
    let trusted = seal::read_trusted_keys(&a.trusted_keys)?;
    let bundle = encrypt::is_bundle(&a.bag);
    if bundle && !a.bag.is_file() {
        bail!("cannot read the encrypted bundle {}", a.bag.display());
    }
    if !bundle && !a.bag.is_dir() {
        bail!(
            "{} is not a bag folder or an encrypted bundle NAME.tar.age (unpack a serialized bag first)",
            a.bag.display()
        );
    }
    if !bundle && !a.identity.is_empty() {
        bail!(
            "-i decrypts an encrypted bundle (NAME.tar.age); {} is a folder",
            a.bag.display()
        );
    }
    let engine = super::engine(g)?;
    let roots = super::tsa_roots(a.tsa_roots.as_deref())?;
    let pins = seal::Pins {
        tsa_roots: roots.as_deref(),
        expect_head: a.expect_head.as_deref(),
    };
    let report = if bundle {
        let mut identities = Vec::new();
        for f in &a.identity {
            identities.extend(encrypt::read_identities(f)?);
        }
        encrypt::verify_bundle(&a.bag, &trusted, pins, &identities, &engine, &NoProgress)
    } else {
        seal::verify_seal(&a.bag, &trusted, pins, &engine, &NoProgress)
    };
    let exit = verdict(g, "verify-seal", report.sealed, "sealed", &report)?;
    if !g.quiet || !report.sealed {
        print_checks(&report.checks, &report.problems);
        if report.sealed {
            output::stderrln!(
                "{}: SEALED by key {} ({}), Seal-Created {} (self-asserted)",
                output::path(&a.bag),
                report.key_id.as_deref().unwrap_or("?"),
                report.signer_name.as_deref().unwrap_or("no name"),
                report.sealed_at.as_deref().unwrap_or("?")
            );
            output::stderrln!("This proves:");
            for p in report.proves {
                output::stderrln!("  - {p}");
            }
        } else {
            output::stderrln!("{}: NOT VERIFIED", output::path(&a.bag));
        }
        output::stderrln!("A seal does not prove:");
        for p in report.does_not_prove {
            output::stderrln!("  - {p}");
        }
    }
    Ok(exit)
}

/// One line per check (`ok` or `FAIL`), then the problems: the text report of `verify-seal`
/// and `custody verify`.
pub(super) fn print_checks(
    checks: &[qoima::seal::check::Check],
    problems: &[qoima::error::Problem],
) {
    for c in checks {
        output::stderrln!(
            "{}  {}: {}",
            if c.passed { "ok  " } else { "FAIL" },
            c.check,
            c.detail
        );
    }
    // A seal's warnings (an unanchored custody tail, unchecked time-stamps) are what a
    // recipient must read: always shown.
    output::problems(problems, true, "  ");
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
fn sensitive_fields(bag: &std::path::Path) -> Vec<qoima::error::Problem> {
    let Ok(text) = qoima::fsutil::read_regular_string(&bag.join("bag-info.txt")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let label = label.trim();
        if let Some(s) = SENSITIVE.iter().find(|s| s.eq_ignore_ascii_case(label))
            && !value.trim().is_empty()
        {
            out.push(
                qoima::error::Problem::new(
                    qoima::error::Code::SealSensitiveUnencrypted,
                    format!(
                        "bag-info.txt gives {s}, and the sealed bag is not encrypted: anyone who holds it can read it"
                    ),
                )
                .file("bag-info.txt")
                .line(n as u64 + 1)
                .field(*s),
            );
        }
    }
    out
}
