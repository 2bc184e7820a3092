//! Reading a small file that came with the material (a token, a signature), whole and
//! bounded. Unlike [`super::read_bounded`], which reads a file the user named and so follows
//! links, a link here is refused: the file is the bag's, and a link could lead anywhere.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Reads the regular file at `path`, not a link, of at most `limit` bytes — a device or FIFO
/// in its place is refused, never read, and nothing past `limit` is read. `what` names the
/// kind of file in the error for one too large ("a time-stamp token or signature").
pub fn read_limited(path: &Path, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut data = Vec::new();
    fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "larger than {limit} bytes: too large for {what}"
        )));
    }
    Ok(data)
}
