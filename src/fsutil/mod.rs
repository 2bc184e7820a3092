//! Filesystem helpers with one home: write-to-temporary-then-rename, directory sync, and the
//! failpoints that crash tests use to stop the process at a chosen step. Replacing a folder
//! (`replace`), clearing the temporaries of dead runs (`stale`) and creating a file that must
//! not exist yet (`create`) live in submodules.

mod atomic;
mod create;
mod read;
mod replace;
mod stale;

pub use atomic::write_atomic;
pub use create::create_new;
pub use read::read_limited;
pub use replace::{Replaced, replace_dir};
pub use stale::{Cleaned, clean_stale};

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A name beside `path`, in the same directory (so a rename is atomic), marked as qoima's
/// temporary and unique to this process.
pub fn temp_sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let unique = format!(".{name}.qoima-{tag}-{}", std::process::id());
    path.with_file_name(unique)
}

/// The name whose temporary `name` is, when `name` has exactly the form [`temp_sibling`] gives
/// with `tag` (`.NAME.qoima-TAG-PID`); `None` for any other name. A caller proves a leftover is
/// its own by also knowing that it writes `NAME` in that folder.
pub fn temp_target<'a>(name: &'a str, tag: &str) -> Option<&'a str> {
    let (target, pid) = name
        .strip_prefix('.')?
        .rsplit_once(&format!(".qoima-{tag}-"))?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (digits && !target.is_empty()).then_some(target)
}

/// A temporary name for a file that will be moved into the folder `dir`: beside `dir` (in
/// its parent, on the same filesystem, so a link or rename into `dir` is atomic), so that a
/// run killed meanwhile leaves nothing inside `dir`; beside `fallback` when `dir` is a mount
/// point, has no parent, or its parent is not writable. What killed runs left under that name is removed first.
pub fn temp_beside(dir: &Path, fallback: &Path, tag: &str) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let device = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
    let writable = |p: &Path| {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(p.as_os_str().as_bytes())
            // SAFETY: access only reads the NUL-terminated path for the call.
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    let beside = fs::canonicalize(dir).ok().filter(|d| {
        d.parent().is_some_and(|parent| {
            device(parent).is_some() && device(parent) == device(d) && writable(parent)
        })
    });
    let anchor = beside.unwrap_or_else(|| fallback.to_path_buf());
    sweep_stale(&anchor, tag);
    temp_sibling(&anchor, tag)
}

/// Removes what killed qoima runs left beside `path`: every `.NAME.qoima-TAG-PID` (and the
/// `….qoima-write-PID` inside it, for a temporary written through [`write_atomic`]) whose
/// process is gone, files and folders alike. A temporary whose process is alive, or one of
/// another tag, is never touched, so a concurrent run and a moved-aside old version (tag
/// `old`) are safe. Returns the names removed.
pub fn sweep_stale(path: &Path, tag: &str) -> Vec<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    sweep_stale_in(dir, |target, found| target == name && found == tag)
}

/// Removes, in `dir`, every qoima temporary `.TARGET.qoima-TAG-PID…` whose process is gone
/// and for which `wanted(TARGET, TAG)` holds; returns the names removed.
pub fn sweep_stale_in(dir: &Path, wanted: impl Fn(&str, &str) -> bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some((target, tag, pid)) = parse_temporary(&entry_name) else {
            continue;
        };
        if !wanted(target, tag) || process_alive(pid) {
            continue;
        }
        let stale = entry.path();
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&stale),
            _ => fs::remove_file(&stale),
        };
        if gone.is_ok() {
            removed.push(stale);
        }
    }
    if !removed.is_empty() {
        let _ = sync_dir(dir);
    }
    removed
}

/// `.TARGET.qoima-TAG-PID[…]` → (TARGET, TAG, PID), as [`temp_sibling`] names them.
fn parse_temporary(name: &str) -> Option<(&str, &str, i32)> {
    let rest = name.strip_prefix('.')?;
    let at = rest.find(".qoima-")?;
    let (target, marked) = (&rest[..at], &rest[at + ".qoima-".len()..]);
    let (tag, after) = marked.split_once('-')?;
    let pid = after.split('.').next()?.parse().ok()?;
    Some((target, tag, pid))
}

/// Whether a process with this id exists (ours counts as alive). A process of another
/// user is alive too (`EPERM`), so only a truly gone process makes a temporary stale.
pub fn process_alive(pid: i32) -> bool {
    pid <= 0 || pid as u32 == std::process::id() || process_exists(pid)
}

