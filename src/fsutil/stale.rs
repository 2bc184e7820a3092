//! Clearing what dead runs left beside an output: every temporary qoima makes for an output
//! `OUT` is named `.OUT.qoima-TAG-PID` (or, for a temporary's own temporary,
//! `..OUT.qoima-TAG-PID.qoima-TAG-PID`), with a known TAG and the process id of its run. A
//! kill leaves such names behind, some holding hundreds of megabytes.
//!
//! A later run writing the same OUT calls [`clean_stale`] before it creates anything. Only
//! names that match the pattern exactly, for this OUT, and whose every process is gone are
//! touched. Nothing that may be the only copy of a bag is removed:
//!
//! - `.OUT.qoima-old-PID` holds the old content set aside by the two-rename fallback of
//!   [`super::replace_dir`]. When OUT is missing, it is the only copy: it is renamed back to
//!   OUT (never over anything). When OUT exists and the matching `.OUT.qoima-new-PID` is gone,
//!   the new content reached OUT and the old one is removed; when that new content is still
//!   there, OUT was made by something else meanwhile, and both are kept and reported.
//! - `.OUT.qoima-new-PID` (`-package-` in earlier versions) holds a complete bag built to
//!   replace OUT, or, after an exchange, the old one: removed when OUT exists, kept when OUT
//!   is missing.
//! - every other temporary (a partial bag, a staged bag, a partial archive or unpacking, a
//!   file being written) is incomplete by construction and removed.
//!
//! A process id reused by a live process makes its leftovers look alive: they are then left
//! for a later run. A run's own id counts as dead, since this is called before the run creates
//! anything.

use std::fs;
use std::path::{Path, PathBuf};

use super::replace::remove_any;
use super::{parent_dir, rename_noreplace};

/// The tags qoima's temporaries carry (see `temp_sibling` callers).
const TAGS: &[&str] = &[
    "bag",
    "new",
    "old",
    "package",
    "stage",
    "serialize",
    "unpack",
    "write",
];

/// What [`clean_stale`] did with one leftover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleaned {
    /// Removed (an incomplete or superseded temporary).
    Removed(PathBuf),
    /// The only copy of the old content, renamed back to the output.
    Restored {
        /// The leftover.
        from: PathBuf,
        /// The output it was restored to.
        to: PathBuf,
    },
    /// Left in place: it may be the only copy of something.
    Kept {
        /// The leftover.
        path: PathBuf,
        /// Why, and what to do.
        why: String,
    },
}

/// One leftover: its path, the tag it carries for OUT itself, whether it is a temporary of a
/// temporary, and the process ids in its name.
struct Leftover {
    path: PathBuf,
    tag: String,
    nested: bool,
    pids: Vec<u32>,
}

/// Clears the leftovers of dead runs beside `out` (see the module documentation) and says
/// what it did. Call it before this run creates anything for `out`.
pub fn clean_stale(out: &Path) -> Vec<Cleaned> {
    let Some(out_name) = out.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(parent_dir(out)) else {
        return Vec::new();
    };
    let mut leftovers: Vec<Leftover> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (tag, nested, pids) = parse(&name, out_name)?;
            pids.iter().all(|&p| !alive(p)).then(|| Leftover {
                // Named as the user named OUT's folder (no `./` added).
                path: out.with_file_name(&name),
                tag,
                nested,
                pids,
            })
        })
        .collect();
    leftovers.sort_by(|a, b| a.path.cmp(&b.path));
    let mut done = restore_or_remove_old(out, &mut leftovers);
    done.extend(remove_the_rest(out, &leftovers));
    done
}

