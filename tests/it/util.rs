//! A small test environment: a temporary folder, the binary, and reference digests from the
//! RustCrypto crates directly (never from qoima's own hashing code).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::Digest;

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::Builder::new()
                .prefix("qoima-it-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        p
    }

    /// Runs qoima with a fixed clock, in this folder.
    pub fn qoima(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
            .args(args)
            .current_dir(self.dir.path())
            .env("SOURCE_DATE_EPOCH", "1641340800")
            .env("TZ", "UTC")
            .env_remove("QOIMA_FAILPOINT")
            .output()
            .unwrap();
        Run(out)
    }

    /// A small source collection with the names that trip tools up.
    pub fn sample_source(&self, rel: &str) -> PathBuf {
        self.write(&format!("{rel}/a.txt"), "hello\n");
        self.write(&format!("{rel}/sub/b.txt"), "b\n");
        self.write(
            &format!("{rel}/Алматы/площадь Республики й.txt"),
            "Республика\n",
        );
        self.write(&format!("{rel}/with space.txt"), "space\n");
        self.write(&format!("{rel}/50%off.txt"), "percent\n");
        self.write(&format!("{rel}/file%0A1.txt"), "literal escape\n");
        self.write(&format!("{rel}/empty"), "");
        self.path(rel)
    }

    /// A valid bag made by qoima from [`Env::sample_source`].
    pub fn sample_bag(&self, rel: &str) -> PathBuf {
        let src = self.sample_source(&format!("{rel}-src"));
        let r = self.qoima(&["bag", src.to_str().unwrap(), "-o", rel]);
        r.success();
        self.path(rel)
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn success(&self) -> &Run {
        assert_eq!(
            self.code(),
            0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
}

/// `(code, file)` of every problem of the first bag in a validate JSON report.
pub fn problems(v: &Value) -> Vec<(String, String, String)> {
    v["bags"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

pub fn sha512_hex(data: &[u8]) -> String {
    hex(&sha2::Sha512::digest(data))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Recomputes every tag manifest's digests (keeping its list of files), as a careless or
/// malicious editor would after changing a tag file.
pub fn refresh_tag_manifests(bag: &Path) {
    for alg in ["sha256", "sha512"] {
        let tm = bag.join(format!("tagmanifest-{alg}.txt"));
        let Ok(text) = fs::read_to_string(&tm) else {
            continue;
        };
        let mut out = String::new();
        for line in text.lines() {
            let (_, path) = line.split_once([' ', '\t']).unwrap();
            let path = path.trim_start();
            let data = fs::read(bag.join(path)).unwrap_or_default();
            let d = if alg == "sha256" {
                sha256_hex(&data)
            } else {
                sha512_hex(&data)
            };
            out.push_str(&format!("{d}  {path}\n"));
        }
        fs::write(&tm, out).unwrap();
    }
}

/// Rewrites a payload manifest from the files in data/ (keeping qoima's encoding rules).
pub fn append_manifest_line(bag: &Path, alg: &str, line: &str) {
    let p = bag.join(format!("manifest-{alg}.txt"));
    let mut text = fs::read_to_string(&p).unwrap();
    text.push_str(line);
    text.push('\n');
    fs::write(&p, text).unwrap();
}

pub fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    fs::write(path, f(text)).unwrap();
}
