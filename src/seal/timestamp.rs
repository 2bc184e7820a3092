//! RFC 3161 trusted time-stamps over seal signatures (design §4.4): proof from a third party,
//! a time-stamp authority (TSA), that a signature file existed at a given time.
//!
//! A token is requested over the SHA-256 of a signature file — `seal/tagmanifest-sha256.txt.minisig`,
//! a custody entry's `.minisig`, or an encrypted bundle's `NAME.tar.age.sha256.minisig` — and the
//! TSA's whole reply is kept beside it as `FILE.NAME.tsr`, where `NAME` names the TSA. That
//! is the file `openssl ts -verify -data FILE -in FILE.NAME.tsr -CAfile ROOTS` checks. Tokens
//! are outside the tag manifests, so they can be added at any time after sealing, when the
//! machine is online (or, for an air-gapped machine, by importing a reply made elsewhere).
//!
//! What a token proves depends on trust in the TSA, which the verifier pins: its root (and
//! any intermediate) certificates in a PEM file, `--tsa-roots`. Without it, tokens are listed,
//! never counted as proof. The token's CMS signature and certificate chain are checked with
//! OpenSSL (`CMS_verify`, purpose *timestamp signing*), the message imprint and the rest by
//! qoima; a build without the `openssl` feature cannot check them and says so.

use std::fs;
use std::path::{Path, PathBuf};

use cmpv2::status::PkiStatus;
use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use serde::Serialize;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

use crate::digest::{Algorithm, digest_bytes, hex};
use crate::error::{Code, Problem};

/// The extension of a token file.
pub const TOKEN_EXTENSION: &str = ".tsr";
/// The largest reply accepted from a TSA or a file (real tokens are a few KiB).
pub const MAX_REPLY: u64 = 1 << 20;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// RFC 3161's `TSTInfo`, with `genTime` kept raw: DER GeneralizedTime may carry fractions of a
/// second (`YYYYMMDDhhmmss.fffZ`, which many TSAs send and RFC 3161 allows), which the `der`
/// crate's type refuses.
#[derive(Clone, Debug, der::Sequence)]
struct Tst {
    version: TspVersion,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<x509_tsp::Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<cms::cert::x509::ext::pkix::name::GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<cms::cert::x509::ext::Extensions>,
}

/// `YYYYMMDDhhmmss[.f+]Z` as RFC 3339 (`YYYY-MM-DDThh:mm:ss[.f+]Z`).
fn gen_time(t: &Any) -> Option<String> {
    if der::Tagged::tag(t) != der::Tag::GeneralizedTime {
        return None;
    }
    let v = std::str::from_utf8(t.value()).ok()?;
    let v = v.strip_suffix('Z')?;
    let (whole, frac) = match v.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (w, Some(f)),
        Some(_) => return None,
        None => (v, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<u32>().ok();
    let (mo, d, h, mi, sec) = (n(4..6)?, n(6..8)?, n(8..10)?, n(10..12)?, n(12..14)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14],
        frac.map(|f| format!(".{f}")).unwrap_or_default()
    ))
}

/// What a token says (read from its TSTInfo; trusted only once [`verify`] passed with roots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The TSA's time (RFC 3339, UTC).
    pub time: String,
    /// The digest algorithm of the message imprint (`sha256`, …).
    pub imprint_algorithm: String,
    /// The message imprint (hex): the digest of the data time-stamped.
    pub imprint: String,
    /// The token's serial number (hex).
    pub serial: String,
    /// The TSA's policy (an OID).
    pub policy: String,
    /// The nonce of the request, when there was one (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The signing certificate's subject, when the token carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// Why a token (or a TSA's reply) is not good.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not an RFC 3161 reply, or not a granted one.
    #[error("{0}")]
    Unreadable(String),
    /// The imprint is not the digest of the data.
    #[error("{0}")]
    OtherData(String),
    /// The signature or the certificate chain does not verify against the trusted roots.
    #[error("{0}")]
    Untrusted(String),
}

impl TokenError {
    /// The problem code of this failure.
    pub fn code(&self) -> Code {
        match self {
            TokenError::Unreadable(_) => Code::TimestampUnreadable,
            TokenError::OtherData(_) => Code::TimestampOtherData,
            TokenError::Untrusted(_) => Code::TimestampUntrusted,
        }
    }
}

