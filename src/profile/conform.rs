//! Holding a bag just made to the profile it was made for (`qoima bag --profile`,
//! `qoima package --profile`): what [`prepare`](super::prepare) could not foresee is reported
//! at once rather than by the repository that receives the bag.

use std::path::Path;

use super::{BagFacts, Profile, check};
use crate::error::Problem;

/// The profile's problems with the bag at `bag` (a folder, or a zip, tar or tar.gz file).
pub fn conform(profile: &Profile, bag: &Path) -> Vec<Problem> {
    let limits = crate::archive::Limits::default();
    match crate::store::open(bag, &limits, false) {
        Ok((store, format)) => {
            match BagFacts::from_store(&*store, format.map(|f| f.media_type())) {
                Ok(facts) => check(profile, &facts),
                Err(_) => Vec::new(),
            }
        }
        Err(_) => Vec::new(),
    }
}
