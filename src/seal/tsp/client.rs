//! Asking a time-stamp authority: the DER request with its nonce, the HTTP exchange, the
//! name its tokens get, and the checks of a URL and of a roots file made before anything is
//! done.

use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{Any, Encode};
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use super::{ID_SHA256, MAX_REPLY};

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
    let mut value = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        value.push(0);
    }
    value.extend_from_slice(&trimmed);
    Int::new(&value).expect("a valid integer")
}

/// Eight random bytes for a request's nonce.
pub fn nonce() -> [u8; 8] {
    let mut bytes = [0u8; 8];
    // Without randomness the nonce only loses its replay protection; the token stays sound.
    let _ = getrandom::getrandom(&mut bytes);
    bytes
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
    let count = openssl::x509::X509::stack_from_pem(roots)
        .map_err(|e| format!("it is not PEM certificates: {e}"))?
        .len();
    #[cfg(not(feature = "openssl"))]
    let count = String::from_utf8_lossy(roots)
        .matches("-----BEGIN CERTIFICATE-----")
        .count();
    if count == 0 {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

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
}
