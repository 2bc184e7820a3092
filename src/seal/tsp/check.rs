//! A token checked as a time-stamp over some data: its imprint is the data's digest and,
//! against the roots the verifier trusts, its CMS signature, certificate chain and ESS
//! signing-certificate binding hold.

use der::asn1::OctetString;
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};

use super::token::{TokenError, TokenInfo, read_reply};
use super::{ID_SHA1, ID_SHA256, ID_SHA384, ID_SHA512};
use crate::digest::{Algorithm, digest_bytes, hex};

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
    let content = cms::content_info::ContentInfo::from_der(token_der)
        .map_err(|e| TokenError::Unreadable(format!("the token is not CMS: {e}")))?;
    let signed_data = content
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(|e| TokenError::Unreadable(format!("SignedData does not decode ({e})")))?;
    let signer = signed_data
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| bad("no signer"))?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("no signed attributes"))?;
    let (v2, value) = attrs
        .iter()
        .find_map(|a| {
            let attribute_value = a.values.iter().next()?;
            if a.oid == ID_SIGNING_CERTIFICATE_V2 {
                Some((true, attribute_value.clone()))
            } else if a.oid == ID_SIGNING_CERTIFICATE {
                Some((false, attribute_value.clone()))
            } else {
                None
            }
        })
        .ok_or_else(|| bad("no ESS signing-certificate attribute"))?;
    let signing: SigningCertificate = value.decode_as().map_err(|e| {
        bad(&format!(
            "the ESS signing-certificate attribute does not decode ({e})"
        ))
    })?;
    let first = signing
        .certs
        .first()
        .ok_or_else(|| bad("the ESS attribute names no certificate"))?;
    let alg = if !v2 {
        Algorithm::Sha1
    } else {
        match first.hash_algorithm.as_ref().map(|a| a.oid) {
            None => Algorithm::Sha256,
            Some(oid) if oid == ID_SHA256 => Algorithm::Sha256,
            Some(oid) if oid == ID_SHA384 => Algorithm::Sha384,
            Some(oid) if oid == ID_SHA512 => Algorithm::Sha512,
            Some(oid) if oid == ID_SHA1 => Algorithm::Sha1,
            Some(oid) => {
                return Err(bad(&format!(
                    "the ESS certificate hash uses {oid}, unknown to qoima"
                )));
            }
        }
    };
    let want = hex(first.cert_hash.as_bytes());
    let certs = signed_data.certificates.as_ref().ok_or_else(|| {
        bad("the token does not carry its certificate (ask the TSA with certReq)")
    })?;
    for choice in certs.0.iter() {
        let CertificateChoices::Certificate(cert) = choice else {
            continue;
        };
        let is_signer = match &signer.sid {
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
                        .is_ok_and(|attribute_value| attribute_value.as_bytes() == ski.0.as_bytes())
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
    let mut store_builder = X509StoreBuilder::new().map_err(|e| untrusted(e.to_string()))?;
    for certificate in certs {
        store_builder
            .add_cert(certificate)
            .map_err(|e| untrusted(e.to_string()))?;
    }
    store_builder
        .set_purpose(X509PurposeId::TIMESTAMP_SIGN)
        .map_err(|e| untrusted(e.to_string()))?;
    let store = store_builder.build();
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
