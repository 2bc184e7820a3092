//! Does every JPEG scan hold enough entropy-coded data for all of its blocks?
//!
//! A JPEG decoder that meets a marker (or the end of the file) in the middle of a scan fills
//! the missing bits with zeros and goes on: libjpeg warns ("premature end of data segment"),
//! zune-jpeg says nothing, so a scan cut short — or overwritten with zeros, which decode as
//! short codes and run out early — passes as whole. This module walks every scan's Huffman
//! codes exactly as the decoder would (baseline, extended and progressive, with restart
//! intervals and successive approximation), without dequantising or transforming anything,
//! and reports the first scan whose data ends before its last block.
//!
//! Memory: nothing for sequential JPEGs; for progressive ones, one 64-bit mask per block (which
//! coefficients are already non-zero, needed to read refinement scans) — an eighth of a byte
//! per sample, far below what the decoder itself needs, and the caller checks the decoder's
//! need against the budget first.

use super::bytes::be16;

/// Why the walk stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// A scan runs out of data before its last block.
    Truncated(String),
    /// A coding process qoima does not walk (lossless, hierarchical, arithmetic), named.
    Unsupported(&'static str),
    /// The entropy-coded data is invalid (an undefined table, a code no table holds).
    Bad(String),
}

/// Whether the decoder must hold every block of the image before colour conversion (a
/// progressive JPEG, or one whose components come in separate scans), read from the headers alone (the frame,
/// and the component count of the first scan), so that its memory need is known before the
/// walk allocates anything.
pub(crate) fn whole_image_buffered(data: &[u8]) -> bool {
    let mut frame_components = None;
    let mut progressive = false;
    for segment in Segments::new(data) {
        match segment.marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                progressive = matches!(segment.marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                frame_components = segment.body.get(5).copied();
            }
            0xDA => {
                let scan_components = segment.body.first().copied();
                return progressive || scan_components != frame_components;
            }
            _ => {}
        }
    }
    progressive
}

/// Walks every scan of a JPEG whose marker structure is already known to be sound.
pub(crate) fn walk(data: &[u8]) -> Result<(), ScanError> {
    let mut state = State::default();
    let mut scan_number = 0u32;
    let mut segments = Segments::new(data);
    while let Some(segment) = segments.next() {
        match segment.marker {
            0xC0..=0xC2 => state.frame = Some(Frame::parse(segment.marker, segment.body)?),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(ScanError::Unsupported(process_name(segment.marker)));
            }
            0xC4 => state.read_tables(segment.body)?,
            0xDD => state.restart_interval = be16(segment.body, 0).map_or(0, usize::from),
            0xDA => {
                scan_number += 1;
                let end = state.scan(data, segment.offset, segment.body, scan_number)?;
                segments.resume_at(end);
            }
            0xD9 => break,
            _ => {}
        }
    }
    Ok(())
}

/// The coding process of a frame marker that the walk (and zune-jpeg) do not implement.
fn process_name(sof: u8) -> &'static str {
    match sof {
        0xC3 => "lossless JPEG (SOF3)",
        0xC5..=0xC7 => "hierarchical JPEG (SOF5 to SOF7)",
        _ => "arithmetic-coded JPEG (SOF9 to SOF15)",
    }
}

/// A copy of a JPEG whose frame header gives height 0 and whose DNL segment (T.81 B.2.5)
/// gives the real height after the first scan, with the height moved into the frame header
/// and the DNL segment left out — what libjpeg 9 does as it reads. The decoders qoima uses
/// implement no DNL; the copy decodes to the same pixels. `None` when there is nothing to
/// move (the frame has a height, or there is no DNL segment with a non-zero height).
pub(crate) fn with_dnl_height(data: &[u8]) -> Option<Vec<u8>> {
    let mut height_at = None;
    for segment in Segments::new(data) {
        match segment.marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if height_at.is_none() => {
                if be16(segment.body, 1)? != 0 {
                    return None;
                }
                height_at = Some(segment.offset + 5);
            }
            0xDC => {
                let height = be16(segment.body, 0).filter(|&h| h != 0)?;
                let at = height_at?;
                let dnl_end = segment.offset + 4 + segment.body.len();
                let mut patched = Vec::with_capacity(data.len());
                patched.extend_from_slice(&data[..segment.offset]);
                patched.extend_from_slice(data.get(dnl_end..)?);
                patched[at..at + 2].copy_from_slice(&height.to_be_bytes());
                return Some(patched);
            }
            0xD9 => return None,
            _ => {}
        }
    }
    None
}

