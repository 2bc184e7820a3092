//! A bag serialized as a zip, read in place: the central directory gives every entry's
//! offset, so entries are read with positioned reads, many at once, like files in a folder.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::range::RangeReader;
use super::{DigestRequest, Entry, Store};
use super::{Limits, RawEntry, RawKind, screen};
use crate::digest::{DigestError, Engine, FileDigests, Progress};
use crate::error::{Code, Problem};

#[derive(Clone, Copy, Debug)]
struct Data {
    start: u64,
    compressed: u64,
    size: u64,
    crc: u32,
    deflated: bool,
}

/// A bag in a zip file.
pub struct ZipStore {
    path: PathBuf,
    file: Arc<File>,
    entries: Vec<Entry>,
    data: HashMap<String, Data>,
    problems: Vec<Problem>,
}

fn zerr(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    }
}

impl ZipStore {
    /// Reads the zip's directory and screens its entries.
    pub fn open(path: &Path, limits: &Limits) -> io::Result<ZipStore> {
        let file = File::open(path)?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file.try_clone()?)).map_err(zerr)?;
        let mut problems = Vec::new();
        // The zip crate keeps one entry per name; the names given twice are found in the
        // central directory itself, so that every copy is left out and named.
        let duplicates = if zip.has_duplicate_names() {
            duplicate_names(&file, zip.central_directory_start())?
        } else {
            Vec::new()
        };
        if duplicates.is_empty()
            && let Err(e) = zip.validate_header_consistency()
        {
            problems.push(Problem::new(
                Code::ArchiveEntryDamaged,
                format!(
                    "{}: the local headers disagree with the central directory ({e})",
                    path.display()
                ),
            ));
        }
        let mut raw = Vec::with_capacity(zip.len());
        let mut data = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let member = zip.by_index_raw(index).map_err(zerr)?;
            let (name, utf8) = match member.name() {
                Ok(name) => (name.into_owned(), true),
                Err(_) => (
                    String::from_utf8_lossy(member.name_raw()).into_owned(),
                    false,
                ),
            };
            let mode = member.unix_mode().unwrap_or(0);
            let file_type = mode & 0o170000;
            let kind = if member.is_symlink() {
                RawKind::Symlink(String::new())
            } else if member.is_dir() {
                RawKind::Dir
            } else if file_type != 0 && file_type != 0o100000 && file_type != 0o040000 {
                RawKind::Special(format!("special file (mode {mode:o})"))
            } else {
                RawKind::File
            };
            let method = member.compression();
            let deflated = method == zip::CompressionMethod::Deflated;
            let unsupported = (!deflated && method != zip::CompressionMethod::Stored)
                .then(|| format!("{method:?}"));
            raw.push(RawEntry {
                name,
                utf8,
                kind,
                size: member.size(),
                compressed: member.compressed_size(),
                encrypted: member.encrypted(),
                unsupported,
            });
            data.push(Data {
                start: member.data_start().unwrap_or(u64::MAX),
                compressed: member.compressed_size(),
                size: member.size(),
                crc: member.crc32(),
                deflated,
            });
        }
        for name in duplicates {
            if let Some(copy) = raw.iter().find(|raw_entry| raw_entry.name == name).cloned() {
                raw.push(copy);
                data.push(Data {
                    start: u64::MAX,
                    compressed: 0,
                    size: 0,
                    crc: 0,
                    deflated: false,
                });
            }
        }
        let screened = screen(path, &raw, limits);
        problems.extend(screened.problems);
        let mut entries = Vec::with_capacity(screened.entries.len());
        let mut by_path = HashMap::new();
        for (entry, raw_index) in screened.entries {
            if raw_index != super::IMPLIED && entry.kind == super::EntryKind::File {
                by_path.insert(entry.path.clone(), data[raw_index]);
            }
            entries.push(entry);
        }
        Ok(ZipStore {
            path: path.to_path_buf(),
            file: Arc::new(file),
            entries,
            data: by_path,
            problems,
        })
    }

    fn reader(&self, path: &str) -> io::Result<(Box<dyn Read + Send + '_>, Data)> {
        let data = *self
            .data
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such entry"))?;
        if data.start == u64::MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the entry's local header cannot be read",
            ));
        }
        let range = RangeReader::new(self.file.clone(), data.start, data.compressed);
        let inner: Box<dyn Read + Send> = if data.deflated {
            Box::new(flate2::read::DeflateDecoder::new(BufReader::with_capacity(
                256 << 10,
                range,
            )))
        } else {
            Box::new(range)
        };
        Ok((
            Box::new(CrcReader {
                inner,
                crc: crc32fast::Hasher::new(),
                expected: data.crc,
                size: data.size,
                read: 0,
            }),
            data,
        ))
    }
}

/// The names the central directory starting at `start` lists more than once.
fn duplicate_names(file: &File, start: u64) -> io::Result<Vec<String>> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut directory = vec![0u8; len.saturating_sub(start).min(1 << 30) as usize];
    file.read_exact_at(&mut directory, start)?;
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut at = 0usize;
    let u16_at =
        |bytes: &[u8], index: usize| u16::from_le_bytes([bytes[index], bytes[index + 1]]) as usize;
    while at + 46 <= directory.len() && directory[at..at + 4] == [0x50, 0x4b, 0x01, 0x02] {
        let (name_len, extra_len, comment_len) = (
            u16_at(&directory, at + 28),
            u16_at(&directory, at + 30),
            u16_at(&directory, at + 32),
        );
        let Some(name) = directory.get(at + 46..at + 46 + name_len) else {
            break;
        };
        *seen.entry(name.to_vec()).or_default() += 1;
        at += 46 + name_len + extra_len + comment_len;
    }
    let mut out: Vec<String> = seen
        .into_iter()
        .filter(|(_, times)| *times > 1)
        .map(|(name, _)| String::from_utf8_lossy(&name).into_owned())
        .collect();
    out.sort();
    Ok(out)
}

/// Checks an entry's CRC-32 and size once its data ends.
struct CrcReader<R> {
    inner: R,
    crc: crc32fast::Hasher,
    expected: u32,
    size: u64,
    read: u64,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self
            .inner
            .read(buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        self.crc.update(&buf[..count]);
        self.read += count as u64;
        if count == 0 && !buf.is_empty() {
            if self.read != self.size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "its header declares {} bytes, its data holds {}",
                        self.size, self.read
                    ),
                ));
            }
            let got = self.crc.clone().finalize();
            if got != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("CRC-32 is {got:08x}, the header says {:08x}", self.expected),
                ));
            }
        }
        Ok(count)
    }
}

impl Store for ZipStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self.entries.clone())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        self.reader(path).map(|(r, _)| r)
    }

    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        super::digest_entries(&self.path, requests, engine, progress, done, |p| {
            self.reader(p).map(|(reader, data)| (reader, data.size))
        });
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }
}
