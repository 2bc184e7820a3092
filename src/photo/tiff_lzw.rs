//! Old-style LZW: the LZW of TIFF 5.0-era writers, which `tiff` does not decode.
//!
//! Before TIFF 6.0 fixed the details, several writers packed LZW codes least significant bit
//! first and widened the code one code later than TIFF 6.0 says (the way GIF does). libtiff
//! still reads such strips, with the warning "Old-style LZW codes, convert file", and knows
//! them by their first bytes: the Clear code (256) in nine bits, least significant first,
//! is `00` then a byte with bit 0 set, where TIFF 6.0's starts `80`. The `tiff` crate reads
//! them as TIFF 6.0 LZW and fails, which would call a readable file corrupt; so these strips
//! are decoded here with `weezl` in GIF's order and code-width rule, and judged as libtiff
//! judges them: the data must decode without error until the strip's pixels are complete.

use std::io::Cursor;

use tiff::TiffError;
use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;
use weezl::{BitOrder, LzwStatus};

/// The chunks of the current image, when at least one of them is old-style LZW.
pub(crate) struct OldStyle<'a> {
    data: &'a [u8],
    offsets: Vec<u64>,
    counts: Vec<u64>,
    chunk_type: ChunkType,
    bits_per_pixel: u64,
}

impl<'a> OldStyle<'a> {
    /// Reads the current image's chunk table; `None` when no chunk is old-style LZW.
    pub(crate) fn of(
        decoder: &mut Decoder<Cursor<&[u8]>>,
        data: &'a [u8],
    ) -> Result<Option<Self>, TiffError> {
        let chunk_type = decoder.get_chunk_type();
        let (offsets_tag, counts_tag) = match chunk_type {
            ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
            ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
        };
        let offsets = decoder.get_tag_u64_vec(offsets_tag)?;
        let counts = decoder.get_tag_u64_vec(counts_tag)?;
        let mut old = OldStyle {
            data,
            offsets,
            counts,
            chunk_type,
            bits_per_pixel: 0,
        };
        let chunks = old.offsets.len().min(old.counts.len());
        if !(0..chunks).any(|i| old.is_old_style(i as u32)) {
            return Ok(None);
        }
        old.bits_per_pixel = bits_per_pixel(decoder)?;
        Ok(Some(old))
    }

