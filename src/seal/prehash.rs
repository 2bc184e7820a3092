//! minisign signatures from a streamed prehash: the BLAKE2b-512 of the data is computed while
//! the data is produced (so that a bundle's ciphertext is read once), and the signature is made
//! from that digest — what `minisign::sign` does after reading the data itself.
//!
//! A prehashed minisign signature (algorithm `ED`) is the Ed25519 signature of
//! `BLAKE2b-512(data)`, then a global Ed25519 signature of `signature ‖ trusted comment`; the
//! file is
//!
//! ```text
//! untrusted comment: <untrusted comment>
//! base64("ED" ‖ key id (8 bytes, as in the key) ‖ signature (64 bytes))
//! trusted comment: <trusted comment>
//! base64(global signature (64 bytes))
//! ```
//!
//! The minisign crate only signs a reader (it hashes the data itself, and needs the trusted
//! comment before the first byte), so the Ed25519 here comes from OpenSSL, with the default
//! `openssl` feature. A pure-Rust build still streams the BLAKE2b-512 (for the envelope), but
//! signs with `minisign::sign`, reading the data again.

use minisign::{PublicKey, SecretKey, SignatureBox};

/// BLAKE2b-512, incremental: minisign's prehash (and `b2sum`'s digest). OpenSSL's with the
/// `openssl` feature, else the `blake2` crate's.
pub struct Prehash {
    h: Imp,
}

enum Imp {
    #[cfg(feature = "openssl")]
    OpenSsl(openssl::hash::Hasher),
    Rust(blake2::Blake2b512),
}

impl Default for Prehash {
    fn default() -> Self {
        Prehash::new()
    }
}

impl Prehash {
    /// A new hash.
    pub fn new() -> Prehash {
        #[cfg(feature = "openssl")]
        if let Some(h) = openssl::hash::MessageDigest::from_name("BLAKE2b512")
            .and_then(|md| openssl::hash::Hasher::new(md).ok())
        {
            return Prehash { h: Imp::OpenSsl(h) };
        }
        Prehash {
            h: Imp::Rust(<blake2::Blake2b512 as blake2::Digest>::new()),
        }
    }

    /// Hashes `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.h {
            #[cfg(feature = "openssl")]
            Imp::OpenSsl(h) => h
                .update(data)
                .expect("OpenSSL BLAKE2b-512 update cannot fail"),
            Imp::Rust(h) => blake2::Digest::update(h, data),
        }
    }

    /// The 64-byte digest.
    pub fn finish(self) -> [u8; 64] {
        let mut out = [0u8; 64];
        match self.h {
            #[cfg(feature = "openssl")]
            Imp::OpenSsl(mut h) => {
                out.copy_from_slice(&h.finish().expect("OpenSSL BLAKE2b-512 finish cannot fail"))
            }
            Imp::Rust(h) => out.copy_from_slice(&blake2::Digest::finalize(h)),
        }
        out
    }
}

/// Whether this build signs from a prehash ([`sign_prehashed`]); without the `openssl`
/// feature, the data is read again by `minisign::sign`.
pub const SIGNS_PREHASHED: bool = cfg!(feature = "openssl");

/// Signs the data whose BLAKE2b-512 is `prehash` with `sk` (an unencrypted, or decrypted,
/// minisign secret key) and returns the same signature box as `minisign::sign(Some(pk), sk,
/// data, Some(trusted), Some(untrusted))` — byte for byte, but for the signatures themselves,
/// which minisign randomizes and OpenSSL does not (both are valid Ed25519 signatures). Both
/// signatures are checked against `pk` before they are returned.
pub fn sign_prehashed(
    pk: &PublicKey,
    sk: &SecretKey,
    prehash: &[u8; 64],
    trusted: &str,
    untrusted: &str,
) -> Result<SignatureBox, String> {
    if sk.is_encrypted() {
        return Err("the secret key is still encrypted".into());
    }
    if trusted.contains(['\r', '\n']) || untrusted.contains(['\r', '\n']) {
        return Err("a signature comment cannot hold a line break".into());
    }
    imp::sign(pk, sk, prehash, trusted, untrusted)
}

#[cfg(feature = "openssl")]
mod imp {
    use ct_codecs::{Base64, Encoder};
    use minisign::{PublicKey, SecretKey, SignatureBox};
    use openssl::pkey::{Id, PKey};
    use openssl::sign::{Signer, Verifier};

    // SecretKey::to_bytes: sig_alg(2) kdf_alg(2) chk_alg(2) kdf_salt(32) opslimit(8)
    // memlimit(8) key id(8) secret key(64: seed ‖ public key) checksum(32).
    const SK_KEYNUM: usize = 54;
    const SK_SEED: usize = SK_KEYNUM + 8;
    const SK_PK: usize = SK_SEED + 32;
    const SK_LEN: usize = SK_PK + 32 + 32;
    // PublicKey::to_bytes: sig_alg(2) key id(8) public key(32).
    const PK_LEN: usize = 2 + 8 + 32;

