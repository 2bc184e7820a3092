//! Appending to the custody log (signature first, then the entry, linked into place, so a
//! crash leaves the log verifiable), undoing an append a crash interrupted, and reading the
//! entries as they are.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use minisign::{PublicKey, SecretKey};
use serde::Serialize;

use super::entry::{
    Agent, Entry, EventType, Object, Software, entry_name, parse_entry, role_executing_program,
    role_implementer, sha256_ref, statement,
};
use super::verify::{CustodyReport, verify};
use super::{CHAIN_ROOT, CUSTODY_DIR, ENTRY_VERSION, chain_root};
use crate::digest::{Algorithm, digest_bytes};
use crate::error::{Code, Problem};
use crate::fsutil;
use crate::seal::keys::{TrustedKey, key_id, parse_public_key};
use crate::seal::layout::{SEAL_DIR, read_info};
use crate::seal::minisig::verify_detached;
use crate::seal::{SEAL_VERSION, SealError, Statement};

/// How to append.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    /// The event.
    pub event: EventType,
    /// The custodian's name.
    pub agent: String,
    /// `true`: success; `false`: failure.
    pub success: bool,
    /// Free text.
    pub detail: String,
}

/// What appending did.
#[derive(Clone, Debug, Serialize)]
pub struct Appended {
    /// The entry written.
    pub entry: Entry,
    /// Its file.
    pub file: String,
    /// Its signature.
    pub signature: String,
    /// The new head (`sha256:` of the entry file).
    pub head: String,
    /// Whether it is a receipt (signed by a key other than the previous entry's).
    pub receipt: bool,
    /// The signer's key id.
    pub key_id: String,
}

/// Appends an entry signed by `(secret, public)` to the custody log of the sealed bag folder `bag`.
/// Refuses (writing nothing) a bag whose seal signature over `tagmanifest-sha256.txt` does not
/// verify, and a log that does not verify (`trusted`, when given, must trust every signer).
pub fn append(
    bag: &Path,
    secret: &SecretKey,
    public: &PublicKey,
    options: &AppendOptions,
    trusted: Option<&[TrustedKey]>,
) -> Result<Appended, SealError> {
    if !bag.is_dir() {
        return Err(SealError::Key(format!(
            "{} is not a bag folder",
            bag.display()
        )));
    }
    // The caller holds the bag's lock (`fsutil::DirLock`): anything half-written is a dead
    // run's.
    recover_interrupted_append(bag)?;
    let mut problems = seal_problems(bag);
    let sealed = problems.is_empty();
    let report = verify(bag, trusted, None, None);
    problems.extend(report.problems.iter().filter(|p| p.is_error()).cloned());
    if !problems.is_empty() {
        let refusal = refusal(bag, sealed, &problems, &untrusted_signers(&report, trusted));
        problems.push(refusal);
        return Err(SealError::Refused(problems));
    }
    let root_path = chain_root(bag);
    let root = crate::fsutil::read_regular(&root_path).map_err(SealError::io(&root_path))?;
    let last = report.entries.last();
    let seq = last.map(|e| e.seq + 1).unwrap_or(1);
    let prev = last
        .map(|e| e.digest.clone())
        .unwrap_or_else(|| sha256_ref(&root));
    let key = public.to_base64();
    let receipt = last
        .and_then(|e| e.entry.as_ref())
        .is_some_and(|e| e.agent.key.trim() != key);
    let entry = Entry {
        v: ENTRY_VERSION,
        seq,
        prev,
        time: crate::bagit::create::bagging_time(None),
        event: options.event.uri(),
        event_label: options.event.label().to_string(),
        agent: Agent {
            key: key.clone(),
            role: role_implementer(),
            name: options.agent.clone(),
        },
        software: Software {
            name: "qoima".into(),
            version: crate::VERSION.to_string(),
            role: role_executing_program(),
        },
        object: Object {
            bag: report.bag_name.clone(),
            tagmanifest_sha256: digest_bytes(Algorithm::Sha256, &root),
        },
        outcome: if options.success {
            "success"
        } else {
            "failure"
        }
        .into(),
        detail: options.detail.clone(),
    };
    let text = entry.canonical();
    let hex = digest_bytes(Algorithm::Sha256, text.as_bytes());
    let sig = minisign::sign(
        Some(public),
        secret,
        text.as_bytes(),
        Some(&statement(&report.bag_name, seq, &hex)),
        Some(&format!(
            "qoima custody entry {seq}, key {}",
            key_id(public)
        )),
    )
    .map_err(|e| SealError::Key(format!("cannot sign the entry: {e}")))?;
    let dir = bag.join(CUSTODY_DIR);
    fs::create_dir_all(&dir).map_err(SealError::io(&dir))?;
    let file = entry_name(seq);
    let sig_file = format!("{file}.minisig");
    // The signature first, then the entry, linked into place (so that two concurrent appends
    // cannot both take number `seq`). A crash in between leaves a signature without its
    // entry, which verification reports and which can simply be deleted.
    let sig_path = bag.join(&sig_file);
    if fs::symlink_metadata(&sig_path).is_ok() || fs::symlink_metadata(bag.join(&file)).is_ok() {
        return Err(SealError::Exists(bag.join(&file)));
    }
    // Both are staged beside the bag, not in custody/: a run killed before its rename or
    // link leaves nothing that would stop the log from verifying.
    let sig_tmp = fsutil::temp_beside(bag, &sig_path, "signature");
    write_flushed(&sig_tmp, sig.to_string().as_bytes())
        .and_then(|()| fs::rename(&sig_tmp, &sig_path))
        .map_err(|e| {
            let _ = fs::remove_file(&sig_tmp);
            SealError::io(&sig_path)(e)
        })?;
    if let Err(e) = write_new(bag, &bag.join(&file), text.as_bytes()) {
        let _ = fs::remove_file(&sig_path);
        return Err(e);
    }
    fsutil::sync_dir(&dir).map_err(SealError::io(&dir))?;
    Ok(Appended {
        entry,
        file,
        signature: sig_file,
        head: format!("sha256:{hex}"),
        receipt,
        key_id: key_id(public),
    })
}

