use std::collections::HashSet;
use std::ffi::OsString;
use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;
use tempfile::TempDir;

use super::*;
use crate::audit::model::{ClassCounts, Finding, Outcome};

fn info() -> RunInfo {
    RunInfo {
        user: "archivist".into(),
        host: "vault".into(),
        qoima_version: "0.1.0".into(),
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn audit(bag: &str, started: DateTime<Utc>, outcome: Outcome, bytes: u64) -> BagAudit {
    BagAudit {
        bag: bag.into(),
        started,
        ended: started + Duration::seconds(3),
        outcome,
        verdict: if outcome == Outcome::Passed {
            "valid"
        } else {
            "invalid"
        }
        .into(),
        files: 2,
        bytes,
        counts: ClassCounts {
            confirmed: 2,
            ..ClassCounts::default()
        },
        manifest_rewritten: false,
        baseline_recorded: false,
        findings: Vec::new(),
        error: None,
    }
}

fn claimed(conn: Claim) -> i64 {
    match conn {
        Claim::Claimed { bag_id } => bag_id,
        other => panic!("expected Claimed, got {other:?}"),
    }
}

/// A pid that no longer exists: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn tmp() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/fixity.db");
    (dir, path)
}

fn pragma_i64(conn: &Connection, name: &str) -> i64 {
    conn.pragma_query_value(None, name, |report| report.get(0))
        .unwrap()
}

#[test]
fn schema_is_created_and_reopened() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    assert_eq!(reg.path(), path);
    let run = reg.begin_run(&info()).unwrap();
    drop(reg);

    let reg = Register::open(&path).unwrap();
    assert_eq!(pragma_i64(&reg.conn, "user_version"), schema::VERSION);
    assert_eq!(
        pragma_i64(&reg.conn, "application_id"),
        i64::from(schema::APPLICATION_ID)
    );
    assert_eq!(pragma_i64(&reg.conn, "foreign_keys"), 1);
    let mode: String = reg
        .conn
        .query_row("PRAGMA journal_mode", [], |report| report.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let runs = reg.runs(10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, run);
    assert_eq!(runs[0].outcome, "running");
    assert_eq!(runs[0].user, "archivist");
    assert_eq!(runs[0].ended, None);
}

#[test]
fn a_v1_register_is_migrated_and_keeps_its_rows() {
    let (_d, path) = tmp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        // What the first qoima with a register wrote: the v1 tables, no indexes.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO runs (id, started, ended, user, host, pid, pid_host, qoima_version,
                 outcome, bags, bytes, failed)
             VALUES (1, 1700000000000000, 1700000060000000, 'old', 'vault', 1, 'vault',
                 '0.0.9', 'failed', 1, 10, 1);
             INSERT INTO bags (id, path, first_seen, last_verified, last_outcome)
             VALUES (1, '/bags/a', 1700000000000000, 1700000003000000, 'failed');
             INSERT INTO audits VALUES (1, 1, 1, 1700000000000000, 1700000003000000, 'failed',
                 'invalid', 2, 10, 1, 1, 0, 0, 0, 0, 1, NULL);
             INSERT INTO findings VALUES (1, 0, 'data/x', 'changed', 'BAG-030', 'sha512 ab -> cd');",
        )
        .unwrap();
    }

    let reg = Register::open(&path).unwrap();
    assert_eq!(pragma_i64(&reg.conn, "user_version"), schema::VERSION);
    let indexes: i64 = reg
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'audits_by_bag'",
            [],
            |report| report.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 1);
    let history = reg.history("/bags/a").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].run, 1);
    assert_eq!(history[0].audit.outcome, Outcome::Failed);
    assert_eq!(
        history[0].audit.started,
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    );
    assert_eq!(
        history[0].audit.findings,
        vec![Finding {
            path: "data/x".into(),
            class: Some(FileClass::Changed),
            code: Some("BAG-030".into()),
            detail: "sha512 ab -> cd".into(),
        }]
    );
    let runs = reg.runs(5).unwrap();
    assert_eq!((runs[0].id, runs[0].outcome.as_str()), (1, "failed"));
    // And it goes on working.
    let run = reg.begin_run(&info()).unwrap();
    assert!(matches!(
        reg.claim(run, "/bags/a", None).unwrap(),
        Claim::Claimed { bag_id: 1 }
    ));
}