/// A DER `TimeStampReq` for data whose SHA-256 is `sha256`, asking for the TSA's certificate
/// in the token (`certReq`), with `nonce` (8 random bytes are plenty).
pub fn request(sha256: &[u8; 32], nonce: &[u8]) -> Vec<u8> {
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki_alg(ID_SHA256),
            hashed_message: OctetString::new(sha256.to_vec()).expect("32 bytes fit"),
        },
        req_policy: None,
        nonce: Some(positive_int(nonce)),
        cert_req: true,
        extensions: None,
    };
    req.to_der().expect("a request always encodes")
}

fn spki_alg(oid: ObjectIdentifier) -> cms::cert::x509::spki::AlgorithmIdentifier<Any> {
    cms::cert::x509::spki::AlgorithmIdentifier {
        oid,
        parameters: Some(Any::null()),
    }
}

/// A positive DER INTEGER from big-endian bytes (a leading zero is added when needed).
fn positive_int(bytes: &[u8]) -> Int {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(&trimmed);
    Int::new(&v).expect("a valid integer")
}

/// Eight random bytes for a request's nonce.
pub fn nonce() -> [u8; 8] {
    let mut n = [0u8; 8];
    // Without randomness the nonce only loses its replay protection; the token stays sound.
    let _ = getrandom::getrandom(&mut n);
    n
}

/// The token inside a reply, and what it says, without checking its signature. Refuses
/// replies that are not granted.
pub fn read_reply(reply: &[u8]) -> Result<(Vec<u8>, TokenInfo), TokenError> {
    let resp = TimeStampResp::from_der(reply).map_err(|e| {
        TokenError::Unreadable(format!("not an RFC 3161 time-stamp reply (DER: {e})"))
    })?;
    match resp.status.status {
        PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
        other => {
            let text: Vec<String> = resp
                .status
                .status_string
                .iter()
                .flatten()
                .map(|s| s.as_str().to_string())
                .collect();
            return Err(TokenError::Unreadable(format!(
                "the time-stamp authority did not grant it (status {other:?}{})",
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.join("; "))
                }
            )));
        }
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TokenError::Unreadable("a granted reply without a token".into()))?;
    let token_der = token
        .to_der()
        .map_err(|e| TokenError::Unreadable(format!("the token does not encode: {e}")))?;
    let info = token_info(&token)?;
    Ok((token_der, info))
}

fn token_info(token: &cms::content_info::ContentInfo) -> Result<TokenInfo, TokenError> {
    let bad = |what: &str| TokenError::Unreadable(format!("not an RFC 3161 token: {what}"));
    if token.content_type != ID_SIGNED_DATA {
        return Err(bad("its content is not CMS SignedData"));
    }
    let sd = token
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(|e| bad(&format!("SignedData does not decode ({e})")))?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("the signed content is not a TSTInfo"));
    }
    let content = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| bad("the signed content is missing"))?;
    let tst = Tst::from_der(content.value())
        .map_err(|e| bad(&format!("TSTInfo does not decode ({e})")))?;
    let signer = signer_subject(&sd);
    let alg = match tst.message_imprint.hash_algorithm.oid {
        o if o == ID_SHA256 => "sha256",
        o if o == ID_SHA384 => "sha384",
        o if o == ID_SHA512 => "sha512",
        o if o == ID_SHA1 => "sha1",
        _ => "unknown",
    };
    let time = gen_time(&tst.gen_time).ok_or_else(|| bad("its time is not a GeneralizedTime"))?;
    Ok(TokenInfo {
        time,
        imprint_algorithm: alg.to_string(),
        imprint: hex(tst.message_imprint.hashed_message.as_bytes()),
        serial: int_hex(tst.serial_number.as_bytes()),
        policy: tst.policy.to_string(),
        nonce: tst.nonce.as_ref().map(|n| int_hex(n.as_bytes())),
        signer,
    })
}

/// The subject of the certificate that signed the token, when the token carries it.
fn signer_subject(sd: &cms::signed_data::SignedData) -> Option<String> {
    use cms::cert::CertificateChoices;
    use cms::signed_data::SignerIdentifier;
    let si = sd.signer_infos.0.iter().next()?;
    let certs = sd.certificates.as_ref()?;
    certs.0.iter().find_map(|c| match (c, &si.sid) {
        (CertificateChoices::Certificate(cert), SignerIdentifier::IssuerAndSerialNumber(is))
            if cert.tbs_certificate.issuer == is.issuer
                && cert.tbs_certificate.serial_number == is.serial_number =>
        {
            Some(cert.tbs_certificate.subject.to_string())
        }
        _ => None,
    })
}

/// An INTEGER's value in hex, without the sign byte DER may put in front.
fn int_hex(b: &[u8]) -> String {
    let t: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
    if t.is_empty() { "00".into() } else { hex(&t) }
}