/// The key ids of the log's signers that `trusted` (when given) does not list.
fn untrusted_signers(report: &CustodyReport, trusted: Option<&[TrustedKey]>) -> BTreeSet<String> {
    let Some(trusted) = trusted else {
        return BTreeSet::new();
    };
    report
        .entries
        .iter()
        .filter_map(|e| parse_public_key(e.entry.as_ref()?.agent.key.trim()))
        .filter(|key| !trusted.iter().any(|t| &t.key == key))
        .map(|key| key_id(&key))
        .collect()
}

/// The closing problem of a refused append: which condition failed, and what to do. An
/// untrusted signer is not an unsealed bag, and saying so sent custodians to re-seal.
fn refusal(
    bag: &Path,
    sealed: bool,
    problems: &[Problem],
    untrusted: &BTreeSet<String>,
) -> Problem {
    let only_trust = problems.iter().all(|p| p.code == Code::CustodyUntrustedKey);
    let why = if !sealed {
        "the bag is not sealed: seal it first (qoima seal)".to_string()
    } else if only_trust && !untrusted.is_empty() {
        let ids: Vec<&str> = untrusted.iter().map(String::as_str).collect();
        format!(
            "the custody log is signed by key {}, which is not among the trusted keys (--trusted-keys); \
             check that key with its holder through another channel and add it to the trusted-keys file, \
             or leave out --trusted-keys to append without judging earlier signers",
            ids.join(", ")
        )
    } else {
        format!(
            "its custody log does not verify: fix the problems listed (qoima custody verify {})",
            bag.display()
        )
    };
    Problem::new(
        Code::CustodyRefused,
        format!("{}: nothing was appended; {why}", bag.display()),
    )
}

