//! A packaged bag's METS held to its manifests: every file the `fileSec` lists must be in the
//! bag, and its `CHECKSUM` must be the manifest's digest of that file. BagIt validation proves
//! the manifests match the files; this proves the description matches the manifests.

use std::collections::HashMap;

use crate::bagit::manifest;
use crate::bagit::text::Encoding;
use crate::bagit::validate::{BagReport, Mode, ValidateOptions};
use crate::bagit::{self, Version};
use crate::describe::mets_read;
use crate::digest::Algorithm;
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::paths;
use crate::store::Store;

/// Problems between `mets.xml` and the manifests of the bag in `store`; none when the bag
/// has no `mets.xml` (it is then not a package, and nothing is claimed).
pub fn mets_against_manifests(store: &dyn Store) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Ok(mut r) = store.open("mets.xml") else {
        return problems;
    };
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut r, &mut text) {
        problems.push(
            Problem::new(
                Code::MetsUnreadable,
                format!("mets.xml cannot be read as UTF-8 text: {e}"),
            )
            .file("mets.xml"),
        );
        return problems;
    }
    let files = match mets_read::files(&text) {
        Ok(f) => f,
        Err(why) => {
            problems.push(
                Problem::new(Code::MetsUnreadable, format!("mets.xml is {why}")).file("mets.xml"),
            );
            return problems;
        }
    };
    // Each manifest is read once, on first need.
    let mut manifests: HashMap<Algorithm, HashMap<String, String>> = HashMap::new();
    for f in files {
        let present = store.open(&f.href).is_ok();
        if !present {
            problems.push(
                Problem::new(
                    Code::MetsFileMissing,
                    format!(
                        "mets.xml lists {}, which is not in the bag",
                        paths::printable(&f.href)
                    ),
                )
                .file("mets.xml")
                .field(f.href.as_str()),
            );
            continue;
        }
        let (Some(t), Some(sum)) = (&f.checksum_type, &f.checksum) else {
            continue;
        };
        let Some(alg) = Algorithm::from_manifest_name(t) else {
            continue;
        };
        let name = manifest::file_name(false, alg);
        let digests = manifests
            .entry(alg)
            .or_insert_with(|| match store.open(&name) {
                Ok(r) => manifest::parse(
                    r,
                    &name,
                    Encoding::Utf8,
                    Version::V1_0,
                    &mut crate::verdict::Problems::default(),
                )
                .entries
                .into_iter()
                .map(|e| (e.path, e.digest.to_hex()))
                .collect(),
                Err(_) => HashMap::new(),
            });
        if let Some(d) = digests.get(&f.href)
            && d != sum
        {
            problems.push(
                Problem::new(
                    Code::MetsChecksumMismatch,
                    format!(
                        "mets.xml gives {} the {t} {sum}; {name} says {d}",
                        paths::printable(&f.href)
                    ),
                )
                .file("mets.xml")
                .field(f.href.as_str()),
            );
        }
    }
    problems
}

/// BagIt validation of the bag in `store` and, for a packaged bag (one with `mets.xml`) at
/// every depth but `--fast`, the METS cross-check: what `qoima validate` runs.
pub fn validate(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
) -> BagReport {
    validate_observed(store, opts, engine, progress, &|_, _| {})
}

/// [`validate`], handing each file's digests to `observe` as they are computed.
pub fn validate_observed(
    store: &dyn Store,
    opts: &ValidateOptions,
    engine: &Engine,
    progress: &dyn Progress,
    observe: &bagit::validate::Observer<'_>,
) -> BagReport {
    let mut r = bagit::validate::validate_observed(store, opts, engine, progress, observe);
    if opts.mode != Mode::Fast {
        r.absorb(mets_against_manifests(store), opts);
    }
    r
}
