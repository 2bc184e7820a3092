//! What every rule of the table reads ([`Subject`]), and the few words the rules share.

use crate::profile::facts::BagFacts;
use crate::profile::model::Profile;

/// How the profile a bag is checked against was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// The bag named it (or it was made for it): naming another identifier is an error,
    /// `PROF-002`.
    ByBag,
    /// The user named it (`validate --profile`): the user's word settles which profile applies,
    /// so a bag that names it by another identifier gets a warning, `BAG-W060`.
    ByUser,
}

/// What every rule reads: the profile, the bag's facts, how the profile was chosen, and the
/// profile's name as messages give it.
pub(super) struct Subject<'a> {
    pub(super) profile: &'a Profile,
    pub(super) facts: &'a BagFacts,
    pub(super) chosen: Chosen,
    /// [`Profile::display_name`], e.g. `aptrust-2.3 (version 2.3)`.
    pub(super) who: String,
}

/// A list of values for a message: `a, b, c`.
pub(super) fn list(values: &[String]) -> String {
    values.join(", ")
}
