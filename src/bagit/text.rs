//! Reading tag files as lines: LF, CR or CRLF endings, a missing final newline, a byte-order
//! mark, the declared encoding, and a bound on line length so that a hostile 2 GB line costs
//! no more memory than a normal one. Encodings other than UTF-8 and ISO-8859-1 are decoded to
//! UTF-8 first, as a stream ([`super::transcode`]), then split the same way.

use std::io::{self, BufRead, BufReader, Read};

use super::transcode::Transcoder;
use crate::error::{Code, Problem};
use crate::verdict::Problems;

/// The longest tag-file line qoima accepts (bytes, terminator excluded).
pub const MAX_LINE: usize = 64 * 1024;

/// A tag-file character encoding qoima can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (the only encoding qoima writes).
    Utf8,
    /// ISO-8859-1, where every byte is the code point of the same number.
    Latin1,
    /// Any other encoding of the WHATWG Encoding Standard (UTF-16LE/BE, windows-1252,
    /// Shift_JIS, …), decoded by `encoding_rs`.
    Other(&'static encoding_rs::Encoding),
}

impl Encoding {
    /// Looks up the encoding named in `bagit.txt`.
    pub fn from_label(label: &str) -> Option<Encoding> {
        match label.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" | "us-ascii" | "ascii" => return Some(Encoding::Utf8),
            // True ISO-8859-1: the WHATWG label maps it to windows-1252, which differs in
            // 0x80..0x9F.
            "iso-8859-1" | "iso8859-1" | "latin-1" | "latin1" | "l1" => {
                return Some(Encoding::Latin1);
            }
            // "UTF-16" without a byte order: the byte-order mark or the zero bytes decide.
            "utf-16" | "utf16" | "ucs-2" => return Some(Encoding::Other(encoding_rs::UTF_16BE)),
            _ => {}
        }
        match encoding_rs::Encoding::for_label(label.trim().as_bytes())? {
            e if e == encoding_rs::UTF_8 => Some(Encoding::Utf8),
            // The "replacement" encoding stands for labels that cannot be decoded safely.
            e if e == encoding_rs::REPLACEMENT => None,
            e => Some(Encoding::Other(e)),
        }
    }

    /// The name qoima writes in `bagit.txt` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Latin1 => "ISO-8859-1",
            Encoding::Other(e) => e.name(),
        }
    }
}

/// The code to report when reading a tag file failed with `error`: `BAG-130` when its bytes
/// are not valid in the declared encoding, `BAG-012` for any other read error.
pub fn read_error_code(error: &io::Error) -> Code {
    if super::transcode::is_undecodable(error) {
        Code::TagFileUndecodable
    } else {
        Code::TagFileUnreadable
    }
}

/// The bytes under a [`Lines`]: as read, or decoded to UTF-8.
enum Source<R: Read> {
    Raw(R),
    Decoded(Transcoder<R>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Raw(r) => r.read(buf),
            Source::Decoded(r) => r.read(buf),
        }
    }
}

/// One line of a tag file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The decoded text, without its terminator.
    Text(String),
    /// Longer than [`MAX_LINE`]; its bytes were skipped.
    TooLong,
    /// Not valid in the encoding; the valid prefix is kept to help locate the fault.
    BadEncoding(String),
}

/// Splits a tag file into numbered lines.
pub struct Lines<R: Read> {
    inner: BufReader<Source<R>>,
    encoding: Encoding,
    number: u64,
    buf: Vec<u8>,
    decoded: String,
    started: bool,
    bom: bool,
    done: bool,
}

impl<R: Read> Lines<R> {
    /// Lines of `reader` in `encoding`.
    pub fn new(reader: R, encoding: Encoding) -> Lines<R> {
        let (source, encoding) = match encoding {
            Encoding::Other(e) => (Source::Decoded(Transcoder::new(reader, e)), Encoding::Utf8),
            plain => (Source::Raw(reader), plain),
        };
        Lines {
            inner: BufReader::with_capacity(64 * 1024, source),
            encoding,
            number: 0,
            buf: Vec::new(),
            decoded: String::new(),
            started: false,
            bom: false,
            done: false,
        }
    }

    /// Whether the file started with a UTF-8 byte-order mark (known after the first line).
    pub fn had_bom(&self) -> bool {
        self.bom
    }

