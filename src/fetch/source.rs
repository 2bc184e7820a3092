//! Where bytes come from: `http:` and `https:` through `ureq` (HTTPS through the system
//! OpenSSL with the default `openssl` feature), and `file:`.
//!
//! Redirects are followed here, not by `ureq`, so that each hop is judged: one to the same
//! host (or from `http` to `https` on it) is followed; one to another host, or from `https`
//! down to `http`, is refused unless `--allow-redirects` — a bag's URLs are chosen by whoever
//! made it, and a redirect should not silently move the trust to a server nobody named.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

/// An opened transfer.
pub struct Opened {
    /// The bytes, from `start`.
    pub reader: Box<dyn Read + Send>,
    /// Where they start: the offset asked for, or 0 when the server sends the whole file.
    pub start: u64,
    /// How many bytes the server announces (Content-Length), if it does.
    pub announced: Option<u64>,
}

/// Why a transfer could not be opened.
pub enum OpenError {
    /// A scheme qoima does not fetch, or a `file:` URL naming another machine.
    Unsupported(String),
    /// A redirect that was not followed.
    Redirect(String),
    /// The server cannot serve from the offset asked for: start again from 0.
    RangeNotSatisfiable,
    /// Worth another try (network, a server error, a timeout).
    Transient(String),
    /// Not worth another try (404, 403, a file that is not there).
    Permanent(String),
}

const MAX_REDIRECTS: usize = 10;

/// Opens URLs.
pub struct Source {
    agent: ureq::Agent,
    allow_redirects: bool,
}

