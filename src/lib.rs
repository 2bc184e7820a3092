//! qoima: a digital-preservation toolkit.
//!
//! The library holds every rule; the `qoima` binary only parses arguments, draws progress
//! and prints reports. Modules, from the bottom up:
//! - [`digest`]: checksum algorithms and the parallel, read-once hashing engine;
//! - [`store`]: read-only access to a bag wherever it lies;
//! - [`bagit`]: RFC 8493 — tag files, manifests, the writer and the validator;
//! - [`report`], [`error`]: the reports and the stable problem codes they carry;
//! - [`paths`], [`fsutil`]: path encoding and safety, atomic writes.
#![deny(missing_docs)]

pub mod bagit;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod paths;
pub mod report;
pub mod store;

/// The version of qoima.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
