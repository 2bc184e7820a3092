//! age v1 encryption (<https://age-encryption.org/v1>) of a stream, for encrypted bundles.
//!
//! The `age` crate makes the recipients' stanzas (X25519 and SSH key wrapping, through
//! [`age::Recipient::wrap_file_key`]) and decrypts every bundle qoima reads; what is written
//! here is the rest of the format — the header's text and MAC, the payload nonce and key, and
//! the STREAM of ChaCha20-Poly1305 chunks — because the crate's writer encrypts at a third of
//! the speed this machine can: it uses the portable ChaCha20-Poly1305, and allocates a chunk per
//! 64 KiB. Here the chunks are sealed by OpenSSL's ChaCha20-Poly1305 (AVX-512 where the CPU has
//! it) with the default `openssl` feature, else by the same RustCrypto code as the `age` crate's,
//! straight from the caller's buffer when a whole chunk is there. Every bundle written is read
//! back by the `age` crate and the `age` CLI in the tests, at every chunk boundary.
//!
//! The format, in short: a header
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <ephemeral share>          (one stanza per recipient: type and arguments,
//! <base64 body, 64 columns>             then the wrapped file key)
//! --- <base64 HMAC-SHA256 of everything above, up to "---", keyed by HKDF(file key, "header")>
//! ```
//!
//! then a 16-byte random nonce, then the plaintext in 64 KiB chunks, each sealed with the key
//! HKDF-SHA256(salt = nonce, info = "payload", file key) and the 12-byte nonce "11-byte
//! big-endian chunk counter ‖ 0x01 for the last chunk, else 0x00". Only the last chunk may be
//! shorter than 64 KiB, and it is empty only when the whole plaintext is.

use std::collections::HashSet;
use std::io::{self, Write};

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use ct_codecs::{Base64NoPadding, Encoder};
use hmac::Mac;
use zeroize::Zeroizing;

/// Plaintext bytes per STREAM chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Poly1305 tag bytes after each chunk.
pub const TAG_SIZE: usize = 16;

/// Starts an age file for `recipients`: returns the bytes that open it (header and payload
/// nonce) and the sealer of its payload chunks.
pub fn start(recipients: &[&dyn age::Recipient]) -> Result<(Vec<u8>, Payload), String> {
    if recipients.is_empty() {
        return Err("no recipient".into());
    }
    let file_key = FileKey::try_init_with_mut(|k| getrandom::getrandom(k))
        .map_err(|e| format!("no randomness for the file key: {e}"))?;
    let mut stanzas: Vec<Stanza> = Vec::new();
    let mut labels: Option<HashSet<String>> = None;
    for recipient in recipients {
        let (mut wrapped, recipient_labels) = recipient
            .wrap_file_key(&file_key)
            .map_err(|e| e.to_string())?;
        // age's rule: recipients that constrain how they combine (labels) combine only with
        // recipients of the very same labels.
        match &labels {
            Some(first) if *first != recipient_labels => {
                return Err("these recipients cannot be combined in one file".into());
            }
            Some(_) => {}
            None => labels = Some(recipient_labels),
        }
        stanzas.append(&mut wrapped);
    }
    // As the `age` crate does: a random stanza that readers must skip keeps them honest.
    stanzas.push(age_core::format::grease_the_joint());

    let mut header = b"age-encryption.org/v1\n".to_vec();
    for stanza in &stanzas {
        write_stanza(&mut header, stanza);
    }
    header.extend_from_slice(b"---");
    let key = file_key.expose_secret();
    let mac_key = Zeroizing::new(age_core::primitives::hkdf(&[], b"header", key));
    let mut mac = <hmac::Hmac<sha2_10::Sha256> as Mac>::new_from_slice(&mac_key[..])
        .map_err(|e| e.to_string())?;
    mac.update(&header);
    let tag = mac.finalize().into_bytes();
    header.push(b' ');
    header.extend_from_slice(b64(&tag).as_bytes());
    header.push(b'\n');

    let mut nonce = [0u8; 16];
    getrandom::getrandom(&mut nonce).map_err(|e| format!("no randomness for the nonce: {e}"))?;
    header.extend_from_slice(&nonce);
    let payload_key = Zeroizing::new(age_core::primitives::hkdf(&nonce, b"payload", key));
    Ok((header, Payload::new(payload_key)?))
}

fn b64(data: &[u8]) -> String {
    Base64NoPadding::encode_to_string(data).unwrap_or_default()
}

/// `-> TAG ARG…` then the body in base64 lines of 64 columns, the last one shorter (empty when
/// the body fills its lines exactly).
fn write_stanza(out: &mut Vec<u8>, stanza: &Stanza) {
    out.extend_from_slice(b"-> ");
    out.extend_from_slice(stanza.tag.as_bytes());
    for arg in &stanza.args {
        out.push(b' ');
        out.extend_from_slice(arg.as_bytes());
    }
    out.push(b'\n');
    let body = b64(&stanza.body);
    let mut rest = body.as_bytes();
    while rest.len() >= 64 {
        out.extend_from_slice(&rest[..64]);
        out.push(b'\n');
        rest = &rest[64..];
    }
    out.extend_from_slice(rest);
    out.push(b'\n');
}

/// Seals the payload's chunks in order.
pub struct Payload {
    counter: u64,
    finished: bool,
    imp: Aead,
}

#[cfg(feature = "openssl")]
struct Aead {
    key: Zeroizing<[u8; 32]>,
    ctx: openssl::cipher_ctx::CipherCtx,
}

#[cfg(not(feature = "openssl"))]
struct Aead(chacha20poly1305::ChaCha20Poly1305);

impl Payload {
    fn new(key: Zeroizing<[u8; 32]>) -> Result<Payload, String> {
        #[cfg(feature = "openssl")]
        let imp = {
            let mut ctx = openssl::cipher_ctx::CipherCtx::new().map_err(|e| e.to_string())?;
            ctx.encrypt_init(
                Some(openssl::cipher::Cipher::chacha20_poly1305()),
                Some(&key[..]),
                Some(&[0u8; 12]),
            )
            .map_err(|e| e.to_string())?;
            Aead { key, ctx }
        };
        #[cfg(not(feature = "openssl"))]
        let imp = Aead(
            <chacha20poly1305::ChaCha20Poly1305 as chacha20poly1305::KeyInit>::new(&(*key).into()),
        );
        Ok(Payload {
            counter: 0,
            finished: false,
            imp,
        })
    }

    /// Seals the next chunk (`plain`, at most [`CHUNK_SIZE`] bytes, shorter only when `last`)
    /// into `out`, which must have room for `plain.len() + TAG_SIZE` bytes; returns that length.
    pub fn seal(&mut self, plain: &[u8], last: bool, out: &mut [u8]) -> io::Result<usize> {
        if self.finished {
            return Err(io::Error::other("the last chunk is already sealed"));
        }
        assert!(plain.len() <= CHUNK_SIZE && (last || plain.len() == CHUNK_SIZE));
        let len = plain.len();
        let mut nonce = [0u8; 12];
        nonce[3..11].copy_from_slice(&self.counter.to_be_bytes());
        nonce[11] = u8::from(last);
        let out = &mut out[..len + TAG_SIZE];
        #[cfg(feature = "openssl")]
        {
            let ctx = &mut self.imp.ctx;
            let to_io = |e: openssl::error::ErrorStack| io::Error::other(e.to_string());
            ctx.encrypt_init(None, Some(&self.imp.key[..]), Some(&nonce))
                .map_err(to_io)?;
            let (body, tag) = out.split_at_mut(len);
            let updated = ctx.cipher_update(plain, Some(body)).map_err(to_io)?;
            let finalized = ctx.cipher_final(&mut body[updated..]).map_err(to_io)?;
            if updated + finalized != len {
                return Err(io::Error::other("ChaCha20-Poly1305 wrote a short chunk"));
            }
            ctx.tag(tag).map_err(to_io)?;
        }
        #[cfg(not(feature = "openssl"))]
        {
            use chacha20poly1305::AeadInPlace;
            let (body, tag) = out.split_at_mut(len);
            body.copy_from_slice(plain);
            let computed_tag = self
                .imp
                .0
                .encrypt_in_place_detached(&nonce.into(), &[], body)
                .map_err(|_| io::Error::other("ChaCha20-Poly1305 refused the chunk"))?;
            tag.copy_from_slice(&computed_tag);
        }
        self.counter += 1;
        self.finished = last;
        Ok(len + TAG_SIZE)
    }
}

/// Encrypts what is written to it into `inner`: the header first, then the payload. A chunk is
/// held back until bytes after it have been accepted (only the last one is flagged), so
/// [`Encryptor::finish`] must be called to seal the end.
pub struct Encryptor<W: Write> {
    inner: W,
    payload: Payload,
    pending: Vec<u8>,
    sealed: Vec<u8>,
}

impl<W: Write> Encryptor<W> {
    /// Writes `header` (from [`start`]) into `inner`, and encrypts what follows with `payload`.
    pub fn new(mut inner: W, header: &[u8], payload: Payload) -> io::Result<Encryptor<W>> {
        inner.write_all(header)?;
        Ok(Encryptor {
            inner,
            payload,
            pending: Vec::with_capacity(CHUNK_SIZE),
            sealed: vec![0u8; CHUNK_SIZE + TAG_SIZE],
        })
    }

    fn seal_out(&mut self, plain: Option<&[u8]>, last: bool) -> io::Result<()> {
        let plain = plain.unwrap_or(&self.pending);
        let sealed_len = self.payload.seal(plain, last, &mut self.sealed)?;
        self.inner.write_all(&self.sealed[..sealed_len])
    }

    /// Seals the last chunk; returns the inner writer (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_out(None, true)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.pending.len() == CHUNK_SIZE {
            self.seal_out(None, false)?;
            self.pending.clear();
        }
        let mut done = 0;
        if self.pending.is_empty() && data.len() > CHUNK_SIZE {
            // More follows this chunk: it is sealed straight from the caller's buffer, and
            // what follows it is accepted too (at least a byte), so that a caller who stops
            // there cannot leave a full chunk followed by an empty last one.
            self.seal_out(Some(&data[..CHUNK_SIZE]), false)?;
            done = CHUNK_SIZE;
        }
        let rest = &data[done..];
        let taken = rest.len().min(CHUNK_SIZE - self.pending.len());
        self.pending.extend_from_slice(&rest[..taken]);
        Ok(done + taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn encrypt(plain: &[u8], writes: usize, recipient: &age::x25519::Recipient) -> Vec<u8> {
        let (head, payload) = start(&[recipient as &dyn age::Recipient]).unwrap();
        let mut encryptor = Encryptor::new(Vec::new(), &head, payload).unwrap();
        let step = plain.len().div_ceil(writes.max(1)).max(1);
        for part in plain.chunks(step) {
            encryptor.write_all(part).unwrap();
        }
        encryptor.finish().unwrap()
    }

    fn decrypt(ciphertext: &[u8], id: &age::x25519::Identity) -> Vec<u8> {
        let decryptor = age::Decryptor::new(ciphertext).unwrap();
        let mut reader = decryptor
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn the_age_crate_reads_it_at_every_chunk_boundary() {
        let id = age::x25519::Identity::generate();
        let recipient = id.to_public();
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            2 * CHUNK_SIZE,
            3 * CHUNK_SIZE + 17,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            for writes in [1, 3, 1000] {
                let ciphertext = encrypt(&plain, writes, &recipient);
                // Header, nonce, then one tag per chunk (an empty file has one empty chunk).
                let chunks = len.div_ceil(CHUNK_SIZE).max(1);
                let head = ciphertext.len() - len - chunks * TAG_SIZE;
                assert!(ciphertext.starts_with(b"age-encryption.org/v1\n-> X25519 "));
                assert_eq!(&ciphertext[head - 16 - 48..head - 16 - 44], b"--- ");
                assert_eq!(
                    decrypt(&ciphertext, &id),
                    plain,
                    "len {len}, {writes} writes"
                );
            }
        }
    }

    #[test]
    fn a_flipped_bit_or_a_cut_is_refused() {
        let id = age::x25519::Identity::generate();
        let plain = vec![7u8; 2 * CHUNK_SIZE + 5];
        let ciphertext = encrypt(&plain, 1, &id.to_public());
        let read = |ciphertext: &[u8]| -> io::Result<Vec<u8>> {
            let decryptor = age::Decryptor::new(ciphertext).map_err(io::Error::other)?;
            let mut reader = decryptor
                .decrypt(std::iter::once(&id as &dyn age::Identity))
                .map_err(io::Error::other)?;
            let mut out = Vec::new();
            reader.read_to_end(&mut out)?;
            Ok(out)
        };
        let mut flipped = ciphertext.clone();
        let at = ciphertext.len() - CHUNK_SIZE;
        flipped[at] ^= 1;
        assert!(read(&flipped).is_err());
        // Cut after the first full chunk: no chunk says it is the last.
        let head = ciphertext.len() - plain.len() - 3 * TAG_SIZE;
        assert!(read(&ciphertext[..head + CHUNK_SIZE + TAG_SIZE]).is_err());
        // The header's MAC covers every stanza, even the one readers skip (the last).
        let mut header = ciphertext.clone();
        let grease = ciphertext.windows(4).rposition(|w| w == b"\n-> ").unwrap() + 4;
        header[grease] = if ciphertext[grease] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let decryptor = age::Decryptor::new(&header[..]).unwrap();
        assert!(matches!(
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity)),
            Err(age::DecryptError::InvalidMac)
        ));
    }

    #[test]
    fn two_recipients_each_read_it_and_every_file_key_is_new() {
        let alice = age::x25519::Identity::generate();
        let bob = age::x25519::Identity::generate();
        let (to_alice, to_bob) = (alice.to_public(), bob.to_public());
        let recipients: [&dyn age::Recipient; 2] = [&to_alice, &to_bob];
        let once = || {
            let (head, payload) = start(&recipients).unwrap();
            let mut encryptor = Encryptor::new(Vec::new(), &head, payload).unwrap();
            encryptor.write_all(b"evidence").unwrap();
            encryptor.finish().unwrap()
        };
        let (first, second) = (once(), once());
        assert_ne!(first, second);
        assert_eq!(decrypt(&first, &alice), b"evidence");
        assert_eq!(decrypt(&first, &bob), b"evidence");
    }

    #[test]
    fn a_caller_of_plain_write_cannot_end_on_an_empty_chunk() {
        let id = age::x25519::Identity::generate();
        let recipient = id.to_public();
        let (head, payload) = start(&[&recipient as &dyn age::Recipient]).unwrap();
        let mut encryptor = Encryptor::new(Vec::new(), &head, payload).unwrap();
        // One call, then stop at whatever it accepted: the file is still whole and valid.
        let plain = vec![9u8; 3 * CHUNK_SIZE];
        let accepted = encryptor.write(&plain).unwrap();
        assert!(accepted > CHUNK_SIZE, "accepted {accepted}");
        let ciphertext = encryptor.finish().unwrap();
        assert_eq!(decrypt(&ciphertext, &id), plain[..accepted]);
    }

    #[test]
    fn a_sealer_seals_one_last_chunk_only() {
        let (_, mut payload) =
            start(&[&age::x25519::Identity::generate().to_public() as _]).unwrap();
        let mut out = vec![0u8; CHUNK_SIZE + TAG_SIZE];
        assert_eq!(payload.seal(b"end", true, &mut out).unwrap(), 3 + TAG_SIZE);
        assert!(payload.seal(b"more", true, &mut out).is_err());
    }
}
