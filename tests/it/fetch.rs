//! `qoima fetch` (issue 14, item 16): holey bags completed from fetch.txt, against small HTTP
//! servers on 127.0.0.x started by each test, that serve, lie, truncate, overflow and redirect.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::util::*;

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    range: Option<u64>,
}

type Handler = dyn Fn(&Seen, usize) -> Vec<u8> + Send + Sync;

/// A one-thread-per-connection HTTP/1.1 server; `handler` gets the request and how many times
/// this path was asked for before, and returns the raw response (the connection then closes).
struct Server {
    base: String,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(
        ip: &str,
        handler: impl Fn(&Seen, usize) -> Vec<u8> + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let server_log = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler) = (server_log.clone(), handler.clone());
                std::thread::spawn(move || serve_one(stream, &log, &*handler));
            }
        });
        Server { base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, log: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first
        .split(' ')
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = value
                .trim()
                .strip_prefix("bytes=")
                .and_then(|v| v.trim_end_matches('-').parse().ok());
        }
    }
    let seen = Seen { path, range };
    let before = {
        let mut log = log.lock().unwrap();
        let n = log.iter().filter(|s| s.path == seen.path).count();
        log.push(seen.clone());
        n
    };
    let mut stream = stream;
    let _ = stream.write_all(&handler(&seen, before));
    let _ = stream.flush();
}

/// A whole file, honouring a Range request with 206.
fn file_reply(body: &[u8], seen: &Seen) -> Vec<u8> {
    match seen.range {
        Some(from) if (from as usize) < body.len() => {
            let part = &body[from as usize..];
            let mut r = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
                part.len(),
                body.len() - 1,
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(part);
            r
        }
        _ => raw_reply(body, Some(body.len())),
    }
}

/// A 200 whose Content-Length is `length` (none: the body ends when the connection closes).
fn raw_reply(body: &[u8], length: Option<usize>) -> Vec<u8> {
    let length = length
        .map(|l| format!("Content-Length: {l}\r\n"))
        .unwrap_or_default();
    let mut r = format!("HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n").into_bytes();
    r.extend_from_slice(body);
    r
}

