//! The serializations qoima writes and reads, and how a file's name and first bytes tell
//! which one a file is.

use std::path::{Path, PathBuf};

/// The serializations qoima writes and reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// ZIP (entries stored, or deflated with `--compress`; zip64 when needed).
    Zip,
    /// POSIX tar (ustar, with GNU long names).
    Tar,
    /// tar compressed with gzip.
    TarGz,
}

impl Format {
    /// The usual extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
        }
    }

    /// The media type the BagIt Profiles specification expects in `Accept-Serialization`.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Zip => "application/zip",
            Format::Tar => "application/x-tar",
            Format::TarGz => "application/gzip",
        }
    }

    /// The format a file name announces, if any.
    pub fn from_name(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".zip") {
            Some(Format::Zip)
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(Format::TarGz)
        } else if name.ends_with(".tar") {
            Some(Format::Tar)
        } else {
            None
        }
    }

    /// The format the first bytes of a file show (a name can lie; the content decides).
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(Format::Zip)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Some(Format::Tar)
        } else {
            None
        }
    }

    /// The format of the file at `path`, by content, else by name.
    pub fn detect(path: &Path) -> std::io::Result<Option<Format>> {
        use std::io::Read;
        let mut head = Vec::with_capacity(512);
        std::fs::File::open(path)?
            .take(512)
            .read_to_end(&mut head)?;
        Ok(Format::sniff(&head).or_else(|| {
            // An old tar without the ustar magic is still a tar if it says so.
            (Format::from_name(path) == Some(Format::Tar) && head.len() >= 512)
                .then_some(Format::Tar)
        }))
    }
}

/// `path` with the format's extension added when it does not already end with it
/// (`deposit-2022` → `deposit-2022.zip`).
pub fn with_extension(path: &Path, format: Format) -> PathBuf {
    if Format::from_name(path) == Some(format) {
        return path.to_path_buf();
    }
    let mut name = path.as_os_str().to_os_string();
    name.push(".");
    name.push(format.extension());
    PathBuf::from(name)
}

/// The bag's name an archive implies: its file name without the extension.
pub fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    for ext in [".tar.gz", ".tgz", ".zip", ".tar"] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extensions() {
        assert_eq!(stem(Path::new("/x/deposit-2022.tar.gz")), "deposit-2022");
        assert_eq!(stem(Path::new("b.TGZ")), "b");
        assert_eq!(
            with_extension(Path::new("out/deposit-2022"), Format::Zip),
            Path::new("out/deposit-2022.zip")
        );
        assert_eq!(
            with_extension(Path::new("d.tar.gz"), Format::TarGz),
            Path::new("d.tar.gz")
        );
        assert_eq!(
            with_extension(Path::new("d.tar"), Format::TarGz),
            Path::new("d.tar.tar.gz")
        );
    }
}
