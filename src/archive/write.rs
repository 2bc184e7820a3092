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

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bagit::text::Encoding;
use crate::bagit::{BagError, Version, manifest};
use crate::digest::{Algorithm, Digest, Hasher, Progress};
use crate::error::{Code, Problem};
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
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return t.max(ZIP_EPOCH);
    }
    let date = fs::read(bag.join("bag-info.txt")).ok().and_then(|b| {
        let text = String::from_utf8_lossy(&b).into_owned();
        text.lines().find_map(|l| {
            let (label, value) = l.split_once(':')?;
            label
                .trim()
                .eq_ignore_ascii_case("Bagging-Date")
                .then(|| chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok())
                .flatten()
        })
    });
    date.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp().max(ZIP_EPOCH))
        .unwrap_or(ZIP_EPOCH)
}

/// The manifests' digests, to hold the archived bytes to: one algorithm (the cheapest strong
/// one the bag has), by bag-relative path.
struct Expected {
    algorithm: Algorithm,
    digests: HashMap<String, Digest>,
}

/// A file whose archived bytes are not the bytes its manifest vouches for.
#[derive(Debug)]
struct Mismatch {
    rel: String,
    algorithm: Algorithm,
    manifest: String,
    archived: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} changed after it was hashed: its {} was {} in the manifest and {} as archived; something wrote to it (or to the source file it is linked to) during the run, so the archive was not kept",
            self.rel,
            self.algorithm.name(),
            self.manifest,
            self.archived
        )
    }
}

impl std::error::Error for Mismatch {}

impl Expected {
    /// Reads the digests of `bag`'s payload and tag manifests for the preferred algorithm.
    fn load(bag: &Path) -> Result<Expected, BagError> {
        const PREFERENCE: [Algorithm; 7] = [
            Algorithm::Blake3,
            Algorithm::Sha256,
            Algorithm::Sha512,
            Algorithm::Sha384,
            Algorithm::Sha224,
            Algorithm::Sha1,
            Algorithm::Md5,
        ];
        let algorithm = PREFERENCE
            .into_iter()
            .find(|&a| bag.join(manifest::file_name(false, a)).is_file())
            .ok_or_else(|| {
                BagError::Usage(format!(
                    "{} has no payload manifest qoima can check",
                    bag.display()
                ))
            })?;
        let mut digests = HashMap::new();
        for tag in [false, true] {
            let name = manifest::file_name(tag, algorithm);
            let path = bag.join(&name);
            if tag && !path.is_file() {
                continue;
            }
            let file = File::open(&path).map_err(BagError::io(&path))?;
            let mut problems = crate::verdict::Problems::default();
            let parsed = manifest::parse(
                io::BufReader::new(file),
                &name,
                Encoding::Utf8,
                Version::V1_0,
                &mut problems,
            );
            digests.extend(parsed.entries.into_iter().map(|e| (e.path, e.digest)));
        }
        Ok(Expected { algorithm, digests })
    }

    /// A hasher for `rel` when the manifests list it.
    fn hasher(&self, rel: &str) -> Option<Hasher> {
        self.digests
            .contains_key(rel)
            .then(|| Hasher::new(self.algorithm))
    }

    /// Compares what was archived of `rel` with its manifest.
    fn check(&self, rel: &str, hasher: Option<Hasher>) -> io::Result<()> {
        let (Some(h), Some(want)) = (hasher, self.digests.get(rel)) else {
            return Ok(());
        };
        let got = h.finish();
        if got == *want {
            return Ok(());
        }
        Err(io::Error::other(Mismatch {
            rel: rel.to_string(),
            algorithm: self.algorithm,
            manifest: want.to_hex(),
            archived: got.to_hex(),
        }))
    }
}

