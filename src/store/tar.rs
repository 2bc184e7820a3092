//! Bags serialized as tar or tar.gz, read in place.
//!
//! A plain tar on disk is indexed by a pass over its headers only (each entry's data is
//! skipped with a seek), then its entries are read with positioned reads in parallel, like
//! a zip. A tar.gz cannot be entered in the middle, so it is streamed: the first pass keeps
//! the tag files in memory and, when the payload manifests come before the payload (as in
//! every archive qoima writes), hashes the payload on the way; only a tar.gz whose payload
//! precedes its manifests needs a second decompression pass for the checksums.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::range::RangeReader;
use super::{DigestRequest, Entry, EntryKind, Store};
use super::{Limits, RawEntry, RawKind, ratio, screen};
use crate::digest::{
    Algorithm, AlgorithmSet, DigestError, Engine, FileDigests, Hasher, Progress, StreamJob,
};
use crate::error::{Code, Problem};

/// Tag files of a tar.gz kept in memory, at most this much in all.
const TAG_BUFFER_LIMIT: u64 = 512 << 20;

/// The PAX keys GNU tar writes for a sparse file (formats 0.0, 0.1 and 1.0).
const GNU_SPARSE_PREFIX: &str = "GNU.sparse.";

/// The name GNU tar records for a PAX-sparse entry (`GNU.sparse.name`, else the PAX `path`),
/// when the entry's PAX headers say it is sparse. Its data is a sparse map followed by the
/// non-empty blocks, not the file, and its header names a `GNUSparseFile.N/` stand-in: read
/// as a plain file it would be a stray payload file and a missing one.
fn pax_sparse_name(entry: &mut tar::Entry<'_, impl Read>) -> io::Result<Option<Vec<u8>>> {
    let Some(extensions) = entry.pax_extensions()? else {
        return Ok(None);
    };
    let mut sparse = false;
    let mut name = None;
    for ext in extensions {
        let ext = ext?;
        let key = ext.key_bytes();
        sparse |= key.starts_with(GNU_SPARSE_PREFIX.as_bytes());
        if key == b"GNU.sparse.name" || (key == b"path" && name.is_none()) {
            name = Some(ext.value_bytes().to_vec());
        }
    }
    Ok(sparse.then(|| name.unwrap_or_else(|| entry.path_bytes().into_owned())))
}

pub(crate) fn raw_of(entry: &mut tar::Entry<'_, impl Read>) -> io::Result<RawEntry> {
    let sparse_name = pax_sparse_name(entry)?;
    let h = entry.header();
    let bytes = sparse_name
        .clone()
        .unwrap_or_else(|| entry.path_bytes().into_owned());
    let (name, utf8) = match std::str::from_utf8(&bytes) {
        Ok(s) => (s.to_string(), true),
        Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), false),
    };
    let link = || {
        entry
            .link_name_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    use tar::EntryType as T;
    let kind = match h.entry_type() {
        _ if sparse_name.is_some() => RawKind::Sparse,
        T::Regular | T::Continuous => RawKind::File,
        T::Directory => RawKind::Dir,
        T::Symlink => RawKind::Symlink(link()),
        T::Link => RawKind::Hardlink(link()),
        T::GNUSparse => RawKind::Sparse,
        T::Char => RawKind::Special("character device".into()),
        T::Block => RawKind::Special("block device".into()),
        T::Fifo => RawKind::Special("FIFO".into()),
        other => RawKind::Special(format!("tar entry of type {:?}", other.as_byte() as char)),
    };
    let size = entry.size();
    Ok(RawEntry {
        name,
        utf8,
        kind,
        size,
        compressed: size,
        encrypted: false,
        unsupported: None,
    })
}

fn bad(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
        e
    } else {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    }
}

/// A bag in an uncompressed tar file.
pub struct TarStore {
    path: PathBuf,
    file: Arc<File>,
    entries: Vec<Entry>,
    /// Offset and size of each file's data, by bag-relative path.
    data: HashMap<String, (u64, u64)>,
    problems: Vec<Problem>,
}

