//! `qoima unpack`: the flags in, the archive unpacked into a new folder, the outcome rendered.

use serde::Serialize;

use qoima::archive::unpack::{self, UnpackSummary};
use qoima::bagit::BagError;
use qoima::error::Problem;

use super::super::Exit;
use super::super::args::{Global, UnpackArgs};
use super::super::outcome::Outcome;
use super::super::output;
use super::super::progress::Bar;

/// What `unpack` made, in `--json`.
#[derive(Serialize)]
struct Unpacked<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    unpacked: Option<&'a UnpackSummary>,
}

pub fn run(args: &UnpackArgs, global: &Global) -> anyhow::Result<Exit> {
    let limits = super::units::limits(&args.limits)?;
    let bar = Bar::new("unpacking", 0, 0, super::show_progress(global));
    let result = super::outputs::prepare(&args.archive, &[(&args.output, "the folder")], global)
        .and_then(|()| unpack::unpack(&args.archive, &args.output, &limits, &bar));
    bar.finish();
    let outcome = match &result {
        Ok(summary) => {
            let body = Unpacked {
                unpacked: Some(summary),
            };
            Outcome::done("unpack", body, summary.problems.clone(), Exit::Ok)
        }
        Err(e) => {
            let (exit, message, problems) = failure(args, e);
            Outcome::not_done(
                "unpack",
                Unpacked { unpacked: None },
                exit,
                message,
                problems,
            )
        }
    };
    outcome.worded("unpacked").render(global, |unpacked| {
        if let (Some(summary), false) = (unpacked.unpacked, global.quiet) {
            output::stderrln!(
                "{}: unpacked {} files, {} from {}",
                output::path(&summary.folder),
                summary.files,
                qoima::verdict::human_bytes(summary.bytes),
                output::path(&summary.archive)
            );
        }
    })
}

/// The exit status, the error line and the problems of an archive that was not unpacked.
fn failure(args: &UnpackArgs, error: &BagError) -> (Exit, String, Vec<Problem>) {
    match error {
        BagError::Refused(problems) => (
            Exit::Invalid,
            format!(
                "{} holds entries qoima will not unpack, or damaged data ({} problem(s)); nothing was written",
                args.archive.display(),
                problems.iter().filter(|p| p.is_error()).count()
            ),
            problems.clone(),
        ),
        // Not an archive, or one whose structure is damaged: could not be checked, as
        // `validate` says of it.
        BagError::Io { path, source }
            if *path == args.archive
                && matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
        {
            let unreadable = Problem::new(
                qoima::error::Code::ArchiveUnreadable,
                format!(
                    "cannot read {} as a serialized bag: {source}",
                    args.archive.display()
                ),
            );
            (
                Exit::Error,
                "nothing was written".to_string(),
                vec![unreadable],
            )
        }
        _ => super::super::outcome::failure(error),
    }
}
