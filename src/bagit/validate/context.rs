//! What every step of a validation shares: the store, the sorted listing of the bag, and the
//! problems found so far.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::options::Observer;
use crate::error::{Code, Problem};
use crate::store::{Entry, Store};
use crate::verdict::Problems;

/// The state one validation carries from step to step.
pub(super) struct Context<'a> {
    /// The bag.
    pub(super) store: &'a dyn Store,
    /// Capped per code and file, so that ten million blank manifest lines cost no more than
    /// a hundred.
    pub(super) problems: Problems,
    /// Every entry of the bag, sorted by path (looked up by binary search: no second copy of
    /// 100,000 names in a hash map).
    pub(super) entries: Vec<Entry>,
    /// NFC form of each entry's path → its index; built on the first lookup that needs it.
    nfc_index: Option<HashMap<String, usize>>,
    /// Sees each file's digests as they are computed.
    pub(super) observe: &'a Observer<'a>,
}

impl<'a> Context<'a> {
    /// The context of a bag whose sorted listing is `entries`.
    pub(super) fn new(
        store: &'a dyn Store,
        problems: Problems,
        entries: Vec<Entry>,
        observe: &'a Observer<'a>,
    ) -> Context<'a> {
        Context {
            store,
            problems,
            entries,
            nfc_index: None,
            observe,
        }
    }

    pub(super) fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .ok()
    }

    /// The entry at `path`, of any kind.
    pub(super) fn entry(&self, path: &str) -> Option<&Entry> {
        self.find(path).map(|index| &self.entries[index])
    }

    /// The index of a readable file at `path`.
    pub(super) fn file(&self, path: &str) -> Option<usize> {
        self.find(path)
            .filter(|&index| self.entries[index].is_readable_file())
    }

    /// Whether `path` is a readable file.
    pub(super) fn is_file(&self, path: &str) -> bool {
        self.entry(path).is_some_and(Entry::is_readable_file)
    }

    /// The on-disk entry whose NFC form equals `path`'s NFC form.
    pub(super) fn nfc_lookup(&mut self, path: &str) -> Option<usize> {
        let entries = &self.entries;
        let index = self.nfc_index.get_or_insert_with(|| {
            entries
                .iter()
                .enumerate()
                .map(|(position, entry)| (entry.path.nfc().collect::<String>(), position))
                .collect()
        });
        let key: String = path.nfc().collect();
        index.get(&key).copied()
    }

    /// Opens the tag file `path` and parses it with `parse`; `BAG-012` when it cannot be
    /// opened.
    pub(super) fn read_tag<T>(
        &mut self,
        path: &str,
        parse: impl FnOnce(&mut dyn std::io::Read, &mut Problems) -> T,
    ) -> Option<T> {
        match self.store.open(path) {
            Ok(mut reader) => Some(parse(&mut reader, &mut self.problems)),
            Err(error) => {
                self.push(
                    Problem::new(
                        Code::TagFileUnreadable,
                        format!("cannot read {path}: {error}"),
                    )
                    .file(path),
                );
                None
            }
        }
    }
}