/// Whether the process `pid` (> 0) exists on this host: `kill(pid, 0)`, where only `ESRCH`
/// says it is gone (`EPERM` is a process of another user). The one place qoima asks.
pub fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 performs only the existence and permission checks; nothing is sent.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Moves the finished temporary file `tmp` to `path` only if nothing is there (a file that
/// appears meanwhile is never replaced: `AlreadyExists`). By one `renameat2(RENAME_NOREPLACE)`
/// where the file system has it, so that no step leaves a second name behind; else by a hard
/// link then removing `tmp`; or, on a file system without hard links (FAT and exFAT drives),
/// by a rename after checking. `tmp` is gone afterwards either way.
pub fn place_new(tmp: &Path, path: &Path) -> io::Result<()> {
    match renameat2(tmp, path, libc::RENAME_NOREPLACE) {
        Err(e) if unsupported(&e) => {}
        done => {
            if done.is_err() {
                let _ = fs::remove_file(tmp);
            }
            return done;
        }
    }
    let result = match fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if fs::symlink_metadata(path).is_ok() => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists"))
        }
        Err(_) => {
            return fs::rename(tmp, path).inspect_err(|_| {
                let _ = fs::remove_file(tmp);
            });
        }
    };
    let _ = fs::remove_file(tmp);
    result
}

/// Flushes a directory's entries (after renames in it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Flushes every dirty page of the filesystem holding `path` to disk (`syncfs(2)`): after
/// writing many files, one call instead of a `fsync` per file.
pub fn sync_filesystem(path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = File::open(path)?;
    // SAFETY: syncfs only reads the descriptor, which `f` keeps open for the call.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Stops the process at once (as a crash or `kill -9` would) when the environment variable
/// `QOIMA_FAILPOINT` is `NAME` or `NAME:N` and this is the N-th time (default 1) the point
/// named `NAME` is reached. Tests use it to prove that every step can be interrupted safely.
pub fn failpoint(name: &str) {
    static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);
    let spec = SPEC.get_or_init(|| {
        let v = std::env::var("QOIMA_FAILPOINT").ok()?;
        match v.split_once(':') {
            Some((n, k)) => Some((n.to_string(), k.parse().ok()?)),
            None => Some((v, 1)),
        }
    });
    if let Some((n, k)) = spec
        && n == name
        && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *k
    {
        eprintln!("qoima: failpoint {name}:{k} reached, aborting");
        std::process::abort();
    }
}

/// Stops the process with `SIGSTOP` (to be resumed with `SIGCONT`) when the environment
/// variable `QOIMA_STOPPOINT` is `NAME`: a test changes the files at that instant, to prove a
/// change between two steps is caught. Compiled in debug builds only; a release build never
/// reads the variable.
pub fn stoppoint(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("QOIMA_STOPPOINT").is_ok_and(|v| v == name) {
        // SAFETY: raise only sends a signal to this process.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// `renameat2(2)` with `flags`, through the system call itself (no libc wrapper needed).
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))
    };
    let (from_c, to_c) = (c(from)?, c(to)?);
    // SAFETY: both strings are NUL-terminated and live across the call; the call only reads
    // them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether `e` says the filesystem or kernel does not offer a `renameat2` flag (and the caller
/// should fall back), rather than that the rename itself failed.
pub fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    )
}

/// Swaps `a` and `b` in one atomic step (`RENAME_EXCHANGE`): both must exist, and at every
/// instant each name holds one of the two. Fails with an error for which [`unsupported`] is
/// true on filesystems that do not offer it (some network and FUSE filesystems). Debug builds
/// pretend it is unsupported when `QOIMA_TEST_NO_EXCHANGE` is set, so tests reach the
/// fallback.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(debug_assertions)]
    if std::env::var_os("QOIMA_TEST_NO_EXCHANGE").is_some() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    renameat2(a, b, libc::RENAME_EXCHANGE)
}

/// Renames `from` to `to` only if nothing is at `to` (`RENAME_NOREPLACE`; on a filesystem
/// without it, a check then a rename). `AlreadyExists` when something is there.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat2(from, to, libc::RENAME_NOREPLACE) {
        Err(e) if unsupported(&e) => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists"));
            }
            fs::rename(from, to)
        }
        other => other,
    }
}

/// The folder holding `path` (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What a walk found at one path.
#[derive(Debug, Clone)]
pub struct Walked {
    /// Path relative to the walk's root.
    pub rel: PathBuf,
    /// The entry's type (the target's, for a link that was followed).
    pub file_type: fs::FileType,
    /// Size in bytes (files only).
    pub len: u64,
    /// A symbolic link that was followed.
    pub followed: bool,
}

