//! `qoima serialize`, and the `--zip/--tar/--tar-gz` of `bag` and `package`.

use anyhow::bail;
use serde::Serialize;

use qoima::archive::write::ArchiveSummary;
use qoima::package::stage::{self, ArchivePlan, Destination};
use qoima::store::Format;

use super::super::Exit;
use super::super::args::{ArchiveArgs, Global, SerializeArgs};
use super::super::outcome::{EmptyProblems, Outcome};
use super::super::output;
use super::super::progress::Bar;

/// The serialization the flags ask for.
pub(super) fn format(args: &ArchiveArgs) -> Option<Format> {
    if args.zip {
        Some(Format::Zip)
    } else if args.tar {
        Some(Format::Tar)
    } else if args.tar_gz {
        Some(Format::TarGz)
    } else {
        None
    }
}

/// Refuses archive-only flags without a serialization.
fn check_flags(args: &ArchiveArgs) -> anyhow::Result<()> {
    if format(args).is_none() && (args.compress || args.checksum || args.checksum_file) {
        bail!("--compress, --checksum and --checksum-file need --zip, --tar or --tar-gz");
    }
    if args.compress && !args.zip {
        bail!("--compress applies to --zip (a tar.gz is always compressed)");
    }
    Ok(())
}

/// The archive plan the flags ask for, once they are checked ([`check_flags`]); `None`
/// without a serialization.
pub(super) fn plan(args: &ArchiveArgs) -> anyhow::Result<Option<ArchivePlan>> {
    check_flags(args)?;
    Ok(format(args).map(|format| ArchivePlan {
        format,
        compress: args.compress,
        checksum: args.checksum,
        checksum_file: args.checksum_file,
    }))
}

/// Prints an archive's line (and its sha256 on stdout when asked and not --json).
pub(super) fn print(summary: &ArchiveSummary, args: &ArchiveArgs, global: &Global) {
    if let Some(sum) = &summary.sha256
        && args.checksum
        && !global.json
    {
        println!("{sum}  {}", summary.archive.display());
    }
    if !global.quiet {
        output::stderrln!(
            "{}: {} archive, {} entries, {} (folder {}/{})",
            output::path(&summary.archive),
            summary.format.extension(),
            summary.entries,
            qoima::verdict::human_bytes(summary.bytes),
            summary.top,
            if args.checksum_file {
                format!("; sha256 in {}.sha256", summary.archive.display())
            } else {
                String::new()
            }
        );
    }
}

/// What `serialize` made, in `--json`.
#[derive(Serialize)]
struct Serialized<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a ArchiveSummary>,
}

pub fn run(args: &SerializeArgs, global: &Global) -> anyhow::Result<Exit> {
    if format(&args.archive).is_none() {
        bail!("say which serialization: --zip, --tar or --tar-gz");
    }
    let plan = plan(&args.archive)?.expect("a serialization was given");
    let bag = args.bag.as_path();
    // Default: the bag's path, trailing `/` and `.` left out, with the format's extension.
    let out = args.output.as_deref().unwrap_or(bag.components().as_path());
    let destination = Destination::new(out, Some(plan));
    let Destination::Archive { file, .. } = &destination else {
        unreachable!("a plan makes an archive destination");
    };
    let bar = Bar::new("serializing", 0, 0, super::show_progress(global));
    let result = super::outputs::prepare_destination(bag, &destination, "", global)
        .and_then(|()| stage::serialize(bag, file, &plan, &bar));
    bar.finish();
    let outcome = match &result {
        Ok(summary) => Outcome::done(
            "serialize",
            Serialized {
                archive: Some(summary),
            },
            Vec::new(),
            Exit::Ok,
        ),
        Err(e) => Outcome::failed("serialize", Serialized { archive: None }, e),
    };
    outcome
        .empty_problems(EmptyProblems::Omitted)
        .render(global, |made| {
            if let Some(summary) = made.archive {
                print(summary, &args.archive, global);
            }
        })
}
