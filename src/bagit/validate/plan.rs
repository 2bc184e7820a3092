//! What full mode hashes: each distinct file once, with the union of the algorithms of every
//! manifest line that names it, and the lines to compare its digests with.

use crate::digest::{Algorithm, AlgorithmSet};

/// One manifest line to compare with a file's digests: (slot, a tag manifest, manifest index,
/// line index).
type LineRef = (u32, bool, u32, u32);

/// The files to hash: one slot per distinct file with the union of its algorithms, and one
/// reference per manifest line to its slot.
pub(super) struct HashPlan {
    slot_of: Vec<u32>,
    slots: Vec<(usize, AlgorithmSet)>,
    refs: Vec<LineRef>,
}

impl HashPlan {
    /// An empty plan over a listing of `entries` entries.
    pub(super) fn new(entries: usize) -> HashPlan {
        HashPlan {
            slot_of: vec![u32::MAX; entries],
            slots: Vec::new(),
            refs: Vec::new(),
        }
    }

    /// Plans line `line` of manifest `manifest` (a tag manifest if `tag`), which names entry
    /// `entry`, to be checked with `algorithm` (nothing is planned without one).
    pub(super) fn add(
        &mut self,
        entry: usize,
        algorithm: Option<Algorithm>,
        tag: bool,
        manifest: usize,
        line: usize,
    ) {
        let Some(algorithm) = algorithm else { return };
        let mut slot = self.slot_of[entry];
        if slot == u32::MAX {
            slot = self.slots.len() as u32;
            self.slot_of[entry] = slot;
            self.slots.push((entry, AlgorithmSet::EMPTY));
        }
        self.slots[slot as usize].1.insert(algorithm);
        self.refs.push((slot, tag, manifest as u32, line as u32));
    }

    /// One slot per distinct file: (entry index, the union of its algorithms).
    pub(super) fn slots(&self) -> &[(usize, AlgorithmSet)] {
        &self.slots
    }

    /// The entry index of slot `slot`.
    pub(super) fn entry_of(&self, slot: usize) -> usize {
        self.slots[slot].0
    }

    /// The manifest lines grouped by slot (compressed rows: the lines of slot `s` are
    /// `lines[starts[s]..starts[s + 1]]`), so that each result is compared with its lines the
    /// moment it is ready and then dropped.
    pub(super) fn lines_by_slot(&self) -> LinesBySlot {
        let mut starts = vec![0u32; self.slots.len() + 1];
        for &(slot, ..) in &self.refs {
            starts[slot as usize + 1] += 1;
        }
        for index in 1..starts.len() {
            starts[index] += starts[index - 1];
        }
        let mut lines = vec![(false, 0u32, 0u32); self.refs.len()];
        let mut fill = starts.clone();
        for &(slot, tag, manifest, line) in &self.refs {
            lines[fill[slot as usize] as usize] = (tag, manifest, line);
            fill[slot as usize] += 1;
        }
        LinesBySlot { starts, lines }
    }
}

/// [`HashPlan::lines_by_slot`].
pub(super) struct LinesBySlot {
    starts: Vec<u32>,
    /// (a tag manifest, manifest index, line index).
    lines: Vec<(bool, u32, u32)>,
}

impl LinesBySlot {
    pub(super) fn of(&self, slot: usize) -> &[(bool, u32, u32)] {
        &self.lines[self.starts[slot] as usize..self.starts[slot + 1] as usize]
    }
}