/// What stopped a walk from going somewhere.
#[derive(Debug)]
pub enum WalkIssue {
    /// A followed link leads back to a folder above it.
    Loop(PathBuf),
    /// A followed link leads nowhere.
    Broken(PathBuf),
    /// A folder or entry could not be read.
    Io(PathBuf, io::Error),
}

/// Lists every entry below `root`, each folder's entries sorted by name, in depth-first
/// order. Sizes come from `statx` relative to the open folder (no path walk from the root per
/// file, which dominates listing 100,000 small files), and folders are read in parallel on
/// the current rayon pool. `skip_top` names top-level entries to leave out. With
/// `follow_links`, links are resolved (their target's type and size are reported) and loops
/// are reported instead of followed.
pub fn walk(root: &Path, follow_links: bool, skip_top: &[&str]) -> (Vec<Walked>, Vec<WalkIssue>) {
    let mut ancestors = Vec::new();
    if follow_links && let Ok(m) = fs::metadata(root) {
        use std::os::unix::fs::MetadataExt;
        ancestors.push((m.dev(), m.ino()));
    }
    walk_dir(root, Path::new(""), follow_links, skip_top, &ancestors)
}

fn walk_dir(
    root: &Path,
    rel: &Path,
    follow: bool,
    skip_top: &[&str],
    ancestors: &[(u64, u64)],
) -> (Vec<Walked>, Vec<WalkIssue>) {
    use rayon::prelude::*;
    use std::os::unix::fs::MetadataExt;
    let dir = root.join(rel);
    let mut issues = Vec::new();
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) => return (Vec::new(), vec![WalkIssue::Io(dir, e)]),
    };
    let top = rel.as_os_str().is_empty();
    let mut children = Vec::new();
    for ent in rd {
        let ent = match ent {
            Ok(e) => e,
            Err(e) => {
                issues.push(WalkIssue::Io(dir.clone(), e));
                continue;
            }
        };
        let name = ent.file_name();
        if top && skip_top.iter().any(|s| name == *s) {
            continue;
        }
        let child = rel.join(&name);
        let ft = match ent.file_type() {
            Ok(t) => t,
            Err(e) => {
                issues.push(WalkIssue::Io(root.join(&child), e));
                continue;
            }
        };
        let (file_type, len, followed) = if ft.is_symlink() && follow {
            match fs::metadata(ent.path()) {
                Ok(m) => (m.file_type(), m.len(), true),
                Err(_) => {
                    issues.push(WalkIssue::Broken(child));
                    continue;
                }
            }
        } else if ft.is_file() {
            match ent.metadata() {
                Ok(m) => (ft, m.len(), false),
                Err(e) => {
                    issues.push(WalkIssue::Io(root.join(&child), e));
                    continue;
                }
            }
        } else {
            (ft, 0, false)
        };
        children.push(Walked {
            rel: child,
            file_type,
            len,
            followed,
        });
    }
    children.sort_by(|a, b| a.rel.cmp(&b.rel));
    let subtrees: Vec<Option<(Vec<Walked>, Vec<WalkIssue>)>> = children
        .par_iter()
        .map(|c| {
            if !c.file_type.is_dir() {
                return None;
            }
            if !follow {
                return Some(walk_dir(root, &c.rel, follow, skip_top, ancestors));
            }
            match fs::metadata(root.join(&c.rel)) {
                Ok(m) if ancestors.contains(&(m.dev(), m.ino())) => {
                    Some((Vec::new(), vec![WalkIssue::Loop(c.rel.clone())]))
                }
                Ok(m) => {
                    let mut next = ancestors.to_vec();
                    next.push((m.dev(), m.ino()));
                    Some(walk_dir(root, &c.rel, follow, skip_top, &next))
                }
                Err(e) => Some((Vec::new(), vec![WalkIssue::Io(root.join(&c.rel), e)])),
            }
        })
        .collect();
    let mut out = Vec::with_capacity(children.len());
    for (c, sub) in children.into_iter().zip(subtrees) {
        out.push(c);
        if let Some((entries, more)) = sub {
            out.extend(entries);
            issues.extend(more);
        }
    }
    (out, issues)
}

