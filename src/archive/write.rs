//! Writing a bag folder as one archive, reproducibly: entries in a fixed order (bagit.txt,
//! then the other tag files, then the payload, each by path), fixed times, modes and owners,
//! so the same bag always gives the same bytes. Streamed, one file at a time: memory does not
//! grow with the bag. Written under a temporary name and renamed when complete.
//!
//! The order puts the tag files first, which lets a streaming reader of a tar.gz know the
//! manifests' algorithms before the payload arrives and validate in one pass.
//!
//! A bag staged for `bag --zip` or `package --zip` may share its payload with the source (hard
//! links), so a source file written to after it was hashed would reach the archive changed.
//! With [`WriteOptions::verify`], every file the manifests list is hashed again from the very
//! bytes written into the archive and compared; a difference refuses the archive (`BAG-084`)
//! and removes it.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::expected::{Expected, write_error};
use crate::bagit::BagError;
use crate::digest::{Algorithm, Hasher, Progress};
use crate::fsutil;
use crate::store::Format;

/// How to write an archive.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// zip, tar or tar.gz.
    pub format: Format,
    /// Deflate zip entries (they are stored by default: photos do not compress).
    pub compress: bool,
    /// Every entry's modification time (seconds since 1970); see [`archive_time`].
    pub mtime: i64,
    /// Compute the archive's own sha256 when done (one more read of the archive).
    pub checksum: bool,
    /// Replace an existing file at the destination (atomically, once the new one is complete).
    pub replace: bool,
    /// Hash each file the bag's manifests list as it is archived and refuse the archive
    /// (`BAG-084`) when the bytes differ from the manifest's.
    pub verify: bool,
}

/// What was written.
#[derive(Clone, Debug, Serialize)]
pub struct ArchiveSummary {
    /// The archive file.
    pub archive: PathBuf,
    /// Its format.
    pub format: Format,
    /// The bag's folder inside.
    pub top: String,
    /// Entries written (files and folders).
    pub entries: u64,
    /// Size of the archive in bytes.
    pub bytes: u64,
    /// The archive's sha256, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The time stamped on every entry: `SOURCE_DATE_EPOCH` when set, else midnight (UTC) of
/// the bag's Bagging-Date, else 1980-01-01 (the earliest time a zip can hold).
pub fn archive_time(bag: &Path) -> i64 {
    const ZIP_EPOCH: i64 = 315_532_800;
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
    {
        return epoch.max(ZIP_EPOCH);
    }
    let date = fs::read(bag.join("bag-info.txt")).ok().and_then(|bytes| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        text.lines().find_map(|line| {
            let (label, value) = line.split_once(':')?;
            label
                .trim()
                .eq_ignore_ascii_case("Bagging-Date")
                .then(|| chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok())
                .flatten()
        })
    });
    date.and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc().timestamp().max(ZIP_EPOCH))
        .unwrap_or(ZIP_EPOCH)
}

struct Item {
    /// Bag-relative, `/`-separated.
    rel: String,
    dir: bool,
    size: u64,
}

/// The bag's entries in archive order.
fn items(bag: &Path) -> Result<Vec<Item>, BagError> {
    let (walked, issues) = fsutil::walk(bag, false, &[]);
    if let Some(fsutil::WalkIssue::Io(path, source)) = issues.into_iter().next() {
        return Err(BagError::Io { path, source });
    }
    let mut out = Vec::with_capacity(walked.len());
    for found in walked {
        let Some(rel) = found.rel.to_str().map(|rel| rel.replace('\\', "/")) else {
            return Err(BagError::Usage(format!(
                "{} has a name that is not UTF-8; an archive cannot carry it faithfully",
                bag.join(&found.rel).display()
            )));
        };
        let file_type = found.file_type;
        if !(file_type.is_file() || file_type.is_dir()) {
            return Err(BagError::Usage(format!(
                "{} is not a file or folder (a link or device); serialize a bag of plain files",
                bag.join(&found.rel).display()
            )));
        }
        out.push(Item {
            rel,
            dir: file_type.is_dir(),
            size: found.len,
        });
    }
    let group = |item: &Item| {
        if item.rel == "bagit.txt" {
            0
        } else if item.rel == "data" || item.rel.starts_with("data/") {
            2
        } else {
            1
        }
    };
    out.sort_by(|left, right| (group(left), &left.rel).cmp(&(group(right), &right.rel)));
    Ok(out)
}