/// The refusal for an archived file that differs from its manifest, or the I/O error.
fn write_error(tmp: &Path, e: io::Error) -> BagError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Mismatch>())
    {
        Some(m) => BagError::Coded(Box::new(
            Problem::new(Code::ArchiveSourceChanged, m.to_string()).file(m.rel.clone()),
        )),
        None => BagError::Io {
            path: tmp.to_path_buf(),
            source: e,
        },
    }
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
    if let Some(fsutil::WalkIssue::Io(p, e)) = issues.into_iter().next() {
        return Err(BagError::Io { path: p, source: e });
    }
    let mut out = Vec::with_capacity(walked.len());
    for w in walked {
        let Some(rel) = w.rel.to_str().map(|s| s.replace('\\', "/")) else {
            return Err(BagError::Usage(format!(
                "{} has a name that is not UTF-8; an archive cannot carry it faithfully",
                bag.join(&w.rel).display()
            )));
        };
        let ft = w.file_type;
        if !(ft.is_file() || ft.is_dir()) {
            return Err(BagError::Usage(format!(
                "{} is not a file or folder (a link or device); serialize a bag of plain files",
                bag.join(&w.rel).display()
            )));
        }
        out.push(Item {
            rel,
            dir: ft.is_dir(),
            size: w.len,
        });
    }
    let group = |i: &Item| {
        if i.rel == "bagit.txt" {
            0
        } else if i.rel == "data" || i.rel.starts_with("data/") {
            2
        } else {
            1
        }
    };
    out.sort_by(|a, b| (group(a), &a.rel).cmp(&(group(b), &b.rel)));
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
    if let Ok(m) = fs::symlink_metadata(out)
        && !(opts.replace && m.is_file())
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
        list.iter().map(|i| i.size).sum(),
        list.iter().filter(|i| !i.dir).count() as u64,
    );
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(BagError::io(parent))?;
    }
    // What a killed run left (its process gone) is removed; a live run's is left alone.
    fsutil::sweep_stale(out, "serialize");
    let tmp = fsutil::temp_sibling(out, "serialize");
    let result = (|| {
        let file = fsutil::create_new(&tmp).map_err(BagError::io(&tmp))?;
        let file = match opts.format {
            Format::Zip => write_zip(bag, &top, &list, file, opts, expected.as_ref(), progress),
            Format::Tar => write_tar(
                bag,
                &top,
                &list,
                BufWriter::with_capacity(1 << 20, file),
                opts,
                expected.as_ref(),
                progress,
            )
            .and_then(|w| w.into_inner().map_err(|e| e.into_error())),
            Format::TarGz => {
                let gz = flate2::GzBuilder::new().mtime(0).write(
                    BufWriter::with_capacity(1 << 20, file),
                    flate2::Compression::default(),
                );
                write_tar(bag, &top, &list, gz, opts, expected.as_ref(), progress)
                    .and_then(|gz| gz.finish())
                    .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            }
        }
        .map_err(|e| write_error(&tmp, e))?;
        file.sync_all().map_err(BagError::io(&tmp))?;
        drop(file);
        fsutil::failpoint("serialize-before-rename");
        fs::rename(&tmp, out).map_err(BagError::io(out))?;
        if let Some(parent) = out.parent() {
            let dir = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            // The rename is only durable once the folder is flushed: a failure is reported.
            fsutil::sync_dir(dir).map_err(BagError::io(dir))?;
        }
        Ok(())
    })();
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

/// Writes the bag folder `bag` as a tar stream into `w`, its entries under the folder `top`:
/// the same bytes [`serialize`] writes for a tar named `TOP.tar`. For callers that pipe the
/// tar elsewhere (the encrypted bundles of `seal::encrypt`), so it never lands on disk.
pub fn write_tar_stream<W: Write>(
    bag: &Path,
    top: &str,
    w: W,
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
    write_tar(bag, top, &list, w, &opts, None, progress).map_err(BagError::io(bag))
}

/// The sha256 of a file, as lowercase hex.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish_hex())
}

/// `sha256sum`'s line for the file `file_name` (`HEX  NAME`).
pub fn checksum_line(sha256: &str, file_name: &str) -> String {
    format!("{sha256}  {file_name}\n")
}

/// Where `--checksum-file` writes the archive's sha256: `ARCHIVE.sha256`.
pub fn checksum_path(archive: &Path) -> PathBuf {
    let mut p = archive.as_os_str().to_os_string();
    p.push(".sha256");
    PathBuf::from(p)
}