/// The content of the regular file at `path`, read without following a link in its last
/// component and without waiting on a FIFO. A bag from elsewhere may hold a FIFO where a tag
/// file belongs (which `fs::read` waits on forever) or a link leading out of it (which
/// `fs::read` follows): both are refused here as `InvalidInput`.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    open_regular(path)?.read_to_end(&mut out)?;
    Ok(out)
}

/// Opens the regular file at `path` for reading, as [`read_regular`] judges it: no link
/// followed in the last component, no waiting on a FIFO, anything but a regular file refused
/// as `InvalidInput`. For callers that stream the content instead of holding it.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// [`read_regular`], as UTF-8 text.
pub fn read_regular_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read_regular(path)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The absolute form of `path`, with `.` and `..` resolved lexically against the current
/// folder (no link is followed).
pub fn lexical_absolute(path: &Path) -> io::Result<PathBuf> {
    use std::path::Component;
    let mut out = std::env::current_dir()?;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out = PathBuf::from(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Ok(out)
}

/// Where `path` is, or would be once created: `..` is resolved lexically first, then the
/// nearest existing ancestor is resolved through its links, and the components still to be
/// made are put back. Two paths name the same place exactly when their resolutions are equal.
pub fn resolve_prospective(path: &Path) -> io::Result<PathBuf> {
    let lexical = lexical_absolute(path)?;
    let mut existing = lexical.as_path();
    let mut missing = Vec::new();
    while fs::symlink_metadata(existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = fs::canonicalize(existing)?;
    resolved.extend(missing.iter().rev());
    Ok(resolved)
}

/// How an output place relates to an input place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// They are the same place.
    Same,
    /// The output lies inside the input.
    OutputInsideInput,
    /// The output contains the input (replacing the output would destroy the input).
    InputInsideOutput,
}

impl Overlap {
    /// A sentence for an error message: `output` and `input` as the user named them.
    pub fn describe(self, output: &Path, input: &Path) -> String {
        let (o, i) = (output.display(), input.display());
        match self {
            Overlap::Same => format!("the output {o} is the input {i} itself"),
            Overlap::OutputInsideInput => format!("the output {o} lies inside the input {i}"),
            Overlap::InputInsideOutput => format!("the output {o} contains the input {i}"),
        }
    }
}

/// Whether writing `output` could touch `input`, after resolving links and `..` in both
/// (an output that does not exist yet is judged by where it would be created). An error
/// means one of them could not be resolved (the input does not exist, a folder cannot be
/// read): callers refuse then too.
pub fn overlap(input: &Path, output: &Path) -> io::Result<Option<Overlap>> {
    let input = fs::canonicalize(input)?;
    let output = resolve_prospective(output)?;
    Ok(if input == output {
        Some(Overlap::Same)
    } else if output.starts_with(&input) {
        Some(Overlap::OutputInsideInput)
    } else if input.starts_with(&output) {
        Some(Overlap::InputInsideOutput)
    } else {
        None
    })
}

/// An exclusive lock on a folder, held until dropped: `flock(2)` on the folder itself, so
/// nothing is created inside it and nothing is left behind, and the kernel releases it when
/// the process dies however it dies.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error(
        "{} is in use by another qoima run (it holds a lock on the folder); wait for it to finish and run again",
        .0.display()
    )]
    Busy(PathBuf),
    /// The folder could not be opened or locked.
    #[error("{}: cannot lock: {source}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl DirLock {
    /// Takes the lock on `dir` without waiting: [`LockError::Busy`] when another process holds
    /// it.
    pub fn try_acquire(dir: &Path) -> Result<DirLock, LockError> {
        Self::acquire_with(dir, libc::LOCK_EX | libc::LOCK_NB)
    }

    /// Takes the lock on `dir`, waiting for another holder to release it.
    pub fn acquire_waiting(dir: &Path) -> Result<DirLock, LockError> {
        Self::acquire_with(dir, libc::LOCK_EX)
    }

    fn acquire_with(dir: &Path, op: libc::c_int) -> Result<DirLock, LockError> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let io_err = |source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(io_err)?;
        loop {
            // SAFETY: flock only reads the descriptor, which `file` keeps open for the call.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(DirLock { _dir: file });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => return Err(LockError::Busy(dir.to_path_buf())),
                _ => return Err(io_err(err)),
            }
        }
    }
}

/// The most qoima reads whole from a small file the user names (info files, keys, trusted
/// keys, recipients, passphrase files, profiles, rules): 16 MiB, far above any real one.
pub const SMALL_FILE_LIMIT: u64 = 16 << 20;