/// The `-old-` leftovers first: they decide whether OUT must be restored.
fn restore_or_remove_old(out: &Path, leftovers: &mut Vec<Leftover>) -> Vec<Cleaned> {
    let (olds, rest): (Vec<Leftover>, Vec<Leftover>) = std::mem::take(leftovers)
        .into_iter()
        .partition(|l| l.tag == "old" && !l.nested);
    *leftovers = rest;
    let mut done = Vec::new();
    let out_missing = fs::symlink_metadata(out).is_err();
    if out_missing && olds.len() > 1 {
        for old in &olds {
            done.push(Cleaned::Kept {
                path: old.path.clone(),
                why: format!(
                    "{} is missing and several interrupted runs set content aside; rename the one to keep back to {}",
                    out.display(),
                    out.display()
                ),
            });
        }
        keep_partners(&olds, leftovers);
        return done;
    }
    for old in &olds {
        if out_missing {
            done.push(match rename_noreplace(&old.path, out) {
                Ok(()) => Cleaned::Restored {
                    from: old.path.clone(),
                    to: out.to_path_buf(),
                },
                Err(e) => Cleaned::Kept {
                    path: old.path.clone(),
                    why: format!("cannot rename it back to {}: {e}", out.display()),
                },
            });
        } else if has_partner(old, leftovers) {
            done.push(Cleaned::Kept {
                path: old.path.clone(),
                why: format!(
                    "{} was made after this content was set aside, so it may be the only copy of it; remove it by hand once you are sure",
                    out.display()
                ),
            });
            keep_partners(std::slice::from_ref(old), leftovers);
        } else {
            done.push(remove(&old.path));
        }
    }
    done
}

/// Whether the new content that was to replace `old`'s (same run) is still beside OUT.
fn has_partner(old: &Leftover, leftovers: &[Leftover]) -> bool {
    leftovers
        .iter()
        .any(|l| !l.nested && (l.tag == "new" || l.tag == "package") && l.pids == old.pids)
}

/// Takes out of `leftovers` the new content of the same runs as `olds`: kept with them.
fn keep_partners(olds: &[Leftover], leftovers: &mut Vec<Leftover>) {
    leftovers.retain(|l| l.nested || !olds.iter().any(|o| o.pids == l.pids));
}

fn remove_the_rest(out: &Path, leftovers: &[Leftover]) -> Vec<Cleaned> {
    let out_missing = fs::symlink_metadata(out).is_err();
    leftovers
        .iter()
        .map(|l| {
            let complete_bag = l.path.join("bagit.txt").is_file();
            if out_missing && !l.nested && (l.tag == "new" || l.tag == "package") && complete_bag
            {
                Cleaned::Kept {
                    path: l.path.clone(),
                    why: format!(
                        "{} is missing, so this bag may be the only copy; rename it to {} or remove it",
                        out.display(),
                        out.display()
                    ),
                }
            } else {
                remove(&l.path)
            }
        })
        .collect()
}

fn remove(path: &Path) -> Cleaned {
    match remove_any(path) {
        Ok(()) => Cleaned::Removed(path.to_path_buf()),
        Err(e) => Cleaned::Kept {
            path: path.to_path_buf(),
            why: format!("cannot remove it: {e}"),
        },
    }
}

/// `(tag for OUT, nested, process ids)` when `name` is exactly one of qoima's temporaries for
/// the output named `out_name`.
fn parse(name: &str, out_name: &str) -> Option<(String, bool, Vec<u32>)> {
    let rest = name.strip_prefix('.')?;
    let (inner, suffix) = rest.rsplit_once(".qoima-")?;
    let (tag, pid) = suffix.rsplit_once('-')?;
    if !TAGS.contains(&tag) || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pid: u32 = pid.parse().ok()?;
    if inner == out_name {
        return Some((tag.to_string(), false, vec![pid]));
    }
    let (outer_tag, _, mut pids) = parse(inner, out_name)?;
    pids.push(pid);
    Some((outer_tag, true, pids))
}

/// Whether process `pid` may be running. This process counts as not running (see the module
/// documentation); an id that cannot be a process counts as running, so nothing is touched.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let Ok(id) = libc::pid_t::try_from(pid) else {
        return true;
    };
    id <= 0 || super::process_exists(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_temporaries_of_this_output_are_recognised() {
        let p = |n: &str| parse(n, "out");
        assert_eq!(
            p(".out.qoima-new-12"),
            Some(("new".into(), false, vec![12]))
        );
        assert_eq!(
            p("..out.qoima-new-12.qoima-bag-12"),
            Some(("new".into(), true, vec![12, 12]))
        );
        assert_eq!(p(".out.qoima-new-12x"), None);
        assert_eq!(p(".out.qoima-mine-12"), None);
        assert_eq!(p(".outer.qoima-new-12"), None);
        assert_eq!(p("out.qoima-new-12"), None);
        assert_eq!(p(".out.qoima-new-"), None);
        assert_eq!(p(".out.zip.qoima-stage-3"), None);
    }

    #[test]
    fn a_live_run_is_left_alone() {
        assert!(alive(1), "init is running");
        assert!(!alive(std::process::id()));
    }
}
