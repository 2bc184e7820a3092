//! Tag files in encodings other than UTF-8 and ISO-8859-1 (UTF-16 above all, which
//! bagit-java and the LoC conformance suite write for 0.9x bags), decoded to UTF-8 as a
//! stream so that [`super::text::Lines`] splits them with its usual bounded buffer.
//!
//! Line splitting must happen after decoding: in UTF-16 a byte 0x0A or 0x0D can be half of
//! another character. Bytes that are not valid in the encoding end the stream with an
//! [`Undecodable`] error, which the parsers report as "could not be checked" (`BAG-130`),
//! never as "invalid": qoima cannot tell what the file says.

use std::fmt;
use std::io::{self, Read};

/// Raw bytes read from the file at a time.
const CHUNK: usize = 8 * 1024;

/// Bytes of a tag file that are not valid in its declared encoding.
#[derive(Debug)]
pub struct Undecodable {
    /// The encoding's name.
    pub encoding: &'static str,
    /// Offset of the first bad byte in the file.
    pub offset: u64,
    /// What was wrong.
    pub why: &'static str,
}

impl fmt::Display for Undecodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the bytes at offset {} are not valid {} ({})",
            self.offset, self.encoding, self.why
        )
    }
}

impl std::error::Error for Undecodable {}

/// Whether `error` says that a tag file could not be decoded (rather than read).
pub fn is_undecodable(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<Undecodable>())
}