/// Checks the reply `reply` (a `.tsr` file) as a time-stamp over `data`: granted, its
/// imprint the digest of `data`, and — when `roots` (PEM) are given — its signature made by
/// a time-stamping certificate that chains to one of them. Returns what the token says.
pub fn verify(reply: &[u8], data: &[u8], roots: Option<&[u8]>) -> Result<TokenInfo, TokenError> {
    let (token_der, info) = read_reply(reply)?;
    let alg = match info.imprint_algorithm.as_str() {
        "sha256" => Algorithm::Sha256,
        "sha384" => Algorithm::Sha384,
        "sha512" => Algorithm::Sha512,
        "sha1" => Algorithm::Sha1,
        _ => {
            return Err(TokenError::Unreadable(
                "the token's digest algorithm is not one qoima knows (sha1, sha256, sha384, sha512)"
                    .into(),
            ));
        }
    };
    let digest = digest_bytes(alg, data);
    if digest != info.imprint {
        return Err(TokenError::OtherData(format!(
            "it time-stamps other data: its {} imprint is {}, the file's is {digest}",
            info.imprint_algorithm, info.imprint
        )));
    }
    if let Some(roots) = roots {
        check_signature(&token_der, roots)?;
        check_signing_certificate(&token_der)?;
    }
    Ok(info)
}

const ID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// `ESSCertID` (RFC 2634) and `ESSCertIDv2` (RFC 5035): the hash of the signing certificate.
#[derive(Clone, Debug, der::Sequence)]
struct EssCertId {
    #[asn1(optional = "true")]
    hash_algorithm: Option<cms::cert::x509::spki::AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// `SigningCertificate` / `SigningCertificateV2`: the certificates that may sign.
#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// RFC 3161 §2.4.1 (and RFC 5816): the signed attributes must name the signing certificate
/// by its hash (`SigningCertificate` with SHA-1, or `SigningCertificateV2`), so that the
/// certificate cannot be swapped for another one of the same key. `openssl ts -verify`
/// insists on it; so does qoima.
fn check_signing_certificate(token_der: &[u8]) -> Result<(), TokenError> {
    use cms::cert::CertificateChoices;
    use cms::signed_data::SignerIdentifier;
    let bad = |m: &str| {
        TokenError::Untrusted(format!(
            "{m}: the token is not bound to the certificate that signed it"
        ))
    };
    let ci = cms::content_info::ContentInfo::from_der(token_der)
        .map_err(|e| TokenError::Unreadable(format!("the token is not CMS: {e}")))?;
    let sd = ci
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(|e| TokenError::Unreadable(format!("SignedData does not decode ({e})")))?;
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| bad("no signer"))?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("no signed attributes"))?;
    let (v2, value) = attrs
        .iter()
        .find_map(|a| {
            let v = a.values.iter().next()?;
            if a.oid == ID_SIGNING_CERTIFICATE_V2 {
                Some((true, v.clone()))
            } else if a.oid == ID_SIGNING_CERTIFICATE {
                Some((false, v.clone()))
            } else {
                None
            }
        })
        .ok_or_else(|| bad("no ESS signing-certificate attribute"))?;
    let sc: SigningCertificate = value.decode_as().map_err(|e| {
        bad(&format!(
            "the ESS signing-certificate attribute does not decode ({e})"
        ))
    })?;
    let first = sc
        .certs
        .first()
        .ok_or_else(|| bad("the ESS attribute names no certificate"))?;
    let alg = if !v2 {
        Algorithm::Sha1
    } else {
        match first.hash_algorithm.as_ref().map(|a| a.oid) {
            None => Algorithm::Sha256,
            Some(o) if o == ID_SHA256 => Algorithm::Sha256,
            Some(o) if o == ID_SHA384 => Algorithm::Sha384,
            Some(o) if o == ID_SHA512 => Algorithm::Sha512,
            Some(o) if o == ID_SHA1 => Algorithm::Sha1,
            Some(o) => {
                return Err(bad(&format!(
                    "the ESS certificate hash uses {o}, unknown to qoima"
                )));
            }
        }
    };
    let want = hex(first.cert_hash.as_bytes());
    let certs = sd.certificates.as_ref().ok_or_else(|| {
        bad("the token does not carry its certificate (ask the TSA with certReq)")
    })?;
    for c in certs.0.iter() {
        let CertificateChoices::Certificate(cert) = c else {
            continue;
        };
        let is_signer = match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(is) => {
                cert.tbs_certificate.issuer == is.issuer
                    && cert.tbs_certificate.serial_number == is.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => cert
                .tbs_certificate
                .extensions
                .iter()
                .flatten()
                .filter(|e| e.extn_id == ID_SUBJECT_KEY_IDENTIFIER)
                .any(|e| {
                    OctetString::from_der(e.extn_value.as_bytes())
                        .is_ok_and(|v| v.as_bytes() == ski.0.as_bytes())
                }),
        };
        if !is_signer {
            continue;
        }
        let der = cert
            .to_der()
            .map_err(|e| bad(&format!("the certificate does not encode ({e})")))?;
        return if digest_bytes(alg, &der) == want {
            Ok(())
        } else {
            Err(bad(
                "the ESS signing-certificate hash is not the signer certificate's",
            ))
        };
    }
    Err(bad(
        "the token does not carry the certificate that signed it",
    ))
}

