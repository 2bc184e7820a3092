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
//! A feature a decoder does not implement (arithmetic-coded JPEG, a rare TIFF compression)
//! is not damage: it is reported as "not decoded", never as a failure.

use std::io::Cursor;

use super::identify::Family;

/// What decoding found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every image in the file decoded.
    Decoded,
    /// The decoder failed: the data is damaged.
    Failed(String),
    /// No decoder for this format or this variant of it.
    NotDecoded,
}

/// Decodes the whole file.
pub(crate) fn decode(family: Family, data: &[u8]) -> Outcome {
    match family {
        Family::Jpeg => jpeg(data),
        Family::Png => png(data),
        Family::Tiff => tiff(data),
        Family::Gif => gif(data),
        Family::WebP => webp(data),
        _ => Outcome::NotDecoded,
    }
}

fn jpeg(data: &[u8]) -> Outcome {
    use zune_core::bytestream::ZCursor;
    use zune_core::options::DecoderOptions;
    use zune_jpeg::errors::DecodeErrors;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), options);
    match decoder.decode() {
        Ok(_) => Outcome::Decoded,
        Err(DecodeErrors::Unsupported(_)) => Outcome::NotDecoded,
        Err(e) => Outcome::Failed(format!("{e:?}")),
    }
}

fn png(data: &[u8]) -> Outcome {
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(data), png::Limits { bytes: usize::MAX });
    // The png crate skips the zlib Adler-32 check by default, for speed; a validator wants it.
    decoder.ignore_checksums(false);
    let result = decoder.read_info().and_then(|mut reader| {
        while reader.next_row()?.is_some() {}
        reader.finish()
    });
    match result {
        Ok(()) => Outcome::Decoded,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn tiff(data: &[u8]) -> Outcome {
    use tiff::TiffError;
    use tiff::decoder::{Decoder, Limits};
    let run = || -> Result<(), TiffError> {
        let mut decoder = Decoder::new(Cursor::new(data))?.with_limits(Limits::unlimited());
        loop {
            let chunks = match decoder.get_chunk_type() {
                tiff::decoder::ChunkType::Strip => decoder.strip_count()?,
                tiff::decoder::ChunkType::Tile => decoder.tile_count()?,
            };
            for i in 0..chunks {
                decoder.read_chunk(i)?;
            }
            if !decoder.more_images() {
                return Ok(());
            }
            decoder.next_image()?;
        }
    };
    match run() {
        Ok(()) => Outcome::Decoded,
        Err(
            TiffError::UnsupportedError(_) | TiffError::LimitsExceeded | TiffError::IntSizeError,
        ) => Outcome::NotDecoded,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn gif(data: &[u8]) -> Outcome {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let result = options
        .read_info(Cursor::new(data))
        .and_then(|mut decoder| {
            while decoder.read_next_frame()?.is_some() {}
            Ok(())
        });
    match result {
        Ok(()) => Outcome::Decoded,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn webp(data: &[u8]) -> Outcome {
    use image_webp::{DecodingError, WebPDecoder};
    let run = || -> Result<(), DecodingError> {
        let mut decoder = WebPDecoder::new(Cursor::new(data))?;
        let size = decoder
            .output_buffer_size()
            .ok_or(DecodingError::ImageTooLarge)?;
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
    match run() {
        Ok(()) => Outcome::Decoded,
        Err(
            DecodingError::UnsupportedFeature(_)
            | DecodingError::ImageTooLarge
            | DecodingError::MemoryLimitExceeded,
        ) => Outcome::NotDecoded,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
