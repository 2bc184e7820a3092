//! The bottom of the scan walk: why it stops ([`ScanError`]), the frame header (SOF: size,
//! components and their sampling factors) and the progressive parameters a scan header may
//! hold ([`progression_valid`]).

use crate::photo::bytes::be16;

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

pub(super) struct Component {
    pub(super) id: u8,
    pub(super) horizontal: usize,
    pub(super) vertical: usize,
}

pub(super) struct Frame {
    pub(super) progressive: bool,
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) components: Vec<Component>,
    pub(super) max_horizontal: usize,
    pub(super) max_vertical: usize,
}

impl Frame {
    pub(super) fn parse(marker: u8, body: &[u8]) -> Result<Frame, ScanError> {
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
    pub(super) fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.max_horizontal),
            self.height.div_ceil(8 * self.max_vertical),
        )
    }

    /// Blocks across and down that component `index` really covers (a non-interleaved scan).
    pub(super) fn component_blocks(&self, index: usize) -> (usize, usize) {
        let component = &self.components[index];
        (
            (self.width * component.horizontal)
                .div_ceil(self.max_horizontal)
                .div_ceil(8),
            (self.height * component.vertical)
                .div_ceil(self.max_vertical)
                .div_ceil(8),
        )
    }

    /// Blocks across and down that component `index` has in the MCU grid (padded).
    pub(super) fn padded_blocks(&self, index: usize) -> (usize, usize) {
        let (across, down) = self.mcus();
        let component = &self.components[index];
        (across * component.horizontal, down * component.vertical)
    }
}