#[cfg(feature = "openssl")]
fn check_signature(token_der: &[u8], roots: &[u8]) -> Result<(), TokenError> {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509, X509PurposeId};

    let untrusted = |e: String| TokenError::Untrusted(e);
    let certs = X509::stack_from_pem(roots)
        .map_err(|e| untrusted(format!("cannot read the TSA roots (PEM): {e}")))?;
    if certs.is_empty() {
        return Err(untrusted("the TSA roots file holds no certificate".into()));
    }
    let mut sb = X509StoreBuilder::new().map_err(|e| untrusted(e.to_string()))?;
    for c in certs {
        sb.add_cert(c).map_err(|e| untrusted(e.to_string()))?;
    }
    sb.set_purpose(X509PurposeId::TIMESTAMP_SIGN)
        .map_err(|e| untrusted(e.to_string()))?;
    let store = sb.build();
    let mut cms = CmsContentInfo::from_der(token_der)
        .map_err(|e| TokenError::Unreadable(format!("the token is not CMS: {e}")))?;
    let mut out = Vec::new();
    cms.verify(
        None,
        Some(&store),
        None,
        Some(&mut out),
        CMSOptions::BINARY,
    )
    .map_err(|e| {
        untrusted(format!(
            "its signature does not verify with a time-stamping certificate that chains to the trusted TSA roots ({})",
            e.errors()
                .iter()
                .map(|x| x.reason().unwrap_or("error").to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    Ok(())
}

#[cfg(not(feature = "openssl"))]
fn check_signature(_token_der: &[u8], _roots: &[u8]) -> Result<(), TokenError> {
    Err(TokenError::Untrusted(
        "this qoima was built without OpenSSL and cannot check a token's signature; use `openssl ts -verify` or verify.sh -t"
            .into(),
    ))
}

/// Sends `request` to the TSA at `url` (HTTP POST, `application/timestamp-query`) and returns
/// its reply.
pub fn fetch(url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
    let cfg = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .user_agent(format!("qoima/{}", crate::VERSION));
    // HTTPS through the system OpenSSL and its roots; a pure-Rust build speaks plain HTTP.
    #[cfg(feature = "openssl")]
    let cfg = cfg.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    );
    let agent: ureq::Agent = cfg.build().into();
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(request)
        .map_err(|e| format!("{url}: {e}"))?;
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_REPLY)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))?;
    if !ctype.is_empty() && !ctype.starts_with("application/timestamp-reply") {
        return Err(format!(
            "{url} answered with {ctype}, not application/timestamp-reply: is it a time-stamp authority?"
        ));
    }
    Ok(body)
}

/// A TSA's name for token files, from `--tsa-name` or the URL's host: letters, digits, `-`
/// and `_` only (dots would make `FILE.NAME.tsr` ambiguous).
pub fn tsa_name(url: Option<&str>, given: Option<&str>) -> Result<String, String> {
    let name = match (given, url) {
        (Some(n), _) => n.to_string(),
        (None, Some(u)) => {
            let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            let host = host.split(':').next().unwrap_or(host);
            host.replace('.', "-")
        }
        (None, None) => return Err("name the time-stamp authority with --tsa-name".into()),
    };
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{name:?} cannot name a time-stamp authority in a file name: use letters, digits, '-' and '_' (--tsa-name)"
        ));
    }
    Ok(name)
}

/// Checks that `url` can be asked for a time-stamp: `http://` or `https://`, and a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url.split_once("://").and_then(|(scheme, rest)| {
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            .then_some(rest)
    });
    let host = rest
        .and_then(|r| r.split(['/', '?', '#']).next())
        .map(|h| h.rsplit('@').next().unwrap_or(h))
        .unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!(
            "{url:?} is not a time-stamp authority's URL: give http://HOST/… or https://HOST/…"
        ));
    }
    Ok(())
}

