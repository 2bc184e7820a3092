//! A bag in a directory.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{DigestRequest, Entry, EntryKind, LinkTarget, Store};
use crate::digest::{DigestError, Engine, FileDigests, HashJob, Progress, open_for_read};

/// A bag stored as a directory.
pub struct DirStore {
    root: PathBuf,
    /// The listing, made once: validation and an audit of the same store share it, and
    /// [`Store::listing`] hands it out without a copy.
    listing: std::sync::OnceLock<Arc<[Entry]>>,
}

impl DirStore {
    /// The bag at `root`.
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore {
            root: root.into(),
            listing: std::sync::OnceLock::new(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

fn rel_string(root: &Path, p: &Path) -> (String, bool) {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let mut out = String::new();
    let mut utf8 = true;
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let os = c.as_os_str();
        match os.to_str() {
            Some(s) => out.push_str(s),
            None => {
                utf8 = false;
                out.push_str(&os.to_string_lossy());
            }
        }
    }
    (out, utf8)
}

impl Store for DirStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self.listing()?.to_vec())
    }

    fn listing(&self) -> io::Result<Arc<[Entry]>> {
        if let Some(listing) = self.listing.get() {
            return Ok(Arc::clone(listing));
        }
        let walked: Arc<[Entry]> = self.walk()?.into();
        Ok(Arc::clone(self.listing.get_or_init(|| walked)))
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        self.open_file(path)
    }

    fn digest(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        self.digest_files(requests, engine, progress, done)
    }
}

impl DirStore {
    fn walk(&self) -> io::Result<Vec<Entry>> {
        let canon_root = fs::canonicalize(&self.root)?;
        if !fs::metadata(&self.root)?.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a folder"));
        }
        let (walked, issues) = crate::fsutil::walk(&self.root, false, &[]);
        let mut out = Vec::with_capacity(walked.len());
        // A folder that cannot be read is one problem in the report, not the end of it.
        for issue in issues {
            if let crate::fsutil::WalkIssue::Io(p, e) = issue {
                let rel = p.strip_prefix(&self.root).unwrap_or(&p).to_path_buf();
                let (path, utf8) = rel_string(Path::new(""), &rel);
                out.push(Entry {
                    path,
                    utf8,
                    kind: EntryKind::Unreadable(e.to_string()),
                    size: 0,
                });
            }
        }
        for w in walked {
            let (path, utf8) = rel_string(Path::new(""), &w.rel);
            let ft = w.file_type;
            let (kind, size) = if ft.is_file() {
                (EntryKind::File, w.len)
            } else if ft.is_dir() {
                (EntryKind::Dir, 0)
            } else if ft.is_symlink() {
                let full = self.root.join(&w.rel);
                match fs::canonicalize(&full) {
                    Err(_) => (EntryKind::Symlink(LinkTarget::Broken), 0),
                    Ok(t) if t.starts_with(&canon_root) => {
                        let m = fs::metadata(&t)?;
                        if m.is_file() {
                            let (target, _) = rel_string(&canon_root, &t);
                            (EntryKind::Symlink(LinkTarget::InsideFile(target)), m.len())
                        } else if m.is_dir() {
                            (EntryKind::Symlink(LinkTarget::InsideDir), 0)
                        } else {
                            (EntryKind::Special, 0)
                        }
                    }
                    Ok(t) => (
                        EntryKind::Symlink(LinkTarget::Outside(t.display().to_string())),
                        0,
                    ),
                }
            } else {
                (EntryKind::Special, 0)
            };
            out.push(Entry {
                path,
                utf8,
                kind,
                size,
            });
        }
        Ok(out)
    }

    fn open_file(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let f = open_for_read(&self.full(path), false)?;
        if !f.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Box::new(f))
    }

    fn digest_files(
        &self,
        requests: &[DigestRequest<'_>],
        engine: &Engine,
        progress: &dyn Progress,
        done: &(dyn Fn(usize, Result<FileDigests, DigestError>) + Sync),
    ) {
        engine.run_each(
            requests.len(),
            |i| requests[i].size_hint,
            |i| HashJob {
                path: self.full(requests[i].path),
                size_hint: requests[i].size_hint,
                algorithms: requests[i].algorithms,
                copy_to: None,
                // Callers pass a link's resolved target; a link met here was swapped in after
                // the listing and is refused.
                follow_links: false,
            },
            progress,
            done,
        );
    }
}
