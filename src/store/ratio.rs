//! The expansion guard for compressed streams (`tar.gz`): a reader that counts the compressed
//! bytes going into the decompressor and the bytes coming out, and fails as soon as the output
//! passes [`EXEMPT`] and is more than `max_ratio` times the input.
//!
//! A gzip member has no size to screen in advance (its trailer's ISIZE is modulo 4 GiB and
//! comes last), so the ratio is checked as the stream flows: whatever the archive holds, what
//! it makes qoima read or write stays under `max(EXEMPT, max_ratio × compressed bytes read)`.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

/// Output below this size is never refused, whatever its ratio (a small, very compressible
/// bag of text); above it the ratio applies to the whole stream (or all of a zip's entries),
/// so the exemption cannot be used to write more than this. One zip entry keeps its own,
/// smaller exemption of 1 MiB.
pub const EXEMPT: u64 = 16 << 20;

/// Counts the bytes read through it (the compressed side).
pub struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.count.set(self.count.get() + count as u64);
        Ok(count)
    }
}

/// Fails a read once the output passes [`EXEMPT`] and `max_ratio` times the compressed input.
pub struct RatioGuard<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    produced: u64,
    max_ratio: u64,
}

/// The error a [`RatioGuard`] fails with (inside an `io::Error` of kind `InvalidData`).
#[derive(Debug)]
pub struct RatioExceeded {
    /// Bytes produced so far.
    pub produced: u64,
    /// Compressed bytes read so far.
    pub compressed: u64,
    /// The limit.
    pub max_ratio: u64,
}

impl fmt::Display for RatioExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the compressed stream expands more than {} times ({} bytes from the first {} compressed bytes), over the limit of --max-ratio",
            self.max_ratio, self.produced, self.compressed
        )
    }
}

impl std::error::Error for RatioExceeded {}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.produced = self.produced.saturating_add(count as u64);
        let compressed = self.compressed.get();
        if self.produced > EXEMPT && self.produced > compressed.saturating_mul(self.max_ratio) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                RatioExceeded {
                    produced: self.produced,
                    compressed,
                    max_ratio: self.max_ratio,
                },
            ));
        }
        Ok(count)
    }
}

/// Wraps a compressed source and its decompressor: `decompress` builds the decompressor over
/// the counted source, and the result is guarded.
pub fn guard<R: Read, D: Read>(
    source: R,
    max_ratio: u64,
    decompress: impl FnOnce(Counted<R>) -> D,
) -> RatioGuard<D> {
    let count = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: source,
        count: Rc::clone(&count),
    };
    RatioGuard {
        inner: decompress(counted),
        compressed: count,
        produced: 0,
        max_ratio,
    }
}

/// The [`RatioExceeded`] inside `e`, if that is why it failed.
pub fn exceeded(e: &io::Error) -> Option<&RatioExceeded> {
    e.get_ref()?.downcast_ref::<RatioExceeded>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn drain(compressed: &[u8], max_ratio: u64) -> io::Result<u64> {
        let mut r = guard(compressed, max_ratio, flate2::read::GzDecoder::new);
        io::copy(&mut r, &mut io::sink())
    }

    #[test]
    fn small_output_is_exempt_and_the_ratio_applies_to_the_whole_stream() {
        let zeros = vec![0u8; 32 << 20];
        let packed = gz(&zeros);
        assert!(32 << 20 > packed.len() as u64 * 1000);
        let e = drain(&packed, 100).unwrap_err();
        let why = exceeded(&e).expect("the ratio error");
        // Stopped as soon as the exemption was passed: one read more, no further.
        assert!(why.produced > EXEMPT, "{why}");
        assert!(why.produced <= EXEMPT + (1 << 20), "{why}");
        assert!(why.produced > why.compressed * 100, "{why}");
        assert!(drain(&packed, 1000).is_err());
        assert_eq!(drain(&packed, 100_000).unwrap(), 32 << 20);
        assert_eq!(drain(&gz(&vec![0u8; 16 << 20]), 2).unwrap(), 16 << 20);
    }
}
