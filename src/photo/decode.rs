//! Full decoding (`qoima check --decode`): proves that the pixel data itself decodes.
//!
//! The structural checks find truncation and broken containers, but not corrupt compressed
//! data inside an intact container (a bit flip in a JPEG scan, a damaged LZW strip). Only a
//! decoder finds those, at the cost of reading every pixel. The decoders are the ones the
//! `image` crate uses, taken directly so that their own errors reach the report and the
//! colour-management code `image` always brings is left out: `zune-jpeg` (in strict mode, so
//! that it fails instead of filling gaps with grey), `png` (row by row, with CRC checks),
//! `tiff` (strip by strip or tile by tile), `gif` and `image-webp`. JPEG 2000 and HEIF have
//! no pure-Rust decoder qoima is willing to depend on; they are checked structurally only.
//!
//! A feature a decoder does not implement (arithmetic-coded JPEG, CCITT Group 3 fax, a rare
//! TIFF compression) is not damage: it is reported as "not decoded", with the reason, never
//! as a failure. Two legal variants the decoders do not know are bridged here instead, so
//! that they are really decoded: a JPEG whose height comes in a DNL segment (decoded from a
//! copy with the height moved into the frame header, as libjpeg 9 does) and a TIFF strip in
//! the old-style LZW of TIFF 5.0 writers (decoded here with `weezl`, least significant bit
//! first, as libtiff does with a warning).
//!
//! Every decoder works within a memory *budget* (`--decode-memory`, [`DEFAULT_BUDGET`] by
//! default). What a file will need is worked out from its header before anything is
//! allocated, because a 74-byte PNG or a 2 KB TIFF can declare an image of many gigabytes; a
//! file over the budget is "not decoded: over the budget", never an allocation failure and
//! never "corrupt". The decoders' own limits are set to the budget as a second guard.
//!
//! A JPEG decoder pads a scan that ends early with zero bits and reports nothing, so before
//! the pixels are decoded [`super::jpeg_scan`] walks the entropy-coded data itself and reports
//! a scan that runs out of data, as libjpeg's "premature end of data segment" does.

use std::io::Cursor;

use super::identify::Family;
use super::jpeg_scan::{self, ScanError};
use super::tiff_lzw;

/// The memory one decode may use unless `--decode-memory` says otherwise: 1 GiB, enough for
/// a 100-megapixel progressive JPEG or a 300-megapixel baseline one (TIFF and PNG are decoded
/// strip by strip and row by row, so their need is far smaller than their pixel count).
pub const DEFAULT_BUDGET: u64 = 1 << 30;

/// What decoding found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every image in the file decoded.
    Decoded,
    /// The decoder failed: the data is damaged.
    Failed(String),
    /// A JPEG scan ran out of entropy-coded data before its last block (the decoder would
    /// have filled the rest with grey).
    Truncated(String),
    /// No decoder for this format or this variant of it; the reason, in words.
    NotDecoded(String),
    /// Decoding would need more memory than the budget allows; nothing was allocated.
    OverBudget {
        /// What the header says decoding needs, in bytes, when it is known.
        needed: Option<u64>,
    },
}

/// Decodes the whole file, within `budget` bytes of memory.
pub(crate) fn decode(family: Family, data: &[u8], budget: u64) -> Outcome {
    match family {
        Family::Jpeg => jpeg(data, budget),
        Family::Png => png(data, budget),
        Family::Tiff => tiff(data, budget),
        Family::Gif => gif(data, budget),
        Family::WebP => webp(data, budget),
        Family::Jp2 | Family::J2c => Outcome::NotDecoded(
            "qoima has no JPEG 2000 decoder; only the structure was checked".into(),
        ),
        Family::Heif => Outcome::NotDecoded(
            "qoima has no HEVC or AV1 decoder for HEIF; only the structure was checked".into(),
        ),
        Family::Empty | Family::Text => Outcome::NotDecoded("not an image".into()),
    }
}

/// The budget as a `usize` for the decoders' own limits (saturating on 32-bit targets).
fn budget_usize(budget: u64) -> usize {
    usize::try_from(budget).unwrap_or(usize::MAX)
}

fn jpeg(data: &[u8], budget: u64) -> Outcome {
    match jpeg_scan::with_dnl_height(data) {
        Some(patched) => jpeg_decode(&patched, budget),
        None => jpeg_decode(data, budget),
    }
}

