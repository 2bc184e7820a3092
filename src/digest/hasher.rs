//! One running hash per algorithm, behind one type, so one buffer can feed them all.

use sha1::Digest as _;

use super::{Algorithm, Digest};

/// A running hash of one algorithm.
pub enum Hasher {
    /// MD5.
    Md5(md5::Md5),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-224.
    Sha224(sha2::Sha224),
    /// SHA-256 (the sha2 crate uses SHA-NI where the CPU has it).
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(Sha384Impl),
    /// SHA-512.
    Sha512(Sha512Impl),
    /// BLAKE3.
    Blake3(Box<blake3::Hasher>),
}

#[cfg(feature = "openssl")]
type Sha384Impl = openssl::sha::Sha384;
#[cfg(feature = "openssl")]
type Sha512Impl = openssl::sha::Sha512;
#[cfg(not(feature = "openssl"))]
type Sha384Impl = sha2::Sha384;
#[cfg(not(feature = "openssl"))]
type Sha512Impl = sha2::Sha512;

/// Which implementation computes each algorithm in this build.
pub fn implementation(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Md5 => "md-5 (RustCrypto)",
        Algorithm::Sha1 => "sha1 (RustCrypto)",
        Algorithm::Sha224 | Algorithm::Sha256 => "sha2 (RustCrypto)",
        Algorithm::Sha384 | Algorithm::Sha512 => {
            if cfg!(feature = "openssl") {
                "OpenSSL"
            } else {
                "sha2 (RustCrypto)"
            }
        }
        Algorithm::Blake3 => "blake3",
    }
}

impl Hasher {
    /// A fresh hash of `a`.
    pub fn new(a: Algorithm) -> Hasher {
        match a {
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(Sha384Impl::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512Impl::new()),
            Algorithm::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
        }
    }

    /// The algorithm this hash computes.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Md5(_) => Algorithm::Md5,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha224(_) => Algorithm::Sha224,
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha384(_) => Algorithm::Sha384,
            Hasher::Sha512(_) => Algorithm::Sha512,
            Hasher::Blake3(_) => Algorithm::Blake3,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest.
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Md5(h) => Digest::from_bytes(&h.finalize()),
            Hasher::Sha1(h) => Digest::from_bytes(&h.finalize()),
            Hasher::Sha224(h) => Digest::from_bytes(&h.finalize()),
            Hasher::Sha256(h) => Digest::from_bytes(&h.finalize()),
            Hasher::Sha384(h) => Digest::from_bytes(&finish384(h)),
            Hasher::Sha512(h) => Digest::from_bytes(&finish512(h)),
            Hasher::Blake3(h) => Digest::from_bytes(h.finalize().as_bytes()),
        }
    }

    /// The digest as lower-case hexadecimal.
    pub fn finish_hex(self) -> String {
        self.finish().to_hex()
    }
}

#[cfg(feature = "openssl")]
fn finish384(h: Sha384Impl) -> [u8; 48] {
    h.finish()
}
#[cfg(feature = "openssl")]
fn finish512(h: Sha512Impl) -> [u8; 64] {
    h.finish()
}
#[cfg(not(feature = "openssl"))]
fn finish384(h: Sha384Impl) -> Vec<u8> {
    h.finalize().to_vec()
}
#[cfg(not(feature = "openssl"))]
fn finish512(h: Sha512Impl) -> Vec<u8> {
    h.finalize().to_vec()
}

/// Hashes a byte slice with one algorithm (tag files, tests).
pub fn digest_bytes(algorithm: Algorithm, data: &[u8]) -> String {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(data);
    hasher.finish_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer vectors from FIPS 180-4 / RFC 1321 / the BLAKE3 reference for "abc".
    #[test]
    fn known_answers_for_abc() {
        let cases = [
            (Algorithm::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (Algorithm::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                Algorithm::Sha224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                Algorithm::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                Algorithm::Sha384,
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                Algorithm::Sha512,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                Algorithm::Blake3,
                "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
            ),
        ];
        for (a, want) in cases {
            assert_eq!(digest_bytes(a, b"abc"), want, "{a}");
            assert_eq!(want.len(), a.hex_len());
        }
    }
}
