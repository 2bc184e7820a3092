//! What the fuzz targets share: the tag-file readings every BagIt target repeats, and a
//! private scratch folder for the parsers that read a path (archives, `collection.toml`).

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use qoima::bagit::Version;
use qoima::bagit::text::Encoding;

/// The (encoding, version) pairs each tag-file input is parsed under: what qoima writes, and
/// the oldest form it still reads (Latin-1, pre-RFC rules for paths and duplicates).
pub const READINGS: [(Encoding, Version); 2] = [
    (Encoding::Utf8, Version::V1_0),
    (
        Encoding::Latin1,
        Version {
            major: 0,
            minor: 97,
        },
    ),
];

/// The largest number of bytes read from one archive entry: enough to cross a few deflate
/// blocks and the end of small entries, bounded so that a bomb costs nothing.
pub const ENTRY_READ_LIMIT: u64 = 1 << 20;

/// A folder of this process's own under `TMPDIR` (scripts/fuzz-smoke.sh points `TMPDIR` at a
/// folder it removes afterwards).
pub fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("qoima-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder under TMPDIR");
        dir
    })
}

/// Writes `data` to `name` in the scratch folder and returns its path.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("the scratch folder is writable");
    path
}

/// Lists a store and reads the start of every readable file in it, as validation would.
pub fn read_store(store: &dyn qoima::store::Store) {
    let _ = store.problems();
    let Ok(entries) = store.list() else { return };
    for entry in entries.iter().filter(|e| e.is_readable_file()) {
        if let Ok(reader) = store.open(&entry.path) {
            let mut sink = Vec::new();
            let _ = reader.take(ENTRY_READ_LIMIT).read_to_end(&mut sink);
        }
    }
}
