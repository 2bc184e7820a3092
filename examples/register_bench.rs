//! How fast the fixity register answers with years of audits: fills a register with
//! 100,000 audits (100 bags × 1000, one in a hundred failed with a finding) and times a
//! bag's history (the requirement: under 50 ms) and reports over all time and a month.
//!
//! `cargo run --release --example register_bench [BAGS AUDITS_PER_BAG]`

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use qoima::audit::model::{BagAudit, ClassCounts, FileClass, Finding, Outcome};
use qoima::audit::register::{Claim, Register, RunInfo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<i64>());
    let bags = args.next().transpose()?.unwrap_or(100);
    let per_bag = args.next().transpose()?.unwrap_or(1000);

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("fixity.db");
    let reg = Register::open(&path)?;
    let start: DateTime<Utc> = Utc::now() - Duration::hours(per_bag * 24);

    let t = Instant::now();
    reg.batch(|reg| {
        let run = reg.begin_run(&RunInfo::current())?;
        for b in 0..bags {
            let bag = format!("/archive/bags/{b:05}");
            let Claim::Claimed { bag_id } = reg.claim(run, &bag, None)? else {
                unreachable!("a new register has no claims");
            };
            for i in 0..per_bag {
                let started = start + Duration::hours(i * 24) + Duration::seconds(b);
                let failed = i % 100 == 99;
                let findings = if failed {
                    vec![Finding {
                        path: format!("data/{i:05}.tif"),
                        class: Some(FileClass::Changed),
                        code: None,
                        detail: "sha512 0a1b… -> 9f8e…".into(),
                    }]
                } else {
                    Vec::new()
                };
                let audit = BagAudit {
                    bag: bag.clone(),
                    started,
                    ended: started + Duration::seconds(30),
                    outcome: if failed {
                        Outcome::Failed
                    } else {
                        Outcome::Passed
                    },
                    verdict: if failed { "invalid" } else { "valid" }.into(),
                    files: 120,
                    bytes: 3 << 30,
                    counts: ClassCounts {
                        confirmed: 120 - u64::from(failed),
                        changed: u64::from(failed),
                        ..ClassCounts::default()
                    },
                    manifest_rewritten: false,
                    baseline_recorded: i == 0,
                    findings,
                    error: None,
                };
                reg.record(run, bag_id, &audit)?;
            }
        }
        reg.finish_run(run, "failed", 0, 0, 0)
    })?;
    let n = bags * per_bag;
    println!("filled {n} audits of {bags} bags in {:.2?}", t.elapsed());
    println!(
        "register: {:.1} MiB",
        std::fs::metadata(&path)?.len() as f64 / (1 << 20) as f64
    );
    drop(reg);

    // A fresh handle, as `qoima audit history` would open it.
    let t = Instant::now();
    let reg = Register::open(&path)?;
    println!("open: {:.2?}", t.elapsed());
    for b in [0, bags / 2, bags - 1] {
        let bag = format!("/archive/bags/{b:05}");
        let t = Instant::now();
        let h = reg.history(&bag)?;
        println!(
            "history of {bag}: {} audits in {:.2?}",
            h.len(),
            t.elapsed()
        );
    }
    let t = Instant::now();
    let r = reg.report(None)?;
    println!(
        "report, all time: {} audits, {} days, {} failing, in {:.2?}",
        r.audits,
        r.days.len(),
        r.failing.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let r = reg.report(Some(Utc::now() - Duration::days(30)))?;
    println!(
        "report, last 30 days: {} audits, {} days, {} failing, in {:.2?}",
        r.audits,
        r.days.len(),
        r.failing.len(),
        t.elapsed()
    );
    let all: Vec<String> = (0..bags).map(|b| format!("/archive/bags/{b:05}")).collect();
    let t = Instant::now();
    let order = reg.due_order(&all)?;
    println!("due order of {} bags in {:.2?}", order.len(), t.elapsed());
    Ok(())
}