/// `sha256sum`'s line for the archive (`HEX  NAME`), written to `NAME.sha256` beside it.
pub fn write_checksum_file(archive: &Path, sha256: &str) -> io::Result<PathBuf> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let p = checksum_path(archive);
    fsutil::write_atomic(&p, checksum_line(sha256, &name).as_bytes())?;
    Ok(p)
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
    let dt = zip_time(opts.mtime);
    let method = if opts.compress {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let base = SimpleFileOptions::default()
        .last_modified_time(dt)
        .compression_method(method);
    // zip's writer panics (`file_end >= self.stats.start`, in `finish` or its `Drop`) once a
    // write under it has failed. So it never sees one: `Latched` keeps the first error, which
    // is returned after `finish`; the caller then removes the temporary file.
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, Latched::new(file)));
    let zerr = |e: zip::result::ZipError| io::Error::other(e.to_string());
    zip.add_directory(format!("{top}/"), base.unix_permissions(0o755))
        .map_err(zerr)?;
    let mut buf = vec![0u8; 1 << 20];
    for it in list {
        let name = format!("{top}/{}", it.rel);
        if it.dir {
            zip.add_directory(format!("{name}/"), base.unix_permissions(0o755))
                .map_err(zerr)?;
            continue;
        }
        let o = base
            .unix_permissions(0o644)
            .large_file(it.size >= u32::MAX as u64);
        zip.start_file(name, o).map_err(zerr)?;
        let mut hasher = expected.and_then(|x| x.hasher(&it.rel));
        copy_exact(
            &bag.join(&it.rel),
            it.size,
            &mut zip,
            &mut buf,
            hasher.as_mut(),
            progress,
        )?;
        if let Some(x) = expected {
            x.check(&it.rel, hasher)?;
        }
        progress.file_done();
    }
    let w = zip.finish().map_err(zerr)?;
    w.into_inner().map_err(|e| e.into_error())?.into_result()
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
    w: W,
    opts: &WriteOptions,
    expected: Option<&Expected>,
    progress: &dyn Progress,
) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    let header = |dir: bool, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_mode(if dir { 0o755 } else { 0o644 });
        h.set_uid(0);
        h.set_gid(0);
        let _ = h.set_username("");
        let _ = h.set_groupname("");
        h.set_mtime(opts.mtime.max(0) as u64);
        h.set_size(size);
        h
    };
    b.append_data(&mut header(true, 0), format!("{top}/"), io::empty())?;
    for it in list {
        let name = format!("{top}/{}", it.rel);
        if it.dir {
            b.append_data(&mut header(true, 0), format!("{name}/"), io::empty())?;
            continue;
        }
        let f = crate::digest::open_for_read(&bag.join(&it.rel), false)?;
        // The header has promised `size` bytes: a file that changed since the listing must
        // stop the run rather than leave a tar whose entries are out of step.
        let mut exact = ExactReader {
            inner: f.take(it.size),
            left: it.size,
            path: bag.join(&it.rel),
            hasher: expected.and_then(|x| x.hasher(&it.rel)),
            progress,
        };
        b.append_data(&mut header(false, it.size), &name, &mut exact)?;
        if exact.left != 0 {
            return Err(changed(&exact.path));
        }
        if let Some(x) = expected {
            x.check(&it.rel, exact.hasher)?;
        }
        progress.file_done();
    }
    b.into_inner()
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
        let n = self.inner.read(buf)?;
        if n == 0 && self.left != 0 && !buf.is_empty() {
            return Err(changed(&self.path));
        }
        self.left -= n as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.progress.bytes(n as u64);
        Ok(n)
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
    w: &mut impl Write,
    buf: &mut [u8],
    mut hasher: Option<&mut Hasher>,
    progress: &dyn Progress,
) -> io::Result<()> {
    let mut f = crate::digest::open_for_read(path, false)?;
    let mut total = 0u64;
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > size {
            return Err(changed(path));
        }
        w.write_all(&buf[..n])?;
        if let Some(h) = hasher.as_deref_mut() {
            h.update(&buf[..n]);
        }
        progress.bytes(n as u64);
    }
    if total != size {
        return Err(changed(path));
    }
    Ok(())
}

fn zip_time(secs: i64) -> zip::DateTime {
    let t = chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .naive_utc();
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}
