//! Checksums: the algorithms, and the engine that hashes many files in parallel, reading
//! each file once and feeding every algorithm from that one read.
//!
//! Knows nothing of BagIt or XML: it is handed paths and algorithm sets, and returns digests.
//!
//! One concern a file: `algorithm` (the names and sets), `hasher` (one algorithm's state, and
//! which implementation runs it), `value` (a digest and its hexadecimal), `job` (what the engine is handed and
//! hands back), `error` (why a file could not be hashed), `engine` (the pool, the schedule and
//! the checks around each file) and `read` (the one read that feeds every consumer).

mod algorithm;
mod engine;
mod error;
mod hasher;
mod job;
mod read;
mod value;

pub use algorithm::{Algorithm, AlgorithmSet, UnknownAlgorithm, normalize_name};
pub use engine::{Engine, SPLIT_THRESHOLD};
pub use error::DigestError;
pub use hasher::{Hasher, digest_bytes, implementation};
pub use job::{FileDigests, HashJob, NoProgress, Progress, StreamJob};
pub use read::{CHUNK, open_for_read};
pub use value::{Digest, MAX_DIGEST, hex};
