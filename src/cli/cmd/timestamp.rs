//! `qoima timestamp`: RFC 3161 time-stamps over a sealed bag's signatures (and its custody
//! log's head), or over an encrypted bundle's signature.

use anyhow::{Context, bail};
use qoima::error::{Kind, Problem};
use qoima::seal::timestamp::{self, AddedToken, StampReport};
use serde::Serialize;

use super::super::Exit;
use super::super::args::{Global, TimestampArgs};
use super::super::output;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    target: String,
    /// The tokens added.
    added: &'a [AddedToken],
    /// Token files that were already there (nothing is replaced).
    skipped: &'a [String],
    problems: &'a [Problem],
    exit_code: u8,
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
    let StampReport {
        mut added,
        mut skipped,
        mut problems,
    } = timestamp::stamp(&base, &files, &authorities, roots.as_deref())
        .map_err(anyhow::Error::msg)?;
    if !args.reply.is_empty() {
        let name =
            timestamp::tsa_name(None, args.tsa_name.as_deref()).map_err(anyhow::Error::msg)?;
        for reply_file in &args.reply {
            let reply = timestamp::read_limited(reply_file)
                .with_context(|| format!("cannot read the reply {}", reply_file.display()))?;
            match timestamp::add_token(&base, &files, &name, &reply, roots.as_deref(), None) {
                Ok(timestamp::Added::New(t)) => added.push(*t),
                Ok(timestamp::Added::Kept(t)) => skipped.push(t),
                Err(p) => problems.push(p),
            }
        }
    }
    let exit = if problems.iter().any(|p| p.code.kind() == Kind::Unreadable) {
        Exit::Error
    } else if problems.iter().any(Problem::is_error) {
        Exit::Invalid
    } else {
        Exit::Ok
    };
    if global.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "timestamp",
            target: args.target.display().to_string(),
            added: &added,
            skipped: &skipped,
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    if !global.quiet || exit != Exit::Ok {
        print_tokens(&added, &skipped);
        output::problems(&problems, true, "  ");
        output::stderrln!(
            "{}: {} time-stamp(s) added, {} already there{}",
            output::path(&args.target),
            added.len(),
            skipped.len(),
            if problems.is_empty() {
                String::new()
            } else {
                format!(", {} problem(s)", problems.len())
            }
        );
    }
    Ok(exit)
}
