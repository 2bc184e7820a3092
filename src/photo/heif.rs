//! HEIF structure (ISO/IEC 23008-12 on the ISO base media file format; HEIC and AVIF too).
//!
//! A HEIF file is a tree of length-prefixed boxes. This checks that the top-level boxes tile
//! the file (a truncated `mdat` shows here), that `ftyp` comes first and a `meta` box exists,
//! and that every item the `iloc` box places in the file lies inside it — the images of a
//! HEIC live at offsets the `iloc` box gives, so a cut-off file loses them even when the boxes
//! still look whole. The primary image's size and bit depth come from its `ispe` and `pixi`
//! properties. The HEVC or AV1 data is not decoded.

use super::bytes::{be16, be32, be64, slice};
use super::isobox::read_box;
use super::{Findings, Technical};
use crate::error::Code;

/// Validates a HEIF-family file (`ftyp` at byte 4).
pub(crate) fn check(data: &[u8], tech: &mut Technical, out: &mut Findings<'_>) {
    let len = data.len() as u64;
    let mut pos = 0u64;
    let mut meta: Option<(u64, u64)> = None;
    let mut first = true;
    while pos < len {
        let child = match read_box(data, pos, len) {
            Ok(child) => child,
            Err(why) => {
                out.push(Code::PhotoDamaged, why);
                return;
            }
        };
        if first && &child.typ != b"ftyp" {
            out.push(
                Code::PhotoDamaged,
                "the first box is not the file type box (ftyp)",
            );
        }
        if &child.typ == b"meta" && meta.is_none() {
            meta = Some((child.start, child.end));
        }
        first = false;
        pos = child.end;
    }
    let Some((start, end)) = meta else {
        out.push(
            Code::PhotoDamaged,
            "there is no meta box: the file describes no image items",
        );
        return;
    };
    // `meta` is a full box: 4 bytes of version and flags before its children.
    let meta = &data[..end as usize];
    if let Err(why) = read_meta(meta, start + 4, end, data.len() as u64, tech) {
        out.push(Code::PhotoDamaged, why);
    }
}

/// Children of `meta`: locations (`iloc`), the primary item (`pitm`), properties (`iprp`).
fn read_meta(
    data: &[u8],
    from: u64,
    to: u64,
    file_len: u64,
    tech: &mut Technical,
) -> Result<(), String> {
    let mut primary: Option<u32> = None;
    let mut iprp: Option<(u64, u64)> = None;
    let mut pos = from;
    while pos < to {
        let child = read_box(data, pos, to).map_err(|why| format!("in the meta box, {why}"))?;
        match &child.typ {
            b"pitm" => {
                primary = match data.get(child.start as usize) {
                    Some(0) => be16(data, child.start + 4).map(u32::from),
                    Some(_) => be32(data, child.start + 4),
                    None => None,
                };
            }
            b"iloc" => iloc(data, child.start, child.end, file_len)?,
            b"iinf" => item_infos(data, child.start, child.end)?,
            b"iprp" => iprp = Some((child.start, child.end)),
            _ => {}
        }
        pos = child.end;
    }
    if let Some((iprp_start, iprp_end)) = iprp {
        properties(data, iprp_start, iprp_end, primary, tech)?;
    }
    Ok(())
}

/// The item information box (`iinf`): each item's `infe` entry must fit inside it, and there
/// must be as many entries as it declares.
fn item_infos(data: &[u8], start: u64, end: u64) -> Result<(), String> {
    let short = || "the item information box (iinf) is cut short".to_string();
    let version = *data.get(start as usize).ok_or_else(short)?;
    let (declared, mut pos) = if version == 0 {
        (
            u64::from(be16(data, start + 4).ok_or_else(short)?),
            start + 6,
        )
    } else {
        (
            u64::from(be32(data, start + 4).ok_or_else(short)?),
            start + 8,
        )
    };
    let mut entries = 0u64;
    while pos < end {
        let child = read_box(data, pos, data.len() as u64)
            .map_err(|why| format!("in the item information box (iinf), {why}"))?;
        if child.end > end {
            let name = String::from_utf8_lossy(&child.typ).into_owned();
            return Err(format!(
                "the {name:?} box at byte {pos} declares {} bytes, {} more than its parent item information box (iinf) holds: the item table is damaged",
                child.end - pos,
                child.end - end
            ));
        }
        entries += u64::from(&child.typ == b"infe");
        pos = child.end;
    }
    if entries < declared {
        return Err(format!(
            "the item information box (iinf) at byte {} declares {declared} items but holds {entries}: the item table is damaged",
            start - 8
        ));
    }
    Ok(())
}

