//! The checksum algorithms qoima knows, with their BagIt manifest names.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A checksum algorithm, named as RFC 8493 section 2.4 names it in manifest file names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5: legacy bags only; weak.
    Md5,
    /// SHA-1: legacy bags only; weak.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256: one of the two algorithms RFC 8493 requires.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512: the RFC's recommended default.
    Sha512,
    /// BLAKE3: an extension; other BagIt tools will not check it.
    Blake3,
}

impl Algorithm {
    /// Every algorithm, in the order manifests are written.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
        Algorithm::Blake3,
    ];

    /// The name used in `manifest-<name>.txt`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
            Algorithm::Blake3 => "blake3",
        }
    }

    /// Length of the lower-case hexadecimal digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 | Algorithm::Blake3 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// MD5 and SHA-1 no longer resist deliberate collisions.
    pub fn is_weak(self) -> bool {
        matches!(self, Algorithm::Md5 | Algorithm::Sha1)
    }

    /// Bit of this algorithm in an [`AlgorithmSet`].
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Looks an algorithm up by its manifest name after RFC 8493 normalisation
    /// (lower case, non-alphanumerics removed: `SHA-256` is `sha256`).
    pub fn from_manifest_name(name: &str) -> Option<Algorithm> {
        let norm = normalize_name(name);
        Algorithm::ALL.into_iter().find(|a| a.name() == norm)
    }
}

/// RFC 8493 section 2.4: lower case, with everything but letters and digits removed.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The error of parsing an algorithm name.
#[derive(Debug, thiserror::Error)]
#[error("unknown algorithm {0:?}; known: md5, sha1, sha224, sha256, sha384, sha512, blake3")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_manifest_name(s).ok_or_else(|| UnknownAlgorithm(s.to_string()))
    }
}

/// A small set of algorithms, cheap to copy into every hashing job.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AlgorithmSet(u8);

impl AlgorithmSet {
    /// The empty set.
    pub const EMPTY: AlgorithmSet = AlgorithmSet(0);

    /// Adds an algorithm.
    pub fn insert(&mut self, a: Algorithm) {
        self.0 |= a.bit();
    }

    /// Whether the set holds `a`.
    pub fn contains(self, a: Algorithm) -> bool {
        self.0 & a.bit() != 0
    }

    /// Number of algorithms in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Union of two sets.
    pub fn union(self, other: AlgorithmSet) -> AlgorithmSet {
        AlgorithmSet(self.0 | other.0)
    }

    /// The algorithms, in manifest order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut set = AlgorithmSet::EMPTY;
        for algorithm in iter {
            set.insert(algorithm);
        }
        set
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names_as_rfc_8493_section_2_4() {
        assert_eq!(
            Algorithm::from_manifest_name("SHA-256"),
            Some(Algorithm::Sha256)
        );
        assert_eq!(
            Algorithm::from_manifest_name("sha_512"),
            Some(Algorithm::Sha512)
        );
        assert_eq!(Algorithm::from_manifest_name("MD5"), Some(Algorithm::Md5));
        assert_eq!(Algorithm::from_manifest_name("shake128"), None);
    }

    #[test]
    fn set_iterates_in_manifest_order() {
        let s: AlgorithmSet = [Algorithm::Sha512, Algorithm::Md5, Algorithm::Sha256]
            .into_iter()
            .collect();
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512]
        );
        assert_eq!(s.len(), 3);
    }
}