#[test]
fn a_newer_register_is_refused_and_left_untouched() {
    let (_d, path) = tmp();
    drop(Register::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Register::open(&path).unwrap_err();
    match &err {
        RegisterError::NewerSchema {
            path: p,
            found,
            supported,
        } => {
            assert_eq!(p, &path);
            assert_eq!(*found, schema::VERSION + 1);
            assert_eq!(*supported, schema::VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("fixity.db") && msg.contains("newer qoima"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_foreign_sqlite_file_or_junk_is_refused_untouched() {
    let (_d, path) = tmp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        Register::open(&path),
        Err(RegisterError::NotARegister { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let junk = path.with_file_name("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database, just some text in a file......",
    )
    .unwrap();
    assert!(matches!(
        Register::open(&junk),
        Err(RegisterError::Open { .. })
    ));
}

#[test]
fn default_path_follows_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    };
    assert_eq!(
        default_path_from(env(&[("QOIMA_REGISTER", "/r/x.db"), ("HOME", "/home/a")])),
        PathBuf::from("/r/x.db")
    );
    assert_eq!(
        default_path_from(env(&[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/a")])),
        PathBuf::from("/xdg/qoima/fixity.db")
    );
    assert_eq!(
        default_path_from(env(&[("XDG_DATA_HOME", ""), ("HOME", "/home/a")])),
        PathBuf::from("/home/a/.local/share/qoima/fixity.db")
    );
}

#[test]
fn claims_fresh_busy_released() {
    let (_d, path) = tmp();
    let first = Register::open(&path).unwrap();
    let second = Register::open(&path).unwrap();
    let bag = "/bags/one";

    // Audited an hour ago by an earlier run.
    let r0 = first.begin_run(&info()).unwrap();
    let id = claimed(first.claim(r0, bag, None).unwrap());
    let hour_ago = Utc::now() - Duration::hours(1);
    let mut done = audit(bag, hour_ago, Outcome::Failed, 5);
    done.ended = hour_ago;
    first.record(r0, id, &done).unwrap();
    first.finish_run(r0, "failed", 1, 5, 1).unwrap();

    let r1 = first.begin_run(&info()).unwrap();
    let r2 = second.begin_run(&info()).unwrap();
    let micro = |t: DateTime<Utc>| from_micros(micros(t));
    assert_eq!(
        first.claim(r1, bag, Some(Duration::hours(2))).unwrap(),
        Claim::Fresh {
            last_verified: micro(hour_ago)
        }
    );
    // Old enough: claimed by r1; r2, through another handle, finds it busy.
    assert_eq!(
        first.claim(r1, bag, Some(Duration::minutes(30))).unwrap(),
        Claim::Claimed { bag_id: id }
    );
    assert_eq!(
        second.claim(r2, bag, None).unwrap(),
        Claim::Busy { run: r1 }
    );
    // Claiming again in the same run is harmless.
    assert_eq!(
        first.claim(r1, bag, None).unwrap(),
        Claim::Claimed { bag_id: id }
    );
    first.release(id).unwrap();
    assert_eq!(
        second.claim(r2, bag, None).unwrap(),
        Claim::Claimed { bag_id: id }
    );

    // Recorded by r2 now: r1 (running at the same time) must not audit it again.
    second
        .record(r2, id, &audit(bag, Utc::now(), Outcome::Passed, 5))
        .unwrap();
    assert!(matches!(
        first.claim(r1, bag, None).unwrap(),
        Claim::Fresh { .. }
    ));
    // A run that finished no longer blocks anyone.
    let other = "/bags/two";
    let id2 = claimed(second.claim(r2, other, None).unwrap());
    second.finish_run(r2, "stopped", 1, 5, 0).unwrap();
    assert_eq!(
        first.claim(r1, other, None).unwrap(),
        Claim::Claimed { bag_id: id2 }
    );

    assert!(matches!(
        first.claim(9999, bag, None),
        Err(RegisterError::UnknownRun { run: 9999, .. })
    ));
    assert!(matches!(
        first.finish_run(r1, "great", 0, 0, 0),
        Err(RegisterError::BadOutcome { .. })
    ));
}

#[test]
fn a_dead_runs_claims_are_freed() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    let dead = reg.begin_run_as(&info(), dead_pid()).unwrap();
    let id = claimed(reg.claim(dead, "/bags/k", None).unwrap());

    // The next run to begin finds the process gone: interrupted, claims freed.
    let other = Register::open(&path).unwrap();
    let live = other.begin_run(&info()).unwrap();
    let runs = other.runs(10).unwrap();
    let dead_run = runs.iter().find(|report| report.id == dead).unwrap();
    assert_eq!(
        (dead_run.outcome.as_str(), dead_run.ended),
        ("interrupted", None)
    );
    let holder: Option<i64> = reg
        .conn
        .query_row(
            "SELECT claimed_by FROM bags WHERE id = ?1",
            [id],
            |report| report.get(0),
        )
        .unwrap();
    assert_eq!(holder, None);
    assert_eq!(
        other.claim(live, "/bags/k", None).unwrap(),
        Claim::Claimed { bag_id: id }
    );
    // The live run (this process) is left running.
    let l = other
        .runs(10)
        .unwrap()
        .into_iter()
        .find(|report| report.id == live)
        .unwrap();
    assert_eq!(l.outcome, "running");
}

#[test]
fn record_and_history_roundtrip() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    let run = reg.begin_run(&info()).unwrap();
    let bag = "/bags/rt";
    let id = claimed(reg.claim(run, bag, None).unwrap());

    let base = Baseline {
        algorithm: "sha512".into(),
        files: vec![
            ("data/b.tif".into(), "bb".into(), 20),
            ("data/a.tif".into(), "aa".into(), 10),
        ],
        tags: vec![("bagit.txt".into(), "cc".into())],
    };
    assert_eq!(reg.baseline(id).unwrap(), None);
    reg.set_baseline(id, &base).unwrap();
    assert_eq!(reg.baseline(id).unwrap(), Some(base.clone()));
    let mut base2 = base.clone();
    base2.files.pop();
    reg.set_baseline(id, &base2).unwrap();
    assert_eq!(reg.baseline(id).unwrap(), Some(base2));

    let mut first = audit(bag, t("2024-03-01T10:00:00.123456Z"), Outcome::Passed, 30);
    first.baseline_recorded = true;
    let mut second = audit(bag, t("2024-04-01T10:00:00Z"), Outcome::Failed, 30);
    second.manifest_rewritten = true;
    second.counts = ClassCounts {
        confirmed: 1,
        changed: 1,
        missing: 1,
        new: 1,
        moved: 1,
    };
    second.findings = vec![
        Finding {
            path: "data/b.tif".into(),
            class: Some(FileClass::Changed),
            code: None,
            detail: "sha512 bb -> dd".into(),
        },
        Finding {
            path: "data/c.tif".into(),
            class: Some(FileClass::Moved),
            code: None,
            detail: "data/a.tif".into(),
        },
        Finding {
            path: "tagmanifest-sha512.txt".into(),
            class: None,
            code: Some("BAG-036".into()),
            detail: "the tag manifest differs".into(),
        },
    ];
    let mut gone = audit(bag, t("2024-05-01T00:00:00Z"), Outcome::Unreadable, 0);
    gone.verdict = "unreadable".into();
    gone.files = 0;
    gone.counts = ClassCounts::default();
    gone.error = Some("the bag has vanished: No such file or directory".into());

    let a1 = reg.record(run, id, &first).unwrap();
    let a2 = reg.record(run, id, &second).unwrap();
    let a3 = reg.record(run, id, &gone).unwrap();
    assert!(a1 < a2 && a2 < a3);

    let history = reg.history(bag).unwrap();
    let got: Vec<_> = history
        .iter()
        .map(|report| (report.run, report.audit.clone()))
        .collect();
    assert_eq!(got, vec![(run, first), (run, second), (run, gone)]);
    assert!(reg.history("/bags/never").unwrap().is_empty());
}

#[test]
fn report_totals_days_and_failing() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    let run = reg.begin_run(&info()).unwrap();
    let rec = |bag: &str, at: &str, outcome: Outcome, bytes: u64| {
        let id = claimed(reg.claim(run, bag, None).unwrap());
        let mut a = audit(bag, t(at), outcome, bytes);
        if outcome != Outcome::Passed {
            a.findings.push(Finding {
                path: "data/x".into(),
                class: Some(FileClass::Missing),
                code: None,
                detail: String::new(),
            });
        }
        reg.record(run, id, &a).unwrap();
        a
    };
    // Old audits, before the period.
    rec("/b/a", "2024-01-01T10:00:00Z", Outcome::Failed, 1);
    // In the period.
    rec("/b/a", "2024-02-01T23:59:59Z", Outcome::Passed, 100);
    let b_fail = rec("/b/b", "2024-02-01T10:00:00Z", Outcome::Failed, 10);
    rec("/b/c", "2024-02-02T00:00:00Z", Outcome::Failed, 1000);
    let c_again = rec("/b/c", "2024-02-03T00:00:00Z", Outcome::Unreadable, 0);
    rec("/b/d", "2024-02-02T12:00:00Z", Outcome::Failed, 5);
    rec("/b/d", "2024-02-03T12:00:00Z", Outcome::Passed, 5);

    let report = reg.report(Some(t("2024-02-01T00:00:00Z"))).unwrap();
    assert_eq!(report.since, Some(t("2024-02-01T00:00:00Z")));
    assert!(report.generated.is_some());
    assert_eq!(
        (report.audits, report.bags, report.bytes, report.failures),
        (6, 4, 1120, 4)
    );
    let days: Vec<_> = report
        .days
        .iter()
        .map(|dead_run| {
            (
                dead_run.day.as_str(),
                dead_run.bytes,
                dead_run.audits,
                dead_run.failures,
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            ("2024-02-01", 110, 2, 1),
            ("2024-02-02", 1005, 2, 2),
            ("2024-02-03", 5, 2, 1),
        ]
    );
    assert_eq!(report.failing, vec![b_fail, c_again]);
    // The run began now, after `since`.
    assert_eq!(report.runs.len(), 1);
    assert_eq!(report.runs[0].id, run);

    let all = reg.report(None).unwrap();
    assert_eq!((all.audits, all.bags, all.failures), (7, 4, 5));
    assert_eq!(all.days.len(), 4);
    assert_eq!(all.since, None);
    let none = reg.report(Some(Utc::now() + Duration::days(1))).unwrap();
    assert_eq!((none.audits, none.bytes, none.days.len()), (0, 0, 0));
    assert!(none.failing.is_empty() && none.runs.is_empty());
}

#[test]
fn due_order_never_verified_then_oldest() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    let run = reg.begin_run(&info()).unwrap();
    for (bag, at) in [
        ("/b/recent", "2024-06-01T00:00:00Z"),
        ("/b/old", "2023-01-01T00:00:00Z"),
        ("/b/mid", "2024-01-01T00:00:00Z"),
    ] {
        let id = claimed(reg.claim(run, bag, None).unwrap());
        reg.record(run, id, &audit(bag, t(at), Outcome::Passed, 1))
            .unwrap();
    }
    // Seen (claimed, released) but never verified.
    let id = claimed(reg.claim(run, "/b/seen", None).unwrap());
    reg.release(id).unwrap();

    let input: Vec<String> = [
        "/b/recent",
        "/b/new1",
        "/b/old",
        "/b/seen",
        "/b/mid",
        "/b/new2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        reg.due_order(&input).unwrap(),
        [
            "/b/new1",
            "/b/seen",
            "/b/new2",
            "/b/old",
            "/b/mid",
            "/b/recent"
        ]
    );
    assert!(reg.due_order(&[]).unwrap().is_empty());
}

#[test]
fn two_concurrent_audits_never_audit_a_bag_twice() {
    let (_d, path) = tmp();
    let bags: Vec<String> = (0..50).map(|i| format!("/bags/{i:02}")).collect();
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2u64)
        .map(|k| {
            let (path, bags, barrier) = (path.clone(), bags.clone(), barrier.clone());
            std::thread::spawn(move || {
                // Both open (and create) the register at the same time.
                barrier.wait();
                let reg = Register::open(&path).unwrap();
                let run = reg.begin_run(&info()).unwrap();
                barrier.wait();
                let mut mine = Vec::new();
                for i in 0..bags.len() {
                    // Different, scattered orders in the two threads.
                    let pick = (i * 17 + k as usize * 23) % bags.len();
                    let bag = &bags[pick];
                    if let Claim::Claimed { bag_id } = reg.claim(run, bag, None).unwrap() {
                        let a = audit(bag, Utc::now(), Outcome::Passed, 1);
                        reg.record(run, bag_id, &a).unwrap();
                        mine.push(bag.clone());
                    }
                }
                reg.finish_run(run, "passed", mine.len() as u64, 0, 0)
                    .unwrap();
                mine
            })
        })
        .collect();
    let results: Vec<Vec<String>> = handles
        .into_iter()
        .map(|history| history.join().unwrap())
        .collect();
    let total: usize = results.iter().map(Vec::len).sum();
    let distinct: HashSet<&String> = results.iter().flatten().collect();
    assert_eq!(
        total,
        50,
        "claims: {:?}",
        results.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(distinct.len(), 50);
    let reg = Register::open(&path).unwrap();
    assert_eq!(reg.report(None).unwrap().audits, 50);
}

#[test]
fn history_over_a_hundred_thousand_audits() {
    let (_d, path) = tmp();
    let reg = Register::open(&path).unwrap();
    let start = t("2020-01-01T00:00:00Z");
    reg.batch(|reg| {
        let run = reg.begin_run(&info())?;
        for bag_number in 0..100 {
            let bag = format!("/bags/{bag_number:03}");
            let Claim::Claimed { bag_id } = reg.claim(run, &bag, None)? else {
                panic!("not claimed")
            };
            for i in 0..1000 {
                let at = start + Duration::hours(i * 24) + Duration::minutes(bag_number);
                let outcome = if i % 100 == 99 {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                };
                let mut a = audit(&bag, at, outcome, 1 << 20);
                if outcome == Outcome::Failed {
                    a.findings.push(Finding {
                        path: format!("data/{i}.tif"),
                        class: Some(FileClass::Changed),
                        code: None,
                        detail: "sha512 aa -> bb".into(),
                    });
                }
                reg.record(run, bag_id, &a)?;
            }
        }
        reg.finish_run(run, "failed", 100_000, 100_000 << 20, 1000)
    })
    .unwrap();

    let history = reg.history("/bags/042").unwrap();
    assert_eq!(history.len(), 1000);
    assert!(history.iter().all(|report| report.audit.bag == "/bags/042"));
    assert!(
        history
            .windows(2)
            .all(|w| w[0].audit.started < w[1].audit.started)
    );
    assert_eq!(history[0].audit.started, start + Duration::minutes(42));
    let failed: Vec<_> = history
        .iter()
        .filter(|report| report.audit.outcome == Outcome::Failed)
        .collect();
    assert_eq!(failed.len(), 10);
    assert!(failed.iter().all(|report| report.audit.findings.len() == 1));
    assert_eq!(failed[0].audit.findings[0].path, "data/99.tif");

    let report = reg.report(None).unwrap();
    assert_eq!(
        (report.audits, report.bags, report.failures),
        (100_000, 100, 1000)
    );
    assert_eq!(report.days.len(), 1000);
    // The last audit of every bag (i = 999) failed.
    assert_eq!(report.failing.len(), 100);
    assert!(
        report
            .failing
            .iter()
            .all(|a| a.findings[0].path == "data/999.tif")
    );
}