    fn strip_bom(&mut self) -> io::Result<()> {
        self.started = true;
        let head = self.inner.fill_buf()?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            self.bom = true;
            self.inner.consume(3);
        }
        Ok(())
    }

    /// Reads one raw line into `self.buf`; returns (got a line, too long).
    fn read_raw(&mut self) -> io::Result<(bool, bool)> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok((any, too_long));
            }
            any = true;
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    let cr = chunk[end] == b'\r';
                    if !too_long && self.buf.len() + end <= MAX_LINE {
                        self.buf.extend_from_slice(&chunk[..end]);
                    } else {
                        too_long = true;
                    }
                    self.inner.consume(end + 1);
                    if cr {
                        // CRLF counts as one terminator.
                        let next = self.inner.fill_buf()?;
                        if next.first() == Some(&b'\n') {
                            self.inner.consume(1);
                        }
                    }
                    return Ok((true, too_long));
                }
                None => {
                    let length = chunk.len();
                    if !too_long && self.buf.len() + length <= MAX_LINE {
                        self.buf.extend_from_slice(chunk);
                    } else {
                        too_long = true;
                        self.buf.clear();
                    }
                    self.inner.consume(length);
                }
            }
        }
    }
}

/// One line of a tag file, borrowed from the reader's buffer (see [`Lines::next_line`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRef<'a> {
    /// The decoded text, without its terminator.
    Text(&'a str),
    /// Longer than [`MAX_LINE`]; its bytes were skipped.
    TooLong,
    /// Not valid in the encoding; the valid prefix is kept to help locate the fault.
    BadEncoding(String),
}

impl<R: Read> Lines<R> {
    /// The next line, borrowed: no allocation per line, which matters for manifests of
    /// hundreds of thousands of lines.
    pub fn next_line(&mut self) -> Option<io::Result<(u64, LineRef<'_>)>> {
        if self.done {
            return None;
        }
        if !self.started
            && let Err(e) = self.strip_bom()
        {
            self.done = true;
            return Some(Err(e));
        }
        match self.read_raw() {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok((false, _)) => {
                self.done = true;
                None
            }
            Ok((true, too_long)) => {
                self.number += 1;
                let line = if too_long {
                    LineRef::TooLong
                } else {
                    match self.encoding {
                        Encoding::Latin1 => {
                            self.decoded.clear();
                            self.decoded.extend(self.buf.iter().map(|&b| b as char));
                            LineRef::Text(&self.decoded)
                        }
                        // Other encodings arrive here already decoded to UTF-8.
                        Encoding::Utf8 | Encoding::Other(_) => match std::str::from_utf8(&self.buf)
                        {
                            Ok(s) => LineRef::Text(s),
                            Err(e) => LineRef::BadEncoding(
                                String::from_utf8_lossy(&self.buf[..e.valid_up_to()]).into_owned(),
                            ),
                        },
                    }
                };
                Some(Ok((self.number, line)))
            }
        }
    }
}

/// How a tag-file parser words the lines it cannot use. Each file kept its own wording (and
/// reports stay byte-identical), so the words are given; the codes and locations are shared.
pub struct LineWording {
    /// The message for a line longer than [`MAX_LINE`]: (file, line number).
    pub too_long: fn(&str, u64) -> String,
    /// The message for a line that is not valid in the encoding: (file, line number, the
    /// valid prefix).
    pub bad_encoding: fn(&str, u64, &str) -> String,
}

/// The message for line `line` of `file` that is not valid text, quoting the valid part
/// before the fault (the wording of bag-info files and manifests).
pub fn not_valid_text_after(file: &str, line: u64, prefix: &str) -> String {
    format!(
        "line {line} of {file} is not valid text after {}",
        crate::paths::quoted(prefix)
    )
}

/// What became of one line read from a tag file (see [`usable_line`]).
pub enum Usable<'a> {
    /// The line's number and text.
    Text(u64, &'a str),
    /// The line was too long or not valid text; it was reported, and the next can be read.
    Skipped,
    /// The file could not be read further; that was reported.
    Unreadable,
}

