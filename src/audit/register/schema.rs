//! The register's schema, as an ordered list of migrations: migration `i` takes a register
//! from `PRAGMA user_version = i` to `i + 1`. A register made by an older qoima is brought
//! up to date in one transaction (a kill mid-way leaves it as it was); one made by a newer
//! qoima is refused before anything is written to it.
//!
//! Times are INTEGER microseconds since the Unix epoch, UTC. The register keeps paths,
//! digests, sizes and verdicts — never the content of a file.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// `PRAGMA application_id` of a qoima register ("qoim"), so that another program's SQLite
/// file is never mistaken for one (and never migrated).
pub(super) const APPLICATION_ID: i32 = 0x716f_696d;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: never edit a
/// migration that has shipped.
pub(super) const MIGRATIONS: &[&str] = &[
    // v1: the tables.
    r#"
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        started       INTEGER NOT NULL,
        ended         INTEGER,
        user          TEXT    NOT NULL,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,
        pid_host      TEXT    NOT NULL,
        qoima_version TEXT    NOT NULL,
        outcome       TEXT    NOT NULL,
        bags          INTEGER NOT NULL DEFAULT 0,
        bytes         INTEGER NOT NULL DEFAULT 0,
        failed        INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE bags (
        id            INTEGER PRIMARY KEY,
        path          TEXT    NOT NULL UNIQUE,
        first_seen    INTEGER NOT NULL,
        last_verified INTEGER,
        last_outcome  TEXT,
        claimed_by    INTEGER REFERENCES runs(id)
    );
    CREATE TABLE baselines (
        bag_id    INTEGER PRIMARY KEY REFERENCES bags(id),
        algorithm TEXT    NOT NULL,
        recorded  INTEGER NOT NULL
    );
    CREATE TABLE baseline_files (
        bag_id INTEGER NOT NULL REFERENCES bags(id),
        tag    INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        path   TEXT    NOT NULL,
        digest TEXT    NOT NULL,
        size   INTEGER,
        PRIMARY KEY (bag_id, tag, seq)
    ) WITHOUT ROWID;
    CREATE TABLE audits (
        id                 INTEGER PRIMARY KEY,
        run_id             INTEGER NOT NULL REFERENCES runs(id),
        bag_id             INTEGER NOT NULL REFERENCES bags(id),
        started            INTEGER NOT NULL,
        ended              INTEGER NOT NULL,
        outcome            TEXT    NOT NULL,
        verdict            TEXT    NOT NULL,
        files              INTEGER NOT NULL,
        bytes              INTEGER NOT NULL,
        confirmed          INTEGER NOT NULL,
        changed            INTEGER NOT NULL,
        missing            INTEGER NOT NULL,
        new                INTEGER NOT NULL,
        moved              INTEGER NOT NULL,
        manifest_rewritten INTEGER NOT NULL,
        baseline_recorded  INTEGER NOT NULL,
        error              TEXT
    );
    CREATE TABLE findings (
        audit_id INTEGER NOT NULL REFERENCES audits(id),
        seq      INTEGER NOT NULL,
        path     TEXT    NOT NULL,
        class    TEXT,
        code     TEXT,
        detail   TEXT    NOT NULL,
        PRIMARY KEY (audit_id, seq)
    ) WITHOUT ROWID;
    "#,
    // v2: the indexes behind a bag's history, a period's report, the run list and the
    // search for claims left by dead runs.
    r#"
    CREATE INDEX audits_by_bag ON audits(bag_id, started, id);
    CREATE INDEX audits_by_time ON audits(started, outcome, bytes, bag_id);
    CREATE INDEX audits_by_run ON audits(run_id);
    CREATE INDEX runs_by_time ON runs(started);
    CREATE INDEX runs_running ON runs(outcome) WHERE outcome = 'running';
    CREATE INDEX bags_claimed ON bags(claimed_by) WHERE claimed_by IS NOT NULL;
    "#,
];

/// The schema version this qoima writes.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// What `prepare` found in the file.
pub(super) enum State {
    /// Up to date (possibly after migrating).
    Ready,
    /// Made by a newer qoima: schema `found`.
    Newer(i64),
    /// A SQLite file that is not a qoima register.
    Foreign,
}

/// Checks what `conn` holds and, when it is an empty file or an older register, brings it to
/// [`VERSION`]. Writes nothing to a newer register or to a foreign file.
pub(super) fn prepare(conn: &Connection) -> rusqlite::Result<State> {
    // One snapshot for the checks: another process creating the register between two reads
    // would otherwise make a fresh register look foreign (version 0, yet tables).
    let first = {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
        let refused = refuse(&tx)?;
        tx.commit()?;
        refused
    };
    if let Some(state) = first {
        return Ok(state);
    }
    // WAL persists in the file: set it once, outside any transaction.
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    }
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version == VERSION {
        return Ok(State::Ready);
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    // Another process may have migrated it while we waited for the lock.
    if let Some(state) = refuse(&tx)? {
        return Ok(state);
    }
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(State::Ready)
}

/// `Some` when the file must not be touched: newer, or not a register.
fn refuse(conn: &Connection) -> rusqlite::Result<Option<State>> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if app != 0 && app != APPLICATION_ID {
        return Ok(Some(State::Foreign));
    }
    if version > VERSION {
        return Ok(Some(State::Newer(version)));
    }
    if version == 0 {
        let any: Option<String> = conn
            .query_row("SELECT name FROM sqlite_schema LIMIT 1", [], |r| r.get(0))
            .optional()?;
        if any.is_some() {
            return Ok(Some(State::Foreign));
        }
    }
    Ok(None)
}