    /// The chunk's raw bytes, when they lie inside the file.
    fn raw(&self, index: u32) -> Option<&'a [u8]> {
        let i = usize::try_from(index).ok()?;
        let start = usize::try_from(*self.offsets.get(i)?).ok()?;
        let len = usize::try_from(*self.counts.get(i)?).ok()?;
        self.data.get(start..start.checked_add(len)?)
    }

    /// libtiff's test: the Clear code in nine bits, least significant bit first.
    pub(crate) fn is_old_style(&self, index: u32) -> bool {
        matches!(self.raw(index), Some([0x00, second, ..]) if second & 1 == 1)
    }

    /// Decodes chunk `index` in full, within `budget` bytes.
    pub(crate) fn decode(
        &self,
        decoder: &Decoder<Cursor<&[u8]>>,
        index: u32,
        budget: u64,
    ) -> Result<(), TiffError> {
        let (width, rows) = match self.chunk_type {
            ChunkType::Strip => decoder.chunk_data_dimensions(index),
            ChunkType::Tile => decoder.chunk_dimensions(),
        };
        let expected = (u64::from(width) * self.bits_per_pixel)
            .div_ceil(8)
            .saturating_mul(u64::from(rows));
        if expected > budget {
            return Err(TiffError::LimitsExceeded);
        }
        let input = self
            .raw(index)
            .ok_or_else(|| invalid(index, "lies outside the file"))?;
        let mut output = vec![0u8; usize::try_from(expected).map_err(|_| TiffError::IntSizeError)?];
        let filled = lzw_lsb(input, &mut output).map_err(|why| invalid(index, &why))?;
        if filled < output.len() {
            return Err(invalid(
                index,
                &format!(
                    "ends after {filled} of its {} bytes of pixels (libtiff: not enough data)",
                    output.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Decodes least-significant-bit-first LZW into `output` until it is full or the data ends;
/// returns how many bytes were written.
fn lzw_lsb(mut input: &[u8], output: &mut [u8]) -> Result<usize, String> {
    let mut lzw = weezl::decode::Decoder::new(BitOrder::Lsb, 8);
    let mut filled = 0;
    while filled < output.len() {
        let step = lzw.decode_bytes(input, &mut output[filled..]);
        input = &input[step.consumed_in..];
        filled += step.consumed_out;
        match step.status {
            Err(e) => return Err(format!("holds an invalid code ({e})")),
            Ok(LzwStatus::Done | LzwStatus::NoProgress) => break,
            Ok(LzwStatus::Ok) if step.consumed_in == 0 && step.consumed_out == 0 => break,
            Ok(LzwStatus::Ok) => {}
        }
    }
    Ok(filled)
}

/// Bits of one pixel in one chunk: every sample's when samples are interleaved (planar
/// configuration 1), one sample's when each has its own chunks.
fn bits_per_pixel(decoder: &mut Decoder<Cursor<&[u8]>>) -> Result<u64, TiffError> {
    let samples = decoder
        .find_tag_unsigned::<u64>(Tag::SamplesPerPixel)?
        .unwrap_or(1);
    let bits = decoder
        .find_tag_unsigned_vec::<u64>(Tag::BitsPerSample)?
        .unwrap_or_else(|| vec![1]);
    let planar = decoder
        .find_tag_unsigned::<u64>(Tag::PlanarConfiguration)?
        .unwrap_or(1);
    let first = bits.first().copied().unwrap_or(1);
    Ok(if planar == 2 {
        first
    } else if bits.len() as u64 == samples {
        bits.iter().sum()
    } else {
        first.saturating_mul(samples)
    })
}

fn invalid(index: u32, why: &str) -> TiffError {
    TiffError::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("old-style LZW chunk {index} {why}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Old-style LZW of `pixels`, literals only, as the fixture generator writes it.
    fn encode(pixels: &[u8]) -> Vec<u8> {
        let mut codes = vec![256u16];
        codes.extend(pixels.iter().map(|&b| u16::from(b)));
        codes.push(257);
        let (mut width, mut next, mut acc, mut filled) = (9u32, 258u32, 0u64, 0u32);
        let mut out = Vec::new();
        for (i, &code) in codes.iter().enumerate() {
            acc |= u64::from(code) << filled;
            filled += width;
            while filled >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                filled -= 8;
            }
            if i >= 2 && code != 257 {
                next += 1;
                if next == 1 << width && width < 12 {
                    width += 1;
                }
            }
        }
        if filled > 0 {
            out.push(acc as u8);
        }
        out
    }

    #[test]
    fn old_style_lzw_round_trips_across_a_code_width_change() {
        let pixels: Vec<u8> = (0..700u32).map(|i| (i * 7 % 251) as u8).collect();
        let packed = encode(&pixels);
        assert_eq!(packed[0], 0x00);
        assert_eq!(packed[1] & 1, 1, "libtiff's old-style signature");
        let mut out = vec![0u8; pixels.len()];
        assert_eq!(lzw_lsb(&packed, &mut out), Ok(pixels.len()));
        assert_eq!(out, pixels);
        let mut short = vec![0u8; pixels.len() + 10];
        assert_eq!(lzw_lsb(&packed, &mut short), Ok(pixels.len()));
        let mut bad = packed.clone();
        bad[400] = 0xFF;
        bad[401] = 0xFF;
        let mut out = vec![0u8; pixels.len()];
        assert!(lzw_lsb(&bad, &mut out).is_err() || out != pixels);
    }
}