/// The text of one line from [`Lines::next_line`], or the problem that line is, reported for
/// `file`: `BAG-011` for an overlong line, `BAG-010` for one that is not valid text (both
/// located at the line), `BAG-012`/`BAG-130` when reading failed.
pub fn usable_line<'a>(
    item: io::Result<(u64, LineRef<'a>)>,
    file: &str,
    wording: &LineWording,
    problems: &mut Problems,
) -> Usable<'a> {
    match item {
        Ok((number, LineRef::Text(text))) => Usable::Text(number, text),
        Ok((number, LineRef::TooLong)) => {
            problems.push(
                Problem::new(Code::LineTooLong, (wording.too_long)(file, number))
                    .file(file)
                    .line(number),
            );
            Usable::Skipped
        }
        Ok((number, LineRef::BadEncoding(prefix))) => {
            problems.push(
                Problem::new(
                    Code::BadEncoding,
                    (wording.bad_encoding)(file, number, &prefix),
                )
                .file(file)
                .line(number),
            );
            Usable::Skipped
        }
        Err(error) => {
            problems.push(
                Problem::new(
                    read_error_code(&error),
                    format!("cannot read {file}: {error}"),
                )
                .file(file),
            );
            Usable::Unreadable
        }
    }
}

/// Reports `BAG-W012` when a UTF-8 tag file `file` started with a byte-order mark.
pub fn report_utf8_bom(had_bom: bool, encoding: Encoding, file: &str, problems: &mut Problems) {
    if had_bom && encoding == Encoding::Utf8 {
        problems.push(
            Problem::new(
                Code::TagFileBom,
                format!("{file} starts with a byte-order mark"),
            )
            .file(file)
            .line(1),
        );
    }
}

impl<R: Read> Iterator for Lines<R> {
    type Item = io::Result<(u64, Line)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line().map(|r| {
            r.map(|(n, l)| {
                let owned = match l {
                    LineRef::Text(t) => Line::Text(t.to_string()),
                    LineRef::TooLong => Line::TooLong,
                    LineRef::BadEncoding(p) => Line::BadEncoding(p),
                };
                (n, owned)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<(u64, Line)> {
        Lines::new(bytes, Encoding::Utf8)
            .map(|r| r.unwrap())
            .collect()
    }

    fn t(s: &str) -> Line {
        Line::Text(s.to_string())
    }

    #[test]
    fn lf_cr_crlf_mixed_and_no_final_newline() {
        assert_eq!(lines(b"a\nb\n"), vec![(1, t("a")), (2, t("b"))]);
        assert_eq!(lines(b"a\rb\r"), vec![(1, t("a")), (2, t("b"))]);
        assert_eq!(lines(b"a\r\nb\r\n"), vec![(1, t("a")), (2, t("b"))]);
        assert_eq!(
            lines(b"a\r\nb\rc\nd"),
            vec![(1, t("a")), (2, t("b")), (3, t("c")), (4, t("d"))]
        );
        assert_eq!(lines(b"a\n\nb"), vec![(1, t("a")), (2, t("")), (3, t("b"))]);
        assert_eq!(lines(b""), vec![]);
    }

    #[test]
    fn crlf_split_across_buffer_refills() {
        // A reader that yields one byte at a time splits every CRLF across refills.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || out.is_empty() {
                    return Ok(0);
                }
                out[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let got: Vec<_> = Lines::new(OneByte(b"ab\r\ncd\r\n"), Encoding::Utf8)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, vec![(1, t("ab")), (2, t("cd"))]);
    }

    #[test]
    fn bom_is_noticed_and_stripped() {
        let mut l = Lines::new(&b"\xEF\xBB\xBFBagIt-Version: 1.0\n"[..], Encoding::Utf8);
        assert_eq!(l.next().unwrap().unwrap(), (1, t("BagIt-Version: 1.0")));
        assert!(l.had_bom());
    }

    #[test]
    fn invalid_utf8_and_latin1() {
        assert_eq!(
            lines(b"ok\nbad\xff\n"),
            vec![(1, t("ok")), (2, Line::BadEncoding("bad".into()))]
        );
        let l: Vec<_> = Lines::new(&b"caf\xe9\n"[..], Encoding::Latin1)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(l, vec![(1, t("café"))]);
    }

    #[test]
    fn a_huge_line_is_skipped_without_being_held() {
        let mut data = vec![b'a'; MAX_LINE * 3];
        data.extend_from_slice(b"\nnext\n");
        assert_eq!(lines(&data), vec![(1, Line::TooLong), (2, t("next"))]);
        let exact = vec![b'b'; MAX_LINE];
        assert_eq!(lines(&exact), vec![(1, Line::Text("b".repeat(MAX_LINE)))]);
    }
}
