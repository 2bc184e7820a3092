//! `qoima timestamp`: RFC 3161 time-stamps over a sealed bag's signatures (and its custody
//! log's head), or over an encrypted bundle's signature.

use std::path::Path;

use anyhow::{Context, bail};
use qoima::error::{Kind, Problem};
use qoima::seal::timestamp::{self, AddedToken, StampReport};
use serde::Serialize;

use super::super::Exit;
use super::super::args::{Global, TimestampArgs};
use super::super::outcome::Outcome;
use super::super::output;

/// What `--json` holds besides the envelope (the problems are the outcome's).
#[derive(Serialize)]
struct Body<'a> {
    target: String,
    /// The tokens added.
    added: &'a [AddedToken],
    /// Token files that were already there (nothing is replaced).
    skipped: &'a [String],
}

/// The authorities of `--tsa URL…` with the names their tokens get (`--tsa-name`, else each
/// URL's host).
pub(super) fn authorities(
    urls: &[String],
    tsa_name: Option<&str>,
) -> anyhow::Result<Vec<(String, String)>> {
    if urls.len() > 1 && tsa_name.is_some() {
        bail!(
            "--tsa-name names one authority; give one --tsa with it, or let the names come from the URLs"
        );
    }
    let mut authorities: Vec<(String, String)> = Vec::new();
    for url in urls {
        timestamp::check_url(url).map_err(anyhow::Error::msg)?;
        let name = timestamp::tsa_name(Some(url), tsa_name).map_err(anyhow::Error::msg)?;
        if authorities.iter().any(|(_, n)| *n == name) {
            bail!("two --tsa URLs give the token name {name}; give them distinct hosts");
        }
        authorities.push((url.clone(), name));
    }
    Ok(authorities)
}

/// One line per token added or already there.
pub(super) fn print_tokens(added: &[AddedToken], skipped: &[String]) {
    for token in added {
        output::stderrln!(
            "stamped  {}: {} by {}{} -> {}",
            token.file,
            token.info.time,
            token.tsa,
            match (&token.info.signer, token.trusted) {
                (Some(skipped_token), true) =>
                    format!(" ({skipped_token}; checked against --tsa-roots)"),
                (Some(skipped_token), false) =>
                    format!(" ({skipped_token}; not checked: no --tsa-roots)"),
                (None, true) => " (checked against --tsa-roots)".into(),
                (None, false) => " (not checked: no --tsa-roots)".into(),
            },
            token.token
        );
    }
    for skipped_token in skipped {
        output::stderrln!("kept     {skipped_token} (already there)");
    }
}

pub fn run(args: &TimestampArgs, global: &Global) -> anyhow::Result<Exit> {
    let roots = super::tsa_roots(args.tsa_roots.as_deref())?;
    let authorities = authorities(&args.tsa, args.tsa_name.as_deref())?;
    // The folder that receives the tokens (the bag, or the bundle's folder) is locked, so
    // that tokens and custody entries are added one run at a time; a second run waits.
    let (base, _) = timestamp::stamp_targets(&args.target).map_err(anyhow::Error::msg)?;
    let _lock = super::lock(&base, super::Contention::Wait)?;
    // Read again under the lock: an append that held it may have added a new custody head.
    let (base, files) = timestamp::stamp_targets(&args.target).map_err(anyhow::Error::msg)?;
    let mut report = timestamp::stamp(&base, &files, &authorities, roots.as_deref())
        .map_err(anyhow::Error::msg)?;
    add_replies(args, &base, &files, roots.as_deref(), &mut report)?;
    let StampReport {
        added,
        skipped,
        problems,
    } = report;
    let exit = if problems.iter().any(|p| p.code.kind() == Kind::Unreadable) {
        Exit::Error
    } else if problems.iter().any(Problem::is_error) {
        Exit::Invalid
    } else {
        Exit::Ok
    };
    let body = Body {
        target: args.target.display().to_string(),
        added: &added,
        skipped: &skipped,
    };
    let outcome = Outcome::done("timestamp", body, problems, exit).summary_shows_problems();
    outcome.render(global, |body| {
        if !global.quiet || exit != Exit::Ok {
            print_tokens(body.added, body.skipped);
            print_summary(&args.target, body, outcome.problems());
        }
    })
}

/// `--reply FILE…`: replies fetched by hand, added as tokens of `--tsa-name`.
fn add_replies(
    args: &TimestampArgs,
    base: &Path,
    files: &[String],
    roots: Option<&[u8]>,
    report: &mut StampReport,
) -> anyhow::Result<()> {
    if args.reply.is_empty() {
        return Ok(());
    }
    let name = timestamp::tsa_name(None, args.tsa_name.as_deref()).map_err(anyhow::Error::msg)?;
    for reply_file in &args.reply {
        let reply = timestamp::read_limited(reply_file)
            .with_context(|| format!("cannot read the reply {}", reply_file.display()))?;
        match timestamp::add_token(base, files, &name, &reply, roots, None) {
            Ok(timestamp::Added::New(token)) => report.added.push(*token),
            Ok(timestamp::Added::Kept(token)) => report.skipped.push(token),
            Err(problem) => report.problems.push(problem),
        }
    }
    Ok(())
}

/// The problems, then `TARGET: N time-stamp(s) added, M already there[, K problem(s)]`.
fn print_summary(target: &Path, body: &Body<'_>, problems: &[Problem]) {
    output::problems(problems, true, "  ");
    output::stderrln!(
        "{}: {} time-stamp(s) added, {} already there{}",
        output::path(target),
        body.added.len(),
        body.skipped.len(),
        if problems.is_empty() {
            String::new()
        } else {
            format!(", {} problem(s)", problems.len())
        }
    );
}