/// Checks that `roots` holds PEM certificates (how many), so that a wrong file given as
/// --tsa-roots is refused before anything is done.
pub fn check_roots(roots: &[u8]) -> Result<usize, String> {
    #[cfg(feature = "openssl")]
    let n = openssl::x509::X509::stack_from_pem(roots)
        .map_err(|e| format!("it is not PEM certificates: {e}"))?
        .len();
    #[cfg(not(feature = "openssl"))]
    let n = String::from_utf8_lossy(roots)
        .matches("-----BEGIN CERTIFICATE-----")
        .count();
    if n == 0 {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(n)
}

/// `FILE.NAME.tsr` for the signature file `file` and the TSA `tsa`.
pub fn token_path(file: &Path, tsa: &str) -> PathBuf {
    let mut s = file.as_os_str().to_os_string();
    s.push(format!(".{tsa}{TOKEN_EXTENSION}"));
    PathBuf::from(s)
}

/// The file a token file time-stamps, and the TSA's name, from `FILE.NAME.tsr`.
pub fn split_token_name(token: &str) -> Option<(&str, &str)> {
    let stem = token.strip_suffix(TOKEN_EXTENSION)?;
    let (data, tsa) = stem.rsplit_once('.')?;
    (!data.is_empty() && !tsa.is_empty()).then_some((data, tsa))
}

/// One token that was checked.
#[derive(Clone, Debug, Serialize)]
pub struct CheckedToken {
    /// The token file, relative to the folder checked.
    pub token: String,
    /// The file it time-stamps.
    pub data: String,
    /// The TSA's name (from the file name).
    pub tsa: String,
    /// What it says, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<TokenInfo>,
    /// Whether it verified against the trusted roots (false when no roots were given).
    pub trusted: bool,
}

/// Checks every token file (`*.tsr` whose name starts with `prefix`) directly in `dir`, whose
/// paths are reported as `rel/NAME`. A token counts only over a file `stamped` accepts (the
/// signatures `qoima timestamp` stamps): one over anything else is an error, since any file
/// with an old token could otherwise lend the seal its time. Without `roots` nothing is
/// verified — tokens prove no time then — and they are listed with one warning.
pub fn check_folder(
    dir: &Path,
    rel: &str,
    prefix: &str,
    stamped: &dyn Fn(&str) -> bool,
    roots: Option<&[u8]>,
) -> (Vec<CheckedToken>, Vec<Problem>) {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(TOKEN_EXTENSION) && n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut tokens = Vec::new();
    let mut problems = Vec::new();
    let join = |n: &str| {
        if rel.is_empty() {
            n.to_string()
        } else {
            format!("{rel}/{n}")
        }
    };
    for n in names {
        let token_rel = join(&n);
        let Some((data_name, tsa)) = split_token_name(&n).filter(|(d, _)| stamped(d)) else {
            problems.push(
                Problem::new(
                    Code::TimestampOrphan,
                    format!(
                        "{token_rel} is not a time-stamp over a signature of this seal (FILE.TSA.tsr, FILE a signature qoima time-stamps)"
                    ),
                )
                .file(&token_rel),
            );
            continue;
        };
        let data_rel = join(data_name);
        let mut t = CheckedToken {
            token: token_rel.clone(),
            data: data_rel.clone(),
            tsa: tsa.to_string(),
            info: None,
            trusted: false,
        };
        let data = match read_limited(&dir.join(data_name)) {
            Ok(d) => d,
            Err(e) => {
                problems.push(
                    Problem::new(
                        Code::TimestampOrphan,
                        format!("{token_rel} time-stamps {data_rel}, which cannot be read: {e}"),
                    )
                    .file(&token_rel),
                );
                tokens.push(t);
                continue;
            }
        };
        let reply = read_limited(&dir.join(&n));
        match (reply, roots) {
            (Err(e), Some(_)) => problems.push(
                Problem::new(
                    Code::TimestampUnreadable,
                    format!("cannot read {token_rel}: {e}"),
                )
                .file(&token_rel),
            ),
            (Err(_), None) => {}
            (Ok(reply), Some(_)) => match verify(&reply, &data, roots) {
                Ok(info) => {
                    t.trusted = true;
                    t.info = Some(info);
                }
                Err(e) => {
                    problems
                        .push(Problem::new(e.code(), format!("{token_rel}: {e}")).file(&token_rel));
                }
            },
            // Unchecked, a token is only listed: what it says, when it can be read.
            (Ok(reply), None) => t.info = read_reply(&reply).ok().map(|(_, i)| i),
        }
        tokens.push(t);
    }
    if roots.is_none() && !tokens.is_empty() {
        problems.push(
            Problem::new(
                Code::TimestampUnchecked,
                format!(
                    "{} holds time-stamps that were not checked: no --tsa-roots given, so they prove no time",
                    if rel.is_empty() { "the folder" } else { rel }
                ),
            )
            .file(if rel.is_empty() { "." } else { rel }),
        );
    }
    (tokens, problems)
}

/// Whether `name` is a tag manifest's signature in `seal/` whose tag manifest is in `bag`:
/// what a time-stamp in `seal/` may stamp.
pub fn seal_signature_of(bag: &Path, name: &str) -> bool {
    name.strip_suffix(".minisig").is_some_and(|tm| {
        tm.starts_with("tagmanifest-")
            && tm.ends_with(".txt")
            && !tm.contains('/')
            && fs::symlink_metadata(bag.join(tm)).is_ok_and(|m| m.is_file())
    })
}

/// Whether `name` is a custody entry's signature (`NNNNNN.json.minisig`).
pub fn custody_signature(name: &str) -> bool {
    name.strip_suffix(".json.minisig")
        .is_some_and(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
}

/// What `qoima timestamp` stamps for `target`: the folder token paths are relative to, and
/// the signature files (relative to it) — for a sealed bag, every `seal/tagmanifest-*.txt.minisig`
/// and the custody log's last entry signature; for an encrypted bundle `NAME.tar.age`, the
/// signature of its digest, `NAME.tar.age.sha256.minisig`.
pub fn stamp_targets(target: &Path) -> Result<(PathBuf, Vec<String>), String> {
    if target.is_file() {
        if !super::encrypt::is_bundle(target) {
            return Err(format!(
                "{} is neither a sealed bag folder nor an encrypted bundle NAME.tar.age",
                target.display()
            ));
        }
        let base = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sig = format!("{name}.sha256.minisig");
        if !base.join(&sig).is_file() {
            return Err(format!(
                "{} has no signature {sig} beside it: only a signed bundle is time-stamped",
                target.display()
            ));
        }
        return Ok((base, vec![sig]));
    }
    let mut files: Vec<String> = fs::read_dir(target.join(super::SEAL_DIR))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tagmanifest-") && n.ends_with(".txt.minisig"))
                .map(|n| format!("{}/{n}", super::SEAL_DIR))
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        return Err(format!(
            "{} is not sealed (no {}/tagmanifest-*.txt.minisig): seal it with `qoima seal` first",
            target.display(),
            super::SEAL_DIR
        ));
    }
    files.sort();
    let custody = target.join(super::custody::CUSTODY_DIR);
    if let Ok(rd) = fs::read_dir(&custody) {
        let last = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| custody_signature(n))
            .max();
        if let Some(last) = last {
            files.push(format!("{}/{last}", super::custody::CUSTODY_DIR));
        }
    }
    Ok((target.to_path_buf(), files))
}