impl TarStore {
    /// Indexes the tar's headers and screens its entries.
    pub fn open(path: &Path, limits: &Limits) -> io::Result<TarStore> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut ar = tar::Archive::new(BufReader::with_capacity(64 << 10, file.try_clone()?));
        let mut raw = Vec::new();
        let mut offsets = Vec::new();
        for e in ar.entries_with_seek().map_err(bad)? {
            let mut e = e.map_err(bad)?;
            raw.push(raw_of(&mut e)?);
            offsets.push(e.raw_file_position());
        }
        let screened = screen(path, &raw, limits);
        let mut data = HashMap::new();
        let mut entries = Vec::with_capacity(screened.entries.len());
        let mut problems = screened.problems;
        for (e, i) in screened.entries {
            if i != super::IMPLIED && e.kind == EntryKind::File {
                if offsets[i].saturating_add(e.size) > len {
                    problems.push(
                        Problem::new(
                            crate::error::Code::ArchiveEntryDamaged,
                            format!(
                                "entry {} declares {} bytes but the archive ends first (truncated)",
                                raw[i].name, e.size
                            ),
                        )
                        .file(e.path.clone()),
                    );
                }
                data.insert(e.path.clone(), (offsets[i], e.size));
            }
            entries.push(e);
        }
        Ok(TarStore {
            path: path.to_path_buf(),
            file: Arc::new(file),
            entries,
            data,
            problems,
        })
    }

    fn range(&self, path: &str) -> io::Result<(RangeReader, u64)> {
        let &(off, size) = self
            .data
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such entry"))?;
        Ok((RangeReader::new(self.file.clone(), off, size), size))
    }
}

impl Store for TarStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self.entries.clone())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        self.range(path)
            .map(|(r, _)| Box::new(r) as Box<dyn Read + Send>)
    }

    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        super::digest_entries(&self.path, requests, engine, progress, done, |p| {
            self.range(p)
                .map(|(r, size)| (Box::new(r) as Box<dyn Read + Send>, size))
        });
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }
}

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

/// The decompressed stream of a tar.gz, guarded by `--max-ratio` (see `super::ratio`).
type GzStream = ratio::RatioGuard<flate2::read::GzDecoder<ratio::Counted<BufReader<File>>>>;

fn gz_entries(path: &Path, max_ratio: u64) -> io::Result<tar::Archive<GzStream>> {
    let f = File::open(path)?;
    let source = BufReader::with_capacity(256 << 10, f);
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
        .map(|(_, r)| r)
}

