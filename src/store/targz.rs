//! A bag in a gzip-compressed tar, read in place by streaming.
//!
//! A tar.gz cannot be entered in the middle, so it is streamed: the first pass keeps the tag
//! files in memory and, when the payload manifests come before the payload (as in every
//! archive qoima writes), hashes the payload on the way; only a tar.gz whose payload precedes
//! its manifests needs a second decompression pass for the checksums. Every pass is guarded
//! by `--max-ratio` (see [`super::ratio`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::tar::{bad, raw_of};
use super::{DigestRequest, Entry, EntryKind, IMPLIED, Limits, RawEntry, RawKind, Store};
use super::{ratio, screen};
use crate::digest::{
    Algorithm, AlgorithmSet, DigestError, Engine, FileDigests, Hasher, Progress, StreamJob,
};
use crate::error::{Code, Problem};

/// Tag files of a tar.gz kept in memory, at most this much in all.
const TAG_BUFFER_LIMIT: u64 = 512 << 20;

/// A bag in a gzip-compressed tar, streamed.
pub struct TarGzStore {
    path: PathBuf,
    entries: Vec<Entry>,
    /// Bag-relative path → index of the raw entry in stream order.
    index: HashMap<String, usize>,
    /// The tag files' contents.
    tags: HashMap<String, Arc<Vec<u8>>>,
    /// Payload digests computed in the first pass, by raw index.
    early: Mutex<HashMap<usize, FileDigests>>,
    problems: Vec<Problem>,
    /// `--max-ratio`, applied again on every pass over the stream.
    max_ratio: u64,
}

/// The decompressed stream of a tar.gz, guarded by `--max-ratio`.
type GzStream = ratio::RatioGuard<flate2::read::GzDecoder<ratio::Counted<BufReader<File>>>>;

fn gz_entries(path: &Path, max_ratio: u64) -> io::Result<tar::Archive<GzStream>> {
    let file = File::open(path)?;
    let source = BufReader::with_capacity(256 << 10, file);
    Ok(tar::Archive::new(ratio::guard(
        source,
        max_ratio,
        flate2::read::GzDecoder::new,
    )))
}

/// The part of an archive name below its top folder, when there is one.
fn below_top(name: &str) -> Option<&str> {
    name.trim_start_matches("./")
        .split_once('/')
        .map(|(_, rest)| rest)
}

/// Hashes one entry's data with `algorithms`; more or fewer bytes than the `size` its header
/// declares is damage.
fn hash_reader(
    reader: &mut (impl Read + ?Sized),
    size: u64,
    algorithms: AlgorithmSet,
    progress: &dyn Progress,
) -> io::Result<FileDigests> {
    let mut hashers: Vec<Hasher> = algorithms.iter().map(Hasher::new).collect();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let count = reader.read(&mut buf).map_err(bad)?;
        if count == 0 {
            break;
        }
        for hasher in hashers.iter_mut() {
            hasher.update(&buf[..count]);
        }
        total += count as u64;
        progress.bytes(count as u64);
    }
    if total != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("its header declares {size} bytes, its data holds {total}"),
        ));
    }
    Ok(FileDigests::from_hashers(total, hashers))
}

/// What the first pass over the stream gathers: every raw entry, the tag files' bytes and
/// the payload digests computed on the way (both by raw index).
#[derive(Default)]
struct FirstPass {
    raw: Vec<RawEntry>,
    tags: HashMap<usize, Vec<u8>>,
    buffered: u64,
    early: HashMap<usize, FileDigests>,
    /// The algorithms of the payload manifests met so far.
    algorithms: AlgorithmSet,
    /// A `bagit.txt` was met at the archive's root.
    root_bag: bool,
}