/// Writes the bag folder `bag` as the archive `out` (which must not exist), its entries
/// under one folder named after `out` without its extension.
pub fn serialize(
    bag: &Path,
    out: &Path,
    opts: &WriteOptions,
    progress: &dyn Progress,
) -> Result<ArchiveSummary, BagError> {
    crate::bagit::create::refuse_overlap(bag, out, "the archive")?;
    if let Ok(existing) = fs::symlink_metadata(out)
        && !(opts.replace && existing.is_file())
    {
        return Err(BagError::Exists(out.to_path_buf()));
    }
    if !bag.join("bagit.txt").is_file() {
        return Err(BagError::Usage(format!(
            "{} is not a bag (no bagit.txt); make one with `qoima bag` first",
            bag.display()
        )));
    }
    let top = crate::store::stem(out);
    if top.is_empty() || top.contains(['/', '\\']) || top == "." || top == ".." {
        return Err(BagError::Usage(format!(
            "{} does not name an archive file",
            out.display()
        )));
    }
    let list = items(bag)?;
    let expected = opts.verify.then(|| Expected::load(bag)).transpose()?;
    // Tests change a source file here, after it was hashed and before it is archived.
    fsutil::stoppoint("serialize-before-write");
    progress.stage(
        match opts.format {
            Format::Zip => "writing the zip",
            Format::Tar => "writing the tar",
            Format::TarGz => "writing the tar.gz",
        },
        list.iter().map(|item| item.size).sum(),
        list.iter().filter(|item| !item.dir).count() as u64,
    );
    if let Some(parent) = out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(BagError::io(parent))?;
    }
    // What a killed run left (its process gone) is removed; a live run's is left alone.
    fsutil::sweep_stale(out, "serialize");
    let tmp = fsutil::temp_sibling(out, "serialize");
    let result = write_archive(&tmp, bag, &top, &list, opts, expected.as_ref(), progress)
        .and_then(|()| publish(&tmp, out));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    let bytes = fs::metadata(out).map_err(BagError::io(out))?.len();
    let sha256 = if opts.checksum {
        Some(file_sha256(out).map_err(BagError::io(out))?)
    } else {
        None
    };
    Ok(ArchiveSummary {
        archive: out.to_path_buf(),
        format: opts.format,
        top,
        // The top-level folder is an entry too.
        entries: list.len() as u64 + 1,
        bytes,
        sha256,
    })
}

/// Writes the archive into the new file `tmp` and flushes it to disk.
fn write_archive(
    tmp: &Path,
    bag: &Path,
    top: &str,
    list: &[Item],
    opts: &WriteOptions,
    expected: Option<&Expected>,
    progress: &dyn Progress,
) -> Result<(), BagError> {
    let file = fsutil::create_new(tmp).map_err(BagError::io(tmp))?;
    let file = match opts.format {
        Format::Zip => write_zip(bag, top, list, file, opts, expected, progress),
        Format::Tar => write_tar(
            bag,
            top,
            list,
            BufWriter::with_capacity(1 << 20, file),
            opts,
            expected,
            progress,
        )
        .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error())),
        Format::TarGz => {
            let gz = flate2::GzBuilder::new().mtime(0).write(
                BufWriter::with_capacity(1 << 20, file),
                flate2::Compression::default(),
            );
            write_tar(bag, top, list, gz, opts, expected, progress)
                .and_then(|gz| gz.finish())
                .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()))
        }
    }
    .map_err(|e| write_error(tmp, e))?;
    file.sync_all().map_err(BagError::io(tmp))
}