/// Whether a progressive scan's spectral selection and successive approximation are ones
/// libjpeg accepts (jdphuff.c, `start_pass_phuff_decoder`): a DC scan (`start` 0) ends at 0;
/// an AC scan has one component and a band inside 1..=63; a refinement (`high` > 0) lowers
/// the point transform by exactly one; `low` is at most 13. Anything else is "Invalid
/// progressive parameters", and libjpeg decodes nothing.
pub(crate) fn progression_valid(components: usize, start: u8, end: u8, high: u8, low: u8) -> bool {
    let band = if start == 0 {
        end == 0
    } else {
        start <= end && end <= 63 && components == 1
    };
    band && (high == 0 || low + 1 == high) && low <= 13 && components > 0
}

/// One marker segment: its marker, where it starts and its body (empty for standalone ones).
struct Segment<'a> {
    marker: u8,
    offset: usize,
    body: &'a [u8],
}

/// The marker segments after SOI, in order; entropy-coded data is skipped by the caller.
struct Segments<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Segments<'a> {
    fn new(data: &'a [u8]) -> Self {
        Segments { data, pos: 2 }
    }

    fn resume_at(&mut self, pos: usize) {
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
fn next_marker(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += data.get(i..)?.iter().position(|&b| b == 0xFF)?;
        match *data.get(i + 1)? {
            0x00 | 0xD0..=0xD7 => i += 2,
            0xFF => i += 1,
            _ => return Some(i),
        }
    }
}

struct Component {
    id: u8,
    horizontal: usize,
    vertical: usize,
}

struct Frame {
    progressive: bool,
    width: usize,
    height: usize,
    components: Vec<Component>,
    max_horizontal: usize,
    max_vertical: usize,
}

impl Frame {
    fn parse(marker: u8, body: &[u8]) -> Result<Frame, ScanError> {
        let bad = || ScanError::Bad("the frame header (SOF) is malformed".into());
        let height = usize::from(be16(body, 1).ok_or_else(bad)?);
        let width = usize::from(be16(body, 3).ok_or_else(bad)?);
        let count = usize::from(*body.get(5).ok_or_else(bad)?);
        if height == 0 {
            // The height comes later, in a DNL segment; callers pass [`with_dnl_height`]'s copy.
            return Err(ScanError::Unsupported("a height given by a DNL segment"));
        }
        let mut components = Vec::with_capacity(count);
        for spec in body.get(6..6 + 3 * count).ok_or_else(bad)?.chunks_exact(3) {
            let (horizontal, vertical) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) {
                return Err(ScanError::Bad(format!(
                    "component {} has sampling factors {horizontal}×{vertical}; each must be 1 to 4",
                    spec[0]
                )));
            }
            components.push(Component {
                id: spec[0],
                horizontal,
                vertical,
            });
        }
        let max_horizontal = components
            .iter()
            .map(|c| c.horizontal)
            .max()
            .ok_or_else(bad)?;
        let max_vertical = components
            .iter()
            .map(|c| c.vertical)
            .max()
            .ok_or_else(bad)?;
        Ok(Frame {
            progressive: marker == 0xC2,
            width,
            height,
            components,
            max_horizontal,
            max_vertical,
        })
    }

    /// MCUs across and down in an interleaved scan.
    fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.max_horizontal),
            self.height.div_ceil(8 * self.max_vertical),
        )
    }

    /// Blocks across and down that component `index` really covers (a non-interleaved scan).
    fn component_blocks(&self, index: usize) -> (usize, usize) {
        let c = &self.components[index];
        (
            (self.width * c.horizontal)
                .div_ceil(self.max_horizontal)
                .div_ceil(8),
            (self.height * c.vertical)
                .div_ceil(self.max_vertical)
                .div_ceil(8),
        )
    }

    /// Blocks across and down that component `index` has in the MCU grid (padded).
    fn padded_blocks(&self, index: usize) -> (usize, usize) {
        let (across, down) = self.mcus();
        let c = &self.components[index];
        (across * c.horizontal, down * c.vertical)
    }
}