/// Reads a file the user named, whole, refusing what cannot be such a file: anything that is
/// not a regular file once opened (`/dev/zero`, a FIFO, a folder — opened without blocking,
/// so a FIFO cannot hang the open) and anything larger than `limit` bytes (read no further
/// than that, so memory stays bounded whatever the file claims). Links are followed: the user
/// named the file. The error says which limit was met; callers add the path.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "a device, FIFO or socket"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file; give a file"),
        ));
    }
    let mut data = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than {}, the most qoima reads for this kind of file",
                crate::verdict::limit_bytes(limit)
            ),
        ));
    }
    Ok(data)
}

/// [`read_bounded`] for UTF-8 text.
pub fn read_bounded_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bounded_refuses_devices_folders_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        fs::write(&small, b"abc").unwrap();
        assert_eq!(read_bounded(&small, 3).unwrap(), b"abc");
        let e = read_bounded(&small, 2).unwrap_err();
        assert!(e.to_string().contains("larger than 2 bytes"), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read_bounded(dir.path(), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        fs::write(&small, b"\xff").unwrap();
        assert!(
            read_bounded_text(&small, 10)
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
    }

    #[test]
    fn temp_target_reads_back_only_temp_sibling_names() {
        let tmp = temp_sibling(Path::new("bag/bag-info.txt"), "write");
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_target(name, "write"), Some("bag-info.txt"));
        assert_eq!(temp_target(name, "seal"), None);
        for other in [
            "bag-info.txt.qoima-write-12",
            ".bag-info.txt.qoima-write-",
            ".bag-info.txt.qoima-write-12a",
            "notes.qoima-write-1.txt",
            "..qoima-write-1",
        ] {
            assert_eq!(temp_target(other, "write"), None, "{other}");
        }
    }

    #[test]
    fn overlap_sees_through_links_and_dotdot() {
        let d = tempfile::tempdir().unwrap();
        let archive = d.path().join("archive");
        let col = archive.join("col");
        fs::create_dir_all(&col).unwrap();
        std::os::unix::fs::symlink(&col, d.path().join("alias")).unwrap();
        let ov = |i: &Path, o: &Path| overlap(i, o).unwrap();
        assert_eq!(ov(&col, &archive), Some(Overlap::InputInsideOutput));
        assert_eq!(ov(&col, &col), Some(Overlap::Same));
        assert_eq!(ov(&col, &d.path().join("alias")), Some(Overlap::Same));
        assert_eq!(
            ov(&col, &col.join("new/bag")),
            Some(Overlap::OutputInsideInput)
        );
        assert_eq!(
            ov(&col, &d.path().join("alias/../archive/col/x")),
            Some(Overlap::OutputInsideInput)
        );
        assert_eq!(ov(&col, &d.path().join("elsewhere")), None);
        assert_eq!(ov(&col, &archive.join("column")), None);
    }

    #[test]
    fn sweep_stale_removes_only_dead_runs_temporaries_of_its_tag() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out.zip");
        // A pid that cannot exist (above the kernel's pid_max limit of 2^22).
        let dead = 4_194_999;
        let live = std::process::id();
        let dead_file = d.path().join(format!(".out.zip.qoima-serialize-{dead}"));
        let dead_dir = d.path().join(format!(
            ".out.zip.qoima-serialize-{dead}.qoima-write-{dead}"
        ));
        let live_file = d.path().join(format!(".out.zip.qoima-serialize-{live}"));
        let old = d.path().join(format!(".out.zip.qoima-old-{dead}"));
        let other = d.path().join(format!(".other.qoima-serialize-{dead}"));
        fs::write(&dead_file, "x").unwrap();
        fs::create_dir(&dead_dir).unwrap();
        fs::write(dead_dir.join("inner"), "x").unwrap();
        for keep in [&live_file, &old, &other] {
            fs::write(keep, "x").unwrap();
        }
        let mut removed = sweep_stale(&out, "serialize");
        removed.sort();
        assert_eq!(removed, [dead_file.clone(), dead_dir.clone()]);
        assert!(!dead_file.exists() && !dead_dir.exists());
        assert!(live_file.exists() && old.exists() && other.exists());
    }

    #[test]
    fn a_locked_folder_is_busy_until_released() {
        let d = tempfile::tempdir().unwrap();
        let held = DirLock::try_acquire(d.path()).unwrap();
        assert!(matches!(
            DirLock::try_acquire(d.path()),
            Err(LockError::Busy(_))
        ));
        drop(held);
        DirLock::try_acquire(d.path()).unwrap();
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
