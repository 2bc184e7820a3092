//! The structure of a METS document: the `fileSec` (one `fileGrp USE="original"`), the
//! physical `structMap` mirroring the folder tree, and the logical one by collection
//! section, dates ordering the photographs inside each.

use std::io::{self, Write};

use quick_xml::Writer;

use super::model::{
    AGENT_DIGIPROV_ID, COLLECTION_DMD_ID, MetsInput, admid, dmd_id, file_id, uri_path,
};
use crate::describe::xml::{close, empty, open, open_with};

/// The `fileSec`: one `fileGrp USE="original"` listing every item, with its checksum,
/// its sections (`ADMID`, `DMDID`) and its location.
pub(super) fn file_sec<W: Write>(writer: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    open(writer, "mets:fileSec")?;
    open_with(
        writer,
        "mets:fileGrp",
        &[("ID", "filegrp-original"), ("USE", "original")],
    )?;
    for (index, item) in input.items.iter().enumerate() {
        let id = file_id(index);
        let size = item.size.to_string();
        let adm = admid(index, item);
        let dmd = dmd_id(index);
        let mut attrs: Vec<(&str, &str)> =
            vec![("ID", &id), ("MIMETYPE", &item.mime), ("SIZE", &size)];
        if let Some(created) = &item.created {
            attrs.push(("CREATED", created));
        }
        if let Some((algorithm, digest)) = item.digests.first() {
            attrs.push(("CHECKSUM", digest));
            attrs.push(("CHECKSUMTYPE", algorithm));
        }
        attrs.push(("ADMID", &adm));
        attrs.push(("DMDID", &dmd));
        open_with(writer, "mets:file", &attrs)?;
        let href = uri_path(&item.file);
        empty(
            writer,
            "mets:FLocat",
            &[
                ("LOCTYPE", "URL"),
                ("xlink:type", "simple"),
                ("xlink:href", &href),
            ],
        )?;
        close(writer, "mets:file")?;
    }
    close(writer, "mets:fileGrp")?;
    close(writer, "mets:fileSec")
}

/// A `fptr` to item `index`'s file.
fn fptr<W: Write>(writer: &mut Writer<W>, index: usize) -> io::Result<()> {
    empty(writer, "mets:fptr", &[("FILEID", &file_id(index))])
}

/// A folder of the physical tree: sub-folders and files in first-seen order.
#[derive(Default)]
struct Folder<'a> {
    name: &'a str,
    folders: Vec<Folder<'a>>,
    /// `(file name, item index)`.
    files: Vec<(&'a str, usize)>,
}

impl<'a> Folder<'a> {
    fn insert(&mut self, path: &'a str, index: usize) {
        match path.split_once('/') {
            Some((dir, rest)) => {
                let position = match self.folders.iter().position(|f| f.name == dir) {
                    Some(position) => position,
                    None => {
                        self.folders.push(Folder {
                            name: dir,
                            ..Default::default()
                        });
                        self.folders.len() - 1
                    }
                };
                self.folders[position].insert(rest, index);
            }
            None => self.files.push((path, index)),
        }
    }

    fn write<W: Write>(&self, writer: &mut Writer<W>) -> io::Result<()> {
        for (order, folder) in self.folders.iter().enumerate() {
            let order = (order + 1).to_string();
            open_with(
                writer,
                "mets:div",
                &[
                    ("TYPE", "directory"),
                    ("LABEL", folder.name),
                    ("ORDER", &order),
                ],
            )?;
            folder.write(writer)?;
            close(writer, "mets:div")?;
        }
        for (order, (name, index)) in self.files.iter().enumerate() {
            let order = (self.folders.len() + order + 1).to_string();
            open_with(
                writer,
                "mets:div",
                &[("TYPE", "file"), ("LABEL", name), ("ORDER", &order)],
            )?;
            fptr(writer, *index)?;
            close(writer, "mets:div")?;
        }
        Ok(())
    }
}

/// The physical `structMap`: the folder tree, folders before files.
pub(super) fn physical_map<W: Write>(writer: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    let mut root = Folder::default();
    for (index, item) in input.items.iter().enumerate() {
        root.insert(&item.file, index);
    }
    open_with(
        writer,
        "mets:structMap",
        &[("ID", "structmap-physical"), ("TYPE", "physical")],
    )?;
    open_with(
        writer,
        "mets:div",
        &[
            ("TYPE", "collection"),
            ("LABEL", &input.label),
            ("DMDID", COLLECTION_DMD_ID),
            ("ADMID", AGENT_DIGIPROV_ID),
        ],
    )?;
    root.write(writer)?;
    close(writer, "mets:div")?;
    close(writer, "mets:structMap")
}

/// The logical `structMap`: the collection's sections, then the items without one.
pub(super) fn logical_map<W: Write>(writer: &mut Writer<W>, input: &MetsInput) -> io::Result<()> {
    // Sections in first-seen order; items without one come after them, directly under the
    // collection. Within each, items are stably ordered by their record's date string.
    let mut sections: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut loose = Vec::new();
    for (index, item) in input.items.iter().enumerate() {
        match item.section.as_deref() {
            Some(section) => match sections.iter_mut().find(|(name, _)| *name == section) {
                Some((_, items)) => items.push(index),
                None => sections.push((section, vec![index])),
            },
            None => loose.push(index),
        }
    }
    let date = |index: &usize| input.items[*index].record.first("date").unwrap_or("");
    open_with(
        writer,
        "mets:structMap",
        &[("ID", "structmap-logical"), ("TYPE", "logical")],
    )?;
    open_with(
        writer,
        "mets:div",
        &[
            ("TYPE", "collection"),
            ("LABEL", &input.label),
            ("DMDID", COLLECTION_DMD_ID),
        ],
    )?;
    for (order, (name, items)) in sections.iter_mut().enumerate() {
        items.sort_by_key(date);
        let order = (order + 1).to_string();
        open_with(
            writer,
            "mets:div",
            &[("TYPE", "section"), ("LABEL", name), ("ORDER", &order)],
        )?;
        photographs(writer, input, items)?;
        close(writer, "mets:div")?;
    }
    loose.sort_by_key(date);
    photographs(writer, input, &loose)?;
    close(writer, "mets:div")?;
    close(writer, "mets:structMap")
}

/// One `div TYPE="photograph"` per item of `items`, in that order.
fn photographs<W: Write>(
    writer: &mut Writer<W>,
    input: &MetsInput,
    items: &[usize],
) -> io::Result<()> {
    for (order, &index) in items.iter().enumerate() {
        let order = (order + 1).to_string();
        let dmd = dmd_id(index);
        let item = &input.items[index];
        let label = item
            .record
            .first("title")
            .or_else(|| item.record.first("identifier"))
            .unwrap_or(&item.file);
        open_with(
            writer,
            "mets:div",
            &[
                ("TYPE", "photograph"),
                ("LABEL", label),
                ("ORDER", &order),
                ("DMDID", &dmd),
            ],
        )?;
        fptr(writer, index)?;
        close(writer, "mets:div")?;
    }
    Ok(())
}
