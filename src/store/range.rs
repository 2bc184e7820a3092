//! A reader over a byte range of a shared file, with positioned reads (`pread`), so many
//! threads read entries of one archive at once without sharing a cursor.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Reads `len` bytes of `file` from `offset`; ends early (short) at the file's end.
#[derive(Clone, Debug)]
pub struct RangeReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl RangeReader {
    /// The range `offset .. offset + len` of `file`.
    pub fn new(file: Arc<File>, offset: u64, len: u64) -> RangeReader {
        RangeReader {
            file,
            pos: offset,
            end: offset.saturating_add(len),
        }
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let count = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += count as u64;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_exactly_its_range_and_stops_short_at_the_end_of_file() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let f = Arc::new(f);
        let mut s = String::new();
        RangeReader::new(f.clone(), 2, 5)
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "23456");
        let mut v = Vec::new();
        RangeReader::new(f, 8, 100).read_to_end(&mut v).unwrap();
        assert_eq!(v, b"89");
    }
}
