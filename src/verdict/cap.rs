//! Bounding the problems a report keeps.
//!
//! A broken or hostile input can hold millions of problems of one kind in one file: 10 MB of
//! blank manifest lines, a million bad CSV rows. Kept one by one they cost about 330 bytes
//! each (3.3 GB for the blank lines). [`Problems`] keeps the first `limit` problems of each
//! group — same code, severity and kind, same file — and only counts the rest;
//! [`Problems::into_vec`] then adds one summary problem (`BAG-W050`) per capped group, which
//! carries the group's code, severity, kind and the number left out. The summary stands for
//! its group everywhere a verdict is made: the kept problems already decide the verdict, and
//! [`super::Counts::of`] counts every omitted problem, so the verdict, the exit code and the
//! counts are exactly those of the uncapped list.
//!
//! Groups are found by a hash of their key, compared with the group's first kept problem,
//! so a group costs a few dozen bytes and no second copy of its file name.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::error::{Code, Omitted, Problem};

/// How many problems of one code in one file a report lists by default.
pub const DEFAULT_MAX_PROBLEMS: usize = 100;

/// A problem collection that keeps at most `limit` problems per (code, file).
#[derive(Debug, Clone)]
pub struct Problems {
    /// 0 keeps every problem.
    limit: usize,
    kept: Vec<Problem>,
    groups: Vec<Group>,
    /// Key hash → group (the common case: one group per hash).
    index: HashMap<u64, u32>,
    /// Groups whose key hash was already taken by another group (searched one by one).
    collided: Vec<u32>,
    /// Summaries pushed from elsewhere whose group has no kept problem here.
    carried: Vec<Problem>,
}

#[derive(Debug, Clone)]
struct Group {
    /// Index in `kept` of the group's first problem, which holds its key.
    first: usize,
    kept: usize,
    omitted: u64,
}

impl Default for Problems {
    /// Capped at [`DEFAULT_MAX_PROBLEMS`].
    fn default() -> Self {
        Problems::new(DEFAULT_MAX_PROBLEMS)
    }
}

impl Problems {
    /// Keeps at most `limit` problems per (code, file); 0 keeps every problem.
    pub fn new(limit: usize) -> Problems {
        Problems {
            limit,
            kept: Vec::new(),
            groups: Vec::new(),
            index: HashMap::new(),
            collided: Vec::new(),
            carried: Vec::new(),
        }
    }

    /// Keeps every problem.
    pub fn unlimited() -> Problems {
        Problems::new(0)
    }

    /// The limit per group (0: none).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Adds a problem: kept if its group has room, else counted. A summary problem (from
    /// another collection) adds its count to its group.
    pub fn push(&mut self, problem: Problem) {
        if self.limit == 0 && problem.omitted.is_none() {
            self.kept.push(problem);
            return;
        }
        let hash = key_hash(&problem);
        if let Some(count) = problem.omitted.as_ref().map(|o| o.count) {
            match self.find(hash, &problem) {
                Some(g) => self.groups[g].omitted += count,
                None => self.carried.push(problem),
            }
            return;
        }
        match self.find(hash, &problem) {
            Some(g) if self.groups[g].kept >= self.limit => self.groups[g].omitted += 1,
            Some(g) => {
                self.groups[g].kept += 1;
                self.kept.push(problem);
            }
            None => self.start_group(hash, problem),
        }
    }

    /// The kept problems, then one summary per capped group.
    pub fn into_vec(mut self) -> Vec<Problem> {
        let summaries = self.omitted_summaries();
        let mut out = self.kept;
        out.extend(summaries);
        out.append(&mut self.carried);
        out
    }

    fn omitted_summaries(&self) -> Vec<Problem> {
        self.groups
            .iter()
            .filter(|g| g.omitted > 0)
            .map(|g| summary(&self.kept[g.first], g.omitted, self.limit))
            .collect()
    }

    fn find(&self, hash: u64, problem: &Problem) -> Option<usize> {
        let same = |g: u32| same_group(&self.kept[self.groups[g as usize].first], problem);
        if let Some(&g) = self.index.get(&hash) {
            if same(g) {
                return Some(g as usize);
            }
            return self
                .collided
                .iter()
                .copied()
                .find(|&g| same(g))
                .map(|g| g as usize);
        }
        None
    }

    fn start_group(&mut self, hash: u64, problem: Problem) {
        let id = u32::try_from(self.groups.len()).expect("fewer than 4 billion problem groups");
        self.groups.push(Group {
            first: self.kept.len(),
            kept: 1,
            omitted: 0,
        });
        self.kept.push(problem);
        match self.index.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => self.collided.push(id),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
    }
}

