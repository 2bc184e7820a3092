//! `qoima validate` for one path: open it as a bag (a folder, or a serialized bag within the
//! archive limits), validate it (BagIt, and a package's METS: [`verify::validate`]), hold it
//! to a profile (the one the user gave, or the one the bag names when qoima knows it), and
//! judge its serialization. A path that cannot be opened gets a report too, never an `Err`:
//! each path given is one verdict.
//!
//! It sits in `package` because it joins `store`, `bagit` and `profile`, the layers below.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::bagit::validate::{BagReport, Mode, ValidateOptions, unopened};
use crate::digest::{Engine, Progress};
use crate::error::{Code, Problem};
use crate::package::verify;
use crate::profile::{self, BagFacts, Chosen, Profile};
use crate::store::{self, Format, Limits, Store};

/// What to validate a path against.
#[derive(Clone, Debug, Default)]
pub struct PathOptions {
    /// The BagIt checks: depth (`--fast`, `--completeness-only`), `--strict`, `--allow`.
    pub validate: ValidateOptions,
    /// The bounds on a serialized bag (`--max-size`, `--max-ratio`).
    pub limits: Limits,
    /// The profile the user chose (`--profile`); without it, the one the bag names, when
    /// qoima knows it.
    pub profile: Option<Profile>,
    /// Where to look for the profile a bag names, besides the built-ins and a `profiles/`
    /// folder beside the bag (`--profiles-dir`).
    pub profiles_dirs: Vec<PathBuf>,
}

/// What follows the hashing of each bag (`qoima validate` draws one bar per bag).
pub trait Watch {
    /// Whether [`begin`](Watch::begin) wants the size of the work: it costs a listing of
    /// the bag, so it is taken only when asked for.
    fn wants_size(&self) -> bool;
    /// Hashing `bytes` over `files` begins (both 0 when the size was not wanted). The
    /// progress returned hears of the work, and is dropped when the hashing ends.
    fn begin(&self, bytes: u64, files: u64) -> Box<dyn Progress + '_>;
}

/// The report on the bag at `path` (module comment); `report.bag` is the path as given.
pub fn validate_path(
    path: &Path,
    options: &PathOptions,
    engine: &Engine,
    watch: &dyn Watch,
) -> BagReport {
    let full = options.validate.mode == Mode::Full;
    let mut report = match store::open(path, &options.limits, full) {
        Ok((store, format)) => validate_store(path, &*store, format, options, engine, watch),
        Err(error) => unopened(
            path.display().to_string(),
            unopened_problem(path, &error),
            &options.validate,
        ),
    };
    report.bag = path.display().to_string();
    report
}

/// An opened bag: hashed and checked, held to its profile, its serialization judged.
fn validate_store(
    path: &Path,
    store: &dyn Store,
    format: Option<Format>,
    options: &PathOptions,
    engine: &Engine,
    watch: &dyn Watch,
) -> BagReport {
    let (bytes, files) = if watch.wants_size() {
        bag_size(store)
    } else {
        (0, 0)
    };
    let progress = watch.begin(bytes, files);
    let mut report = verify::validate(store, &options.validate, engine, &*progress);
    drop(progress);
    if let Some((profile, chosen)) = chosen_profile(path, store, options) {
        let facts = BagFacts::from_store(store, format.map(|format| format.media_type()));
        // A listing that fails has been reported by validation already.
        if let Ok(facts) = facts {
            report.absorb(
                profile::check_chosen(&profile, &facts, chosen),
                &options.validate,
            );
        }
        report.profile = Some(profile.display_name());
    }
    report.judge_serialization(format);
    report
}

/// Why a path could not be opened: an archive that is not one (`ArchiveUnreadable`), or no
/// bag at all (`NotABag`).
fn unopened_problem(path: &Path, error: &std::io::Error) -> Problem {
    let is_file = std::fs::metadata(path).is_ok_and(|meta| meta.is_file());
    if is_file {
        Problem::new(
            Code::ArchiveUnreadable,
            format!(
                "cannot read {} as a serialized bag: {error}",
                path.display()
            ),
        )
    } else {
        Problem::new(
            Code::NotABag,
            format!("cannot read {}: {error}", path.display()),
        )
    }
}

/// The profile to hold the bag to, and who chose it: the user's, else the bag's own.
fn chosen_profile(
    path: &Path,
    store: &dyn Store,
    options: &PathOptions,
) -> Option<(Profile, Chosen)> {
    match &options.profile {
        Some(profile) => Some((profile.clone(), Chosen::ByUser)),
        None => named_profile(store, path, &options.profiles_dirs)
            .map(|profile| (profile, Chosen::ByBag)),
    }
}

/// The profile a bag names in `BagIt-Profile-Identifier`, when qoima knows it: a built-in,
/// or a JSON profile in a `profiles/` folder beside the bag or in `dirs`. Only bag-info.txt
/// is read to find out.
fn named_profile(store: &dyn Store, bag: &Path, dirs: &[PathBuf]) -> Option<Profile> {
    let mut text = String::new();
    store
        .open("bag-info.txt")
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    let identifier = text.lines().find_map(|line| {
        let (label, value) = line.split_once(':')?;
        label
            .trim()
            .eq_ignore_ascii_case("BagIt-Profile-Identifier")
            .then(|| value.trim().to_string())
    })?;
    let beside = std::path::absolute(bag)
        .ok()
        .and_then(|bag| bag.parent().map(|parent| parent.join("profiles")));
    let mut search: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    if let Some(beside) = &beside {
        search.push(beside);
    }
    profile::known(&identifier, &search)
}

/// The size of the work: every file of the bag (tag files are hashed too).
fn bag_size(store: &dyn Store) -> (u64, u64) {
    let entries = store.list().unwrap_or_default();
    let files = entries.iter().filter(|entry| entry.is_readable_file());
    files.fold((0, 0), |(bytes, count), entry| {
        (bytes + entry.size, count + 1)
    })
}