/// Whether the sealed bag `bag` holds time-stamps over its seal (`seal/*.tsr`).
pub fn is_stamped(bag: &Path) -> bool {
    fs::read_dir(bag.join(super::SEAL_DIR)).is_ok_and(|mut rd| {
        rd.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(TOKEN_EXTENSION)))
    })
}

/// A token kept by [`add_token`].
#[derive(Clone, Debug, Serialize)]
pub struct AddedToken {
    /// The signature file it time-stamps (relative to the target's folder).
    pub file: String,
    /// The token file written.
    pub token: String,
    /// The TSA's name.
    pub tsa: String,
    /// What the token says.
    pub info: TokenInfo,
    /// Whether it was checked against trusted TSA roots before it was kept.
    pub trusted: bool,
}

/// What [`add_token`] did with a good reply.
#[derive(Clone, Debug)]
pub enum Added {
    /// It is kept as a new token.
    New(Box<AddedToken>),
    /// The very same token was already there (its path).
    Kept(String),
}

/// Where a token is written before it is linked into place: beside the bag (or the bundle's
/// folder), never inside it, so that a run killed meanwhile leaves nothing in `seal/` or
/// `custody/` and the bag still verifies.
fn token_temporary(base: &Path, token: &Path) -> PathBuf {
    if let Some(dir) = token.parent() {
        // Left by versions that staged tokens beside them.
        crate::fsutil::sweep_stale_in(dir, |_, tag| tag == "token");
    }
    crate::fsutil::temp_beside(base, token, "token")
}