impl std::ops::Deref for Problems {
    type Target = [Problem];

    /// The problems kept so far (summaries are made by [`Problems::into_vec`]).
    fn deref(&self) -> &[Problem] {
        &self.kept
    }
}

impl Extend<Problem> for Problems {
    fn extend<I: IntoIterator<Item = Problem>>(&mut self, iter: I) {
        for problem in iter {
            self.push(problem);
        }
    }
}

impl From<Problems> for Vec<Problem> {
    fn from(problems: Problems) -> Vec<Problem> {
        problems.into_vec()
    }
}

fn key_hash(problem: &Problem) -> u64 {
    let mut hasher = DefaultHasher::new();
    problem.counted_code().hash(&mut hasher);
    problem.severity.hash(&mut hasher);
    problem.kind.hash(&mut hasher);
    problem.location.file.hash(&mut hasher);
    hasher.finish()
}

fn same_group(a: &Problem, b: &Problem) -> bool {
    a.counted_code() == b.counted_code()
        && a.severity == b.severity
        && a.kind == b.kind
        && a.location.file == b.location.file
}

/// The problem that stands for `count` omitted problems of `first`'s group.
fn summary(first: &Problem, count: u64, limit: usize) -> Problem {
    let code = first.code;
    let place = first
        .location
        .file
        .as_deref()
        .map(|f| format!(" in {}", crate::paths::printable(f)))
        .unwrap_or_default();
    let mut problem = Problem::new(
        Code::ProblemsOmitted,
        format!(
            "and {} more {code}{place} (only the first {limit} of each code in each file are listed)",
            thousands(count),
        ),
    );
    problem.severity = first.severity;
    problem.kind = first.kind;
    problem.location.file = first.location.file.clone();
    problem.omitted = Some(Box::new(Omitted { code, count }));
    problem
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Severity;
    use crate::verdict::{Counts, Verdict, apply_strict};

    fn blank(file: &str, line: u64) -> Problem {
        Problem::new(Code::BlankManifestLine, "blank")
            .file(file)
            .line(line)
    }

    #[test]
    fn keeps_the_first_of_each_group_and_counts_the_rest() {
        let mut p = Problems::new(3);
        for n in 1..=10 {
            p.push(blank("manifest-sha256.txt", n));
            p.push(blank("manifest-md5.txt", n));
        }
        p.push(Problem::new(Code::ManifestLineMalformed, "bad").file("manifest-md5.txt"));
        let all = p.into_vec();
        assert_eq!(all.len(), 3 + 3 + 1 + 2);
        let sums: Vec<_> = all.iter().filter(|x| x.omitted.is_some()).collect();
        assert_eq!(sums.len(), 2);
        for s in sums {
            assert_eq!(s.code, Code::ProblemsOmitted);
            assert_eq!(s.omitted.as_ref().unwrap().code, Code::BlankManifestLine);
            assert_eq!(s.omitted.as_ref().unwrap().count, 7);
            assert!(s.message.starts_with("and 7 more BAG-W015 in manifest-"));
        }
        let counts = Counts::of(&all);
        assert_eq!((counts.errors, counts.warnings), (1, 20));
    }

    #[test]
    fn zero_keeps_everything() {
        let mut p = Problems::unlimited();
        p.extend((1..=500).map(|n| blank("m.txt", n)));
        assert_eq!(p.into_vec().len(), 500);
    }

    #[test]
    fn merging_adds_counts_and_strict_follows_the_group() {
        let mut part = Problems::new(2);
        part.extend((1..=5).map(|n| blank("m.txt", n)));
        let mut whole = Problems::new(2);
        whole.extend(part.into_vec());
        let mut all = whole.into_vec();
        let sum = all.iter().find(|x| x.omitted.is_some()).unwrap();
        assert_eq!(sum.omitted.as_ref().unwrap().count, 3);
        assert_eq!(Counts::of(&all).warnings, 5);
        // --strict with the group's code allowed: still a pass, summary included.
        let mut allowed = all.clone();
        apply_strict(&mut allowed, &[Code::BlankManifestLine]);
        assert_eq!(
            Verdict::from_problems(&allowed, Verdict::Valid),
            Verdict::Valid
        );
        apply_strict(&mut all, &[]);
        assert!(all.iter().all(|x| x.severity == Severity::Error));
        assert_eq!(Counts::of(&all).errors, 5);
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