/// A Huffman table in the canonical form of T.81 Annex F.2.2.3.
#[derive(Clone)]
struct Huffman {
    /// Largest code of each length (1..=16), or -1 when there is none.
    max_code: [i32; 17],
    /// Index into `values` of the first code of each length, less that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8], values: &[u8]) -> Huffman {
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0i32;
        let mut index = 0i32;
        for length in 1..=16 {
            let count = i32::from(counts[length - 1]);
            if count > 0 {
                offset[length] = index - code;
                code += count;
                index += count;
                max_code[length] = code - 1;
            }
            code <<= 1;
        }
        Huffman {
            max_code,
            offset,
            values: values.to_vec(),
        }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, Stop> {
        let mut code = 0i32;
        for length in 1..=16 {
            code = (code << 1) | bits.bit()? as i32;
            if code <= self.max_code[length] {
                let index = (self.offset[length] + code) as usize;
                return self.values.get(index).copied().ok_or(Stop::BadCode);
            }
        }
        Err(Stop::BadCode)
    }
}

/// Why decoding a block stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A marker or the end of the file came where more bits were needed.
    OutOfData,
    /// A bit pattern no table defines.
    BadCode,
}

/// The bits of one run of entropy-coded data, with `FF 00` unstuffed; stops at a marker.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    byte: u32,
    left: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            byte: 0,
            left: 0,
        }
    }

    fn bit(&mut self) -> Result<u32, Stop> {
        if self.left == 0 {
            let b = *self.data.get(self.pos).ok_or(Stop::OutOfData)?;
            if b == 0xFF {
                if self.data.get(self.pos + 1) != Some(&0x00) {
                    return Err(Stop::OutOfData);
                }
                self.pos += 1;
            }
            self.pos += 1;
            self.byte = u32::from(b);
            self.left = 8;
        }
        self.left -= 1;
        Ok((self.byte >> self.left) & 1)
    }

    fn bits(&mut self, count: u8) -> Result<u32, Stop> {
        let mut value = 0;
        for _ in 0..count {
            value = (value << 1) | self.bit()?;
        }
        Ok(value)
    }

    /// Drops the padding bits of the current byte; at a restart marker, steps over it.
    fn restart(&mut self) -> bool {
        self.left = 0;
        match next_marker_or_restart(self.data, self.pos) {
            Some(at) if matches!(self.data.get(at + 1), Some(0xD0..=0xD7)) => {
                self.pos = at + 2;
                true
            }
            _ => false,
        }
    }
}

/// The next marker from `from`, restart markers included.
fn next_marker_or_restart(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += data.get(i..)?.iter().position(|&b| b == 0xFF)?;
        match *data.get(i + 1)? {
            0x00 => i += 2,
            0xFF => i += 1,
            _ => return Some(i),
        }
    }
}

/// Tables, restart interval and progressive state, as the segments set them.
#[derive(Default)]
struct State {
    frame: Option<Frame>,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    restart_interval: usize,
    /// Per component, one mask of non-zero AC coefficients per block (progressive only).
    nonzero: Vec<Vec<u64>>,
}

/// One component of a scan, with its tables.
struct ScanComponent<'t> {
    index: usize,
    dc: Option<&'t Huffman>,
    ac: Option<&'t Huffman>,
}

/// The scan header's spectral selection and successive approximation.
#[derive(Clone, Copy)]
struct Spectral {
    start: usize,
    end: usize,
    high: u8,
}

impl State {
    fn read_tables(&mut self, mut body: &[u8]) -> Result<(), ScanError> {
        let bad = || ScanError::Bad("a Huffman table (DHT) is malformed".into());
        while !body.is_empty() {
            let class_and_id = body[0];
            let counts = body.get(1..17).ok_or_else(bad)?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let values = body.get(17..17 + total).ok_or_else(bad)?;
            let table = Some(Huffman::new(counts, values));
            let id = usize::from(class_and_id & 3);
            if class_and_id >> 4 == 0 {
                self.dc_tables[id] = table;
            } else {
                self.ac_tables[id] = table;
            }
            body = &body[17 + total..];
        }
        Ok(())
    }