/// A reader of `inner` (in `encoding`) that yields UTF-8.
pub struct Transcoder<R> {
    inner: R,
    encoding: &'static encoding_rs::Encoding,
    decoder: Option<encoding_rs::Decoder>,
    input: Vec<u8>,
    input_start: usize,
    consumed: u64,
    eof: bool,
    output: Vec<u8>,
    output_start: usize,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    /// Decodes `inner` from `encoding`; a byte-order mark is honoured and removed.
    pub fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Transcoder<R> {
        Transcoder {
            inner,
            encoding,
            decoder: None,
            input: Vec::with_capacity(CHUNK),
            input_start: 0,
            consumed: 0,
            eof: false,
            output: Vec::new(),
            output_start: 0,
            finished: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.input.drain(..self.input_start);
        self.input_start = 0;
        let have = self.input.len();
        self.input.resize(have + CHUNK, 0);
        let got = loop {
            match self.inner.read(&mut self.input[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.input.truncate(have);
                    return Err(e);
                }
            }
        };
        self.input.truncate(have + got);
        self.eof = got == 0;
        Ok(())
    }

    fn undecodable(&self, offset: u64, why: &'static str) -> io::Error {
        // The encoding actually in use (a byte-order mark may have chosen another order).
        let encoding = self
            .decoder
            .as_ref()
            .map_or(self.encoding, |d| d.encoding());
        io::Error::new(
            io::ErrorKind::InvalidData,
            Undecodable {
                encoding: encoding.name(),
                offset,
                why,
            },
        )
    }

    /// Chooses the decoder once the first bytes are known. UTF-16 without a byte-order mark
    /// is told apart by its zero bytes (tag files start with ASCII); a file whose first two
    /// bytes are both non-zero is not UTF-16 at all, whatever bagit.txt says.
    fn start(&mut self) -> io::Result<encoding_rs::Decoder> {
        while self.input.len() < 2 && !self.eof {
            self.refill()?;
        }
        let utf16 =
            self.encoding == encoding_rs::UTF_16LE || self.encoding == encoding_rs::UTF_16BE;
        let head = &self.input[..self.input.len().min(2)];
        let has_bom = head == [0xFE, 0xFF] || head == [0xFF, 0xFE];
        if !utf16 || has_bom || head.len() < 2 {
            return Ok(self.encoding.new_decoder());
        }
        match (head[0], head[1]) {
            (0, b) if b != 0 => Ok(encoding_rs::UTF_16BE.new_decoder_without_bom_handling()),
            (a, 0) if a != 0 => Ok(encoding_rs::UTF_16LE.new_decoder_without_bom_handling()),
            _ => Err(self.undecodable(
                0,
                "no byte-order mark, and the first characters are not UTF-16 text",
            )),
        }
    }

    /// Decodes the next piece of input into `self.output`.
    fn decode_more(&mut self) -> io::Result<()> {
        let mut decoder = match self.decoder.take() {
            Some(d) => d,
            None => self.start()?,
        };
        loop {
            if self.input_start == self.input.len() && !self.eof {
                self.refill()?;
            }
            let src = &self.input[self.input_start..];
            let room = decoder
                .max_utf8_buffer_length_without_replacement(src.len())
                .unwrap_or(CHUNK * 3)
                .max(16);
            self.output.clear();
            self.output.resize(room, 0);
            self.output_start = 0;
            let (result, read, written) =
                decoder.decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
            self.output.truncate(written);
            self.input_start += read;
            self.consumed += read as u64;
            match result {
                encoding_rs::DecoderResult::Malformed(bad, after) => {
                    let offset = self
                        .consumed
                        .saturating_sub(u64::from(bad) + u64::from(after));
                    self.decoder = Some(decoder);
                    self.finished = true;
                    return Err(self.undecodable(offset, "malformed sequence"));
                }
                encoding_rs::DecoderResult::InputEmpty if self.eof => self.finished = true,
                _ => {}
            }
            if written > 0 || self.finished {
                self.decoder = Some(decoder);
                return Ok(());
            }
        }
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_start == self.output.len() {
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let n = buf.len().min(self.output.len() - self.output_start);
        buf[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
        self.output_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> io::Result<String> {
        let mut out = String::new();
        Transcoder::new(bytes, encoding).read_to_string(&mut out)?;
        Ok(out)
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = (if bom { "\u{FEFF}" } else { "" })
            .encode_utf16()
            .chain(text.encode_utf16());
        for unit in units {
            let b = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            out.extend_from_slice(&b);
        }
        out
    }

    #[test]
    fn utf16_with_and_without_bom_in_either_order() {
        let text = "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\nÜ€😀\n";
        for big in [true, false] {
            for bom in [true, false] {
                // The declared label may name the other byte order: the BOM or the zero
                // bytes decide, as bagit-python (through Python's utf-16 codec) does.
                let declared = if big {
                    encoding_rs::UTF_16LE
                } else {
                    encoding_rs::UTF_16BE
                };
                let got = decode(&utf16(text, big, bom), declared).unwrap();
                assert_eq!(got, text, "big-endian {big}, bom {bom}");
            }
        }
    }

    #[test]
    fn long_input_crosses_chunks_and_keeps_every_character() {
        let text = "aé😀\n".repeat(5000);
        let got = decode(&utf16(&text, false, true), encoding_rs::UTF_16LE).unwrap();
        assert_eq!(got, text);
        let euro = text.replace('😀', "€");
        let legacy = encoding_rs::WINDOWS_1252.encode(&euro).0.into_owned();
        let got = decode(&legacy, encoding_rs::WINDOWS_1252).unwrap();
        assert_eq!(got, euro);
    }

    #[test]
    fn malformed_bytes_and_ascii_under_a_utf16_label_are_undecodable() {
        // A lone high surrogate followed by a letter.
        let mut bad = utf16("ab", false, true);
        bad.extend_from_slice(&[0x3D, 0xD8, b'c', 0]);
        let e = decode(&bad, encoding_rs::UTF_16LE).unwrap_err();
        assert!(is_undecodable(&e), "{e}");
        assert!(e.to_string().contains("offset 6"), "{e}");
        let e = decode(b"manifest text", encoding_rs::UTF_16LE).unwrap_err();
        assert!(is_undecodable(&e), "{e}");
        assert!(decode(b"", encoding_rs::UTF_16LE).unwrap().is_empty());
    }
}
