//! The pipeline that turns a collection into a deposit: scan → check → digest → describe →
//! bag. `check` is its first stage, and also `qoima check` on its own. `verify` holds a
//! packaged bag's METS to its manifests, and `validate` is `qoima validate` for one path
//! (open, validate, profile, serialization).

pub mod check;
pub mod run;
pub mod stage;
pub mod validate;
pub mod verify;
