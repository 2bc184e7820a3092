//! Where RFC 3161 time-stamps sit in a sealed bag (design §4.4): proof from a third party,
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
//! never counted as proof. The protocol itself (requests, replies, checking a token) is
//! `seal::tsp`, re-exported here for the callers that stamp bags.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::layout::{
    CUSTODY_DIR, SEAL_DIR, is_bundle, is_custody_signature, is_tag_manifest_signature,
};
pub use super::layout::{TOKEN_EXTENSION, is_stamped};
use super::tsp::int_hex;
pub use super::tsp::{
    MAX_REPLY, TokenError, TokenInfo, check_roots, check_url, fetch, nonce, read_reply, request,
    tsa_name, verify,
};
use crate::error::{Code, Problem};

/// `FILE.NAME.tsr` for the signature file `file` and the TSA `tsa`.
pub fn token_path(file: &Path, tsa: &str) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(format!(".{tsa}{TOKEN_EXTENSION}"));
    PathBuf::from(name)
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
                .filter(|name| name.ends_with(TOKEN_EXTENSION) && name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut tokens = Vec::new();
    let mut problems = Vec::new();
    let join = |name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    for name in names {
        let token_rel = join(&name);
        let Some((data_name, tsa)) = split_token_name(&name).filter(|(bytes, _)| stamped(bytes))
        else {
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
        let mut token = CheckedToken {
            token: token_rel.clone(),
            data: data_rel.clone(),
            tsa: tsa.to_string(),
            info: None,
            trusted: false,
        };
        let data = match read_limited(&dir.join(data_name)) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(
                    Problem::new(
                        Code::TimestampOrphan,
                        format!("{token_rel} time-stamps {data_rel}, which cannot be read: {e}"),
                    )
                    .file(&token_rel),
                );
                tokens.push(token);
                continue;
            }
        };
        let reply = read_limited(&dir.join(&name));
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
                    token.trusted = true;
                    token.info = Some(info);
                }
                Err(e) => {
                    problems
                        .push(Problem::new(e.code(), format!("{token_rel}: {e}")).file(&token_rel));
                }
            },
            // Unchecked, a token is only listed: what it says, when it can be read.
            (Ok(reply), None) => token.info = read_reply(&reply).ok().map(|(_, i)| i),
        }
        tokens.push(token);
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

/// Whether `name` is a custody entry's signature (`NNNNNN.json.minisig`): what a
/// time-stamp in `custody/` may stamp.
pub fn custody_signature(name: &str) -> bool {
    is_custody_signature(name)
}

/// What `qoima timestamp` stamps for `target`: the folder token paths are relative to, and
/// the signature files (relative to it) — for a sealed bag, every `seal/tagmanifest-*.txt.minisig`
/// and the custody log's last entry signature; for an encrypted bundle `NAME.tar.age`, the
/// signature of its digest, `NAME.tar.age.sha256.minisig`.
pub fn stamp_targets(target: &Path) -> Result<(PathBuf, Vec<String>), String> {
    if target.is_file() {
        if !is_bundle(target) {
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
    let mut files: Vec<String> = fs::read_dir(target.join(SEAL_DIR))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| is_tag_manifest_signature(n))
                .map(|n| format!("{}/{n}", SEAL_DIR))
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        return Err(format!(
            "{} is not sealed (no {}/tagmanifest-*.txt.minisig): seal it with `qoima seal` first",
            target.display(),
            SEAL_DIR
        ));
    }
    files.sort();
    let custody = target.join(CUSTODY_DIR);
    if let Ok(rd) = fs::read_dir(&custody) {
        let last = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_custody_signature(n))
            .max();
        if let Some(last) = last {
            files.push(format!("{}/{last}", CUSTODY_DIR));
        }
    }
    Ok((target.to_path_buf(), files))
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
    if let Some(sent) = nonce {
        let want = int_hex(sent);
        if info.nonce.as_deref() != Some(want.as_str()) {
            return Err(refused(format!(
                "the reply does not answer this request: its nonce is {}, the request's {want}",
                info.nonce.as_deref().unwrap_or("missing")
            )));
        }
    }
    let mut last_err = None;
    for file in files {
        let data = read_limited(&base.join(file)).map_err(|e| {
            Problem::new(Code::TimestampIo, format!("cannot read {file}: {e}")).file(file)
        })?;
        match verify(reply, &data, roots) {
            Ok(info) => {
                let token = token_path(Path::new(file), tsa)
                    .to_string_lossy()
                    .into_owned();
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
                    file: file.clone(),
                    token,
                    tsa: tsa.to_string(),
                    info,
                    trusted: roots.is_some(),
                })));
            }
            Err(TokenError::OtherData(e)) => last_err = Some(refused(e)),
            Err(e) => return Err(Problem::new(e.code(), e.to_string()).file(file)),
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
    let mut report = StampReport::default();
    for (url, name) in authorities {
        for file in files {
            let token = token_path(Path::new(file), name);
            if base.join(&token).exists() {
                report.skipped.push(token.to_string_lossy().into_owned());
                continue;
            }
            let data =
                read_limited(&base.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
            let sha: [u8; 32] =
                sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&data))
                    .into();
            let sent_nonce = nonce();
            let reply = match fetch(url, &request(&sha, &sent_nonce)) {
                Ok(reply) => reply,
                Err(e) => {
                    report.problems.push(
                        Problem::new(
                            Code::TsaUnreachable,
                            format!("cannot get a time-stamp for {file}: {e}"),
                        )
                        .file(file),
                    );
                    continue;
                }
            };
            match add_token(
                base,
                std::slice::from_ref(file),
                name,
                &reply,
                roots,
                Some(&sent_nonce),
            ) {
                Ok(Added::New(t)) => report.added.push(*t),
                Ok(Added::Kept(t)) => report.skipped.push(t),
                Err(p) => report.problems.push(p),
            }
        }
    }
    Ok(report)
}

/// Reads a small file (a token, a signature, a roots file): a regular file, not a link, of at
/// most [`MAX_REPLY`] bytes — a device or FIFO in its place is refused, never read.
pub fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::fsutil::read_limited(path, MAX_REPLY, "a time-stamp token or signature")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
