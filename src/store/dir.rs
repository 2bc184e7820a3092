//! A bag in a directory.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{DigestRequest, Entry, EntryKind, LinkTarget, Store};
use crate::digest::{DigestError, Engine, FileDigests, HashJob, Progress, open_for_read};

/// A bag stored as a directory.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// The bag at `root`.
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore { root: root.into() }
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
        let canon_root = fs::canonicalize(&self.root)?;
        let mut out = Vec::new();
        for item in WalkDir::new(&self.root)
            .min_depth(1)
            .follow_links(false)
            .sort_by_file_name()
        {
            let item = item.map_err(io::Error::other)?;
            let (path, utf8) = rel_string(&self.root, item.path());
            let ft = item.file_type();
            let (kind, size) = if ft.is_file() {
                (
                    EntryKind::File,
                    item.metadata().map_err(io::Error::other)?.len(),
                )
            } else if ft.is_dir() {
                (EntryKind::Dir, 0)
            } else if ft.is_symlink() {
                match fs::canonicalize(item.path()) {
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

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let f = open_for_read(&self.full(path), false)?;
        if !f.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Box::new(f))
    }

    fn digest(
        &self,
        requests: &[DigestRequest],
        engine: &Engine,
        progress: &dyn Progress,
    ) -> Vec<Result<FileDigests, DigestError>> {
        let jobs: Vec<HashJob> = requests
            .iter()
            .map(|r| HashJob {
                path: self.full(&r.path),
                size_hint: r.size_hint,
                algorithms: r.algorithms,
                copy_to: None,
                // Callers pass a link's resolved target; a link met here was swapped in after
                // the listing and is refused.
                follow_links: false,
            })
            .collect();
        engine.run(&jobs, progress)
    }
}