fn redirect(to: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn not_found() -> Vec<u8> {
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
}

/// Bytes that differ from file to file and are big enough to cross buffer boundaries.
fn content(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A qoima bag of `files` whose payload files are then removed and listed in fetch.txt with
/// the URL `url(name)` and the declared length (or `-`).
fn holey_bag(env: &Env, files: &[(&str, &[u8])], url: impl Fn(&str) -> String, declared: bool) {
    for (name, data) in files {
        env.write(&format!("src/{name}"), data);
    }
    env.qoima(&["bag", "src", "-o", "bag"]).success();
    let mut fetch = String::new();
    for (name, data) in files {
        fs::remove_file(env.path(&format!("bag/data/{name}"))).unwrap();
        let length = if declared {
            data.len().to_string()
        } else {
            "-".into()
        };
        fetch.push_str(&format!("{} {length} data/{name}\n", url(name)));
    }
    env.write("bag/fetch.txt", fetch);
}

fn fetch(env: &Env, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["fetch", "--json", "--timeout", "5"];
    args.extend_from_slice(extra);
    args.push("bag");
    let r = env.qoima(&args);
    (r.code(), r.json(), r.stderr())
}

/// `(path, outcome, code)` of every file in a fetch report.
fn outcomes(v: &Value) -> Vec<(String, String, String)> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["outcome"].as_str().unwrap().to_string(),
                f["problem"]["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn triple(path: &str, outcome: &str, code: &str) -> (String, String, String) {
    (path.into(), outcome.into(), code.into())
}

fn partials(bag: &Path) -> Vec<u64> {
    match fs::read_dir(bag.join(".qoima-fetch")) {
        Ok(rd) => rd.map(|e| e.unwrap().metadata().unwrap().len()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn issue14_validate_lists_what_fetch_txt_owes_with_url_size_and_checksums() {
    let env = Env::new();
    let photo = content(1, 5000);
    holey_bag(
        &env,
        &[("photo.tif", &photo)],
        |n| format!("https://example.org/{n}"),
        true,
    );
    for mode in [
        &["validate", "--json", "bag"][..],
        &["validate", "--json", "--completeness-only", "bag"],
    ] {
        let r = env.qoima(mode);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        let bag = &r.json()["bags"][0];
        assert_eq!(bag["verdict"], "incomplete");
        let owed = bag["owed"].as_array().unwrap();
        assert_eq!(owed.len(), 1, "{bag}");
        assert_eq!(owed[0]["path"], "data/photo.tif");
        assert_eq!(owed[0]["url"], "https://example.org/photo.tif");
        assert_eq!(owed[0]["length"], 5000);
        assert_eq!(owed[0]["line"], 1);
        assert_eq!(owed[0]["checksums"]["sha256"], sha256_hex(&photo));
        assert_eq!(owed[0]["checksums"]["sha512"], sha512_hex(&photo));
        assert!(
            r.stderr().contains("fetch.txt still owes 1 file"),
            "{}",
            r.stderr()
        );
        assert!(r.stderr().contains(&sha256_hex(&photo)), "{}", r.stderr());
    }
}

#[test]
fn issue14_fetch_downloads_verifies_places_and_leaves_fetch_txt() {
    let env = Env::new();
    let (a, b, c) = (content(1, 300_000), content(2, 10), content(3, 70_000));
    let server = {
        let (a, b) = (a.clone(), b.clone());
        Server::start("127.0.0.1", move |s, _| match s.path.as_str() {
            "a.bin" => file_reply(&a, s),
            "sub/b.txt" => file_reply(&b, s),
            _ => not_found(),
        })
    };
    env.write("elsewhere/c file.bin", &c);
    let local = format!("file://{}", env.path("elsewhere/c%20file.bin").display());
    holey_bag(
        &env,
        &[("a.bin", &a), ("sub/b.txt", &b), ("c.bin", &c)],
        |n| {
            if n == "c.bin" {
                local.clone()
            } else {
                server.url(n)
            }
        },
        true,
    );
    let fetch_txt = fs::read(env.path("bag/fetch.txt")).unwrap();
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        outcomes(&v),
        [
            triple("data/a.bin", "fetched", ""),
            triple("data/sub/b.txt", "fetched", ""),
            triple("data/c.bin", "fetched", "")
        ]
    );
    assert_eq!(v["validation"]["verdict"], "valid");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(fs::read(env.path("bag/data/a.bin")).unwrap(), a);
    assert_eq!(fs::read(env.path("bag/data/sub/b.txt")).unwrap(), b);
    assert_eq!(fs::read(env.path("bag/data/c.bin")).unwrap(), c);
    assert_eq!(fs::read(env.path("bag/fetch.txt")).unwrap(), fetch_txt);
    assert!(!env.path("bag/.qoima-fetch").exists());
    // Again: everything is present and verified, and the server is not asked.
    let asked = server.seen().len();
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(outcomes(&v).iter().all(|(_, o, _)| o == "present"), "{v}");
    assert_eq!(server.seen().len(), asked);
    env.qoima(&["validate", "bag"]).success();
}

#[test]
fn issue14_fetch_refuses_wrong_bytes_and_keeps_nothing() {
    let env = Env::new();
    let good = content(4, 2000);
    let server = Server::start("127.0.0.1", |s, _| file_reply(&content(5, 2000), s));
    holey_bag(&env, &[("a.bin", &good)], |n| server.url(n), true);
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(outcomes(&v), [triple("data/a.bin", "failed", "BAG-122")]);
    assert_eq!(v["files"][0]["problem"]["file"], "fetch.txt");
    assert_eq!(v["files"][0]["problem"]["line"], 1);
    assert_eq!(v["files"][0]["problem"]["field"], "data/a.bin");
    assert_eq!(v["validation"]["verdict"], "incomplete");
    assert!(!env.path("bag/data/a.bin").exists());
    assert!(partials(&env.path("bag")).is_empty());
}

#[test]
fn issue14_fetch_cuts_off_a_server_that_sends_more_than_declared() {
    let env = Env::new();
    let (a, b, c) = (content(6, 1000), content(7, 1000), content(8, 1000));
    let server = {
        let (a, b, c) = (a.clone(), b.clone(), c.clone());
        Server::start("127.0.0.1", move |s, _| match s.path.as_str() {
            // Announces more than declared.
            "a.bin" => raw_reply(&[a.as_slice(), &[0u8; 500]].concat(), Some(1500)),
            // Announces nothing and keeps sending.
            "b.bin" => raw_reply(&[b.as_slice(), &vec![0u8; 1 << 20]].concat(), None),
            // No length declared in fetch.txt: --max-bytes bounds it.
            _ => raw_reply(&[c.as_slice(), &vec![1u8; 1 << 20]].concat(), None),
        })
    };
    holey_bag(
        &env,
        &[("a.bin", &a), ("b.bin", &b)],
        |n| server.url(n),
        true,
    );
    let mut text = fs::read_to_string(env.path("bag/fetch.txt")).unwrap();
    text.push_str(&format!("{} - data/c.bin\n", server.url("c.bin")));
    env.write("bag/fetch.txt", text);
    // c.bin in the manifests too (the bag was made without it).
    append_manifest_line(
        &env.path("bag"),
        "sha256",
        &format!("{}  data/c.bin", sha256_hex(&c)),
    );
    append_manifest_line(
        &env.path("bag"),
        "sha512",
        &format!("{}  data/c.bin", sha512_hex(&c)),
    );
    let (code, v, err) = fetch(&env, &["--max-bytes", "4K"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        outcomes(&v),
        [
            triple("data/a.bin", "failed", "BAG-123"),
            triple("data/b.bin", "failed", "BAG-123"),
            triple("data/c.bin", "failed", "BAG-123")
        ]
    );
    for f in ["a.bin", "b.bin", "c.bin"] {
        assert!(!env.path(&format!("bag/data/{f}")).exists(), "{f}");
    }
    assert!(partials(&env.path("bag")).is_empty());
}

#[test]
fn issue14_fetch_resumes_a_truncated_transfer_with_a_range_request() {
    let env = Env::new();
    let body = content(9, 600_000);
    let truncating = |body: Vec<u8>| {
        move |s: &Seen, before: usize| {
            if before == 0 {
                // Announces the whole file, sends a third, hangs up.
                raw_reply(&body[..200_000], Some(body.len()))
            } else {
                file_reply(&body, s)
            }
        }
    };
    let server = Server::start("127.0.0.1", truncating(body.clone()));
    holey_bag(&env, &[("big.bin", &body)], |n| server.url(n), true);
    // Without retries the run stops, keeping the partial file; exit 2 (not fetched).
    let (code, v, err) = fetch(&env, &["--retries", "0"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(outcomes(&v), [triple("data/big.bin", "failed", "BAG-121")]);
    assert_eq!(partials(&env.path("bag")), [200_000]);
    assert!(!env.path("bag/data/big.bin").exists());
    // The next run asks for the rest only.
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["files"][0]["resumed_from"], 200_000);
    assert_eq!(v["files"][0]["bytes"], 400_000);
    assert_eq!(server.seen().last().unwrap().range, Some(200_000));
    assert_eq!(fs::read(env.path("bag/data/big.bin")).unwrap(), body);
    assert!(!env.path("bag/.qoima-fetch").exists());

    // Within one run, a retry resumes too.
    let env = Env::new();
    let server = Server::start("127.0.0.1", truncating(body.clone()));
    holey_bag(&env, &[("big.bin", &body)], |n| server.url(n), true);
    let (code, _, err) = fetch(&env, &["--retries", "1"]);
    assert_eq!(code, 0, "{err}");
    let ranges: Vec<Option<u64>> = server.seen().iter().map(|s| s.range).collect();
    assert_eq!(ranges, [None, Some(200_000)]);
}

#[test]
fn issue14_fetch_refuses_a_redirect_to_another_host_unless_allowed() {
    let env = Env::new();
    let body = content(10, 4000);
    let other = {
        let body = body.clone();
        Server::start("127.0.0.2", move |s, _| file_reply(&body, s))
    };
    let target = other.url("a.bin");
    let first = {
        let body = body.clone();
        Server::start("127.0.0.1", move |s, _| match s.path.as_str() {
            "moved/a.bin" => redirect(&target),
            "same/a.bin" => redirect("/real/a.bin"),
            "real/a.bin" => file_reply(&body, s),
            _ => not_found(),
        })
    };
    holey_bag(
        &env,
        &[("a.bin", &body)],
        |_| first.url("moved/a.bin"),
        true,
    );
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(outcomes(&v), [triple("data/a.bin", "failed", "BAG-124")]);
    assert!(other.seen().is_empty(), "the other host was not asked");
    let (code, _, err) = fetch(&env, &["--allow-redirects"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(other.seen().len(), 1);
    // A redirect on the same host is followed without asking.
    fs::remove_file(env.path("bag/data/a.bin")).unwrap();
    env.write(
        "bag/fetch.txt",
        format!("{} 4000 data/a.bin\n", first.url("same/a.bin")),
    );
    let (code, _, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn issue14_fetch_never_writes_outside_data_or_through_links() {
    let env = Env::new();
    let body = content(11, 100);
    let server = {
        let body = body.clone();
        Server::start("127.0.0.1", move |s, _| file_reply(&body, s))
    };
    holey_bag(&env, &[("sub/a.bin", &body)], |n| server.url(n), true);
    // data/sub is a link to a folder outside the bag.
    fs::remove_dir(env.path("bag/data/sub")).unwrap();
    fs::create_dir(env.path("outside")).unwrap();
    std::os::unix::fs::symlink(env.path("outside"), env.path("bag/data/sub")).unwrap();
    let mut text = fs::read_to_string(env.path("bag/fetch.txt")).unwrap();
    text.push_str(&format!("{} 100 ../escape.bin\n", server.url("x")));
    text.push_str(&format!("{} 100 /tmp/escape.bin\n", server.url("x")));
    env.write("bag/fetch.txt", text);
    let (code, v, err) = fetch(&env, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        outcomes(&v),
        [triple("data/sub/a.bin", "failed", "BAG-125")]
    );
    let refused: Vec<(String, u64)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [("BAG-031".to_string(), 2), ("BAG-031".to_string(), 3)]
    );
    assert_eq!(fs::read_dir(env.path("outside")).unwrap().count(), 0);
    assert!(!env.path("escape.bin").exists());
    assert!(server.seen().is_empty(), "nothing was downloaded");
}

#[test]
fn issue14_fetch_leaves_a_differing_file_alone_and_reports_network_failures() {
    let env = Env::new();
    let (a, b) = (content(12, 100), content(13, 100));
    // A port nobody listens on: bound, then closed.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    holey_bag(
        &env,
        &[("a.bin", &a), ("b.bin", &b)],
        |n| format!("http://{closed}/{n}"),
        true,
    );
    env.write("bag/data/a.bin", b"someone else's bytes");
    let (code, v, err) = fetch(&env, &["--retries", "0"]);
    // A refused file (1) beats a network failure (2).
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        outcomes(&v),
        [
            triple("data/a.bin", "failed", "BAG-126"),
            triple("data/b.bin", "failed", "BAG-121")
        ]
    );
    assert_eq!(
        fs::read(env.path("bag/data/a.bin")).unwrap(),
        b"someone else's bytes"
    );
    // Only the network failure left: exit 2.
    env.write("bag/data/a.bin", &a);
    let (code, v, err) = fetch(&env, &["--retries", "0"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        outcomes(&v),
        [
            triple("data/a.bin", "present", ""),
            triple("data/b.bin", "failed", "BAG-121")
        ]
    );
}

#[test]
fn issue14_fetch_holds_the_bag_lock() {
    let env = Env::new();
    let body = content(14, 10);
    holey_bag(
        &env,
        &[("a.bin", &body)],
        |n| format!("http://127.0.0.1:9/{n}"),
        true,
    );
    let lock = qoima::fsutil::DirLock::try_acquire(&env.path("bag")).unwrap();
    let r = env.qoima(&["fetch", "bag"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("in use by another qoima run"),
        "{}",
        r.stderr()
    );
    drop(lock);
}
