//! The fixity register: every audit run, every bag's audits and findings, and each bag's
//! baseline, in one SQLite file that outlives qoima's versions.
//!
//! Shaped by what a register must survive. A kill at any moment: every write is one
//! transaction and the journal is a WAL. `synchronous = NORMAL`: a killed process loses
//! nothing committed, and a power cut can lose only the last commits, never the register's
//! consistency — where FULL would add an fsync per bag (for 1,000 small bags, more than the
//! audit itself). Older registers: the schema
//! is an ordered list of migrations ([`schema`]), applied in one transaction; a register from
//! a newer qoima is refused untouched. Two audits at once: claims are taken under `BEGIN
//! IMMEDIATE` with a long busy timeout, so a bag is audited by one run only, and claims left
//! by a killed run are freed when its process is found dead. Years of audits: the indexes
//! keep a bag's history and a period's report fast with hundreds of thousands of rows.

mod process;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::model::{
    BagAudit, Baseline, DayTotals, FileClass, HistoryRow, ReportData, RunRecord,
};

use self::process::{hostname, reap_dead_runs, run_is_live};
use self::rows::{
    AUDIT_COLUMNS, RUN_COLUMNS, audit_from_row, findings_where, from_micros, int, micros,
    run_from_row, uint,
};

/// How long a writer waits for another (an audit recording a bag) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the register could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The register's folder could not be made.
    #[error("cannot create the folder of the fixity register {}: {source} (choose another place with QOIMA_REGISTER or --register)", path.display())]
    Io {
        /// The register file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be opened or read as SQLite.
    #[error("cannot open the fixity register {}: {source} (is it a qoima register, and readable and writable?)", path.display())]
    Open {
        /// The register file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A SQLite file, but not a qoima register.
    #[error("{} is not a qoima fixity register; it was left untouched (choose another file with QOIMA_REGISTER or --register)", path.display())]
    NotARegister {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer qoima: refused, left untouched.
    #[error("the fixity register {} has schema version {found}, newer than this qoima supports ({supported}); it was left untouched: use a newer qoima", path.display())]
    NewerSchema {
        /// The register file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this qoima knows.
        supported: i64,
    },
    /// The register is not in WAL mode after its setup: a write or flush failed meanwhile
    /// and SQLite went on in its default mode without reporting it.
    #[error(
        "the fixity register {} could not be set up: SQLite left it in journal mode `{mode}`, not `wal`. A write or a flush failed while it was set up, and SQLite does not pass that error on (or this file system lacks what WAL needs, as some network shares do); check the disk, then run again: the setup is finished then", path.display()
    )]
    NotWal {
        /// The register file.
        path: PathBuf,
        /// The journal mode SQLite reports.
        mode: String,
    },
    /// No run with this number.
    #[error("the fixity register {} has no run {run}", path.display())]
    UnknownRun {
        /// The register file.
        path: PathBuf,
        /// The run asked for.
        run: i64,
    },
    /// `finish_run` was given an outcome that is not a run's.
    #[error("`{outcome}` is not an outcome of a run (passed, failed, stopped, interrupted)")]
    BadOutcome {
        /// The word given.
        outcome: String,
    },
    /// A query failed (disk full, I/O error, corrupt file).
    #[error("the fixity register {}: {source}", path.display())]
    Sqlite {
        /// The register file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
}

/// Who starts a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// User name.
    pub user: String,
    /// Host name.
    pub host: String,
    /// qoima's version.
    pub qoima_version: String,
}

impl RunInfo {
    /// This process: `$USER` (or `$LOGNAME`), the host name, this qoima's version.
    pub fn current() -> RunInfo {
        // SAFETY: getuid has no preconditions and cannot fail.
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() }));
        RunInfo {
            user,
            host: hostname(),
            qoima_version: crate::VERSION.to_string(),
        }
    }
}

/// The answer to [`Register::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The bag is this run's to audit.
    Claimed {
        /// Its number in the register.
        bag_id: i64,
    },
    /// Verified recently enough (within `older_than`, or by another run since this one
    /// began): nothing to do.
    Fresh {
        /// When its last audit ended.
        last_verified: DateTime<Utc>,
    },
    /// Another live run is auditing it.
    Busy {
        /// That run.
        run: i64,
    },
}

/// An open register. One per thread; several (in one or more processes) may share a file.
pub struct Register {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("path", &self.path)
            .finish()
    }
}

