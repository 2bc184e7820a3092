//! The reply of a time-stamp authority and the token inside it, read without trusting
//! them: whether it was granted, and what its `TSTInfo` says.

use cmpv2::status::PkiStatus;
use der::asn1::Int;
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use serde::Serialize;
use x509_tsp::{MessageImprint, TimeStampResp, TspVersion};

use super::{ID_SHA1, ID_SHA256, ID_SHA384, ID_SHA512};
use crate::digest::hex;
use crate::error::Code;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

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
fn gen_time(time: &Any) -> Option<String> {
    if der::Tagged::tag(time) != der::Tag::GeneralizedTime {
        return None;
    }
    let value = std::str::from_utf8(time.value()).ok()?;
    let value = value.strip_suffix('Z')?;
    let (whole, frac) = match value.split_once('.') {
        Some((whole_part, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (whole_part, Some(fraction))
        }
        Some(_) => return None,
        None => (value, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |r: std::ops::Range<usize>| whole[r].parse::<u32>().ok();
    let (mo, d, h, mi, sec) = (
        number(4..6)?,
        number(6..8)?,
        number(8..10)?,
        number(10..12)?,
        number(12..14)?,
    );
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
        frac.map(|fraction| format!(".{fraction}"))
            .unwrap_or_default()
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
    let signed_data = token
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(|e| bad(&format!("SignedData does not decode ({e})")))?;
    if signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("the signed content is not a TSTInfo"));
    }
    let content = signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| bad("the signed content is missing"))?;
    let tst = Tst::from_der(content.value())
        .map_err(|e| bad(&format!("TSTInfo does not decode ({e})")))?;
    let signer = signer_subject(&signed_data);
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
fn signer_subject(signed_data: &cms::signed_data::SignedData) -> Option<String> {
    use cms::cert::CertificateChoices;
    use cms::signed_data::SignerIdentifier;
    let signer = signed_data.signer_infos.0.iter().next()?;
    let certs = signed_data.certificates.as_ref()?;
    certs.0.iter().find_map(|c| match (c, &signer.sid) {
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
pub(crate) fn int_hex(bytes: &[u8]) -> String {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&x| x == 0).collect();
    if trimmed.is_empty() {
        "00".into()
    } else {
        hex(&trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn garbage_is_not_a_reply() {
        let e = read_reply(b"not der").unwrap_err();
        assert!(matches!(e, TokenError::Unreadable(_)), "{e}");
        assert_eq!(e.code(), Code::TimestampUnreadable);
    }
}
