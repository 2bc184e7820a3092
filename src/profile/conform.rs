//! Holding a bag just made to the profile it was made for (`qoima bag --profile`,
//! `qoima package --profile`): what [`prepare`](super::prepare) could not foresee is reported
//! at once rather than by the repository that receives the bag.
//!
//! The bag is read back as any reader would read it, with the default limits against hostile
//! archives. What that reader finds wrong with the archive itself (an entry it refuses, such
//! as one that expands more than `--max-ratio` allows, `ARC-009`) is reported with the
//! profile's problems: the reader leaves such an entry out, so the profile's verdict alone
//! would be about less than the whole bag. A bag that cannot be read back at all is reported
//! too (`ARC-001` for an archive, `BAG-009` for a folder), never passed over in silence.

use std::path::Path;

use super::{BagFacts, Profile, check};
use crate::error::{Code, Problem};

/// The profile's problems with the bag at `bag` (a folder, or a zip, tar or tar.gz file),
/// after what reading it back found wrong.
pub fn conform(profile: &Profile, bag: &Path) -> Vec<Problem> {
    let limits = crate::store::Limits::default();
    let (store, format) = match crate::store::open(bag, &limits, false) {
        Ok(opened) => opened,
        Err(e) => return vec![unreadable(bag, &e)],
    };
    let mut problems = store.problems();
    match BagFacts::from_store(&*store, format.map(|f| f.media_type())) {
        Ok(facts) => problems.extend(check(profile, &facts)),
        Err(e) => problems.push(unreadable(bag, &e)),
    }
    problems
}

/// The problem of a bag that could not be read back, worded as `qoima validate` words it.
fn unreadable(bag: &Path, error: &std::io::Error) -> Problem {
    if bag.is_file() {
        Problem::new(
            Code::ArchiveUnreadable,
            format!("cannot read {} as a serialized bag: {error}", bag.display()),
        )
    } else {
        Problem::new(
            Code::NotABag,
            format!("cannot read {}: {error}", bag.display()),
        )
    }
}