    /// Walks one scan whose header starts at `offset`; returns where its data ends.
    fn scan(
        &mut self,
        data: &[u8],
        offset: usize,
        header: &[u8],
        number: u32,
    ) -> Result<usize, ScanError> {
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| ScanError::Bad("a scan comes before the frame header".into()))?;
        let (components, spectral) = scan_header(frame, header, &self.dc_tables, &self.ac_tables)?;
        if frame.progressive && self.nonzero.is_empty() {
            self.nonzero = (0..frame.components.len())
                .map(|i| {
                    let (across, down) = frame.padded_blocks(i);
                    vec![0u64; across * down]
                })
                .collect();
        }
        let layout = Layout::new(frame, &components);
        let mut blocks = Vec::new();
        let mut bits = Bits::new(data, offset + 2 + 2 + header.len());
        let mut walker = BlockWalker {
            spectral,
            progressive: frame.progressive,
            eob_run: 0,
        };
        for unit in 0..layout.count {
            if self.restart_interval > 0 && unit > 0 && unit % self.restart_interval == 0 {
                if !bits.restart() {
                    return Err(short(number, offset, unit, layout.count));
                }
                walker.eob_run = 0;
            }
            layout.blocks(frame, &components, unit, &mut blocks);
            for &(component, block) in &blocks {
                let tables = components
                    .iter()
                    .find(|c| c.index == component)
                    .expect("units are built from the scan's components");
                let mask = self
                    .nonzero
                    .get_mut(component)
                    .and_then(|m| m.get_mut(block));
                match walker.block(&mut bits, tables, mask) {
                    Ok(()) => {}
                    Err(Stop::OutOfData) => {
                        return Err(short(number, offset, unit, layout.count));
                    }
                    Err(Stop::BadCode) => {
                        return Err(ScanError::Bad(format!(
                            "scan {number} (at byte {offset}) holds a Huffman code its table does not define, near byte {}",
                            bits.pos
                        )));
                    }
                }
            }
        }
        let end = next_marker(data, bits.pos).unwrap_or(data.len());
        let extraneous = bytes_before_marker(data, bits.pos, end);
        if extraneous > EXTRANEOUS_TOLERANCE {
            return Err(ScanError::Truncated(format!(
                "scan {number} (at byte {offset}) ends {extraneous} bytes before the next marker: the image data was overwritten or its scan headers damaged (libjpeg: extraneous bytes before marker)"
            )));
        }
        Ok(end)
    }
}

/// Stray bytes after a scan that go unremarked. A few are a harmless quirk of some encoders
/// (libjpeg's "1 extraneous bytes before marker 0xd9" is common on photos that display
/// perfectly); many mean the data after the point where the codes ran out was overwritten —
/// with zeros, typically, which decode as short codes — or its scan headers were damaged.
const EXTRANEOUS_TOLERANCE: usize = 64;

/// Bytes between the end of a scan's data and the marker that follows, fill bytes (`0xFF`)
/// before the marker aside.
fn bytes_before_marker(data: &[u8], from: usize, marker: usize) -> usize {
    let mut start = marker;
    while start > from && data[start - 1] == 0xFF {
        start -= 1;
    }
    start.saturating_sub(from)
}

fn short(number: u32, offset: usize, unit: usize, units: usize) -> ScanError {
    ScanError::Truncated(format!(
        "scan {number} (at byte {offset}) runs out of data after {unit} of its {units} coding units: premature end of the entropy-coded data (the rest of the image would be filled with grey)"
    ))
}

