//! RFC 3161 time-stamps as a protocol (design §4.4), knowing nothing of bags: a request over
//! a SHA-256, a TSA asked over HTTP, a reply read and its token checked — the imprint against
//! the data, and, with the roots the verifier pins, the CMS signature and the certificate
//! chain (OpenSSL's `CMS_verify`, purpose *timestamp signing*) and the ESS binding of the
//! signing certificate. Where tokens sit in a sealed bag is `seal::timestamp`'s.
//!
//! - `token`: the reply and the token's `TSTInfo`, read without trusting them;
//! - `check`: a token checked against the data and the trusted roots;
//! - `client`: the request, the nonce, the HTTP exchange, a TSA's name, the roots file.

mod check;
mod client;
mod token;

use der::oid::ObjectIdentifier;

pub use check::verify;
pub use client::{check_roots, check_url, fetch, nonce, request, tsa_name};
pub(crate) use token::int_hex;
pub use token::{TokenError, TokenInfo, read_reply};

/// The largest reply accepted from a TSA or a file (real tokens are a few KiB).
pub const MAX_REPLY: u64 = 1 << 20;

pub(super) const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(super) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(super) const ID_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(super) const ID_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
