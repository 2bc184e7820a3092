//! The marker segments of a JPEG after SOI, in order, for the scan walk; the entropy-coded
//! data after each scan header is skipped by the caller.

use crate::photo::bytes::be16;

/// One marker segment: its marker, where it starts and its body (empty for standalone ones).
pub(super) struct Segment<'a> {
    pub(super) marker: u8,
    pub(super) offset: usize,
    pub(super) body: &'a [u8],
}

/// The marker segments after SOI, in order; entropy-coded data is skipped by the caller.
pub(super) struct Segments<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Segments<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Segments { data, pos: 2 }
    }

    pub(super) fn resume_at(&mut self, pos: usize) {
        self.pos = pos;
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let data = self.data;
        let mut pos = self.pos;
        if *data.get(pos)? != 0xFF {
            // Stray bytes after a scan (libjpeg skips them too): find the next marker.
            pos = next_marker(data, pos)?;
        }
        while *data.get(pos + 1)? == 0xFF {
            pos += 1;
        }
        let marker = data[pos + 1];
        if matches!(marker, 0x01 | 0xD0..=0xD9) {
            self.pos = pos + 2;
            return Some(Segment {
                marker,
                offset: pos,
                body: &[],
            });
        }
        let len = usize::from(be16(data, pos as u64 + 2)?);
        let body = data.get(pos + 4..(pos + 2 + len).max(pos + 4))?;
        self.pos = pos + 2 + len.max(2);
        // The scan's data follows its header; the caller moves on past it.
        self.pos = self.pos.min(data.len());
        Some(Segment {
            marker,
            offset: pos,
            body,
        })
    }
}

/// The offset of the next marker (an `0xFF` not followed by a stuffed `0x00` or a restart).
pub(super) fn next_marker(data: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += data.get(at..)?.iter().position(|&byte| byte == 0xFF)?;
        match *data.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}