    pub(super) fn sign(
        pk: &PublicKey,
        sk: &SecretKey,
        prehash: &[u8; 64],
        trusted: &str,
        untrusted: &str,
    ) -> Result<SignatureBox, String> {
        let skb = zeroizing(sk.to_bytes());
        let pkb = pk.to_bytes();
        if skb.0.len() != SK_LEN || &skb.0[..2] != b"Ed" || pkb.len() != PK_LEN {
            return Err("not a minisign Ed25519 key".into());
        }
        let keynum = &skb.0[SK_KEYNUM..SK_SEED];
        if keynum != &pkb[2..10] || skb.0[SK_PK..SK_PK + 32] != pkb[10..] {
            return Err("the secret key does not match the public key".into());
        }
        let e = |e: openssl::error::ErrorStack| format!("Ed25519 (OpenSSL): {e}");
        let key =
            PKey::private_key_from_raw_bytes(&skb.0[SK_SEED..SK_PK], Id::ED25519).map_err(e)?;
        if key.raw_public_key().map_err(e)? != pkb[10..] {
            return Err("the secret key does not match the public key".into());
        }
        let sig = Signer::new_without_digest(&key)
            .and_then(|mut s| s.sign_oneshot_to_vec(prehash))
            .map_err(e)?;
        let mut signed = sig.clone();
        signed.extend_from_slice(trusted.as_bytes());
        let global = Signer::new_without_digest(&key)
            .and_then(|mut s| s.sign_oneshot_to_vec(&signed))
            .map_err(e)?;
        // As minisign::sign does: the signatures verify with the public key given.
        let public = PKey::public_key_from_raw_bytes(&pkb[10..], Id::ED25519).map_err(e)?;
        let verifies = |s: &[u8], m: &[u8]| {
            Verifier::new_without_digest(&public)
                .and_then(|mut v| v.verify_oneshot(s, m))
                .unwrap_or(false)
        };
        if sig.len() != 64 || !verifies(&sig, prehash) || !verifies(&global, &signed) {
            return Err("the signature does not verify with the public key".into());
        }
        let mut bones = Vec::with_capacity(74);
        bones.extend_from_slice(b"ED");
        bones.extend_from_slice(keynum);
        bones.extend_from_slice(&sig);
        let b64 = |b: &[u8]| Base64::encode_to_string(b).map_err(|e| e.to_string());
        let text = format!(
            "untrusted comment: {untrusted}\n{}\ntrusted comment: {trusted}\n{}\n",
            b64(&bones)?,
            b64(&global)?
        );
        SignatureBox::from_string(&text).map_err(|e| e.to_string())
    }

    /// Secret bytes, overwritten when dropped.
    struct Zeroizing(Vec<u8>);

    fn zeroizing(v: Vec<u8>) -> Zeroizing {
        Zeroizing(v)
    }

    impl Drop for Zeroizing {
        fn drop(&mut self) {
            self.0.fill(0);
            // So that the overwrite is not optimized away.
            std::hint::black_box(&self.0);
        }
    }
}

#[cfg(not(feature = "openssl"))]
mod imp {
    use minisign::{PublicKey, SecretKey, SignatureBox};

    pub(super) fn sign(
        _: &PublicKey,
        _: &SecretKey,
        _: &[u8; 64],
        _: &str,
        _: &str,
    ) -> Result<SignatureBox, String> {
        Err("this build (without the openssl feature) cannot sign from a prehash".into())
    }
}

#[cfg(all(test, feature = "openssl"))]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn prehash_of(data: &[u8], step: usize) -> [u8; 64] {
        let mut h = Prehash::new();
        for part in data.chunks(step) {
            h.update(part);
        }
        h.finish()
    }

    #[test]
    fn streamed_prehash_signature_verifies_like_minisign() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let data: Vec<u8> = (0..300_007u32).map(|i| (i % 249) as u8).collect();
        let trusted = "qoima-bundle/1 plaintext-tar-sha256=00 x=1";
        let untrusted = "qoima encrypted bundle, key 0123";
        let ph = prehash_of(&data, 65_537);
        assert_eq!(ph, prehash_of(&data, data.len()));
        let ours = sign_prehashed(&kp.pk, &kp.sk, &ph, trusted, untrusted).unwrap();
        let theirs = minisign::sign(
            Some(&kp.pk),
            &kp.sk,
            Cursor::new(&data),
            Some(trusted),
            Some(untrusted),
        )
        .unwrap();
        // minisign itself accepts it, with the same comments and key id.
        minisign::verify(&kp.pk, &ours, Cursor::new(&data), true, false, false).unwrap();
        assert!(ours.is_prehashed());
        assert_eq!(ours.keynum(), theirs.keynum());
        assert_eq!(ours.trusted_comment().unwrap(), trusted);
        assert_eq!(ours.untrusted_comment().unwrap(), untrusted);
        // The same layout line by line (Ed25519 in minisign is randomized, so the signature
        // bytes differ; the algorithm and key id prefix of line 2 do not).
        let (a, b) = (ours.to_string(), theirs.to_string());
        let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        assert_eq!(a.len(), 4);
        assert_eq!(a.len(), b.len());
        assert_eq!((a[0], a[2]), (b[0], b[2]));
        assert_eq!((a[1].len(), a[3].len()), (b[1].len(), b[3].len()));
        assert_eq!(a[1][..12], b[1][..12]);
        // And it is over these bytes only.
        let mut other = data.clone();
        other[1000] ^= 1;
        assert!(minisign::verify(&kp.pk, &ours, Cursor::new(&other), true, false, false).is_err());
    }

    #[test]
    fn refuses_a_mismatched_key_and_broken_comments() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let ph = prehash_of(b"abc", 1);
        assert!(sign_prehashed(&other.pk, &kp.sk, &ph, "t", "u").is_err());
        assert!(sign_prehashed(&kp.pk, &kp.sk, &ph, "t\nx", "u").is_err());
        assert!(sign_prehashed(&kp.pk, &kp.sk, &ph, "t", "u").is_ok());
    }
}
