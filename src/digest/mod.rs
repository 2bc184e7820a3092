//! Checksums: the algorithms, and the engine that hashes many files in parallel, reading
//! each file once and feeding every algorithm from that one read.
//!
//! Knows nothing of BagIt or XML: it is handed paths and algorithm sets, and returns digests.

mod algorithm;
mod engine;
mod hasher;
mod value;

pub use algorithm::{Algorithm, AlgorithmSet, UnknownAlgorithm, normalize_name};
pub use engine::{
    CHUNK, DigestError, Engine, FileDigests, HashJob, NoProgress, Progress, SPLIT_THRESHOLD,
    StreamJob, open_for_read,
};
pub use hasher::{Hasher, digest_bytes, hex, implementation};
pub use value::{Digest, MAX_DIGEST};
