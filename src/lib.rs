//! qoima: a digital-preservation toolkit.
//!
//! The library holds every rule; the `qoima` binary only parses arguments, draws progress
//! and prints reports. Modules, from the bottom up:
//! - [`digest`]: checksum algorithms and the parallel, read-once hashing engine;
//! - [`store`]: read-only access to a bag wherever it lies;
//! - [`bagit`]: RFC 8493 — tag files, manifests, the writer and the validator;
//! - [`archive`]: bags serialized as zip, tar or tar.gz: written, read in place, unpacked;
//! - [`photo`]: format identification, structural validation and EXIF of photos;
//! - [`metadata`]: descriptive records from CSV/JSON sidecars, and the rules they must meet;
//! - [`describe`]: Dublin Core (and later METS, PREMIS, MIX) written as XML;
//! - [`audit`]: fixity over the years — the register, baselines, change classes, reports;
//! - [`package`]: the pipeline from a collection to a deposit (`check` so far);
//! - [`fetch`]: completing a holey bag from its fetch.txt, every file verified before it enters;
//! - [`seal`]: sealed evidence bundles — minisign keys, signing the tag manifests, verifying;
//! - [`verdict`], [`error`]: verdicts, exit codes, the problem cap, and the stable problem codes;
//! - [`paths`], [`fsutil`]: path encoding and safety, atomic writes.
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
