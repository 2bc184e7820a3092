//! The entropy-coded data of each scan, walked block by block exactly as a decoder reads it:
//! the Huffman tables, the bit reader, the coding units of a scan and the block walker. These
//! are the walk's inner loops, kept in one file so that they are compiled together.

use super::headers::{Frame, ScanError, progression_valid};
use super::segments::next_marker;

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
            let byte = *self.data.get(self.pos).ok_or(Stop::OutOfData)?;
            if byte == 0xFF {
                if self.data.get(self.pos + 1) != Some(&0x00) {
                    return Err(Stop::OutOfData);
                }
                self.pos += 1;
            }
            self.pos += 1;
            self.byte = u32::from(byte);
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
    let mut at = from;
    loop {
        at += data.get(at..)?.iter().position(|&byte| byte == 0xFF)?;
        match *data.get(at + 1)? {
            0x00 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

/// Tables, restart interval and progressive state, as the segments set them.
#[derive(Default)]
pub(super) struct State {
    pub(super) frame: Option<Frame>,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    pub(super) restart_interval: usize,
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
    pub(super) fn read_tables(&mut self, mut body: &[u8]) -> Result<(), ScanError> {
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
    pub(super) fn scan(
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
        for scan_component in components {
            let component = &frame.components[scan_component.index];
            let (stride, _) = frame.padded_blocks(scan_component.index);
            let (vertical, horizontal) = if self.interleaved {
                (component.vertical, component.horizontal)
            } else {
                (1, 1)
            };
            for down in 0..vertical {
                for across in 0..horizontal {
                    let row = unit_row * vertical + down;
                    let col = unit_col * horizontal + across;
                    blocks.push((scan_component.index, row * stride + col));
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
        let mut coefficient = start;
        while coefficient <= end {
            let symbol = table.decode(bits)?;
            let (run, size) = (usize::from(symbol >> 4), symbol & 15);
            if size == 0 {
                if run < 15 {
                    if self.progressive {
                        self.eob_run = (1u32 << run) - 1 + bits.bits(run as u8)?;
                    }
                    return Ok(());
                }
                coefficient += 16;
                continue;
            }
            coefficient += run;
            bits.bits(size)?;
            if coefficient < 64 {
                *mask |= 1 << coefficient;
            }
            coefficient += 1;
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
        let mut coefficient = start;
        if self.eob_run == 0 {
            let table = table.ok_or(Stop::BadCode)?;
            while coefficient <= end {
                let symbol = table.decode(bits)?;
                let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
                if size == 0 && run < 15 {
                    self.eob_run = (1u32 << run) + bits.bits(run as u8)?;
                    break;
                }
                if size != 0 {
                    bits.bit()?; // the new coefficient's sign
                }
                while coefficient <= end {
                    if *mask & (1 << coefficient) != 0 {
                        bits.bit()?;
                    } else {
                        if run == 0 {
                            break;
                        }
                        run -= 1;
                    }
                    coefficient += 1;
                }
                if size != 0 && coefficient <= end {
                    *mask |= 1 << coefficient;
                }
                coefficient += 1;
            }
        }
        if self.eob_run > 0 {
            while coefficient <= end {
                if *mask & (1 << coefficient) != 0 {
                    bits.bit()?;
                }
                coefficient += 1;
            }
            self.eob_run -= 1;
        }
        Ok(())
    }
}
