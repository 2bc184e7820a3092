//! `qoima verify-seal`: a sealed bag folder or an encrypted bundle checked against the keys
//! the verifier trusts; and the outcome and rendering `custody verify` shares with it.

use anyhow::bail;
use serde::Serialize;

use qoima::digest::NoProgress;
use qoima::seal;

use crate::cli::Exit;
use crate::cli::args::{Global, VerifySealArgs};
use crate::cli::outcome::{EmptyProblems, Outcome};
use crate::cli::output;

/// A verification's outcome: exit 0 and `ok_word` in `--json` when it passed, else exit 1
/// and `not-verified`; the report is the document's body.
pub(crate) fn verification<R: Serialize>(
    command: &'static str,
    passed: bool,
    ok_word: &'static str,
    report: R,
) -> Outcome<R> {
    let exit = if passed { Exit::Ok } else { Exit::Invalid };
    Outcome::done(command, report, Vec::new(), exit)
        .empty_problems(EmptyProblems::Omitted)
        .word(if passed { ok_word } else { "not-verified" })
}

pub fn verify(args: &VerifySealArgs, global: &Global) -> anyhow::Result<Exit> {
    let trusted = seal::read_trusted_keys(&args.trusted_keys)?;
    let bundle = seal::layout::is_bundle(&args.bag);
    if bundle && !args.bag.is_file() {
        bail!("cannot read the encrypted bundle {}", args.bag.display());
    }
    if !bundle && !args.bag.is_dir() {
        bail!(
            "{} is not a bag folder or an encrypted bundle NAME.tar.age (unpack a serialized bag first)",
            args.bag.display()
        );
    }
    if !bundle && !args.identity.is_empty() {
        bail!(
            "-i decrypts an encrypted bundle (NAME.tar.age); {} is a folder",
            args.bag.display()
        );
    }
    let engine = super::super::engine(global)?;
    let roots = super::super::tsa_roots(args.tsa_roots.as_deref())?;
    let pins = seal::Pins {
        tsa_roots: roots.as_deref(),
        expect_head: args.expect_head.as_deref(),
    };
    let report = if bundle {
        let mut identities = Vec::new();
        for file in &args.identity {
            identities.extend(seal::bundle::read_identities(file)?);
        }
        seal::bundle::verify_bundle(&args.bag, &trusted, pins, &identities, &engine, &NoProgress)
    } else {
        seal::verify_seal(&args.bag, &trusted, pins, &engine, &NoProgress)
    };
    verification("verify-seal", report.sealed, "sealed", &report).render(global, |report| {
        if !global.quiet || !report.sealed {
            print_report(&args.bag, report);
        }
    })
}

/// The text report: the checks and problems, then what the seal proves and does not.
fn print_report(bag: &std::path::Path, report: &seal::SealReport) {
    print_checks(&report.checks, &report.problems);
    if report.sealed {
        output::stderrln!(
            "{}: SEALED by key {} ({}), Seal-Created {} (self-asserted)",
            output::path(bag),
            report.key_id.as_deref().unwrap_or("?"),
            report.signer_name.as_deref().unwrap_or("no name"),
            report.sealed_at.as_deref().unwrap_or("?")
        );
        output::stderrln!("This proves:");
        for line in &report.proves {
            output::stderrln!("  - {line}");
        }
    } else {
        output::stderrln!("{}: NOT VERIFIED", output::path(bag));
    }
    output::stderrln!("A seal does not prove:");
    for line in report.does_not_prove {
        output::stderrln!("  - {line}");
    }
}

/// One line per check (`ok` or `FAIL`), then the problems: the text report of `verify-seal`
/// and `custody verify`.
pub(crate) fn print_checks(
    checks: &[qoima::seal::check::Check],
    problems: &[qoima::error::Problem],
) {
    for check in checks {
        output::stderrln!(
            "{}  {}: {}",
            if check.passed { "ok  " } else { "FAIL" },
            check.check,
            check.detail
        );
    }
    // A seal's warnings (an unanchored custody tail, unchecked time-stamps) are what a
    // recipient must read: always shown.
    output::problems(problems, true, "  ");
}