/// Writes `data` to a new file `path` and flushes it; nothing is left on failure.
fn write_flushed(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.write_all(data)?;
        file.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result
}

/// Keeps `reply` as the token of whichever of `files` (under `base`) it time-stamps, as
/// `FILE.TSA.tsr`: the reply must be granted, over one of the files (and carry `nonce`, when
/// one was sent), and — with `roots` — signed by a TSA they trust. Never replaces a token: the
/// same reply again is [`Added::Kept`], another one under the same name a problem.
pub fn add_token(
    base: &Path,
    files: &[String],
    tsa: &str,
    reply: &[u8],
    roots: Option<&[u8]>,
    nonce: Option<&[u8]>,
) -> Result<Added, Problem> {
    let refused = |msg: String| Problem::new(Code::TsaRefused, msg);
    let (_, info) = read_reply(reply).map_err(|e| refused(e.to_string()))?;
    if info.imprint_algorithm == "sha1" {
        return Err(refused(
            "the reply's imprint is SHA-1, too weak for a new token: ask with SHA-256 (openssl ts -query -sha256)"
                .into(),
        ));
    }
    if let Some(n) = nonce {
        let want = int_hex(n);
        if info.nonce.as_deref() != Some(want.as_str()) {
            return Err(refused(format!(
                "the reply does not answer this request: its nonce is {}, the request's {want}",
                info.nonce.as_deref().unwrap_or("missing")
            )));
        }
    }
    let mut last_err = None;
    for f in files {
        let data = read_limited(&base.join(f)).map_err(|e| {
            Problem::new(Code::TimestampIo, format!("cannot read {f}: {e}")).file(f)
        })?;
        match verify(reply, &data, roots) {
            Ok(info) => {
                let token = token_path(Path::new(f), tsa).to_string_lossy().into_owned();
                let path = base.join(&token);
                // Written aside, then linked into place: a token that appeared meanwhile (another
                // run) is never replaced.
                let tmp = token_temporary(base, &path);
                let io = |e: std::io::Error| {
                    Problem::new(Code::TimestampIo, format!("cannot write {token}: {e}"))
                        .file(&token)
                };
                write_flushed(&tmp, reply).map_err(io)?;
                match crate::fsutil::place_new(&tmp, &path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if fs::read(&path).is_ok_and(|old| old == reply) {
                            return Ok(Added::Kept(token));
                        }
                        return Err(Problem::new(
                            Code::TsaRefused,
                            format!("{token} already holds another token from {tsa}; qoima never replaces a token (import this one under another --tsa-name)"),
                        )
                        .file(&token));
                    }
                    Err(e) => return Err(io(e)),
                }
                return Ok(Added::New(Box::new(AddedToken {
                    file: f.clone(),
                    token,
                    tsa: tsa.to_string(),
                    info,
                    trusted: roots.is_some(),
                })));
            }
            Err(TokenError::OtherData(e)) => last_err = Some(refused(e)),
            Err(e) => return Err(Problem::new(e.code(), e.to_string()).file(f)),
        }
    }
    Err(last_err
        .map(|p| {
            if files.len() > 1 {
                refused(format!(
                    "the reply time-stamps none of {}: {}",
                    files.join(", "),
                    p.message
                ))
            } else {
                p.file(&files[0])
            }
        })
        .unwrap_or_else(|| refused("there is no signature file to time-stamp".into())))
}

/// What [`stamp`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StampReport {
    /// The tokens added.
    pub added: Vec<AddedToken>,
    /// Token files that were already there (nothing is replaced).
    pub skipped: Vec<String>,
    /// What went wrong: `SEAL-064` (unreachable) or the reply's problem.
    pub problems: Vec<Problem>,
}