impl Source {
    /// A source with these timeouts (connect, response, each read) and redirect rule.
    pub fn new(timeout: Duration, allow_redirects: bool) -> Source {
        let cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .user_agent(format!("qoima/{}", crate::VERSION));
        #[cfg(feature = "openssl")]
        let cfg = cfg.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        );
        Source {
            agent: cfg.build().into(),
            allow_redirects,
        }
    }

    /// Opens `url` from byte `offset` (0: from the start).
    pub fn open(&self, url: &str, offset: u64) -> Result<Opened, OpenError> {
        match scheme(url).as_deref() {
            Some("http" | "https") => self.open_http(url, offset),
            Some("file") => open_file(url, offset),
            _ => Err(OpenError::Unsupported(format!(
                "{url} is not an http:, https: or file: URL"
            ))),
        }
    }

    fn open_http(&self, url: &str, offset: u64) -> Result<Opened, OpenError> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.get(&current);
            if offset > 0 {
                request = request.header("Range", format!("bytes={offset}-"));
            }
            let response = request
                .call()
                .map_err(|e| OpenError::Transient(format!("{current}: {e}")))?;
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = header("location").ok_or_else(|| {
                    OpenError::Permanent(format!(
                        "{current}: redirect ({status}) without a Location"
                    ))
                })?;
                let next = resolve(&current, &location);
                if !self.allow_redirects && !same_host_or_upgrade(&current, &next) {
                    return Err(OpenError::Redirect(format!(
                        "{current} redirects to {next}, another host (or from https to http)"
                    )));
                }
                current = next;
                continue;
            }
            let start = match status {
                200 => 0,
                206 => match header("content-range").as_deref().and_then(range_start) {
                    Some(s) if s == offset => offset,
                    _ => return Err(OpenError::RangeNotSatisfiable),
                },
                416 => return Err(OpenError::RangeNotSatisfiable),
                408 | 429 | 500..=599 => {
                    return Err(OpenError::Transient(format!(
                        "{current}: the server answered HTTP {status}"
                    )));
                }
                _ => {
                    return Err(OpenError::Permanent(format!(
                        "{current}: the server answered HTTP {status}"
                    )));
                }
            };
            let announced = header("content-length").and_then(|v| v.trim().parse().ok());
            let reader = Box::new(response.into_body().into_reader());
            return Ok(Opened {
                reader,
                start,
                announced,
            });
        }
        Err(OpenError::Permanent(format!(
            "{url}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

/// The lower-case scheme of a URL.
fn scheme(url: &str) -> Option<String> {
    url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())
}

/// Whether qoima fetches this URL's scheme.
pub fn supported(url: &str) -> bool {
    matches!(scheme(url).as_deref(), Some("http" | "https" | "file"))
}

fn open_file(url: &str, offset: u64) -> Result<Opened, OpenError> {
    let rest = &url["file:".len()..];
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = after.split_at(after.find('/').unwrap_or(after.len()));
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return Err(OpenError::Unsupported(format!(
                    "{url} names another machine ({host}); only local file: URLs are read"
                )));
            }
            path
        }
        None => rest,
    };
    let path = percent_decode(path)
        .ok_or_else(|| OpenError::Permanent(format!("{url}: the path is not valid UTF-8")))?;
    let mut file =
        std::fs::File::open(&path).map_err(|e| OpenError::Permanent(format!("{url}: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| OpenError::Permanent(format!("{url}: {e}")))?;
    if !size.is_file() {
        return Err(OpenError::Permanent(format!("{url} is not a regular file")));
    }
    if offset > size.len() {
        return Err(OpenError::RangeNotSatisfiable);
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| OpenError::Transient(format!("{url}: {e}")))?;
    Ok(Opened {
        reader: Box::new(file),
        start: offset,
        announced: Some(size.len() - offset),
    })
}

/// Decodes `%XX` escapes of a URL path.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `bytes START-END/TOTAL` → START.
fn range_start(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

/// Scheme, lower-case host and port of an http(s) URL.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let default = if scheme == "https" { 443 } else { 80 };
    // An IPv6 literal is bracketed: its colons are not the port's.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            (&authority[..i], authority[i + 1..].parse().ok()?)
        }
        _ => (authority, default),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// A redirect that stays on the same host: same scheme and port, or `http` up to `https`.
fn same_host_or_upgrade(from: &str, to: &str) -> bool {
    match (origin(from), origin(to)) {
        (Some((fs, fh, fp)), Some((ts, th, tp))) => {
            fh == th && ((fs == ts && fp == tp) || (fs == "http" && ts == "https"))
        }
        _ => false,
    }
}

/// Resolves a Location header against the URL it came from.
fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{scheme}://{authority}{dir}{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_judged_by_host_and_scheme() {
        let same = |a, b| same_host_or_upgrade(a, b);
        assert!(same("http://a.org/x", "http://A.org/y"));
        assert!(same("http://a.org/x", "https://a.org/y"));
        assert!(!same("https://a.org/x", "http://a.org/y"));
        assert!(!same("http://a.org/x", "http://b.org/x"));
        assert!(!same("http://127.0.0.1:8000/x", "http://127.0.0.2:8000/x"));
        assert!(!same("http://a.org:8000/x", "http://a.org:9000/x"));
        assert!(!same("http://a.org/x", "http://a.org@b.org/x"));
    }

    #[test]
    fn locations_resolve_against_the_url() {
        assert_eq!(resolve("http://a.org/d/f?q", "g"), "http://a.org/d/g");
        assert_eq!(resolve("http://a.org/d/f", "/g"), "http://a.org/g");
        assert_eq!(resolve("https://a.org/d/f", "//b.org/g"), "https://b.org/g");
        assert_eq!(resolve("http://a.org", "g"), "http://a.org/g");
        assert_eq!(resolve("http://a.org/f", "http://b.org/"), "http://b.org/");
    }

    #[test]
    fn file_urls_and_ranges() {
        assert_eq!(percent_decode("/a%20b/c%25").unwrap(), "/a b/c%");
        assert_eq!(range_start("bytes 100-199/200"), Some(100));
        assert_eq!(range_start("items 1-2"), None);
        assert!(supported("FILE:///x") && supported("https://x") && !supported("ftp://x"));
        assert!(matches!(
            open_file("file://elsewhere/etc/passwd", 0),
            Err(OpenError::Unsupported(_))
        ));
    }
}