fn jpeg_decode(data: &[u8], budget: u64) -> Outcome {
    use zune_core::bytestream::ZCursor;
    use zune_core::options::DecoderOptions;
    use zune_jpeg::errors::DecodeErrors;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), options);
    let failed = |e: DecodeErrors| match e {
        DecodeErrors::Unsupported(what) => {
            Outcome::NotDecoded(format!("the JPEG decoder does not implement {what:?}"))
        }
        e => Outcome::Failed(format!("{e:?}")),
    };
    if let Err(e) = decoder.decode_headers() {
        return failed(e);
    }
    let needed = jpeg_need(&decoder, jpeg_scan::whole_image_buffered(data));
    if needed > budget {
        return Outcome::OverBudget {
            needed: Some(needed),
        };
    }
    match jpeg_scan::walk(data) {
        Ok(()) => {}
        Err(ScanError::Truncated(why)) => return Outcome::Truncated(why),
        Err(ScanError::Unsupported(what)) => {
            return Outcome::NotDecoded(format!("the JPEG decoder does not implement {what}"));
        }
        Err(ScanError::Bad(why)) => return Outcome::Failed(why),
    }
    match decoder.decode() {
        Ok(_) => Outcome::Decoded,
        Err(e) => failed(e),
    }
}

/// What zune-jpeg allocates for this image: the output pixels, plus 16-bit coefficients for
/// every block when it must hold the whole image before colour conversion (progressive, or
/// components in separate scans); the sizes are rounded up to whole 16×16 MCUs.
fn jpeg_need<T: zune_core::bytestream::ZByteReaderTrait>(
    decoder: &zune_jpeg::JpegDecoder<T>,
    whole_image_buffered: bool,
) -> u64 {
    let Some(info) = decoder.info() else {
        return u64::MAX;
    };
    let pixels =
        u64::from(info.width).next_multiple_of(16) * u64::from(info.height).next_multiple_of(16);
    let components = u64::from(info.components);
    let output = decoder.output_buffer_size().map_or(u64::MAX, |n| n as u64);
    let coefficients = if whole_image_buffered {
        2 * components
    } else {
        components
    };
    output.saturating_add(pixels.saturating_mul(coefficients))
}