/// Asks each time-stamp authority `(url, name)` for a token over each of `files` (under
/// `base`, as [`stamp_targets`] gives them) that has none from it yet, and keeps the good
/// replies.
pub fn stamp(
    base: &Path,
    files: &[String],
    authorities: &[(String, String)],
    roots: Option<&[u8]>,
) -> Result<StampReport, String> {
    let mut r = StampReport::default();
    for (url, name) in authorities {
        for f in files {
            let token = token_path(Path::new(f), name);
            if base.join(&token).exists() {
                r.skipped.push(token.to_string_lossy().into_owned());
                continue;
            }
            let data = read_limited(&base.join(f)).map_err(|e| format!("cannot read {f}: {e}"))?;
            let sha: [u8; 32] =
                sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&data))
                    .into();
            let n = nonce();
            let reply = match fetch(url, &request(&sha, &n)) {
                Ok(reply) => reply,
                Err(e) => {
                    r.problems.push(
                        Problem::new(
                            Code::TsaUnreachable,
                            format!("cannot get a time-stamp for {f}: {e}"),
                        )
                        .file(f),
                    );
                    continue;
                }
            };
            match add_token(base, std::slice::from_ref(f), name, &reply, roots, Some(&n)) {
                Ok(Added::New(t)) => r.added.push(*t),
                Ok(Added::Kept(t)) => r.skipped.push(t),
                Err(p) => r.problems.push(p),
            }
        }
    }
    Ok(r)
}

/// Reads a small file (a token, a signature, a roots file): a regular file, not a link, of at
/// most [`MAX_REPLY`] bytes — a device or FIFO in its place is refused, never read.
pub fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut data = Vec::new();
    fs::File::open(path)?
        .take(MAX_REPLY + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > MAX_REPLY {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_REPLY} bytes: too large for a time-stamp token or signature"
        )));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der_with_sha256_imprint_nonce_and_cert_req() {
        let d = [0xabu8; 32];
        let der = request(&d, &[0x80, 1, 2, 3, 4, 5, 6, 7]);
        let req = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(req.message_imprint.hash_algorithm.oid, ID_SHA256);
        assert_eq!(req.message_imprint.hashed_message.as_bytes(), &d);
        // A nonce with the high bit set gets a leading zero: it stays positive.
        assert_eq!(
            req.nonce.unwrap().as_bytes(),
            &[0, 0x80, 1, 2, 3, 4, 5, 6, 7]
        );
        assert!(req.cert_req);
    }

    #[test]
    fn tsa_names_come_from_the_host_or_are_refused() {
        assert_eq!(
            tsa_name(Some("http://timestamp.example.org:8080/tsa"), None).unwrap(),
            "timestamp-example-org"
        );
        assert_eq!(tsa_name(Some("http://x"), Some("tsa_1")).unwrap(), "tsa_1");
        assert!(tsa_name(None, Some("a.b")).is_err());
        assert!(tsa_name(None, Some("../x")).is_err());
        assert!(tsa_name(None, None).is_err());
    }

    #[test]
    fn token_names_split_into_file_and_tsa() {
        let p = token_path(Path::new("seal/tagmanifest-sha256.txt.minisig"), "tsa1");
        assert_eq!(p, Path::new("seal/tagmanifest-sha256.txt.minisig.tsa1.tsr"));
        assert_eq!(
            split_token_name("tagmanifest-sha256.txt.minisig.tsa1.tsr"),
            Some(("tagmanifest-sha256.txt.minisig", "tsa1"))
        );
        assert_eq!(split_token_name("x.tsr"), None);
    }

    #[test]
    fn generalized_times_with_and_without_fractions() {
        let t = |s: &str| {
            let any = Any::new(der::Tag::GeneralizedTime, s.as_bytes()).unwrap();
            gen_time(&any)
        };
        assert_eq!(
            t("20220105123456Z").as_deref(),
            Some("2022-01-05T12:34:56Z")
        );
        assert_eq!(
            t("20220105123456.743Z").as_deref(),
            Some("2022-01-05T12:34:56.743Z")
        );
        assert_eq!(t("20220105123456.Z"), None);
        assert_eq!(t("20221305123456Z"), None);
        assert_eq!(t("20220105123456"), None);
        let utc = Any::new(der::Tag::UtcTime, b"220105123456Z".as_slice()).unwrap();
        assert_eq!(gen_time(&utc), None);
    }

    #[test]
    fn hostile_files_are_not_read() {
        let dir = std::env::temp_dir().join(format!("qoima-ts-hostile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
        assert!(read_limited(&dir.join("zero")).is_err());
        fs::write(dir.join("big"), vec![0u8; MAX_REPLY as usize + 1]).unwrap();
        assert!(read_limited(&dir.join("big")).is_err());
        fs::write(dir.join("ok"), b"x").unwrap();
        assert_eq!(read_limited(&dir.join("ok")).unwrap(), b"x");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbage_is_not_a_reply() {
        let e = read_reply(b"not der").unwrap_err();
        assert!(matches!(e, TokenError::Unreadable(_)), "{e}");
        assert_eq!(e.code(), Code::TimestampUnreadable);
    }
}