/// Renames the complete archive `tmp` to `out`; the rename is only durable once the folder
/// is flushed, so a failure there is reported.
fn publish(tmp: &Path, out: &Path) -> Result<(), BagError> {
    fsutil::failpoint("serialize-before-rename");
    fs::rename(tmp, out).map_err(BagError::io(out))?;
    if let Some(parent) = out.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        fsutil::sync_dir(dir).map_err(BagError::io(dir))?;
    }
    Ok(())
}

/// Writes the bag folder `bag` as a tar stream into `sink`, its entries under the folder `top`:
/// the same bytes [`serialize`] writes for a tar named `TOP.tar`. For callers that pipe the
/// tar elsewhere (the encrypted bundles of `seal::bundle`), so it never lands on disk.
pub fn write_tar_stream<W: Write>(
    bag: &Path,
    top: &str,
    sink: W,
    mtime: i64,
    progress: &dyn Progress,
) -> Result<W, BagError> {
    let list = items(bag)?;
    let opts = WriteOptions {
        format: Format::Tar,
        compress: false,
        mtime,
        checksum: false,
        replace: false,
        verify: false,
    };
    write_tar(bag, top, &list, sink, &opts, None, progress).map_err(BagError::io(bag))
}

/// The sha256 of a file, as lowercase hex.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let count = file.read(&mut buf)?;
        if count == 0 {
            break;
        }
        hasher.update(&buf[..count]);
    }
    Ok(hasher.finish_hex())
}

/// `sha256sum`'s line for the file `file_name` (`HEX  NAME`).
pub fn checksum_line(sha256: &str, file_name: &str) -> String {
    format!("{sha256}  {file_name}\n")
}

/// Where `--checksum-file` writes the archive's sha256: `ARCHIVE.sha256`.
pub fn checksum_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_os_string();
    name.push(".sha256");
    PathBuf::from(name)
}

/// `sha256sum`'s line for the archive (`HEX  NAME`), written to `NAME.sha256` beside it.
pub fn write_checksum_file(archive: &Path, sha256: &str) -> io::Result<PathBuf> {
    let name = archive
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = checksum_path(archive);
    fsutil::write_atomic(&path, checksum_line(sha256, &name).as_bytes())?;
    Ok(path)
}

fn write_zip(
    bag: &Path,
    top: &str,
    list: &[Item],
    file: File,
    opts: &WriteOptions,
    expected: Option<&Expected>,
    progress: &dyn Progress,
) -> io::Result<File> {
    use zip::write::SimpleFileOptions;
    let modified = zip_time(opts.mtime);
    let method = if opts.compress {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let base = SimpleFileOptions::default()
        .last_modified_time(modified)
        .compression_method(method);
    // zip's writer panics (`file_end >= self.stats.start`, in `finish` or its `Drop`) once a
    // write under it has failed. So it never sees one: `Latched` keeps the first error, which
    // is returned after `finish`; the caller then removes the temporary file.
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, Latched::new(file)));
    let zerr = |e: zip::result::ZipError| io::Error::other(e.to_string());
    zip.add_directory(format!("{top}/"), base.unix_permissions(0o755))
        .map_err(zerr)?;
    let mut buf = vec![0u8; 1 << 20];
    for item in list {
        let name = format!("{top}/{}", item.rel);
        if item.dir {
            zip.add_directory(format!("{name}/"), base.unix_permissions(0o755))
                .map_err(zerr)?;
            continue;
        }
        let options = base
            .unix_permissions(0o644)
            .large_file(item.size >= u32::MAX as u64);
        zip.start_file(name, options).map_err(zerr)?;
        let mut hasher = expected.and_then(|expected| expected.hasher(&item.rel));
        copy_exact(
            &bag.join(&item.rel),
            item.size,
            &mut zip,
            &mut buf,
            hasher.as_mut(),
            progress,
        )?;
        if let Some(expected) = expected {
            expected.check(&item.rel, hasher)?;
        }
        progress.file_done();
    }
    let buffered = zip.finish().map_err(zerr)?;
    buffered
        .into_inner()
        .map_err(|e| e.into_error())?
        .into_result()
}

