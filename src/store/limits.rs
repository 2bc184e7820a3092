//! The limits a reader of archives applies, set by `--max-ratio` and `--max-size`.

/// Limits that keep a hostile archive from filling the disk or the time of whoever opens it.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest uncompressed-to-compressed ratio accepted: for one zip entry over 1 MiB, for
    /// all of a zip's entries together once they pass 16 MiB (so that many small entries cannot
    /// add up to gigabytes), and for a tar.gz stream as it is read.
    pub max_ratio: u64,
    /// Largest total uncompressed size accepted.
    pub max_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ratio: 1000,
            max_size: 16 << 40,
        }
    }
}
