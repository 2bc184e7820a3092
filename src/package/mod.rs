//! The pipeline that turns a collection into a deposit: scan → check → digest → describe →
//! bag. `check` is its first stage, and also `qoima check` on its own.

pub mod check;
pub mod run;
pub mod stage;
pub mod verify;