/// Undoes what an append killed midway left (called under the bag's lock): its temporaries,
/// and the signature of an entry that never appeared (numbered one past the last entry; the
/// signature is written first). The log is then the one before that append, and verifies.
fn recover_interrupted_append(bag: &Path) -> Result<(), SealError> {
    let dir = bag.join(CUSTODY_DIR);
    if !dir.is_dir() {
        return Ok(());
    }
    // Left inside custody/ by versions that staged there.
    fsutil::sweep_stale_in(&dir, |_, tag| tag == "custody" || tag == "write");
    let last = (1..)
        .take_while(|&seq| bag.join(entry_name(seq)).is_file())
        .last()
        .unwrap_or(0);
    let orphan = bag.join(format!("{}.minisig", entry_name(last + 1)));
    if fs::symlink_metadata(&orphan).is_ok_and(|m| m.is_file()) {
        fs::remove_file(&orphan).map_err(SealError::io(&orphan))?;
        fsutil::sync_dir(&dir).map_err(SealError::io(&dir))?;
    }
    Ok(())
}

/// Writes `data` to the file `path` (made or emptied) and flushes it.
fn write_flushed(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Writes a new file under a temporary name beside the bag, then moves it into place: fails
/// when the name is taken.
fn write_new(bag: &Path, path: &Path, data: &[u8]) -> Result<(), SealError> {
    let tmp = fsutil::temp_beside(bag, path, "custody");
    let result = write_flushed(&tmp, data).and_then(|()| fsutil::place_new(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(SealError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(SealError::io(path)(e)),
    }
}

/// Why the bag is not sealed, as far as the custody log needs it: the seal fields, and the
/// signature of `tagmanifest-sha256.txt` by Seal-Signer-Key with its statement. (Trust in
/// the sealer and the payload's fixity are `verify-seal`'s.)
fn seal_problems(bag: &Path) -> Vec<Problem> {
    let info = read_info(bag);
    let key = info
        .get("Seal-Signer-Key")
        .and_then(|k| parse_public_key(k.trim()));
    let not_sealed = |why: String| {
        vec![Problem::new(
            Code::CustodyRefused,
            format!(
                "{} is not a sealed bag: {why}; seal it first (qoima seal)",
                bag.display()
            ),
        )]
    };
    if info.get("Seal-Version").map(str::trim) != Some(SEAL_VERSION) {
        return not_sealed(format!(
            "bag-info.txt has no `Seal-Version: {SEAL_VERSION}`"
        ));
    }
    let Some(key) = key else {
        return not_sealed("bag-info.txt names no Seal-Signer-Key".into());
    };
    let Ok(data) = crate::fsutil::read_regular(&chain_root(bag)) else {
        return not_sealed(format!("it has no {CHAIN_ROOT}"));
    };
    let sig_rel = format!("{SEAL_DIR}/{CHAIN_ROOT}.minisig");
    let sig = crate::fsutil::read_regular_string(&bag.join(&sig_rel)).unwrap_or_default();
    match verify_detached(&data, &sig, &key) {
        Ok(tc) => match Statement::parse(&tc) {
            Some(s)
                if s.tag_manifest == "tagmanifest-sha256"
                    && s.sha256 == digest_bytes(Algorithm::Sha256, &data) =>
            {
                Vec::new()
            }
            _ => not_sealed(format!(
                "the statement of {sig_rel} does not match {CHAIN_ROOT}"
            )),
        },
        Err(e) => not_sealed(format!("{sig_rel} does not verify: {e}")),
    }
}

/// The log's entries as they are, in order, without verifying them (`custody show`).
pub fn read_entries(bag: &Path) -> Vec<(String, Result<Entry, String>)> {
    let mut out = Vec::new();
    let Ok(listing) = fs::read_dir(bag.join(CUSTODY_DIR)) else {
        return out;
    };
    let mut names: BTreeSet<String> = BTreeSet::new();
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            names.insert(name);
        }
    }
    for name in names {
        let rel = format!("{CUSTODY_DIR}/{name}");
        let parsed = crate::fsutil::read_regular(&bag.join(&rel))
            .map_err(|entry| entry.to_string())
            .and_then(|bytes| parse_entry(&bytes));
        out.push((rel, parsed));
    }
    out
}