/// Parses a scan header: its components (with their tables) and spectral parameters.
fn scan_header<'t>(
    frame: &Frame,
    header: &[u8],
    dc_tables: &'t [Option<Huffman>; 4],
    ac_tables: &'t [Option<Huffman>; 4],
) -> Result<(Vec<ScanComponent<'t>>, Spectral), ScanError> {
    let bad = || ScanError::Bad("a scan header (SOS) is malformed".into());
    let count = usize::from(*header.first().ok_or_else(bad)?);
    let specs = header.get(1..1 + 2 * count).ok_or_else(bad)?;
    let mut components = Vec::with_capacity(count);
    for spec in specs.chunks_exact(2) {
        let index = frame
            .components
            .iter()
            .position(|c| c.id == spec[0])
            .ok_or_else(|| {
                ScanError::Bad(format!(
                    "a scan names component {}, which the frame does not have",
                    spec[0]
                ))
            })?;
        components.push(ScanComponent {
            index,
            dc: dc_tables[usize::from(spec[1] >> 4) & 3].as_ref(),
            ac: ac_tables[usize::from(spec[1] & 15) & 3].as_ref(),
        });
    }
    let tail = header.get(1 + 2 * count..4 + 2 * count).ok_or_else(bad)?;
    let spectral = Spectral {
        start: usize::from(tail[0]),
        end: usize::from(tail[1]).min(63),
        high: tail[2] >> 4,
    };
    let low = tail[2] & 15;
    let valid = if frame.progressive {
        progression_valid(count, tail[0], tail[1], spectral.high, low)
    } else {
        (spectral.start, tail[1], spectral.high, low) == (0, 63, 0, 0)
    };
    if count == 0 || !valid {
        return Err(ScanError::Bad(format!(
            "a scan header (SOS) has impossible parameters (spectral selection {}..{}, successive approximation {}/{low})",
            spectral.start, tail[1], spectral.high
        )));
    }
    Ok((components, spectral))
}

/// The coding units of a scan: MCUs of every component's blocks when the scan is
/// interleaved, single blocks of one component otherwise (T.81 A.2).
struct Layout {
    /// Units across and in all.
    across: usize,
    count: usize,
    interleaved: bool,
}