/// An unsigned integer of 0, 4 or 8 bytes (iloc field sizes).
fn sized(data: &[u8], at: u64, size: u8) -> Option<u64> {
    match size {
        0 => Some(0),
        4 => be32(data, at).map(u64::from),
        8 => be64(data, at),
        _ => None,
    }
}

/// Every extent stored by file offset must lie inside the file.
fn iloc(data: &[u8], start: u64, end: u64, file_len: u64) -> Result<(), String> {
    let short = || "the item location box (iloc) is cut short".to_string();
    let body = slice(data, start, end - start).ok_or_else(short)?;
    let version = *body.first().ok_or_else(short)?;
    let sizes = be16(body, 4).ok_or_else(short)?;
    let (off_size, len_size, base_size) = (
        (sizes >> 12) as u8,
        ((sizes >> 8) & 0xF) as u8,
        ((sizes >> 4) & 0xF) as u8,
    );
    let index_size = if version >= 1 { (sizes & 0xF) as u8 } else { 0 };
    for (name, size) in [
        ("offset_size", off_size),
        ("length_size", len_size),
        ("base_offset_size", base_size),
        ("index_size", index_size),
    ] {
        if !matches!(size, 0 | 4 | 8) {
            return Err(format!(
                "the item location box (iloc) at byte {} gives {name} {size}; each field size must be 0, 4 or 8 bytes, so no item can be located",
                start - 8
            ));
        }
    }
    let mut cursor: u64 = 6;
    let id_size = if version < 2 { 2 } else { 4 };
    let count = if version < 2 {
        u64::from(be16(body, cursor).ok_or_else(short)?)
    } else {
        u64::from(be32(body, cursor).ok_or_else(short)?)
    };
    cursor += id_size;
    for _ in 0..count {
        let id = if version < 2 {
            be16(body, cursor).map(u32::from)
        } else {
            be32(body, cursor)
        }
        .ok_or_else(short)?;
        cursor += id_size;
        let method = if version >= 1 {
            let method = be16(body, cursor).ok_or_else(short)? & 0xF;
            cursor += 2;
            method
        } else {
            0
        };
        cursor += 2; // data_reference_index
        let base = sized(body, cursor, base_size).ok_or_else(short)?;
        cursor += u64::from(base_size);
        let extents = be16(body, cursor).ok_or_else(short)?;
        cursor += 2;
        for _ in 0..extents {
            cursor += u64::from(index_size);
            let off = sized(body, cursor, off_size).ok_or_else(short)?;
            cursor += u64::from(off_size);
            let length = sized(body, cursor, len_size).ok_or_else(short)?;
            cursor += u64::from(len_size);
            if method == 0 {
                let at = base.checked_add(off);
                if at
                    .and_then(|start| start.checked_add(length))
                    .is_none_or(|end| end > file_len)
                {
                    return Err(format!(
                        "item {id}'s data ({length} bytes at byte {}) lies beyond the end of the file ({file_len} bytes): the file is truncated",
                        at.unwrap_or(u64::MAX)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The primary item's `ispe` (size) and `pixi` (bit depth); the largest `ispe` when the
/// associations cannot be resolved.
fn properties(
    data: &[u8],
    from: u64,
    to: u64,
    primary: Option<u32>,
    tech: &mut Technical,
) -> Result<(), String> {
    let mut ipco: Option<(u64, u64)> = None;
    let mut ipma: Option<(u64, u64)> = None;
    let mut pos = from;
    while pos < to {
        let child =
            read_box(data, pos, to).map_err(|why| format!("in the item properties box, {why}"))?;
        match &child.typ {
            b"ipco" => ipco = Some((child.start, child.end)),
            b"ipma" => ipma = Some((child.start, child.end)),
            _ => {}
        }
        pos = child.end;
    }
    let Some((ipco_start, ipco_end)) = ipco else {
        return Ok(());
    };
    let wanted = match (primary, ipma) {
        (Some(item), Some((ipma_start, ipma_end))) => {
            associations(data, ipma_start, ipma_end, item)
        }
        _ => None,
    };
    let mut index = 0u16;
    let mut pos = ipco_start;
    let mut best: Option<(u32, u32)> = None;
    while pos < ipco_end {
        let child = read_box(data, pos, ipco_end)
            .map_err(|why| format!("in the item property container, {why}"))?;
        index += 1;
        let chosen = wanted
            .as_ref()
            .is_none_or(|indices| indices.contains(&index));
        match &child.typ {
            b"ispe" if chosen => {
                if let (Some(width), Some(height)) =
                    (be32(data, child.start + 4), be32(data, child.start + 8))
                {
                    let bigger = best.is_none_or(|(best_width, best_height)| {
                        u64::from(width) * u64::from(height)
                            > u64::from(best_width) * u64::from(best_height)
                    });
                    if wanted.is_some() || bigger {
                        best = Some((width, height));
                    }
                }
            }
            b"pixi" if chosen && wanted.is_some() => {
                if let Some(&channels) = data.get(child.start as usize + 4) {
                    tech.samples_per_pixel = Some(u16::from(channels));
                    tech.bits_per_sample = data
                        .get(child.start as usize + 5)
                        .map(|&bits| u16::from(bits));
                }
            }
            _ => {}
        }
        pos = child.end;
    }
    if let Some((width, height)) = best {
        tech.width = Some(width);
        tech.height = Some(height);
    }
    Ok(())
}

/// The property indices (1-based) associated with `item` in an `ipma` box.
fn associations(data: &[u8], start: u64, end: u64, item: u32) -> Option<Vec<u16>> {
    let body = slice(data, start, end - start)?;
    let version = *body.first()?;
    let wide = body.get(3)? & 1 == 1;
    let count = be32(body, 4)?;
    let mut cursor = 8u64;
    for _ in 0..count {
        let id = if version < 1 {
            let value = be16(body, cursor).map(u32::from);
            cursor += 2;
            value
        } else {
            let value = be32(body, cursor);
            cursor += 4;
            value
        }?;
        let associated = *body.get(cursor as usize)?;
        cursor += 1;
        let mut found = Vec::with_capacity(usize::from(associated));
        for _ in 0..associated {
            let index = if wide {
                let value = be16(body, cursor)? & 0x7FFF;
                cursor += 2;
                value
            } else {
                let value = u16::from(*body.get(cursor as usize)? & 0x7F);
                cursor += 1;
                value
            };
            found.push(index);
        }
        if id == item {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::tests::{bx, codes_of};

    fn full(typ: &[u8; 4], version: u8, flags: u8, content: &[u8]) -> Vec<u8> {
        let mut bytes = vec![version, 0, 0, flags];
        bytes.extend_from_slice(content);
        bx(typ, &bytes)
    }

    /// ftyp, meta (pitm = 1, iloc placing item 1 at `item_off` for 10 bytes, iprp with a
    /// thumbnail ispe (index 1) and the primary's ispe and pixi (2, 3)), mdat.
    fn heic(item_off: u32) -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let pitm = full(b"pitm", 0, 0, &[0, 1]);
        let mut il = vec![0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        il.extend_from_slice(&item_off.to_be_bytes());
        il.extend_from_slice(&10u32.to_be_bytes());
        let iloc = full(b"iloc", 0, 0, &il);
        let mut ispe_small = vec![];
        ispe_small.extend_from_slice(&160u32.to_be_bytes());
        ispe_small.extend_from_slice(&120u32.to_be_bytes());
        let mut ispe = vec![];
        ispe.extend_from_slice(&4032u32.to_be_bytes());
        ispe.extend_from_slice(&3024u32.to_be_bytes());
        let ipco = bx(
            b"ipco",
            &[
                full(b"ispe", 0, 0, &ispe_small),
                full(b"ispe", 0, 0, &ispe),
                full(b"pixi", 0, 0, &[3, 10, 10, 10]),
            ]
            .concat(),
        );
        let ipma = full(
            b"ipma",
            0,
            0,
            &[0, 0, 0, 2, 0, 1, 2, 0x82, 0x03, 0, 2, 1, 0x81],
        );
        let iprp = bx(b"iprp", &[ipco, ipma].concat());
        let meta = full(b"meta", 0, 0, &[pitm, iloc, iprp].concat());
        let mdat = bx(b"mdat", &[0x55; 10]);
        [ftyp, meta, mdat].concat()
    }

    fn run(d: &[u8]) -> (Technical, Vec<&'static str>) {
        let mut tech = Technical::default();
        let mut out = Findings::new("t.heic");
        check(d, &mut tech, &mut out);
        (tech, codes_of(&out.problems))
    }

    #[test]
    fn primary_image_properties() {
        let probe = heic(0);
        let item_off = (probe.len() - 10) as u32;
        let good = heic(item_off);
        let (tech, codes) = run(&good);
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!((tech.width, tech.height), (Some(4032), Some(3024)));
        assert_eq!(
            (tech.samples_per_pixel, tech.bits_per_sample),
            (Some(3), Some(10))
        );
    }

    #[test]
    fn truncation_is_found() {
        let probe = heic(0);
        let good = heic((probe.len() - 10) as u32);
        assert_eq!(run(&good[..good.len() - 3]).1, ["PHOTO-040"]);
        assert_eq!(run(&heic(1_000_000)).1, ["PHOTO-040"]);
        let no_meta = [bx(b"ftyp", b"heic\0\0\0\0mif1heic"), bx(b"mdat", b"x")].concat();
        assert_eq!(run(&no_meta).1, ["PHOTO-040"]);
    }
}