fn png(data: &[u8], budget: u64) -> Outcome {
    if let Some(needed) = png_need(data)
        && needed > budget
    {
        return Outcome::OverBudget {
            needed: Some(needed),
        };
    }
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(data),
        png::Limits {
            bytes: budget_usize(budget),
        },
    );
    // The png crate skips the zlib Adler-32 check by default, for speed; a validator wants it.
    decoder.ignore_checksums(false);
    let result = decoder.read_info().and_then(|mut reader| {
        while reader.next_row()?.is_some() {}
        reader.finish()
    });
    match result {
        Ok(()) => Outcome::Decoded,
        Err(png::DecodingError::LimitsExceeded) => Outcome::OverBudget { needed: None },
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// What decoding a PNG row by row needs, from IHDR (which the structural check has already
/// found first and whole): the current and previous raw rows and one output row, each at
/// most 8 bytes a pixel.
fn png_need(data: &[u8]) -> Option<u64> {
    let width = u64::from(super::bytes::be32(data, 16)?);
    let depth = u64::from(*data.get(24)?);
    let channels = match data.get(25)? {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        _ => 4,
    };
    let raw_row = (width * channels * depth).div_ceil(8) + 1;
    Some(
        raw_row
            .saturating_mul(2)
            .saturating_add(width.saturating_mul(8)),
    )
}

fn tiff(data: &[u8], budget: u64) -> Outcome {
    use tiff::TiffError;
    use tiff::decoder::{Decoder, Limits};
    let mut limits = Limits::default();
    limits.decoding_buffer_size = budget_usize(budget);
    limits.intermediate_buffer_size = budget_usize(budget);
    // Tag values (strip offsets, colour maps) are small next to the pixels; a quarter of the
    // budget is plenty and keeps a lying count from allocating the rest.
    limits.ifd_value_size = budget_usize(budget / 4);
    if main_chain_compressions(data).contains(&OLD_STYLE_JPEG) {
        return Outcome::NotDecoded(
            "the TIFF decoder does not implement old-style JPEG compression (Compression 6, TIFF 6.0 section 22)".into(),
        );
    }
    let mut compression = None;
    let run = || -> Result<(), TiffError> {
        let mut decoder = Decoder::new(Cursor::new(data))?.with_limits(limits);
        loop {
            let this = decoder
                .get_tag_u64(tiff::tags::Tag::Compression)
                .unwrap_or(1);
            compression = Some(this);
            let old_lzw = if this == LZW {
                tiff_lzw::OldStyle::of(&mut decoder, data)?
            } else {
                None
            };
            let chunks = match decoder.get_chunk_type() {
                tiff::decoder::ChunkType::Strip => decoder.strip_count()?,
                tiff::decoder::ChunkType::Tile => decoder.tile_count()?,
            };
            for i in 0..chunks {
                match &old_lzw {
                    Some(old) if old.is_old_style(i) => old.decode(&decoder, i, budget)?,
                    _ => drop(decoder.read_chunk(i)?),
                }
            }
            if !decoder.more_images() {
                return Ok(());
            }
            decoder.next_image()?;
        }
    };
    match run() {
        Ok(()) => Outcome::Decoded,
        Err(TiffError::LimitsExceeded | TiffError::IntSizeError) => {
            Outcome::OverBudget { needed: None }
        }
        Err(TiffError::UnsupportedError(what)) => Outcome::NotDecoded(match compression {
            Some(c) => format!(
                "the TIFF decoder does not implement this image ({}: {what})",
                super::tiff::compression_name(c)
            ),
            None => format!("the TIFF decoder does not implement this image ({what})"),
        }),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// TIFF Compression 5.
const LZW: u64 = 5;
/// TIFF Compression 6, which the `tiff` crate does not implement and reads as malformed.
const OLD_STYLE_JPEG: u64 = 6;

/// The Compression of every IFD in the main chain (the images the decoder reads), as far as
/// the chain can be followed; bounded, since the structural check has already vouched for it.
fn main_chain_compressions(data: &[u8]) -> Vec<u64> {
    use super::tiffio::Tiff;
    let mut found = Vec::new();
    let Ok((tiff, mut offset)) = Tiff::open(data) else {
        return found;
    };
    while offset != 0 && found.len() < 1024 {
        let Ok(ifd) = tiff.ifd(offset) else { break };
        found.push(ifd.find(259).and_then(|e| e.get(&tiff, 0)).unwrap_or(1));
        offset = ifd.next;
    }
    found
}

fn gif(data: &[u8], budget: u64) -> Outcome {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let limit = std::num::NonZeroU64::new(budget).map_or(
        gif::MemoryLimit::Bytes(std::num::NonZeroU64::MIN),
        gif::MemoryLimit::Bytes,
    );
    options.set_memory_limit(limit);
    let result = options
        .read_info(Cursor::new(data))
        .and_then(|mut decoder| {
            while decoder.read_next_frame()?.is_some() {}
            Ok(())
        });
    match result {
        Ok(()) => Outcome::Decoded,
        Err(gif::DecodingError::MemoryLimit | gif::DecodingError::OutOfMemory) => {
            Outcome::OverBudget { needed: None }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn webp(data: &[u8], budget: u64) -> Outcome {
    use image_webp::{DecodingError, WebPDecoder};
    let mut needed = None;
    let mut run = || -> Result<(), DecodingError> {
        let mut decoder = WebPDecoder::new(Cursor::new(data))?;
        decoder.set_memory_limit(budget_usize(budget));
        let size = decoder
            .output_buffer_size()
            .ok_or(DecodingError::ImageTooLarge)?;
        // The output buffer, and as much again for the decoder's own frame (animation
        // canvas, VP8 planes).
        let need = (size as u64).saturating_mul(2);
        if need > budget {
            needed = Some(need);
            return Err(DecodingError::MemoryLimitExceeded);
        }
        let mut buf = vec![0u8; size];
        if decoder.is_animated() {
            for _ in 0..decoder.num_frames() {
                decoder.read_frame(&mut buf)?;
            }
        } else {
            decoder.read_image(&mut buf)?;
        }
        Ok(())
    };
    let result = run();
    match result {
        Ok(()) => Outcome::Decoded,
        Err(DecodingError::ImageTooLarge | DecodingError::MemoryLimitExceeded) => {
            Outcome::OverBudget { needed }
        }
        Err(DecodingError::UnsupportedFeature(what)) => {
            Outcome::NotDecoded(format!("the WebP decoder does not implement {what}"))
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
