//! qoima: a digital-preservation toolkit.
//!
//! The library holds every rule; the `qoima` binary only parses arguments, draws progress
//! and prints reports. Modules, from the bottom layer up (a module imports only from layers
//! below its own; `docs/architecture.md` draws them, and `tests/it/layout.rs` checks it):
//! - [`paths`], [`error`], [`verdict`]: path encoding and safety; the stable problem codes;
//!   verdicts, exit codes and the problem cap;
//! - [`fsutil`]: atomic writes, exclusive creates, bounded reads, folder locks, overlap checks;
//! - [`digest`], [`glob`]: checksum algorithms and the parallel, read-once hashing engine;
//!   name patterns;
//! - [`store`]: read-only access to a bag wherever it lies (folder, zip, tar, tar.gz);
//! - [`bagit`], [`photo`], [`metadata`]: RFC 8493 (tag files, manifests, the writer and the
//!   validator); identification, structure and EXIF of photos; descriptive records and rules;
//! - [`describe`], [`archive`], [`profile`]: XML written (Dublin Core, METS, PREMIS, MIX); bags
//!   written as zip, tar or tar.gz and unpacked; BagIt profiles;
//! - [`package`]: from a collection to a deposit: check, package, stage and serialize;
//! - [`audit`], [`seal`], [`fetch`]: fixity over the years; sealed evidence (signatures,
//!   custody, time-stamps, encrypted bundles); completing a holey bag from its fetch.txt.
#![deny(missing_docs)]

pub mod archive;
pub mod audit;
pub mod bagit;
pub mod describe;
pub mod digest;
pub mod error;
pub mod fetch;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod glob;
pub mod metadata;
pub mod package;
pub mod paths;
pub mod photo;
pub mod profile;
pub mod seal;
pub mod store;
pub mod verdict;

/// The version of qoima.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