impl Register {
    /// Opens (creating it and its parent folders) the register at `path`: WAL, a busy
    /// timeout, foreign keys, and the migrations an older register needs. A register of a
    /// newer qoima, or a SQLite file that is not a register, is refused and left untouched.
    pub fn open(path: &Path) -> Result<Register, RegisterError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RegisterError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| RegisterError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Making the file a WAL register needs a moment alone with it, for which SQLite does
        // not wait by itself: two audits opening a new register at once take turns.
        let began = std::time::Instant::now();
        let state = loop {
            match schema::prepare(&conn) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && began.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r.map_err(open_err)?,
            }
        };
        match state {
            schema::State::Ready => {}
            schema::State::Newer(found) => {
                return Err(RegisterError::NewerSchema {
                    path: path.to_path_buf(),
                    found,
                    supported: schema::VERSION,
                });
            }
            schema::State::Foreign => {
                return Err(RegisterError::NotARegister {
                    path: path.to_path_buf(),
                });
            }
        }
        // SQLite falls back to its default journal when the write that makes a new file a WAL
        // register fails, and says nothing: the mode it reports is the only trace.
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(RegisterError::NotWal {
                path: path.to_path_buf(),
                mode,
            });
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(open_err)?;
        Ok(Register {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The default location: `$QOIMA_REGISTER`, else `$XDG_DATA_HOME/qoima/fixity.db`, else
    /// `~/.local/share/qoima/fixity.db`.
    pub fn default_path() -> PathBuf {
        default_path_from(|k| std::env::var_os(k))
    }

    /// The register file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the session: the WAL is copied into the register file and both are flushed to
    /// disk (`wal_checkpoint(TRUNCATE)`), then the connection is closed. A full or failing
    /// disk is reported here; without this, SQLite's checkpoint on close fails silently and
    /// the run would look recorded when it may not be on the medium.
    pub fn close(self) -> Result<(), RegisterError> {
        let sql = |source| RegisterError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(sql)?;
        // Busy means another process has the register open: its own close will checkpoint.
        let _ = busy;
        let path = self.path.clone();
        self.conn
            .close()
            .map_err(|(_, source)| RegisterError::Sqlite { path, source })
    }

    /// Starts a run (outcome `running`) and returns its number. Runs left `running` by a
    /// process of this host that no longer exists become `interrupted`, and their claims
    /// are freed.
    pub fn begin_run(&self, info: &RunInfo) -> Result<i64, RegisterError> {
        self.begin_run_as(info, std::process::id())
    }

    fn begin_run_as(&self, info: &RunInfo, pid: u32) -> Result<i64, RegisterError> {
        let host = hostname();
        self.write(|conn| {
            reap_dead_runs(conn, &host)?;
            conn.execute(
                "INSERT INTO runs (started, user, host, pid, pid_host, qoima_version, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running')",
                params![
                    micros(Utc::now()),
                    info.user,
                    info.host,
                    pid,
                    host,
                    info.qoima_version
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Ends a run: its outcome (`passed`, `failed`, `stopped`, or `interrupted`) and totals.
    /// Claims the run still holds are released.
    pub fn finish_run(
        &self,
        run: i64,
        outcome: &str,
        bags: u64,
        bytes: u64,
        failed: u64,
    ) -> Result<(), RegisterError> {
        if !matches!(outcome, "passed" | "failed" | "stopped" | "interrupted") {
            return Err(RegisterError::BadOutcome {
                outcome: outcome.to_string(),
            });
        }
        let updated = self.write(|conn| {
            conn.execute(
                "UPDATE bags SET claimed_by = NULL WHERE claimed_by = ?1",
                [run],
            )?;
            conn.execute(
                "UPDATE runs SET ended = ?2, outcome = ?3, bags = ?4, bytes = ?5, failed = ?6
                 WHERE id = ?1",
                params![
                    run,
                    micros(Utc::now()),
                    outcome,
                    int(bags),
                    int(bytes),
                    int(failed)
                ],
            )
        })?;
        if updated == 0 {
            return Err(self.unknown_run(run));
        }
        Ok(())
    }

    /// Claims `bag` (an absolute path) for `run`, atomically. `Fresh` when `older_than` is
    /// `Some(d)` and the bag's last audit (whatever its outcome) ended less than `d` ago, or
    /// when another run audited it since `run` began (two runs at once never audit a bag
    /// twice); `Busy` when another live run holds a claim on it; else `Claimed` (the bag's
    /// row is made on first sight).
    pub fn claim(
        &self,
        run: i64,
        bag: &str,
        older_than: Option<chrono::Duration>,
    ) -> Result<Claim, RegisterError> {
        let host = hostname();
        let now = Utc::now();
        let claim = self.write(|conn| {
            let Some(run_started) = conn
                .query_row("SELECT started FROM runs WHERE id = ?1", [run], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            else {
                return Ok(None);
            };
            let row = conn
                .query_row(
                    "SELECT id, last_verified, claimed_by FROM bags WHERE path = ?1",
                    [bag],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Option<i64>>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                        ))
                    },
                )
                .optional()?;
            let (bag_id, last, holder) = match row {
                Some(row) => row,
                None => {
                    conn.execute(
                        "INSERT INTO bags (path, first_seen) VALUES (?1, ?2)",
                        params![bag, micros(now)],
                    )?;
                    (conn.last_insert_rowid(), None, None)
                }
            };
            if let Some(holder) = holder.filter(|&h| h != run)
                && run_is_live(conn, holder, &host)?
            {
                return Ok(Some(Claim::Busy { run: holder }));
            }
            if let Some(last) = last {
                let recent =
                    older_than.is_some_and(|d| now.signed_duration_since(from_micros(last)) < d);
                if recent || last >= run_started {
                    return Ok(Some(Claim::Fresh {
                        last_verified: from_micros(last),
                    }));
                }
            }
            conn.execute(
                "UPDATE bags SET claimed_by = ?2 WHERE id = ?1",
                [bag_id, run],
            )?;
            Ok(Some(Claim::Claimed { bag_id }))
        })?;
        claim.ok_or_else(|| self.unknown_run(run))
    }

    /// Releases a claim without recording anything (the run stopped before auditing it).
    pub fn release(&self, bag_id: i64) -> Result<(), RegisterError> {
        self.write(|conn| {
            conn.execute("UPDATE bags SET claimed_by = NULL WHERE id = ?1", [bag_id])
        })?;
        Ok(())
    }

    /// Of `bags`, the order to audit them in: never verified first, then least recently
    /// verified first, so that a run cut short is continued by the next. Unknown bags count
    /// as never verified; ties keep their input order.
    pub fn due_order(&self, bags: &[String]) -> Result<Vec<String>, RegisterError> {
        let keyed = self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT last_verified FROM bags WHERE path = ?1")?;
            let mut keyed = Vec::with_capacity(bags.len());
            for bag in bags {
                let last: Option<i64> = stmt.query_row([bag], |r| r.get(0)).optional()?.flatten();
                keyed.push((last, bag));
            }
            Ok(keyed)
        })?;
        let mut keyed = keyed;
        // `None < Some`: never verified first. The sort is stable.
        keyed.sort_by_key(|(last, _)| *last);
        Ok(keyed.into_iter().map(|(_, b)| b.clone()).collect())
    }

    /// The bag's baseline, when one was recorded.
    pub fn baseline(&self, bag_id: i64) -> Result<Option<Baseline>, RegisterError> {
        self.read(|conn| {
            let Some(algorithm) = conn
                .query_row(
                    "SELECT algorithm FROM baselines WHERE bag_id = ?1",
                    [bag_id],
                    |row| row.get::<_, String>(0),
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut found = Baseline {
                algorithm,
                ..Baseline::default()
            };
            let mut stmt = conn.prepare(
                "SELECT tag, path, digest, size FROM baseline_files
                 WHERE bag_id = ?1 ORDER BY tag, seq",
            )?;
            let mut rows = stmt.query([bag_id])?;
            while let Some(row) = rows.next()? {
                let (path, digest) = (row.get::<_, String>(1)?, row.get::<_, String>(2)?);
                if row.get::<_, bool>(0)? {
                    found.tags.push((path, digest));
                } else {
                    found.files.push((path, digest, uint(row.get(3)?)));
                }
            }
            Ok(Some(found))
        })
    }

    /// Records (or replaces) the bag's baseline.
    pub fn set_baseline(&self, bag_id: i64, baseline: &Baseline) -> Result<(), RegisterError> {
        self.write(|conn| {
            conn.execute("DELETE FROM baseline_files WHERE bag_id = ?1", [bag_id])?;
            conn.execute(
                "INSERT OR REPLACE INTO baselines (bag_id, algorithm, recorded)
                 VALUES (?1, ?2, ?3)",
                params![bag_id, baseline.algorithm, micros(Utc::now())],
            )?;
            let mut stmt = conn.prepare_cached(
                "INSERT INTO baseline_files (bag_id, tag, seq, path, digest, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (seq, (path, digest, size)) in baseline.files.iter().enumerate() {
                stmt.execute(params![bag_id, false, seq as i64, path, digest, int(*size)])?;
            }
            for (seq, (path, digest)) in baseline.tags.iter().enumerate() {
                stmt.execute(params![bag_id, true, seq as i64, path, digest, None::<i64>])?;
            }
            Ok(())
        })
    }

    /// Records one bag's audit and its findings in one transaction, sets the bag's
    /// last-verified time (the audit's end) and outcome, and releases the run's claim on it.
    /// Returns the audit's number.
    pub fn record(&self, run: i64, bag_id: i64, audit: &BagAudit) -> Result<i64, RegisterError> {
        self.write(|conn| {
            conn.prepare_cached(
                "INSERT INTO audits (run_id, bag_id, started, ended, outcome, verdict, files,
                     bytes, confirmed, changed, missing, new, moved, manifest_rewritten,
                     baseline_recorded, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(params![
                run,
                bag_id,
                micros(audit.started),
                micros(audit.ended),
                audit.outcome.as_str(),
                audit.verdict,
                int(audit.files),
                int(audit.bytes),
                int(audit.counts.confirmed),
                int(audit.counts.changed),
                int(audit.counts.missing),
                int(audit.counts.new),
                int(audit.counts.moved),
                audit.manifest_rewritten,
                audit.baseline_recorded,
                audit.error,
            ])?;
            let audit_id = conn.last_insert_rowid();
            let mut stmt = conn.prepare_cached(
                "INSERT INTO findings (audit_id, seq, path, class, code, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (seq, finding) in audit.findings.iter().enumerate() {
                stmt.execute(params![
                    audit_id,
                    seq as i64,
                    finding.path,
                    finding.class.map(FileClass::as_str),
                    finding.code,
                    finding.detail
                ])?;
            }
            conn.prepare_cached(
                "UPDATE bags SET last_verified = ?2, last_outcome = ?3,
                     claimed_by = CASE WHEN claimed_by = ?4 THEN NULL ELSE claimed_by END
                 WHERE id = ?1",
            )?
            .execute(params![
                bag_id,
                micros(audit.ended),
                audit.outcome.as_str(),
                run
            ])?;
            crate::fsutil::failpoint("register-record");
            Ok(audit_id)
        })
    }

    /// Every audit of `bag` (an absolute path), oldest first, with its findings.
    pub fn history(&self, bag: &str) -> Result<Vec<HistoryRow>, RegisterError> {
        self.read(|conn| {
            let Some(bag_id) = conn
                .query_row("SELECT id FROM bags WHERE path = ?1", [bag], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            else {
                return Ok(Vec::new());
            };
            let mut findings = findings_where(conn, "a.bag_id = ?1", [bag_id])?;
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audits a JOIN bags b ON b.id = a.bag_id
                 WHERE a.bag_id = ?1 ORDER BY a.started, a.id"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map([bag_id], audit_from_row)?;
            rows.map(|r| {
                let (id, run, mut audit) = r?;
                audit.findings = findings.remove(&id).unwrap_or_default();
                Ok(HistoryRow { run, audit })
            })
            .collect()
        })
    }

    /// The summary of the audits that started at or after `since` (all when `None`):
    /// totals, per-UTC-day totals, the runs that started in the period, and each bag whose
    /// latest audit in the period did not pass, with its findings.
    pub fn report(&self, since: Option<DateTime<Utc>>) -> Result<ReportData, RegisterError> {
        let from = since.map_or(i64::MIN, micros);
        let generated = Utc::now();
        let mut data = self.read(|conn| {
            let mut data = conn.query_row(
                "SELECT count(*), count(DISTINCT bag_id), coalesce(sum(bytes), 0),
                        coalesce(sum(outcome <> 'passed'), 0)
                 FROM audits WHERE started >= ?1",
                [from],
                |r| {
                    Ok(ReportData {
                        audits: uint(r.get(0)?),
                        bags: uint(r.get(1)?),
                        bytes: uint(r.get(2)?),
                        failures: uint(r.get(3)?),
                        ..ReportData::default()
                    })
                },
            )?;
            let mut stmt = conn.prepare(
                "SELECT date(started / 1000000, 'unixepoch') AS day, sum(bytes), count(*),
                        sum(outcome <> 'passed')
                 FROM audits WHERE started >= ?1 GROUP BY day ORDER BY day",
            )?;
            data.days = stmt
                .query_map([from], |r| {
                    Ok(DayTotals {
                        day: r.get(0)?,
                        bytes: uint(r.get(1)?),
                        audits: uint(r.get(2)?),
                        failures: uint(r.get(3)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let sql =
                format!("SELECT {RUN_COLUMNS} FROM runs WHERE started >= ?1 ORDER BY started, id");
            data.runs = conn
                .prepare(&sql)?
                .query_map([from], run_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            // One index seek per bag (audits_by_bag), however long the history.
            let latest = "a.outcome <> 'passed' AND a.id IN (
                    SELECT (SELECT x.id FROM audits x WHERE x.bag_id = b.id AND x.started >= ?1
                            ORDER BY x.started DESC, x.id DESC LIMIT 1)
                    FROM bags b)";
            let mut findings = findings_where(conn, latest, [from])?;
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audits a JOIN bags b ON b.id = a.bag_id
                 WHERE {latest} ORDER BY b.path"
            );
            data.failing = conn
                .prepare(&sql)?
                .query_map([from], audit_from_row)?
                .map(|r| {
                    let (id, _, mut audit) = r?;
                    audit.findings = findings.remove(&id).unwrap_or_default();
                    Ok(audit)
                })
                .collect::<rusqlite::Result<_>>()?;
            Ok(data)
        })?;
        data.since = since;
        data.generated = Some(generated);
        Ok(data)
    }

    /// The `limit` most recent runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, RegisterError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1");
            conn.prepare(&sql)?
                .query_map([limit], run_from_row)?
                .collect()
        })
    }

    /// Runs `f` in one transaction: the writes it makes are committed together (or not at
    /// all), which is much faster for many of them (an import, a benchmark). Between the
    /// writes of `f`, other processes wait.
    pub fn batch<T>(
        &self,
        f: impl FnOnce(&Register) -> Result<T, RegisterError>,
    ) -> Result<T, RegisterError> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(|e| self.err(e))?;
        let value = f(self)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// Runs `f` as one write transaction (`BEGIN IMMEDIATE`, so that two writers queue on
    /// the busy timeout instead of failing), or as a savepoint inside [`Register::batch`].
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, RegisterError> {
        let run = || {
            if self.conn.is_autocommit() {
                let tx = rusqlite::Transaction::new_unchecked(
                    &self.conn,
                    rusqlite::TransactionBehavior::Immediate,
                )?;
                let value = f(&tx)?;
                tx.commit()?;
                Ok(value)
            } else {
                self.conn.execute_batch("SAVEPOINT register_write")?;
                match f(&self.conn) {
                    Ok(value) => {
                        self.conn.execute_batch("RELEASE register_write")?;
                        Ok(value)
                    }
                    Err(e) => {
                        self.conn
                            .execute_batch("ROLLBACK TO register_write; RELEASE register_write")?;
                        Err(e)
                    }
                }
            }
        };
        run().map_err(|e| self.err(e))
    }

    /// Runs `f` as one read transaction: a consistent view while other processes write.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, RegisterError> {
        let run = || {
            if self.conn.is_autocommit() {
                let tx = self.conn.unchecked_transaction()?;
                let value = f(&tx)?;
                tx.commit()?;
                Ok(value)
            } else {
                f(&self.conn)
            }
        };
        run().map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> RegisterError {
        RegisterError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn unknown_run(&self, run: i64) -> RegisterError {
        RegisterError::UnknownRun {
            path: self.path.clone(),
            run,
        }
    }
}

/// [`Register::default_path`], reading the environment through `var`.
fn default_path_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    let var = |k| var(k).filter(|v| !v.is_empty());
    if let Some(p) = var("QOIMA_REGISTER") {
        return PathBuf::from(p);
    }
    let data = var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            let home = var("HOME").map(PathBuf::from).unwrap_or_default();
            home.join(".local/share")
        });
    data.join("qoima").join("fixity.db")
}
