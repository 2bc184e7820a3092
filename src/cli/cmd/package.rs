//! `qoima package`.

use serde::Serialize;

use qoima::bagit::{BagError, BagOptions};
use qoima::package::run::{self, PackageOptions, PackageReport};

use super::super::Exit;
use super::super::args::{Global, PackageArgs};
use super::super::output;
use super::super::progress::Bar;

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    #[serde(flatten)]
    package: Option<&'a PackageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    exit_code: u8,
}

pub fn run(a: &PackageArgs, g: &Global) -> anyhow::Result<Exit> {
    let opts = PackageOptions {
        check: super::check::options(&a.check)?,
        bag: BagOptions {
            algorithms: super::bag::algorithms(&a.algorithms)?,
            info: super::bag::info(&a.info)?,
            follow_links: false,
            link: a.link,
            date: super::bag::bagging_date(&a.info)?,
        },
        force: a.force,
    };
    let engine = super::engine(g)?;
    // check, copy and hash, sync, describe and write the tag files
    let bar = Bar::staged("packaging", 4, 0, 0, super::show_progress(g));
    let result = run::package(&a.collection, &a.output, &opts, &engine, &bar);
    bar.finish();
    let (exit, report, error) = match &result {
        Ok(r) if r.outcome == "packaged" => (Exit::Ok, Some(r), None),
        Ok(r) => (Exit::Invalid, Some(r), None),
        Err(BagError::Refused(_)) => (
            Exit::Invalid,
            None,
            Some(result.as_ref().unwrap_err().to_string()),
        ),
        Err(e) => (Exit::Error, None, Some(e.to_string())),
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "package",
            package: report,
            error: error.clone(),
            exit_code: exit as u8,
        })?;
    }
    if let Some(r) = report {
        if !(g.quiet && exit == Exit::Ok) {
            super::check::print_text(&r.check, g);
        }
        match &r.bag {
            Some(b) if !g.quiet => eprintln!(
                "{}: packaged {} files, {} (bag with mets.xml, metadata/dc.xml, metadata/report.json; Payload-Oxum {})",
                output::path(&b.bag),
                b.files,
                qoima::report::human_bytes(b.bytes),
                b.payload_oxum
            ),
            None => eprintln!(
                "qoima: the collection has errors; nothing was written to {}",
                output::path(&a.output)
            ),
            _ => {}
        }
    }
    if let (Err(BagError::Refused(p)), Some(_)) = (&result, &error) {
        output::problems(p, true, "");
    }
    if let Some(e) = error {
        eprintln!("qoima: {e}");
    }
    Ok(exit)
}
