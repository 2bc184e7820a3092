//! Fixity over the years: `qoima audit` validates bags on a schedule, keeps every result in
//! a register (SQLite), compares each bag with the baseline recorded at its first audit,
//! and reports.

pub mod bag;
pub mod classify;
pub mod model;
pub mod register;
pub mod report;
pub mod run;
