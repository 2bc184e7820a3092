//! Serialized bags, written and unpacked: a bag as one zip, tar or tar.gz file (RFC 8493
//! §4.4: one top-level folder named after the bag), written reproducibly ([`write`], which
//! can hold the archived bytes to the bag's manifests, `expected`) and unpacked into a folder
//! ([`unpack`]) with the same safety checks as reading in place.
//!
//! Reading an archive in place is the store's work ([`crate::store`]: the formats, the
//! limits, the screening of hostile entries); this module builds on it, never the reverse.
//! It sits above `bagit` too: it writes and unpacks whole bags, and reads their manifests.

mod expected;
pub mod unpack;
pub mod write;
