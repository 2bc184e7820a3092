//! Writing a bag's tag files: manifests, bag-info.txt, tag manifests and — last — bagit.txt,
//! each through a temporary name, hashed as it is written.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::BagError;
use super::options::{BagOptions, bagging_date};
use super::scan::SourceFile;
use crate::bagit::baginfo::{BagInfo, Oxum};
use crate::bagit::declaration::{self, Declaration, Version};
use crate::bagit::manifest;
use crate::bagit::text::Encoding;
use crate::digest::{Algorithm, Digest, FileDigests, Hasher};
use crate::fsutil;
use crate::verdict::human_bytes;

/// Writes bagit.txt, bag-info.txt, the manifests and the tag manifests into `bag`, whose
/// payload is `files` (paths relative to data/) with `digests`. `extra_tags` are further tag
/// files (bag-relative path, content) to write and list in the tag manifests. bagit.txt is
/// written last, so a bag interrupted while its tag files are written is not mistaken for one.
pub fn write_tag_files(
    bag: &Path,
    files: &[SourceFile],
    digests: &[FileDigests],
    opts: &BagOptions,
    extra_tags: &[(String, Vec<u8>)],
) -> Result<BagInfo, BagError> {
    // Each tag file is written to a temporary name and renamed; its digests for the tag
    // manifests are computed from the same bytes as they are written (a manifest of 100,000
    // lines is never held in memory).
    let write = |rel: &str,
                 fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>|
     -> Result<(String, Vec<Digest>), BagError> {
        let path = bag.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(BagError::io(parent))?;
        }
        let mut writer = TagWriter::create(&path, &opts.algorithms).map_err(BagError::io(&path))?;
        fill(&mut writer).map_err(BagError::io(&path))?;
        let written = writer.commit().map_err(BagError::io(&path))?;
        fsutil::failpoint("tag-write");
        Ok((rel.to_string(), written))
    };
    let mut tags: Vec<(String, Vec<Digest>)> = Vec::new();
    for (rel, data) in opts.tag_files.iter().chain(extra_tags) {
        tags.push(write(rel, &mut |out| out.write_all(data))?);
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&first, &second| files[first].rel.cmp(&files[second].rel));
    for &algorithm in &opts.algorithms {
        let name = manifest::file_name(false, algorithm);
        tags.push(write(&name, &mut |out| {
            let mut path = String::new();
            for &index in &order {
                path.clear();
                path.push_str("data/");
                path.push_str(&files[index].rel);
                let digest = digests[index]
                    .get(algorithm)
                    .expect("every algorithm was computed");
                manifest::write_line(out, &path, digest)?;
            }
            Ok(())
        })?);
    }
    let oxum = Oxum {
        octets: digests.iter().map(|file| file.size).sum(),
        streams: files.len() as u64,
    };
    let info = final_info(&opts.info, opts.date, oxum);
    let info_text = info.render();
    tags.push(write("bag-info.txt", &mut |out| {
        out.write_all(info_text.as_bytes())
    })?);
    let declared = declaration::render(Declaration {
        version: Version::V1_0,
        encoding: Encoding::Utf8,
    });
    tags.push((
        "bagit.txt".into(),
        opts.algorithms
            .iter()
            .map(|&algorithm| digest_of(algorithm, declared.as_bytes()))
            .collect(),
    ));
    tags.sort_by(|first, second| first.0.cmp(&second.0));
    for (position, &algorithm) in opts.algorithms.iter().enumerate() {
        let name = manifest::file_name(true, algorithm);
        write(&name, &mut |out| {
            for (path, tag_digests) in &tags {
                manifest::write_line(out, path, &tag_digests[position])?;
            }
            Ok(())
        })?;
    }
    write("bagit.txt", &mut |out| out.write_all(declared.as_bytes()))?;
    Ok(info)
}

fn digest_of(algorithm: Algorithm, data: &[u8]) -> Digest {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(data);
    hasher.finish()
}

/// A tag file being written: buffered, hashed as it goes, under a temporary name until
/// [`TagWriter::commit`] flushes it to disk and renames it into place.
struct TagWriter {
    /// `None` once committed.
    out: Option<io::BufWriter<fs::File>>,
    hashers: Vec<Hasher>,
    tmp: PathBuf,
    path: PathBuf,
}

impl TagWriter {
    fn create(path: &Path, algorithms: &[Algorithm]) -> io::Result<TagWriter> {
        let tmp = fsutil::temp_sibling(path, "write");
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        Ok(TagWriter {
            out: Some(io::BufWriter::with_capacity(256 * 1024, file)),
            hashers: algorithms
                .iter()
                .map(|&algorithm| Hasher::new(algorithm))
                .collect(),
            tmp,
            path: path.to_path_buf(),
        })
    }

    fn commit(mut self) -> io::Result<Vec<Digest>> {
        let out = self.out.take().expect("committed once");
        let placed = (|| {
            let file = out.into_inner().map_err(|error| error.into_error())?;
            file.sync_all()?;
            fs::rename(&self.tmp, &self.path)
        })();
        if let Err(error) = placed {
            // A full or failing disk while flushing: the temporary is this run's, and
            // incomplete; `Drop` no longer sees it, so remove it here.
            let _ = fs::remove_file(&self.tmp);
            return Err(error);
        }
        Ok(std::mem::take(&mut self.hashers)
            .into_iter()
            .map(Hasher::finish)
            .collect())
    }
}

impl Write for TagWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.as_mut().expect("not committed").write(buf)?;
        for hasher in &mut self.hashers {
            hasher.update(&buf[..written]);
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for TagWriter {
    fn drop(&mut self) {
        // A writer dropped before its commit leaves no temporary file behind.
        if self.out.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The bag-info qoima writes: the user's elements in their order, then Bagging-Date and
/// Bag-Software-Agent unless given, then the computed Payload-Oxum and Bag-Size (which
/// replace any given, since only the computed values can be true).
pub fn final_info(user: &BagInfo, date: Option<chrono::NaiveDate>, oxum: Oxum) -> BagInfo {
    let mut info = BagInfo::new();
    for element in user.elements() {
        if !element.label.eq_ignore_ascii_case("Payload-Oxum")
            && !element.label.eq_ignore_ascii_case("Bag-Size")
        {
            info.push(element.label.clone(), element.value.clone());
        }
    }
    if !info.contains("Bagging-Date") {
        info.push(
            "Bagging-Date",
            bagging_date(date).format("%Y-%m-%d").to_string(),
        );
    }
    if !info.contains("Bag-Software-Agent") {
        info.push(
            "Bag-Software-Agent",
            format!(
                "qoima {} <https://crates.io/crates/qoima>",
                env!("CARGO_PKG_VERSION")
            ),
        );
    }
    info.push("Payload-Oxum", oxum.to_string());
    info.push("Bag-Size", human_bytes(oxum.octets));
    info
}
