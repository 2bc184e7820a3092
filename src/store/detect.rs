//! Opening a bag wherever it lies with the store its content calls for: a folder, or a zip,
//! tar or tar.gz file (the first bytes decide, not the name).

use std::io;
use std::path::Path;

use super::{DirStore, Format, Limits, Store, TarGzStore, TarStore, ZipStore};

/// Opens the bag at `path`: a folder, or a zip, tar or tar.gz file (by content). `hash_hint`
/// tells a streaming store (tar.gz) that the payload will be hashed, so it may hash it in
/// its first pass.
pub fn open(
    path: &Path,
    limits: &Limits,
    hash_hint: bool,
) -> io::Result<(Box<dyn Store>, Option<Format>)> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Ok((Box::new(DirStore::new(path)), None));
    }
    match Format::detect(path)? {
        Some(Format::Zip) => Ok((Box::new(ZipStore::open(path, limits)?), Some(Format::Zip))),
        Some(Format::Tar) => Ok((Box::new(TarStore::open(path, limits)?), Some(Format::Tar))),
        Some(Format::TarGz) => Ok((
            Box::new(TarGzStore::open(path, limits, hash_hint)?),
            Some(Format::TarGz),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "neither a folder nor a zip, tar or tar.gz file",
        )),
    }
}
