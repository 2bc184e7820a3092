//! Whether a run is still alive: its process on this host, found by pid. A run whose
//! process is gone was killed; its claims must not block the bags for ever.

use rusqlite::{Connection, OptionalExtension};

/// Marks the runs of this host whose process is gone as `interrupted`, and frees their claims.
pub(super) fn reap_dead_runs(conn: &Connection, host: &str) -> rusqlite::Result<()> {
    let dead: Vec<i64> = {
        let mut stmt =
            conn.prepare("SELECT id, pid FROM runs WHERE outcome = 'running' AND pid_host = ?1")?;
        let rows = stmt.query_map([host], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut dead = Vec::new();
        for row in rows {
            let (id, pid) = row?;
            if !pid_alive(pid) {
                dead.push(id);
            }
        }
        dead
    };
    for id in dead {
        conn.execute(
            "UPDATE bags SET claimed_by = NULL WHERE claimed_by = ?1",
            [id],
        )?;
        conn.execute(
            "UPDATE runs SET outcome = 'interrupted' WHERE id = ?1",
            [id],
        )?;
    }
    Ok(())
}

/// Whether `run` is running: not finished, and (on this host) its process exists. A run of
/// another host is taken to be live while it says it is running.
pub(super) fn run_is_live(conn: &Connection, run: i64, host: &str) -> rusqlite::Result<bool> {
    let row = conn
        .query_row(
            "SELECT outcome, pid, pid_host FROM runs WHERE id = ?1",
            [run],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        Some((outcome, pid, pid_host)) => {
            outcome == "running" && (pid_host != host || pid_alive(pid))
        }
        None => false,
    })
}

/// Whether a process `pid` exists on this host (`kill(pid, 0)`; EPERM means it does).
pub(super) fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    pid > 0 && crate::fsutil::process_exists(pid)
}

/// This machine's name (empty when it cannot be read).
pub(super) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
