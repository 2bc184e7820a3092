//! A digest value held inline (no allocation per file), shown as lower-case hex.

use std::fmt;

/// The longest digest qoima stores: 64 bytes (SHA-512).
pub const MAX_DIGEST: usize = 64;

/// A digest of up to 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    len: u8,
    bytes: [u8; MAX_DIGEST],
}

impl Digest {
    /// The digest made of these bytes (at most 64).
    pub fn from_bytes(b: &[u8]) -> Digest {
        assert!(
            b.len() <= MAX_DIGEST,
            "digest longer than {MAX_DIGEST} bytes"
        );
        let mut bytes = [0u8; MAX_DIGEST];
        bytes[..b.len()].copy_from_slice(b);
        Digest {
            len: b.len() as u8,
            bytes,
        }
    }

    /// Parses hexadecimal (either case); `None` unless it is an even number of hex digits,
    /// at most 128.
    pub fn from_hex(text: &str) -> Option<Digest> {
        let digits = text.as_bytes();
        if !digits.len().is_multiple_of(2) || digits.len() > 2 * MAX_DIGEST {
            return None;
        }
        let nibble = |c: u8| -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        };
        let mut bytes = [0u8; MAX_DIGEST];
        for (index, pair) in digits.chunks_exact(2).enumerate() {
            bytes[index] = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Digest {
            len: (digits.len() / 2) as u8,
            bytes,
        })
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Lower-case hexadecimal.
    pub fn to_hex(&self) -> String {
        hex(self.as_bytes())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 2 * MAX_DIGEST];
        for (index, byte) in self.as_bytes().iter().enumerate() {
            buf[2 * index] = DIGITS[(byte >> 4) as usize];
            buf[2 * index + 1] = DIGITS[(byte & 15) as usize];
        }
        f.write_str(std::str::from_utf8(&buf[..2 * self.len as usize]).expect("hex is ASCII"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_any_case() {
        let d = Digest::from_hex("00FFa1").unwrap();
        assert_eq!(d.as_bytes(), [0, 255, 0xa1]);
        assert_eq!(d.to_string(), "00ffa1");
        assert_eq!(Digest::from_hex("abc"), None);
        assert_eq!(Digest::from_hex("zz"), None);
        assert_eq!(Digest::from_hex(&"a".repeat(130)), None);
        assert_eq!(
            Digest::from_hex(&"a".repeat(128)).unwrap().as_bytes().len(),
            64
        );
    }
}
