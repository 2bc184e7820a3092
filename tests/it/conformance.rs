//! RFC 8493 conformance: one case per problem code, each starting from a valid qoima bag,
//! changing one thing, and asserting the exact verdict, exit code, problem code and the file
//! it names. Where the change touches a tag file, the tag manifests are recomputed (as an
//! editor would) so that the case proves its own code and not only a stale checksum.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::util::*;

struct Case {
    name: &'static str,
    setup: fn(&Env, &Path),
    args: &'static [&'static str],
    refresh: bool,
    exit: i32,
    verdict: &'static str,
    /// (code, file) pairs that must be reported; "" for file means "any".
    expect: &'static [(&'static str, &'static str)],
    /// When set, no error other than those in `expect` may be reported.
    exact: bool,
}

const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "valid bag",
            setup: |_, _| {},
            args: &[],
            refresh: false,
            exit: 0,
            verdict: "valid",
            expect: &[],
            exact: true,
        },
        Case {
            name: "missing bagit.txt",
            setup: |_, b| fs::remove_file(b.join("bagit.txt")).unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-001", "bagit.txt")],
            exact: true,
        },
        Case {
            name: "space before the colon in bagit.txt",
            setup: |_, b| {
                fs::write(
                    b.join("bagit.txt"),
                    "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
                )
                .unwrap()
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-002", "bagit.txt")],
            exact: true,
        },
        Case {
            name: "BOM in bagit.txt",
            setup: |_, b| {
                fs::write(
                    b.join("bagit.txt"),
                    "\u{feff}BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                )
                .unwrap()
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-003", "bagit.txt")],
            exact: true,
        },
        Case {
            name: "unsupported version",
            setup: |_, b| {
                fs::write(
                    b.join("bagit.txt"),
                    "BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n",
                )
                .unwrap()
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-004", "bagit.txt")],
            exact: true,
        },
        Case {
            // An encoding qoima does not know: the tag files cannot be read, so the bag
            // could not be checked (never "invalid").
            name: "unsupported encoding",
            setup: |_, b| {
                fs::write(
                    b.join("bagit.txt"),
                    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-7\n",
                )
                .unwrap()
            },
            args: &[],
            refresh: true,
            exit: 2,
            verdict: "unreadable",
            expect: &[("BAG-005", "bagit.txt")],
            exact: true,
        },
        Case {
            name: "no data directory",
            setup: |_, b| fs::rename(b.join("data"), b.join("payload")).unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[
                ("BAG-006", "data/"),
                ("BAG-034", "manifest-sha256.txt"),
                ("BAG-023", "bag-info.txt"),
            ],
            exact: true,
        },
        Case {
            name: "no payload manifest",
            setup: |_, b| {
                fs::remove_file(b.join("manifest-sha256.txt")).unwrap();
                fs::remove_file(b.join("manifest-sha512.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha256.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha512.txt")).unwrap();
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-007", "")],
            exact: true,
        },
        Case {
            name: "only an unknown algorithm",
            setup: |_, b| {
                fs::rename(
                    b.join("manifest-sha256.txt"),
                    b.join("manifest-shake128.txt"),
                )
                .unwrap();
                fs::remove_file(b.join("manifest-sha512.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha256.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha512.txt")).unwrap();
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-008", ""), ("BAG-W011", "manifest-shake128.txt")],
            exact: true,
        },
        Case {
            name: "invalid UTF-8 in bag-info",
            setup: |_, b| {
                fs::write(
                    b.join("bag-info.txt"),
                    b"Source-Organization: caf\xe9\nPayload-Oxum: 58.7\n",
                )
                .unwrap()
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-010", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "overlong manifest line",
            setup: |_, b| {
                append_manifest_line(b, "sha256", &format!("{SHA}  data/{}", "x".repeat(200_000)))
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-011", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "malformed bag-info line",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    format!("{t}this line has no colon\n")
                })
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-020", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "malformed Payload-Oxum",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Payload-Oxum: 58.7", "Payload-Oxum: 66")
                })
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-021", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "repeated Payload-Oxum",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    format!("{t}payload-oxum: 58.7\n")
                })
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-022", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "Payload-Oxum mismatch (fast)",
            setup: |_, b| fs::write(b.join("data/a.txt"), "hello, longer\n").unwrap(),
            args: &["--fast"],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-023", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "malformed manifest line",
            setup: |_, b| append_manifest_line(b, "sha256", "nothex  data/a.txt"),
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-030", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "path traversal in manifest",
            setup: |env, b| {
                env.write("outside.txt", "secret");
                append_manifest_line(b, "sha256", &format!("{SHA}  data/../../outside.txt"));
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-031", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "absolute path in tag manifest",
            setup: |_, b| {
                let p = b.join("tagmanifest-sha256.txt");
                edit(&p, |t| format!("{t}{SHA}  /etc/passwd\n"));
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-031", "tagmanifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "duplicate entry with another checksum",
            setup: |_, b| append_manifest_line(b, "sha256", &format!("{SHA}  data/a.txt")),
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-032", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "duplicate entry with the same checksum",
            setup: |_, b| {
                let line = sha256_hex(b"hello\n") + "  data/a.txt";
                append_manifest_line(b, "sha256", &line);
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-033", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "missing payload file",
            setup: |_, b| fs::remove_file(b.join("data/sub/b.txt")).unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[
                ("BAG-034", "manifest-sha256.txt"),
                ("BAG-034", "manifest-sha512.txt"),
                ("BAG-023", "bag-info.txt"),
            ],
            exact: true,
        },
        Case {
            name: "extra payload file",
            setup: |env, b| {
                env.write(
                    &format!(
                        "{}/data/extra.txt",
                        b.file_name().unwrap().to_str().unwrap()
                    ),
                    "extra",
                );
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-035", "data/extra.txt"), ("BAG-023", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "flipped byte",
            setup: |_, b| fs::write(b.join("data/a.txt"), "hellp\n").unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[
                ("BAG-036", "manifest-sha256.txt"),
                ("BAG-036", "manifest-sha512.txt"),
            ],
            exact: true,
        },
        Case {
            name: "truncated file",
            setup: |_, b| fs::write(b.join("data/a.txt"), "hel").unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[
                ("BAG-036", "manifest-sha256.txt"),
                ("BAG-023", "bag-info.txt"),
            ],
            exact: true,
        },
        Case {
            name: "edited bag-info with a stale tag manifest",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Bagging-Date: 2022-01-05", "Bagging-Date: 2023-01-05")
                })
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[
                ("BAG-036", "tagmanifest-sha256.txt"),
                ("BAG-036", "tagmanifest-sha512.txt"),
            ],
            exact: true,
        },
        Case {
            name: "manifest lists a directory",
            setup: |_, b| append_manifest_line(b, "sha256", &format!("{SHA}  data/sub")),
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-037", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "payload manifest lists a tag file",
            setup: |_, b| append_manifest_line(b, "sha256", &format!("{SHA}  bag-info.txt")),
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-038", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "bare percent with no literal file",
            setup: |_, b| append_manifest_line(b, "sha256", &format!("{SHA}  data/90%off.txt")),
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-039", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "tag manifest misses a payload manifest",
            setup: |_, b| {
                edit(&b.join("tagmanifest-sha256.txt"), |t| {
                    t.lines()
                        .filter(|l| !l.ends_with(" manifest-sha512.txt"))
                        .map(|l| format!("{l}\n"))
                        .collect()
                })
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-040", "tagmanifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "tag manifest lists a payload file",
            setup: |_, b| {
                let line = format!("{}  data/a.txt\n", sha256_hex(b"hello\n"));
                edit(&b.join("tagmanifest-sha256.txt"), |t| t + &line);
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-041", "tagmanifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "tag manifest lists a tag manifest",
            setup: |_, b| {
                let data = fs::read(b.join("tagmanifest-sha512.txt")).unwrap();
                let line = format!("{}  tagmanifest-sha512.txt\n", sha256_hex(&data));
                edit(&b.join("tagmanifest-sha256.txt"), |t| t + &line);
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-042", "tagmanifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "malformed fetch.txt",
            setup: |_, b| fs::write(b.join("fetch.txt"), "not-a-url 12 data/x\n").unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-050", "fetch.txt")],
            exact: true,
        },
        Case {
            name: "fetch entry not fetched yet",
            setup: |_, b| {
                fs::remove_file(b.join("data/sub/b.txt")).unwrap();
                fs::write(
                    b.join("fetch.txt"),
                    "https://example.org/b.txt 2 data/sub/b.txt\n",
                )
                .unwrap();
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Payload-Oxum: 58.7", "Payload-Oxum: 56.6")
                });
            },
            args: &[],
            refresh: true,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-051", "fetch.txt")],
            exact: true,
        },
        Case {
            name: "fetch entry not in the manifests",
            setup: |_, b| {
                fs::write(b.join("fetch.txt"), "https://example.org/z - data/z.txt\n").unwrap()
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-052", "fetch.txt")],
            exact: true,
        },
        Case {
            name: "fetch entry outside data",
            setup: |_, b| {
                fs::write(b.join("fetch.txt"), "https://example.org/z - ../../etc/cron.d/x\nhttps://example.org/y - bag-info.txt\n").unwrap()
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-031", "fetch.txt"), ("BAG-053", "fetch.txt")],
            exact: true,
        },
        Case {
            name: "symlink leaving the bag",
            setup: |env, b| {
                env.write("secret.txt", "secret");
                symlink(env.path("secret.txt"), b.join("data/link.txt")).unwrap();
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-060", "data/link.txt")],
            exact: true,
        },
        Case {
            name: "FIFO in the payload",
            setup: |_, b| mkfifo(&b.join("data/pipe")),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-061", "data/pipe")],
            exact: true,
        },
        Case {
            name: "name that is not UTF-8",
            setup: |_, b| {
                use std::os::unix::ffi::OsStrExt;
                fs::write(
                    b.join("data")
                        .join(std::ffi::OsStr::from_bytes(b"bad\xffname")),
                    "x",
                )
                .unwrap();
            },
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[
                ("BAG-064", "data/bad\u{fffd}name"),
                ("BAG-035", "data/bad\u{fffd}name"),
            ],
            exact: false,
        },
        Case {
            name: "interrupted in-place journal",
            setup: |_, b| fs::write(b.join(".qoima-inplace.json"), "{}").unwrap(),
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "incomplete",
            expect: &[("BAG-073", ".qoima-inplace.json")],
            exact: true,
        },
        // ---- warnings: exit 0, and an error under --strict ----
        Case {
            name: "md5sum binary marker",
            setup: |_, b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replacen("  data/a.txt", " *data/a.txt", 1)
                })
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W001", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "leading ./",
            setup: |_, b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replacen("  data/a.txt", "  ./data/a.txt", 1)
                })
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W002", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "strict turns a warning into a failure",
            setup: |_, b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replacen("  data/a.txt", "  ./data/a.txt", 1)
                })
            },
            args: &["--strict"],
            refresh: true,
            exit: 1,
            verdict: "invalid",
            expect: &[("BAG-W002", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "strict with --allow",
            setup: |_, b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replacen("  data/a.txt", "  ./data/a.txt", 1)
                })
            },
            args: &["--strict", "--allow", "BAG-W002"],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W002", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "no tag manifest",
            setup: |_, b| {
                fs::remove_file(b.join("tagmanifest-sha256.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha512.txt")).unwrap();
            },
            args: &[],
            refresh: false,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W004", "")],
            exact: true,
        },
        Case {
            name: "junk and bag-in-bag and a Windows-unsafe name",
            setup: |_, b| {
                for (p, d) in [
                    ("data/.DS_Store", ""),
                    ("data/inner/bagit.txt", "x"),
                    ("data/a:b.txt", "y"),
                ] {
                    fs::create_dir_all(b.join(p).parent().unwrap()).unwrap();
                    fs::write(b.join(p), d).unwrap();
                    let line = format!("{}  {p}", sha256_hex(d.as_bytes()));
                    append_manifest_line(b, "sha256", &line);
                    let line = format!("{}  {p}", sha512_hex(d.as_bytes()));
                    append_manifest_line(b, "sha512", &line);
                }
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Payload-Oxum: 58.7", "Payload-Oxum: 60.10")
                });
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[
                ("BAG-W005", "data/.DS_Store"),
                ("BAG-W006", "data/inner/bagit.txt"),
                ("BAG-W010", "data/a:b.txt"),
            ],
            exact: true,
        },
        Case {
            name: "unknown algorithm beside a known one",
            setup: |_, b| fs::write(b.join("manifest-shake128.txt"), "").unwrap(),
            // 1.0: every payload file in every manifest, and every payload manifest in every
            // tag manifest, whether qoima can compute its algorithm or not.
            args: &[],
            refresh: false,
            exit: 1,
            verdict: "invalid",
            expect: &[
                ("BAG-W011", "manifest-shake128.txt"),
                ("BAG-035", "data/a.txt"),
                ("BAG-040", "tagmanifest-sha256.txt"),
            ],
            exact: true,
        },
        Case {
            name: "BOM in a manifest",
            setup: |_, b| edit(&b.join("manifest-sha256.txt"), |t| format!("\u{feff}{t}")),
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W012", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "manifest in NFD, file on disk in NFC",
            setup: |_, b| {
                let nfc = "data/Алматы/площадь Республики й.txt";
                let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
                assert_ne!(nfc, nfd);
                edit(&b.join("manifest-sha256.txt"), |t| t.replace(nfc, &nfd));
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W013", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "bagit-python's unencoded percent",
            setup: |_, b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replace("data/50%2525off.txt", "x")
                        .replace("data/50%25off.txt", "data/50%off.txt")
                })
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W014", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "blank line in a manifest",
            setup: |_, b| edit(&b.join("manifest-sha256.txt"), |t| format!("{t}\n")),
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W015", "manifest-sha256.txt")],
            exact: true,
        },
        Case {
            name: "tag file not in a tag manifest",
            setup: |_, b| {
                fs::create_dir_all(b.join("metadata")).unwrap();
                fs::write(b.join("metadata/notes.txt"), "n").unwrap();
            },
            args: &[],
            refresh: false,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W016", "metadata/notes.txt")],
            exact: true,
        },
        Case {
            name: "tag manifests with other algorithms",
            setup: |_, b| fs::remove_file(b.join("tagmanifest-sha512.txt")).unwrap(),
            args: &[],
            refresh: false,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W017", "")],
            exact: true,
        },
        Case {
            name: "repeated Bag-Size and a bad Bagging-Date",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Bagging-Date: 2022-01-05", "Bagging-Date: 5 Jan 2022")
                        + "Bag-Size: 1 KB\n"
                })
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W019", "bag-info.txt"), ("BAG-W020", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "symlink to a file inside the bag",
            setup: |_, b| {
                symlink("a.txt", b.join("data/alias.txt")).unwrap();
                for alg in ["sha256", "sha512"] {
                    let d = if alg == "sha256" {
                        sha256_hex(b"hello\n")
                    } else {
                        sha512_hex(b"hello\n")
                    };
                    append_manifest_line(b, alg, &format!("{d}  data/alias.txt"));
                }
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("Payload-Oxum: 58.7", "Payload-Oxum: 64.8")
                });
            },
            args: &[],
            refresh: true,
            exit: 0,
            verdict: "valid",
            expect: &[("BAG-W021", "data/alias.txt")],
            exact: true,
        },
        Case {
            name: "fast validation without Payload-Oxum",
            setup: |_, b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.lines()
                        .filter(|l| !l.starts_with("Payload-Oxum"))
                        .map(|l| format!("{l}\n"))
                        .collect()
                })
            },
            args: &["--fast"],
            refresh: true,
            exit: 2,
            verdict: "unreadable",
            expect: &[("BAG-024", "bag-info.txt")],
            exact: true,
        },
        Case {
            name: "completeness only does not read content",
            setup: |_, b| fs::write(b.join("data/a.txt"), "hellp\n").unwrap(),
            args: &["--completeness-only"],
            refresh: false,
            exit: 0,
            verdict: "complete",
            expect: &[],
            exact: true,
        },
        Case {
            name: "fast says complete by oxum, not valid",
            setup: |_, b| fs::write(b.join("data/a.txt"), "hellp\n").unwrap(),
            args: &["--fast"],
            refresh: false,
            exit: 0,
            verdict: "complete-by-oxum",
            expect: &[],
            exact: true,
        },
    ]
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn every_case_reports_its_code_and_file() {
    let mut failures = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let env = Env::new();
        let bag = env.sample_bag(&format!("bag{i}"));
        (case.setup)(&env, &bag);
        if case.refresh {
            refresh_tag_manifests(&bag);
        }
        let mut args = vec!["validate", "--json"];
        args.extend_from_slice(case.args);
        let bag_s = bag.to_str().unwrap().to_string();
        args.push(&bag_s);
        let run = env.qoima(&args);
        let v = run.json();
        let got = problems(&v);
        let verdict = v["bags"][0]["verdict"].as_str().unwrap().to_string();
        let mut why = Vec::new();
        if run.code() != case.exit {
            why.push(format!("exit {} (want {})", run.code(), case.exit));
        }
        if verdict != case.verdict {
            why.push(format!("verdict {verdict} (want {})", case.verdict));
        }
        for (code, file) in case.expect {
            if !got
                .iter()
                .any(|(c, f, _)| c == code && (file.is_empty() || f == file))
            {
                why.push(format!("missing {code} naming {file:?}"));
            }
        }
        if case.exact {
            for (c, f, sev) in &got {
                if sev == "error" && !case.expect.iter().any(|(code, _)| code == c) {
                    why.push(format!("unexpected {c} naming {f:?}"));
                }
            }
        }
        if !why.is_empty() {
            failures.push(format!(
                "case {:?}: {}\n  got: {:?}",
                case.name,
                why.join("; "),
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bagging_date_is_what_the_cases_assume() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let info = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Bagging-Date: 2022-01-05\n"), "{info}");
    assert!(info.contains("Payload-Oxum: 58.7\n"), "{info}");
}

#[test]
fn version_0_97_rules() {
    let env = Env::new();
    let bag = env.path("old");
    env.write(
        "old/bagit.txt",
        "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
    );
    env.write("old/data/%7Etest1.txt", "one");
    env.write("old/data/%test2.txt", "two");
    env.write("old/data/only-in-md5.txt", "three");
    let m256 = format!(
        "{}  data/%7Etest1.txt\n{}  data/%test2.txt\n{}  data/%test2.txt\n",
        sha256_hex(b"one"),
        sha256_hex(b"two"),
        sha256_hex(b"two")
    );
    env.write("old/manifest-sha256.txt", m256);
    let md5 = |d: &[u8]| {
        use md5::Digest;
        md5::Md5::digest(d)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    env.write(
        "old/manifest-md5.txt",
        format!(
            "{}  data/only-in-md5.txt\n{}  data/%7Etest1.txt\n",
            md5(b"three"),
            md5(b"one")
        ),
    );
    let run = env.qoima(&["validate", "--json", bag.to_str().unwrap()]);
    let got = problems(&run.json());
    let codes: Vec<&str> = got.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(run.code(), 0, "{got:?}");
    for c in ["BAG-W007", "BAG-W024", "BAG-W009", "BAG-W004", "BAG-W003"] {
        assert!(
            !c.contains("W003") || !codes.contains(&c),
            "sha256 present: not weak-only"
        );
        if c != "BAG-W003" {
            assert!(codes.contains(&c), "missing {c}: {got:?}");
        }
    }
}

#[test]
fn case_only_and_normalization_duplicates_in_a_manifest() {
    let env = Env::new();
    let bag = env.sample_bag("bag");
    let nfc = "data/Алматы/площадь Республики й.txt";
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
    fs::write(bag.join("data/A.txt"), "hello\n").unwrap();
    for alg in ["sha256", "sha512"] {
        let d = |x: &[u8]| {
            if alg == "sha256" {
                sha256_hex(x)
            } else {
                sha512_hex(x)
            }
        };
        append_manifest_line(&bag, alg, &format!("{}  data/A.txt", d(b"hello\n")));
        append_manifest_line(
            &bag,
            alg,
            &format!("{}  {nfd}", d("Республика\n".as_bytes())),
        );
    }
    edit(&bag.join("bag-info.txt"), |t| {
        t.replace("Payload-Oxum: 58.7", "Payload-Oxum: 64.8")
    });
    refresh_tag_manifests(&bag);
    let run = env.qoima(&["validate", "--json", bag.to_str().unwrap()]);
    let got = problems(&run.json());
    assert_eq!(run.code(), 0, "{got:?}");
    assert!(
        got.iter()
            .any(|(c, f, _)| c == "BAG-W008" && f == "manifest-sha256.txt"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(c, f, _)| c == "BAG-W022" && f == "manifest-sha256.txt"),
        "{got:?}"
    );
}

#[test]
fn traversal_is_never_read() {
    // The file outside has the checksum the manifest claims: if qoima read it, the bag would
    // look valid apart from the warning. It must be refused as unsafe instead.
    let env = Env::new();
    let bag = env.sample_bag("bag");
    env.write("outside.txt", "abc");
    append_manifest_line(&bag, "sha256", &format!("{SHA}  data/../../outside.txt"));
    refresh_tag_manifests(&bag);
    let run = env.qoima(&["validate", "--json", bag.to_str().unwrap()]);
    let v = run.json();
    assert_eq!(run.code(), 1);
    let got = problems(&v);
    assert!(got.iter().any(|(c, _, _)| c == "BAG-031"), "{got:?}");
    assert!(
        !got.iter().any(|(c, _, _)| c == "BAG-036" || c == "BAG-034"),
        "{got:?}"
    );
}

#[test]
fn a_file_or_a_missing_path_cannot_be_checked_and_a_folder_without_bagit_txt_is_incomplete() {
    let env = Env::new();
    env.write("archive.zip", "PK");
    env.write("notes.txt", "not a bag");
    fs::create_dir(env.path("plain")).unwrap();
    for (path, exit, verdict, code) in [
        ("archive.zip", 2, "unreadable", "ARC-001"),
        ("notes.txt", 2, "unreadable", "ARC-001"),
        ("missing", 2, "unreadable", "BAG-009"),
        ("plain", 1, "incomplete", "BAG-001"),
    ] {
        let r = env.qoima(&["validate", "--json", path]);
        assert_eq!(r.code(), exit, "{path}");
        let v = r.json();
        assert_eq!(v["bags"][0]["verdict"], verdict, "{path}");
        assert_eq!(v["bags"][0]["problems"][0]["code"], code, "{path}");
    }
}