impl FirstPass {
    /// Takes in one file entry, whose raw description is `raw_entry`, at raw index `index`.
    fn take_file(
        &mut self,
        index: usize,
        raw_entry: &RawEntry,
        data: &mut impl Read,
        hash_payload: bool,
    ) -> io::Result<()> {
        let name = raw_entry.name.trim_start_matches("./");
        self.root_bag |= name == "bagit.txt";
        // Below the top folder (`bag/data/x` → `data/x`); a bag at the archive's root is
        // read too (reported by `screen`).
        let below = below_top(name).unwrap_or("");
        let payload = below.starts_with("data/") || (self.root_bag && name.starts_with("data/"));
        if payload {
            if hash_payload && !self.algorithms.is_empty() {
                // A damaged entry is hashed again (and reported) in the second pass.
                if let Ok(digests) = hash_reader(
                    data,
                    raw_entry.size,
                    self.algorithms,
                    &crate::digest::NoProgress,
                ) {
                    self.early.insert(index, digests);
                }
            }
            return Ok(());
        }
        let top_level = if name.contains('/') { below } else { name };
        if !top_level.contains('/')
            && let Some(algorithm) = top_level
                .strip_prefix("manifest-")
                .and_then(|rest| rest.strip_suffix(".txt"))
                .and_then(Algorithm::from_manifest_name)
        {
            self.algorithms.insert(algorithm);
        }
        if self.buffered + raw_entry.size <= TAG_BUFFER_LIMIT {
            let mut bytes = Vec::with_capacity(raw_entry.size.min(1 << 26) as usize);
            data.take(raw_entry.size)
                .read_to_end(&mut bytes)
                .map_err(bad)?;
            self.buffered += bytes.len() as u64;
            self.tags.insert(index, bytes);
        }
        Ok(())
    }
}

impl TarGzStore {
    /// Streams the archive once: lists it, keeps its tag files and, with `hash_payload`,
    /// hashes each payload file with the algorithms of the payload manifests met before it.
    pub fn open(path: &Path, limits: &Limits, hash_payload: bool) -> io::Result<TarGzStore> {
        match Self::read_listing(path, limits, hash_payload) {
            Err(e) if ratio::exceeded(&e).is_some() => {
                // A bomb is a finding about the archive, not a failure to read it.
                let why = ratio::exceeded(&e).expect("just matched");
                Ok(TarGzStore {
                    path: path.to_path_buf(),
                    entries: Vec::new(),
                    index: HashMap::new(),
                    tags: HashMap::new(),
                    early: Mutex::new(HashMap::new()),
                    problems: vec![Problem::new(
                        Code::ArchiveBomb,
                        format!("{}: {why}", path.display()),
                    )],
                    max_ratio: limits.max_ratio,
                })
            }
            other => other,
        }
    }

    fn read_listing(path: &Path, limits: &Limits, hash_payload: bool) -> io::Result<TarGzStore> {
        let mut stream = gz_entries(path, limits.max_ratio)?;
        let mut first = FirstPass::default();
        for entry in stream.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let raw_entry = raw_of(&mut entry)?;
            if raw_entry.kind == RawKind::File {
                first.take_file(first.raw.len(), &raw_entry, &mut entry, hash_payload)?;
            }
            first.raw.push(raw_entry);
        }
        let screened = screen(path, &first.raw, limits);
        let mut entries = Vec::with_capacity(screened.entries.len());
        let mut index = HashMap::new();
        let mut tags = HashMap::new();
        for (entry, raw_index) in screened.entries {
            if raw_index != IMPLIED && entry.kind == EntryKind::File {
                index.insert(entry.path.clone(), raw_index);
                if let Some(bytes) = first.tags.remove(&raw_index) {
                    tags.insert(entry.path.clone(), Arc::new(bytes));
                }
            }
            entries.push(entry);
        }
        Ok(TarGzStore {
            path: path.to_path_buf(),
            entries,
            index,
            tags,
            early: Mutex::new(first.early),
            problems: screened.problems,
            max_ratio: limits.max_ratio,
        })
    }

    /// One more pass over the stream, handing each wanted entry (raw index → request) to
    /// `take`.
    fn stream(
        &self,
        wanted: &HashMap<usize, usize>,
        mut take: impl FnMut(usize, &mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut stream = gz_entries(&self.path, self.max_ratio)?;
        let mut left = wanted.len();
        for (raw_index, entry) in stream.entries().map_err(bad)?.enumerate() {
            if left == 0 {
                break;
            }
            let mut entry = entry.map_err(bad)?;
            if let Some(&request) = wanted.get(&raw_index) {
                let size = entry.size();
                take(request, &mut entry, size)?;
                left -= 1;
            }
        }
        Ok(())
    }
}