/// A file that never fails a write towards its user: the first error is kept, and every
/// later write only moves the offset on as a write would (so positions stay true), until
/// [`Latched::into_result`] hands the error over.
struct Latched {
    file: File,
    error: Option<io::Error>,
}

impl Latched {
    fn new(file: File) -> Latched {
        Latched { file, error: None }
    }

    fn into_result(self) -> io::Result<File> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.file),
        }
    }
}

impl Write for Latched {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            match self.file.write(buf) {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => self.error = Some(e),
                done => return done,
            }
        }
        self.file.seek(io::SeekFrom::Current(buf.len() as i64))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for Latched {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

fn write_tar<W: Write>(
    bag: &Path,
    top: &str,
    list: &[Item],
    sink: W,
    opts: &WriteOptions,
    expected: Option<&Expected>,
    progress: &dyn Progress,
) -> io::Result<W> {
    let mut builder = tar::Builder::new(sink);
    let header = |dir: bool, size: u64| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        header.set_mode(if dir { 0o755 } else { 0o644 });
        header.set_uid(0);
        header.set_gid(0);
        let _ = header.set_username("");
        let _ = header.set_groupname("");
        header.set_mtime(opts.mtime.max(0) as u64);
        header.set_size(size);
        header
    };
    builder.append_data(&mut header(true, 0), format!("{top}/"), io::empty())?;
    for item in list {
        let name = format!("{top}/{}", item.rel);
        if item.dir {
            builder.append_data(&mut header(true, 0), format!("{name}/"), io::empty())?;
            continue;
        }
        let file = crate::digest::open_for_read(&bag.join(&item.rel), false)?;
        // The header has promised `size` bytes: a file that changed since the listing must
        // stop the run rather than leave a tar whose entries are out of step.
        let mut exact = ExactReader {
            inner: file.take(item.size),
            left: item.size,
            path: bag.join(&item.rel),
            hasher: expected.and_then(|expected| expected.hasher(&item.rel)),
            progress,
        };
        builder.append_data(&mut header(false, item.size), &name, &mut exact)?;
        if exact.left != 0 {
            return Err(changed(&exact.path));
        }
        if let Some(expected) = expected {
            expected.check(&item.rel, exact.hasher)?;
        }
        progress.file_done();
    }
    builder.into_inner()
}

struct ExactReader<'p, R> {
    inner: R,
    left: u64,
    path: PathBuf,
    hasher: Option<Hasher>,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for ExactReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        if count == 0 && self.left != 0 && !buf.is_empty() {
            return Err(changed(&self.path));
        }
        self.left -= count as u64;
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.update(&buf[..count]);
        }
        self.progress.bytes(count as u64);
        Ok(count)
    }
}

fn changed(path: &Path) -> io::Error {
    io::Error::other(format!(
        "{} changed size while it was archived; serialize again when nothing writes to the bag",
        path.display()
    ))
}

fn copy_exact(
    path: &Path,
    size: u64,
    sink: &mut impl Write,
    buf: &mut [u8],
    mut hasher: Option<&mut Hasher>,
    progress: &dyn Progress,
) -> io::Result<()> {
    let mut file = crate::digest::open_for_read(path, false)?;
    let mut total = 0u64;
    loop {
        let count = file.read(buf)?;
        if count == 0 {
            break;
        }
        total += count as u64;
        if total > size {
            return Err(changed(path));
        }
        sink.write_all(&buf[..count])?;
        if let Some(hasher) = hasher.as_deref_mut() {
            hasher.update(&buf[..count]);
        }
        progress.bytes(count as u64);
    }
    if total != size {
        return Err(changed(path));
    }
    Ok(())
}

fn zip_time(secs: i64) -> zip::DateTime {
    let time = chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .naive_utc();
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        time.year().clamp(1980, 2107) as u16,
        time.month() as u8,
        time.day() as u8,
        time.hour() as u8,
        time.minute() as u8,
        time.second() as u8,
    )
    .unwrap_or_default()
}
