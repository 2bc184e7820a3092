//! Bounds-checked reads of fixed-size integers from a byte slice.
//!
//! Every parser in this module walks untrusted files by offsets the files themselves give, so
//! every read goes through these helpers: an offset past the end is `None`, never a panic, and
//! offsets are `u64` so that an attacker-chosen value cannot overflow `usize` arithmetic on the
//! way in.

/// Byte order of a TIFF (or TIFF-in-Exif) structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    /// `II`: Intel, least significant byte first.
    Little,
    /// `MM`: Motorola, most significant byte first.
    Big,
}

/// `len` bytes at `off`, if they are all inside `data`.
pub(crate) fn slice(data: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let end = off.checked_add(len)?;
    if end > data.len() as u64 {
        return None;
    }
    Some(&data[off as usize..end as usize])
}

fn array<const N: usize>(data: &[u8], off: u64) -> Option<[u8; N]> {
    slice(data, off, N as u64).map(|s| s.try_into().expect("slice has N bytes"))
}

/// A `u16` at `off` in the given byte order.
pub(crate) fn u16_at(data: &[u8], off: u64, e: Endian) -> Option<u16> {
    let b = array::<2>(data, off)?;
    Some(match e {
        Endian::Little => u16::from_le_bytes(b),
        Endian::Big => u16::from_be_bytes(b),
    })
}

/// A `u32` at `off` in the given byte order.
pub(crate) fn u32_at(data: &[u8], off: u64, e: Endian) -> Option<u32> {
    let b = array::<4>(data, off)?;
    Some(match e {
        Endian::Little => u32::from_le_bytes(b),
        Endian::Big => u32::from_be_bytes(b),
    })
}

/// A `u64` at `off` in the given byte order.
pub(crate) fn u64_at(data: &[u8], off: u64, e: Endian) -> Option<u64> {
    let b = array::<8>(data, off)?;
    Some(match e {
        Endian::Little => u64::from_le_bytes(b),
        Endian::Big => u64::from_be_bytes(b),
    })
}

/// A big-endian `u16` at `off`.
pub(crate) fn be16(data: &[u8], off: u64) -> Option<u16> {
    u16_at(data, off, Endian::Big)
}

/// A big-endian `u32` at `off`.
pub(crate) fn be32(data: &[u8], off: u64) -> Option<u32> {
    u32_at(data, off, Endian::Big)
}

/// A big-endian `u64` at `off`.
pub(crate) fn be64(data: &[u8], off: u64) -> Option<u64> {
    u64_at(data, off, Endian::Big)
}

/// A little-endian `u16` at `off`.
pub(crate) fn le16(data: &[u8], off: u64) -> Option<u16> {
    u16_at(data, off, Endian::Little)
}

/// A little-endian `u32` at `off`.
pub(crate) fn le32(data: &[u8], off: u64) -> Option<u32> {
    u32_at(data, off, Endian::Little)
}

/// A little-endian 24-bit value at `off` (WebP VP8X canvas sizes).
pub(crate) fn le24(data: &[u8], off: u64) -> Option<u32> {
    let b = array::<3>(data, off)?;
    Some(u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_both_orders_and_refuses_out_of_bounds() {
        let d = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(be16(&d, 0), Some(0x0102));
        assert_eq!(le16(&d, 0), Some(0x0201));
        assert_eq!(be32(&d, 4), Some(0x05060708));
        assert_eq!(le32(&d, 4), Some(0x08070605));
        assert_eq!(be64(&d, 0), Some(0x0102030405060708));
        assert_eq!(le24(&d, 0), Some(0x030201));
        assert_eq!(be32(&d, 5), None);
        assert_eq!(be16(&d, u64::MAX), None);
        assert_eq!(slice(&d, u64::MAX - 1, 4), None);
        assert_eq!(slice(&d, 8, 0), Some(&[][..]));
    }
}