impl Store for TarGzStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self.entries.clone())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        if let Some(bytes) = self.tags.get(path) {
            return Ok(Box::new(io::Cursor::new(bytes.as_slice())));
        }
        // A payload file (rarely wanted whole): found by streaming to it.
        let &raw_index = self
            .index
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such entry"))?;
        let mut out = Vec::new();
        self.stream(&HashMap::from([(raw_index, 0)]), |_, reader, _| {
            reader.read_to_end(&mut out).map(|_| ()).map_err(bad)
        })?;
        Ok(Box::new(io::Cursor::new(out)))
    }

    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        let name = |path: &str| PathBuf::from(format!("{}:{}", self.path.display(), path));
        let early = self
            .early
            .lock()
            .map(|early| early.clone())
            .unwrap_or_default();
        let mut wanted: HashMap<usize, usize> = HashMap::new();
        for (request_index, request) in requests.iter().enumerate() {
            if let Some(bytes) = self.tags.get(request.path) {
                let job = StreamJob {
                    name: name(request.path),
                    reader: Box::new(io::Cursor::new(bytes.as_slice())),
                    size: bytes.len() as u64,
                    algorithms: request.algorithms,
                };
                done(request_index, engine.hash_stream(job, progress));
                continue;
            }
            match self.index.get(request.path) {
                None => done(
                    request_index,
                    Err(DigestError::Open {
                        path: name(request.path),
                        source: io::Error::new(io::ErrorKind::NotFound, "no such entry"),
                    }),
                ),
                Some(raw_index) => match early
                    .get(raw_index)
                    .and_then(|digests| digests.subset(request.algorithms))
                {
                    Some(digests) => {
                        progress.bytes(digests.size);
                        progress.file_done();
                        done(request_index, Ok(digests));
                    }
                    None => {
                        wanted.insert(*raw_index, request_index);
                    }
                },
            }
        }
        if wanted.is_empty() {
            return;
        }
        let mut answered: Vec<bool> = vec![false; requests.len()];
        let result = self.stream(&wanted, |request_index, reader, size| {
            let request = &requests[request_index];
            let digests = hash_reader(reader, size, request.algorithms, progress).map_err(|e| {
                DigestError::Damaged {
                    path: name(request.path),
                    reason: e.to_string(),
                }
            });
            progress.file_done();
            answered[request_index] = true;
            done(request_index, digests);
            Ok(())
        });
        for &request_index in wanted.values() {
            if !answered[request_index] {
                let reason = match &result {
                    Err(e) => e.to_string(),
                    Ok(()) => "the entry was not found in the stream".into(),
                };
                done(
                    request_index,
                    Err(DigestError::Damaged {
                        path: name(requests[request_index].path),
                        reason,
                    }),
                );
            }
        }
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }

    fn for_each_file(
        &self,
        each: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        let by_raw: HashMap<usize, &str> = self
            .index
            .iter()
            .map(|(path, &raw_index)| (raw_index, path.as_str()))
            .collect();
        let wanted: HashMap<usize, usize> = by_raw
            .keys()
            .map(|&raw_index| (raw_index, raw_index))
            .collect();
        self.stream(&wanted, |raw_index, reader, _| {
            each(by_raw[&raw_index], reader)
        })
    }
}
