//! `qoima unpack`.

use serde::Serialize;

use qoima::archive::unpack::{self, UnpackSummary};
use qoima::bagit::BagError;
use qoima::error::Problem;

use super::super::Exit;
use super::super::args::{Global, UnpackArgs};
use super::super::output;
use super::super::progress::Bar;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unpacked: Option<&'a UnpackSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: &'a [Problem],
    exit_code: u8,
}

pub fn run(a: &UnpackArgs, g: &Global) -> anyhow::Result<Exit> {
    let limits = super::serialize::limits(&a.limits)?;
    let bar = Bar::new("unpacking", 0, 0, super::show_progress(g));
    let result = super::outputs::prepare(&a.archive, &[(&a.output, "the folder")], g)
        .and_then(|()| unpack::unpack(&a.archive, &a.output, &limits, &bar));
    bar.finish();
    let (exit, summary, error, problems) = match &result {
        Ok(s) => (Exit::Ok, Some(s), None, s.problems.clone()),
        Err(e @ BagError::Coded(_)) => {
            let (exit, message, problems) = super::outputs::failure(e);
            (exit, None, Some(message), problems)
        }
        Err(BagError::Refused(p)) => (
            Exit::Invalid,
            None,
            Some(format!(
                "{} holds entries qoima will not unpack, or damaged data ({} problem(s)); nothing was written",
                a.archive.display(),
                p.iter().filter(|p| p.is_error()).count()
            )),
            p.clone(),
        ),
        // Not an archive, or one whose structure is damaged: could not be checked, as
        // `validate` says of it.
        Err(BagError::Io { path, source })
            if *path == a.archive
                && matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
        {
            let p = Problem::new(
                qoima::error::Code::ArchiveUnreadable,
                format!(
                    "cannot read {} as a serialized bag: {source}",
                    a.archive.display()
                ),
            );
            (
                Exit::Error,
                None,
                Some("nothing was written".to_string()),
                vec![p],
            )
        }
        Err(e) => (Exit::Error, None, Some(e.to_string()), Vec::new()),
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "unpack",
            outcome: match exit {
                Exit::Ok => "unpacked",
                Exit::Invalid => "refused",
                Exit::Error => "error",
            },
            unpacked: summary,
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    if !g.quiet || exit != Exit::Ok {
        output::problems(&problems, true, "");
    }
    if let Some(s) = summary
        && !g.quiet
    {
        output::stderrln!(
            "{}: unpacked {} files, {} from {}",
            output::path(&s.folder),
            s.files,
            qoima::verdict::human_bytes(s.bytes),
            output::path(&s.archive)
        );
    }
    if let Some(e) = error {
        output::stderrln!("qoima: {e}");
    }
    Ok(exit)
}
