//! `qoima serialize`, and the `--zip/--tar/--tar-gz` of `bag` and `package`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use qoima::archive::write::{self, ArchiveSummary, WriteOptions};
use qoima::store::{self, Format, Limits};

use super::super::Exit;
use super::super::args::{ArchiveArgs, Global, LimitArgs, SerializeArgs};
use super::super::output;

/// The serialization the flags ask for.
pub(super) fn format(a: &ArchiveArgs) -> Option<Format> {
    if a.zip {
        Some(Format::Zip)
    } else if a.tar {
        Some(Format::Tar)
    } else if a.tar_gz {
        Some(Format::TarGz)
    } else {
        None
    }
}

/// Refuses archive-only flags without a serialization.
pub(super) fn check_flags(a: &ArchiveArgs) -> anyhow::Result<()> {
    if format(a).is_none() && (a.compress || a.checksum || a.checksum_file) {
        bail!("--compress, --checksum and --checksum-file need --zip, --tar or --tar-gz");
    }
    if a.compress && !a.zip {
        bail!("--compress applies to --zip (a tar.gz is always compressed)");
    }
    Ok(())
}

/// Where a bag being made for an archive is staged: beside the archive, so that payload
/// can be hard-linked rather than copied when the source shares its filesystem.
pub(super) fn staging_dir(archive: &Path) -> PathBuf {
    qoima::fsutil::temp_sibling(archive, "stage")
}

/// Serializes the staged bag into `archive`, removes the staged folder whatever happens,
/// and writes or prints the checksum as asked.
pub(super) fn finish(
    staged: &Path,
    archive: &Path,
    a: &ArchiveArgs,
    replace: bool,
    progress: &dyn qoima::digest::Progress,
) -> Result<ArchiveSummary, qoima::bagit::BagError> {
    let fmt = format(a).expect("called with a serialization");
    let opts = WriteOptions {
        format: fmt,
        compress: a.compress,
        mtime: write::archive_time(staged),
        checksum: a.checksum || a.checksum_file,
        replace,
        // The staged bag may share its payload with a source that is still being written
        // to: what goes into the archive is held to the digests taken when it was hashed.
        verify: true,
    };
    let r = write::serialize(staged, archive, &opts, progress);
    let _ = fs::remove_dir_all(staged);
    let s = r?;
    if a.checksum_file
        && let Some(sum) = &s.sha256
    {
        write::write_checksum_file(archive, sum).map_err(|e| qoima::bagit::BagError::Io {
            path: archive.to_path_buf(),
            source: e,
        })?;
    }
    Ok(s)
}

/// Prints an archive's line (and its sha256 on stdout when asked and not --json).
pub(super) fn print(s: &ArchiveSummary, a: &ArchiveArgs, g: &Global) {
    if let Some(sum) = &s.sha256
        && a.checksum
        && !g.json
    {
        println!("{sum}  {}", s.archive.display());
    }
    if !g.quiet {
        output::stderrln!(
            "{}: {} archive, {} entries, {} (folder {}/{})",
            output::path(&s.archive),
            s.format.extension(),
            s.entries,
            qoima::verdict::human_bytes(s.bytes),
            s.top,
            if a.checksum_file {
                format!("; sha256 in {}.sha256", s.archive.display())
            } else {
                String::new()
            }
        );
    }
}

/// `--max-ratio` and `--max-size`, parsed.
pub(super) fn limits(a: &LimitArgs) -> anyhow::Result<Limits> {
    let s = a.max_size.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => bail!("--max-size {s:?}: use a number of bytes, optionally with K, M, G or T"),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| {
        anyhow::anyhow!("--max-size {s:?}: use a number of bytes, optionally with K, M, G or T")
    })?;
    if a.max_ratio == 0 {
        bail!("--max-ratio must be at least 1");
    }
    let max_size = n
        .checked_mul(mult)
        .with_context(|| format!("--max-size {s:?} is too large: at most 16 EiB (16777215T)"))?;
    Ok(Limits {
        max_ratio: a.max_ratio,
        max_size,
    })
}

#[derive(Serialize)]
struct Report<'a> {
    qoima_version: &'static str,
    command: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a ArchiveSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [qoima::error::Problem],
    exit_code: u8,
}

pub fn run(a: &SerializeArgs, g: &Global) -> anyhow::Result<Exit> {
    let Some(fmt) = format(&a.archive) else {
        bail!("say which serialization: --zip, --tar or --tar-gz");
    };
    check_flags(&a.archive)?;
    let bag = a.bag.as_path();
    let out = match &a.output {
        Some(o) => store::with_extension(o, fmt),
        None => {
            let trimmed = bag.components().as_path();
            store::with_extension(trimmed, fmt)
        }
    };
    let opts = WriteOptions {
        format: fmt,
        compress: a.archive.compress,
        mtime: write::archive_time(bag),
        checksum: a.archive.checksum || a.archive.checksum_file,
        replace: false,
        verify: false,
    };
    let sums = write::checksum_path(&out);
    let mut outputs = vec![(out.as_path(), "the archive")];
    if a.archive.checksum_file {
        outputs.push((sums.as_path(), "--checksum-file"));
    }
    let prepared = super::outputs::prepare(bag, &outputs, g);
    let bar = super::super::progress::Bar::new("serializing", 0, 0, super::show_progress(g));
    let result = prepared
        .and_then(|()| write::serialize(bag, &out, &opts, &bar))
        .and_then(|s| {
            if a.archive.checksum_file
                && let Some(sum) = &s.sha256
            {
                write::write_checksum_file(&out, sum).map_err(|e| qoima::bagit::BagError::Io {
                    path: out.clone(),
                    source: e,
                })?;
            }
            Ok(s)
        });
    bar.finish();
    let (exit, summary, error, problems) = match &result {
        Ok(s) => (Exit::Ok, Some(s), None, Vec::new()),
        Err(e) => {
            let (exit, message, problems) = super::outputs::failure(e);
            (exit, None, Some(message), problems)
        }
    };
    if g.json {
        output::json(&Report {
            qoima_version: qoima::VERSION,
            command: "serialize",
            archive: summary,
            error: error.clone(),
            problems: &problems,
            exit_code: exit as u8,
        })?;
    }
    output::problems(&problems, true, "");
    if let Some(s) = summary {
        print(s, &a.archive, g);
    }
    if let Some(e) = error {
        output::stderrln!("qoima: {e}");
    }
    Ok(exit)
}
