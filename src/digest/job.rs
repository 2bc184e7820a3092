//! What the engine is handed and what it hands back: the jobs (a file by path, or a stream
//! with its own reader), the digests of one file, and the progress callbacks.

use std::io::Read;
use std::path::PathBuf;

use super::{Algorithm, AlgorithmSet, Digest, Hasher};

/// One file to hash.
#[derive(Debug, Clone)]
pub struct HashJob {
    /// Where to read it.
    pub path: PathBuf,
    /// Its size as seen when the job was planned (used to schedule biggest first).
    pub size_hint: u64,
    /// The algorithms to compute.
    pub algorithms: AlgorithmSet,
    /// When set, the bytes read are also written to this new file (which must not exist).
    pub copy_to: Option<PathBuf>,
    /// Open the path even when it is a symbolic link (its target is read).
    pub follow_links: bool,
}

/// The digests of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// Bytes read.
    pub size: u64,
    digests: Vec<(Algorithm, Digest)>,
}

impl FileDigests {
    /// Digests computed elsewhere (a streaming reader of an archive).
    pub fn new(size: u64, digests: Vec<(Algorithm, Digest)>) -> FileDigests {
        FileDigests { size, digests }
    }

    /// Only the digests for `algorithms`, if every one of them was computed.
    pub fn subset(&self, algorithms: AlgorithmSet) -> Option<FileDigests> {
        let digests: Vec<(Algorithm, Digest)> = self
            .digests
            .iter()
            .filter(|(a, _)| algorithms.contains(*a))
            .cloned()
            .collect();
        (digests.len() == algorithms.len()).then_some(FileDigests {
            size: self.size,
            digests,
        })
    }

    /// What `hashers` computed over the `size` bytes they were fed.
    pub(crate) fn from_hashers(size: u64, hashers: Vec<Hasher>) -> FileDigests {
        FileDigests {
            size,
            digests: hashers
                .into_iter()
                .map(|hasher| (hasher.algorithm(), hasher.finish()))
                .collect(),
        }
    }

    /// The digest for `algorithm`, if it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&Digest> {
        self.digests
            .iter()
            .find(|(computed, _)| *computed == algorithm)
            .map(|(_, digest)| digest)
    }

    /// All digests, in manifest order.
    pub fn iter(&self) -> impl Iterator<Item = (Algorithm, &Digest)> {
        self.digests.iter().map(|(a, d)| (*a, d))
    }
}

/// One stream to hash: an entry of an archive, read through its own reader.
pub struct StreamJob<'a> {
    /// What to call it in errors (`bag.zip:bag/data/a.jpg`).
    pub name: PathBuf,
    /// Its bytes (decompressed and checked as the reader sees fit).
    pub reader: Box<dyn Read + Send + 'a>,
    /// The size its header declares: fewer or more bytes are an error.
    pub size: u64,
    /// The algorithms to compute.
    pub algorithms: AlgorithmSet,
}

/// Receives progress as bytes are hashed; called from many threads.
pub trait Progress: Sync {
    /// `n` more bytes were hashed.
    fn bytes(&self, _n: u64) {}
    /// One more file is done.
    fn file_done(&self) {}
    /// A new stage of the work begins (`checking`, `hashing`, `describing`…), with its
    /// size when known (0 when not); the byte and file counts restart.
    fn stage(&self, _name: &str, _total_bytes: u64, _total_files: u64) {}
}

/// No progress reporting.
pub struct NoProgress;
impl Progress for NoProgress {}
