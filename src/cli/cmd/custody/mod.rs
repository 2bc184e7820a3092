//! `qoima custody append|show|verify|export`: the custody log of a sealed bag. `show` is
//! here; `append` and `verify` (with `export`) have their own files.

mod append;
mod verify;

use std::path::Path;

use anyhow::bail;
use serde::Serialize;

use qoima::seal::custody::{self, Entry};
use qoima::seal::{self, TrustedKey};

use crate::cli::Exit;
use crate::cli::args::{CustodyArgs, CustodyCommand, CustodyShowArgs, Global};
use crate::cli::outcome::{EmptyProblems, Outcome};
use crate::cli::output;

pub fn run(args: &CustodyArgs, global: &Global) -> anyhow::Result<Exit> {
    match &args.command {
        CustodyCommand::Append(args) => append::append(args, global),
        CustodyCommand::Show(args) => show(args, global),
        CustodyCommand::Verify(args) => verify::verify(args, global),
        CustodyCommand::Export(args) => verify::export(args, global),
    }
}

fn trusted(file: Option<&Path>) -> anyhow::Result<Option<Vec<TrustedKey>>> {
    file.map(seal::read_trusted_keys)
        .transpose()
        .map_err(Into::into)
}

fn need_folder(bag: &Path) -> anyhow::Result<()> {
    if !bag.is_dir() {
        bail!(
            "{} is not a bag folder (unpack a serialized bag first)",
            bag.display()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct ShowEntry<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// What `custody show --json` holds besides the envelope: the entries as they are, not
/// verified.
#[derive(Serialize)]
struct ShowBody<'a> {
    bag: String,
    verified: bool,
    entries: Vec<ShowEntry<'a>>,
}

fn show(args: &CustodyShowArgs, global: &Global) -> anyhow::Result<Exit> {
    need_folder(&args.bag)?;
    let entries = custody::read_entries(&args.bag);
    let body = ShowBody {
        bag: args.bag.display().to_string(),
        verified: false,
        entries: entries
            .iter()
            .map(|(file, entry)| ShowEntry {
                file,
                entry: entry.as_ref().ok(),
                error: entry.as_ref().err().map(String::as_str),
            })
            .collect(),
    };
    Outcome::done("custody show", body, Vec::new(), Exit::Ok)
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |_| {
            // With --json the document is the whole answer.
            if !global.json {
                print_entries(&args.bag, &entries, global);
            }
        })
}

/// The entries on stdout, as they are, and on stderr that they were not verified.
fn print_entries(bag: &Path, entries: &[(String, Result<Entry, String>)], global: &Global) {
    if entries.is_empty() {
        println!("{}: no custody entries", output::path(bag));
    }
    for (file, entry) in entries {
        match entry {
            Ok(entry) => {
                println!(
                    "{:>4}  {}  {:<14} {:<8} {}",
                    entry.seq, entry.time, entry.event_label, entry.outcome, entry.agent.name
                );
                println!("      key {}  prev {}", entry.agent.key, entry.prev);
                if !entry.detail.is_empty() {
                    println!("      {}", entry.detail.replace('\n', "\n      "));
                }
            }
            Err(why) => println!("   ?  {file}: unreadable: {why}"),
        }
    }
    if !global.quiet {
        output::stderrln!(
            "(not verified: run `qoima custody verify {} --trusted-keys FILE`)",
            output::path(bag)
        );
    }
}
