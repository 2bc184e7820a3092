//! Single-core hashing throughput, as qoima computes it.
//!
//! ```text
//! cargo run --release --example hashrate -- [--seconds S] [--mib M]
//! ```
//!
//! Fills an in-memory buffer of `M` MiB (default 256) with pseudo-random bytes, then, for each
//! measurement, feeds it in 1 MiB chunks to one hash on one thread, over and over, for about
//! `S` seconds (default 2). Measured:
//!
//! - every [`qoima::digest::Algorithm`] through [`qoima::digest::Hasher`], which is what qoima
//!   uses, with the implementation [`qoima::digest::implementation`] names (SHA-384/512 come
//!   from OpenSSL when the default `openssl` feature is on);
//! - for comparison, the pure-Rust `sha2::Sha512`, and `openssl::sha::Sha256` when the
//!   `openssl` feature is on;
//! - the combined rate of one read feeding SHA-256 then SHA-512 on one core (what bagging or
//!   validating with qoima's default manifests costs per byte), with qoima's implementations
//!   and with sha2 alone.
//!
//! Output: one line per measurement, `rate <name> <impl> <GB/s>` (GB = 1e9 bytes). `<impl>`
//! may contain spaces, so parse the name as the second field and the rate as the last one.
//! qoima's own lines come first and their `<impl>` never contains `::`; the comparison lines
//! name a Rust path (`sha2::Sha512`). Lines starting with `#` are comments.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use qoima::digest::{Algorithm, Hasher, implementation};
use sha2::Digest as _;

/// Bytes handed to a hash per update call, as qoima's engine reads files.
const CHUNK: usize = 1 << 20;

fn main() -> ExitCode {
    let (seconds, mib) = match parse_args() {
        Ok(Some(v)) => v,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hashrate: {e}\nusage: hashrate [--seconds S] [--mib M]");
            return ExitCode::from(2);
        }
    };
    let buf = pseudo_random(mib << 20);
    let span = Duration::from_secs_f64(seconds);
    println!(
        "# hashrate: qoima {}, {mib} MiB buffer in {} KiB chunks, ~{seconds} s per line, one thread; GB/s = 1e9 bytes/s",
        qoima::VERSION,
        CHUNK >> 10
    );

    for alg in Algorithm::ALL {
        let r = measure(&buf, span, || {
            let mut h = Hasher::new(alg);
            move |chunk: Option<&[u8]>| match chunk {
                Some(c) => h.update(c),
                None => {
                    black_box(std::mem::replace(&mut h, Hasher::new(alg)).finish_hex());
                }
            }
        });
        report(alg.name(), implementation(alg), r);
    }

    let r = measure(&buf, span, || {
        let mut h = sha2::Sha512::new();
        move |chunk: Option<&[u8]>| match chunk {
            Some(c) => h.update(c),
            None => {
                black_box(std::mem::take(&mut h).finalize());
            }
        }
    });
    report("sha512", "sha2::Sha512", r);

    #[cfg(feature = "openssl")]
    {
        let r = measure(&buf, span, || {
            let mut h = openssl::sha::Sha256::new();
            move |chunk: Option<&[u8]>| match chunk {
                Some(c) => h.update(c),
                None => {
                    black_box(std::mem::take(&mut h).finish());
                }
            }
        });
        report("sha256", "openssl::sha::Sha256", r);
    }

    // One read feeding both of qoima's default algorithms, one after the other.
    let r = measure(&buf, span, || {
        let mut a = Hasher::new(Algorithm::Sha256);
        let mut b = Hasher::new(Algorithm::Sha512);
        move |chunk: Option<&[u8]>| match chunk {
            Some(c) => {
                a.update(c);
                b.update(c);
            }
            None => {
                black_box(std::mem::replace(&mut a, Hasher::new(Algorithm::Sha256)).finish_hex());
                black_box(std::mem::replace(&mut b, Hasher::new(Algorithm::Sha512)).finish_hex());
            }
        }
    });
    let both = format!(
        "{}+{}",
        implementation(Algorithm::Sha256),
        implementation(Algorithm::Sha512)
    );
    report("sha256+sha512", &both, r);

    let r = measure(&buf, span, || {
        let mut a = sha2::Sha256::new();
        let mut b = sha2::Sha512::new();
        move |chunk: Option<&[u8]>| match chunk {
            Some(c) => {
                a.update(c);
                b.update(c);
            }
            None => {
                black_box(std::mem::take(&mut a).finalize());
                black_box(std::mem::take(&mut b).finalize());
            }
        }
    });
    report("sha256+sha512", "sha2::Sha256+sha2::Sha512", r);

    ExitCode::SUCCESS
}

/// `--seconds S` and `--mib M`; `None` after printing `--help`.
fn parse_args() -> Result<Option<(f64, usize)>, String> {
    let mut seconds = 2.0_f64;
    let mut mib = 256_usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        match key.as_str() {
            "-h" | "--help" => {
                println!("usage: hashrate [--seconds S] [--mib M]");
                println!("  --seconds S  time per measurement (default 2)");
                println!("  --mib M      size of the in-memory buffer in MiB (default 256)");
                return Ok(None);
            }
            "--seconds" | "--mib" => {
                let v = inline
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{key} needs a value"))?;
                if key == "--seconds" {
                    seconds = v
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("bad --seconds {v:?}"))?;
                } else {
                    mib = v
                        .parse()
                        .ok()
                        .filter(|m| *m > 0)
                        .ok_or_else(|| format!("bad --mib {v:?}"))?;
                }
            }
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    Ok(Some((seconds, mib)))
}

/// Hashes `buf` chunk by chunk, again and again, for about `span`, and returns GB/s.
///
/// `make` builds the hash state and returns a closure that takes `Some(chunk)` to update and
/// `None` at the end of each pass over the buffer (finish and start afresh), so that every
/// measurement includes finalisation once per buffer, as for a file of that size.
fn measure<F, M>(buf: &[u8], span: Duration, make: M) -> f64
where
    M: FnOnce() -> F,
    F: FnMut(Option<&[u8]>),
{
    let mut feed = make();
    // A short untimed warm-up: page in the buffer, settle the CPU clock.
    for c in buf.chunks(CHUNK).take(16) {
        feed(Some(c));
    }
    feed(None);

    let start = Instant::now();
    let mut bytes = 0u64;
    'outer: loop {
        for c in buf.chunks(CHUNK) {
            feed(Some(black_box(c)));
            bytes += c.len() as u64;
            if start.elapsed() >= span {
                break 'outer;
            }
        }
        feed(None);
    }
    feed(None);
    let secs = start.elapsed().as_secs_f64();
    bytes as f64 / secs / 1e9
}

fn report(name: &str, imp: &str, gbps: f64) {
    println!("rate {name} {imp} {gbps:.3}");
}

/// Incompressible bytes from splitmix64: fast, deterministic, no extra dependency.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    let mut s: u64 = 0x8493_0000_0000_8493;
    for word in v.chunks_mut(8) {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        word.copy_from_slice(&z.to_le_bytes()[..word.len()]);
    }
    v
}