fn hash_reader(
    r: &mut (impl Read + ?Sized),
    size: u64,
    algorithms: AlgorithmSet,
    progress: &dyn Progress,
) -> io::Result<FileDigests> {
    let mut hashers: Vec<Hasher> = algorithms.iter().map(Hasher::new).collect();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(bad)?;
        if n == 0 {
            break;
        }
        for h in hashers.iter_mut() {
            h.update(&buf[..n]);
        }
        total += n as u64;
        progress.bytes(n as u64);
    }
    if total != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("its header declares {size} bytes, its data holds {total}"),
        ));
    }
    Ok(FileDigests::new(
        total,
        hashers
            .into_iter()
            .map(|h| (h.algorithm(), h.finish()))
            .collect(),
    ))
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
        let mut ar = gz_entries(path, limits.max_ratio)?;
        let mut raw = Vec::new();
        let mut tags_raw: HashMap<usize, Vec<u8>> = HashMap::new();
        let mut buffered = 0u64;
        let mut early = HashMap::new();
        let mut algorithms = AlgorithmSet::default();
        let mut root_bag = false;
        for e in ar.entries().map_err(bad)? {
            let mut e = e.map_err(bad)?;
            let r = raw_of(&mut e)?;
            let i = raw.len();
            if r.kind == RawKind::File {
                let name = r.name.trim_start_matches("./");
                root_bag |= name == "bagit.txt";
                // Below the top folder (`bag/data/x` → `data/x`); a bag at the archive's
                // root is read too (reported by `screen`).
                let below = below_top(name).unwrap_or("");
                let payload = below.starts_with("data/") || (root_bag && name.starts_with("data/"));
                if payload {
                    if hash_payload && !algorithms.is_empty() {
                        // A damaged entry is hashed again (and reported) in the second pass.
                        if let Ok(d) =
                            hash_reader(&mut e, r.size, algorithms, &crate::digest::NoProgress)
                        {
                            early.insert(i, d);
                        }
                    }
                } else {
                    let top_level = if name.contains('/') { below } else { name };
                    if !top_level.contains('/')
                        && let Some(a) = top_level
                            .strip_prefix("manifest-")
                            .and_then(|s| s.strip_suffix(".txt"))
                            .and_then(Algorithm::from_manifest_name)
                    {
                        algorithms.insert(a);
                    }
                    if buffered + r.size <= TAG_BUFFER_LIMIT {
                        let mut v = Vec::with_capacity(r.size.min(1 << 26) as usize);
                        e.by_ref().take(r.size).read_to_end(&mut v).map_err(bad)?;
                        buffered += v.len() as u64;
                        tags_raw.insert(i, v);
                    }
                }
            }
            raw.push(r);
        }
        let screened = screen(path, &raw, limits);
        let mut entries = Vec::with_capacity(screened.entries.len());
        let mut index = HashMap::new();
        let mut tags = HashMap::new();
        for (e, i) in screened.entries {
            if i != super::IMPLIED && e.kind == EntryKind::File {
                index.insert(e.path.clone(), i);
                if let Some(v) = tags_raw.remove(&i) {
                    tags.insert(e.path.clone(), Arc::new(v));
                }
            }
            entries.push(e);
        }
        Ok(TarGzStore {
            path: path.to_path_buf(),
            entries,
            index,
            tags,
            early: Mutex::new(early),
            problems: screened.problems,
            max_ratio: limits.max_ratio,
        })
    }

    /// One more pass over the stream, handing each wanted entry (raw index → request) to `f`.
    fn stream(
        &self,
        wanted: &HashMap<usize, usize>,
        mut f: impl FnMut(usize, &mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut ar = gz_entries(&self.path, self.max_ratio)?;
        let mut left = wanted.len();
        for (i, e) in ar.entries().map_err(bad)?.enumerate() {
            if left == 0 {
                break;
            }
            let mut e = e.map_err(bad)?;
            if let Some(&req) = wanted.get(&i) {
                let size = e.size();
                f(req, &mut e, size)?;
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
        if let Some(v) = self.tags.get(path) {
            return Ok(Box::new(io::Cursor::new(v.as_slice())));
        }
        // A payload file (rarely wanted whole): found by streaming to it.
        let &i = self
            .index
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such entry"))?;
        let mut out = Vec::new();
        self.stream(&HashMap::from([(i, 0)]), |_, r, _| {
            r.read_to_end(&mut out).map(|_| ()).map_err(bad)
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
        let name = |p: &str| PathBuf::from(format!("{}:{}", self.path.display(), p));
        let early = self.early.lock().map(|m| m.clone()).unwrap_or_default();
        let mut wanted: HashMap<usize, usize> = HashMap::new();
        for (k, r) in requests.iter().enumerate() {
            if let Some(v) = self.tags.get(r.path) {
                let job = StreamJob {
                    name: name(r.path),
                    reader: Box::new(io::Cursor::new(v.as_slice())),
                    size: v.len() as u64,
                    algorithms: r.algorithms,
                };
                done(k, engine.hash_stream(job, progress));
                continue;
            }
            match self.index.get(r.path) {
                None => done(
                    k,
                    Err(DigestError::Open {
                        path: name(r.path),
                        source: io::Error::new(io::ErrorKind::NotFound, "no such entry"),
                    }),
                ),
                Some(i) => match early.get(i).and_then(|d| d.subset(r.algorithms)) {
                    Some(d) => {
                        progress.bytes(d.size);
                        progress.file_done();
                        done(k, Ok(d));
                    }
                    None => {
                        wanted.insert(*i, k);
                    }
                },
            }
        }
        if wanted.is_empty() {
            return;
        }
        let mut answered: Vec<bool> = vec![false; requests.len()];
        let result = self.stream(&wanted, |k, r, size| {
            let res = hash_reader(r, size, requests[k].algorithms, progress).map_err(|e| {
                DigestError::Damaged {
                    path: name(requests[k].path),
                    reason: e.to_string(),
                }
            });
            progress.file_done();
            answered[k] = true;
            done(k, res);
            Ok(())
        });
        for (&_, &k) in wanted.iter() {
            if !answered[k] {
                let reason = match &result {
                    Err(e) => e.to_string(),
                    Ok(()) => "the entry was not found in the stream".into(),
                };
                done(
                    k,
                    Err(DigestError::Damaged {
                        path: name(requests[k].path),
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
        f: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        let by_raw: HashMap<usize, &str> =
            self.index.iter().map(|(p, &i)| (i, p.as_str())).collect();
        let wanted: HashMap<usize, usize> = by_raw.keys().map(|&i| (i, i)).collect();
        self.stream(&wanted, |i, r, _| f(by_raw[&i], r))
    }
}
