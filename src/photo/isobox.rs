//! ISO base media boxes (`size`, `type`, content), the container of both JPEG 2000 (JP2) and
//! HEIF: one bounds-checked reader for both, so that a hostile length is judged the same way.

use super::bytes::{be32, be64, slice};

/// A box found at some offset.
pub(crate) struct Bx {
    pub(crate) typ: [u8; 4],
    /// Content start (after the header).
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// The box at `pos`; `limit` is where the enclosing data ends.
pub(crate) fn read_box(data: &[u8], pos: u64, limit: u64) -> Result<Bx, String> {
    let (Some(l), Some(typ)) = (be32(data, pos), slice(data, pos + 4, 4)) else {
        return Err(format!("the file ends inside a box header at byte {pos}"));
    };
    let typ: [u8; 4] = typ.try_into().expect("four bytes");
    let (header, size) = match l {
        0 => (8, limit - pos),
        1 => (
            16,
            be64(data, pos + 8)
                .ok_or_else(|| format!("the file ends inside a box header at byte {pos}"))?,
        ),
        n => (8, u64::from(n)),
    };
    let name = String::from_utf8_lossy(&typ).into_owned();
    if size < header {
        return Err(format!(
            "the {name:?} box at byte {pos} declares an impossible length ({size})"
        ));
    }
    let end = pos.checked_add(size).filter(|&e| e <= limit).ok_or_else(|| {
        format!("the {name:?} box at byte {pos} declares {size} bytes, beyond the end of its data: the file is truncated")
    })?;
    Ok(Bx {
        typ,
        start: pos + header,
        end,
    })
}
