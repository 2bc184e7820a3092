//! Path patterns: those of BagIt Profiles' `Tag-Files-Allowed` and `Payload-Files-Allowed`, and
//! those of `qoima bag --exclude`. A shared primitive (below `bagit` and `profile`, which both
//! use it).
//!
//! The spec says the patterns are bag-relative paths "in which asterisks can represent zero or
//! more characters (c.f. glob(7))", and that a missing `Tag-Files-Allowed` means `['*']`, "i.e.
//! all tag files are allowed" — tag files in sub-folders included. So `*` here matches any run of
//! characters **including `/`**, as Python's `fnmatch` does in the reference validator
//! (bagit-profiles-validator) and as other implementations read it; `data/src/*` allows
//! everything below `data/src/`. `**` means the same as `*`. `?` matches one character, `[abc]`,
//! `[a-z]` and `[!abc]` (or `[^abc]`) one character of (or not of) a set. There is no escaping:
//! BagIt file names rarely hold `*`, `?` or `[`, and the spec defines none.

/// Whether `path` matches `pattern` (see the module comment for the syntax).
pub fn matches(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    // Iterative matching with one backtrack point for the last `*`: linear in practice, and
    // never exponential whatever the pattern.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    while pi < p.len() && p[pi] == '*' {
                        pi += 1;
                    }
                    star = Some((pi, si));
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((hit, next)) = class(&p, pi, s[si]) {
                        if hit {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        // An unclosed `[` is a literal.
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`: whether it is in the class, and
/// the index after the closing `]`; `None` if the class is not closed.
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = p[i + 2];
            if ch <= c && c <= end {
                hit = true;
            }
            i += 3;
        } else {
            if ch == c {
                hit = true;
            }
            i += 1;
        }
    }
}

/// Whether `path` matches any of `patterns`.
pub fn matches_any(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| matches(p, path))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_matches_across_folders() {
        assert!(matches("*", "bag-info.txt"));
        assert!(matches("*", "metadata/mets.xml"));
        assert!(matches("*", ""));
        assert!(matches("data/src/*", "data/src/a/b.c"));
        assert!(!matches("data/src/*", "data/srcx"));
        assert!(matches("metadata/*.xml", "metadata/dc.xml"));
        assert!(!matches("metadata/*.xml", "metadata/dc.json"));
        assert!(matches("**/*.txt", "a/b/c.txt"));
        assert!(matches("*-info.txt", "aptrust-info.txt"));
    }

    #[test]
    fn literal_question_and_classes() {
        assert!(matches("aptrust-info.txt", "aptrust-info.txt"));
        assert!(!matches("aptrust-info.txt", "aptrust-info.txt.bak"));
        assert!(matches("file?.txt", "file1.txt"));
        assert!(!matches("file?.txt", "file10.txt"));
        assert!(matches("file[0-9].txt", "file7.txt"));
        assert!(!matches("file[!0-9].txt", "file7.txt"));
        assert!(matches("file[^0-9].txt", "fileA.txt"));
        assert!(matches("file[ab].txt", "fileb.txt"));
        assert!(matches("a[b", "a[b"), "an unclosed [ is literal");
        assert!(matches("[]]", "]"));
    }

    #[test]
    fn no_exponential_backtracking() {
        let pat = "*a*a*a*a*a*a*a*a*a*a*b";
        let s = "a".repeat(200);
        assert!(!matches(pat, &s));
    }
}