impl Layout {
    fn new(frame: &Frame, components: &[ScanComponent<'_>]) -> Layout {
        let (across, down) = match components {
            [only] => frame.component_blocks(only.index),
            _ => frame.mcus(),
        };
        Layout {
            across,
            count: across * down,
            interleaved: components.len() > 1,
        }
    }

    /// The `(component, block index)` pairs of unit `unit`, in coding order, into `blocks`.
    fn blocks(
        &self,
        frame: &Frame,
        components: &[ScanComponent<'_>],
        unit: usize,
        blocks: &mut Vec<(usize, usize)>,
    ) {
        blocks.clear();
        let (unit_row, unit_col) = (unit / self.across, unit % self.across);
        for c in components {
            let comp = &frame.components[c.index];
            let (stride, _) = frame.padded_blocks(c.index);
            let (vertical, horizontal) = if self.interleaved {
                (comp.vertical, comp.horizontal)
            } else {
                (1, 1)
            };
            for v in 0..vertical {
                for h in 0..horizontal {
                    let row = unit_row * vertical + v;
                    let col = unit_col * horizontal + h;
                    blocks.push((c.index, row * stride + col));
                }
            }
        }
    }
}

/// Reads one block's codes, as T.81 F.2 (sequential) and G.1.2 (progressive) describe.
struct BlockWalker {
    spectral: Spectral,
    progressive: bool,
    eob_run: u32,
}

impl BlockWalker {
    fn block(
        &mut self,
        bits: &mut Bits<'_>,
        tables: &ScanComponent<'_>,
        mask: Option<&mut u64>,
    ) -> Result<(), Stop> {
        let Spectral { start, end, high } = self.spectral;
        if !self.progressive {
            self.dc(bits, tables.dc)?;
            return self.ac_first(bits, tables.ac, 1, 63, &mut 0);
        }
        let mut scratch = 0;
        let mask = mask.unwrap_or(&mut scratch);
        match (start, high) {
            (0, 0) => self.dc(bits, tables.dc),
            (0, _) => bits.bit().map(drop),
            (_, 0) => self.ac_first(bits, tables.ac, start, end, mask),
            (_, _) => self.ac_refine(bits, tables.ac, start, end, mask),
        }
    }

    fn dc(&mut self, bits: &mut Bits<'_>, table: Option<&Huffman>) -> Result<(), Stop> {
        let size = table.ok_or(Stop::BadCode)?.decode(bits)?;
        if size > 16 {
            return Err(Stop::BadCode);
        }
        bits.bits(size).map(drop)
    }

    fn ac_first(
        &mut self,
        bits: &mut Bits<'_>,
        table: Option<&Huffman>,
        start: usize,
        end: usize,
        mask: &mut u64,
    ) -> Result<(), Stop> {
        if self.eob_run > 0 {
            self.eob_run -= 1;
            return Ok(());
        }
        let table = table.ok_or(Stop::BadCode)?;
        let mut k = start;
        while k <= end {
            let symbol = table.decode(bits)?;
            let (run, size) = (usize::from(symbol >> 4), symbol & 15);
            if size == 0 {
                if run < 15 {
                    if self.progressive {
                        self.eob_run = (1u32 << run) - 1 + bits.bits(run as u8)?;
                    }
                    return Ok(());
                }
                k += 16;
                continue;
            }
            k += run;
            bits.bits(size)?;
            if k < 64 {
                *mask |= 1 << k;
            }
            k += 1;
        }
        Ok(())
    }

    /// A refinement scan: one correction bit for every coefficient already non-zero, and new
    /// coefficients of magnitude 1 placed among the zero ones (T.81 G.1.2.3).
    fn ac_refine(
        &mut self,
        bits: &mut Bits<'_>,
        table: Option<&Huffman>,
        start: usize,
        end: usize,
        mask: &mut u64,
    ) -> Result<(), Stop> {
        let mut k = start;
        if self.eob_run == 0 {
            let table = table.ok_or(Stop::BadCode)?;
            while k <= end {
                let symbol = table.decode(bits)?;
                let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
                if size == 0 && run < 15 {
                    self.eob_run = (1u32 << run) + bits.bits(run as u8)?;
                    break;
                }
                if size != 0 {
                    bits.bit()?; // the new coefficient's sign
                }
                while k <= end {
                    if *mask & (1 << k) != 0 {
                        bits.bit()?;
                    } else {
                        if run == 0 {
                            break;
                        }
                        run -= 1;
                    }
                    k += 1;
                }
                if size != 0 && k <= end {
                    *mask |= 1 << k;
                }
                k += 1;
            }
        }
        if self.eob_run > 0 {
            while k <= end {
                if *mask & (1 << k) != 0 {
                    bits.bit()?;
                }
                k += 1;
            }
            self.eob_run -= 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_progression_parameters_follow_libjpeg() {
        // (components, Ss, Se, Ah, Al)
        for ok in [
            (3, 0, 0, 0, 1),
            (1, 1, 5, 0, 2),
            (1, 6, 63, 0, 2),
            (1, 1, 63, 2, 1),
            (3, 0, 0, 1, 0),
        ] {
            assert!(progression_valid(ok.0, ok.1, ok.2, ok.3, ok.4), "{ok:?}");
        }
        for bad in [
            (1, 1, 64, 0, 2),  // Se past the last coefficient
            (1, 0, 5, 0, 0),   // a DC scan with AC coefficients
            (3, 1, 5, 0, 0),   // an AC scan with three components
            (1, 6, 5, 0, 0),   // Ss after Se
            (1, 1, 63, 2, 2),  // a refinement that does not lower Al by one
            (1, 1, 63, 0, 14), // Al past 13
            (0, 0, 0, 0, 0),   // no component
        ] {
            assert!(
                !progression_valid(bad.0, bad.1, bad.2, bad.3, bad.4),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn issue14_the_dnl_height_moves_into_the_frame_header() {
        // SOI, SOF0 (height 0, width 8, one component), SOS, one data byte, DNL (height 8), EOI.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 0, 0, 8, 1, 1, 0x11, 0];
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x55]);
        j.extend_from_slice(&[0xFF, 0xDC, 0, 4, 0, 8, 0xFF, 0xD9]);
        let patched = with_dnl_height(&j).unwrap();
        assert_eq!(patched.len(), j.len() - 6);
        assert_eq!(&patched[7..9], &[0, 8]);
        assert!(!patched.windows(2).any(|w| w == [0xFF, 0xDC]));
        assert_eq!(with_dnl_height(&patched), None, "nothing left to move");
        // Height 0 and no DNL: nothing to move (the structural check reports it).
        let mut no_dnl = j.clone();
        no_dnl.drain(j.len() - 8..j.len() - 2);
        assert_eq!(with_dnl_height(&no_dnl), None);
    }
}
