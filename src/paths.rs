//! Bag-relative paths: BagIt percent-encoding, safety checks, and printing names safely.
//!
//! RFC 8493 section 2.1.3: in BagIt 1.0 a manifest path encodes CR as `%0D`, LF as `%0A`
//! and `%` as `%25`, and *only* those. So `%7E` stays the three characters `%7E`, and a file
//! literally named `file%0A1.txt` is written `file%250A1.txt`. BagIt 0.97 encodes nothing.

use std::borrow::Cow;

/// Encodes a name for a BagIt 1.0 manifest or fetch.txt.
pub fn encode(name: &str) -> Cow<'_, str> {
    if !name.contains(['%', '\n', '\r']) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A `%` not followed by `25`, `0A` or `0D` (either case), at this byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape(pub usize);

/// Decodes a BagIt 1.0 manifest path: exactly `%25`, `%0A`, `%0D` (hex digits in either case).
pub fn decode(encoded: &str) -> Result<Cow<'_, str>, BadEscape> {
    if !encoded.contains('%') {
        return Ok(Cow::Borrowed(encoded));
    }
    let b = encoded.as_bytes();
    let mut out = String::with_capacity(encoded.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let esc = b.get(i + 1..i + 3).map(|e| e.to_ascii_uppercase());
            let c = match esc.as_deref() {
                Some(b"25") => '%',
                Some(b"0A") => '\n',
                Some(b"0D") => '\r',
                _ => return Err(BadEscape(i)),
            };
            out.push_str(&encoded[last..i]);
            out.push(c);
            i += 3;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&encoded[last..]);
    Ok(Cow::Owned(out))
}

/// Why a path is unsafe to use inside a bag.
pub fn unsafe_reason(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.contains('\0') {
        return Some("the path contains a NUL character");
    }
    if path.starts_with('/') {
        return Some("the path is absolute");
    }
    if path.starts_with('~') {
        return Some("the path starts with `~` (a home directory)");
    }
    if path.starts_with("\\\\") || path.starts_with('\\') {
        return Some("the path is a Windows UNC or rooted path");
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("the path starts with a drive letter");
    }
    // Backslash is a separator on Windows, so `a\..\..\x` escapes there.
    if path.split(['/', '\\']).any(|c| c == "..") {
        return Some("the path contains a `..` component");
    }
    if path.split('/').any(|c| c.is_empty() || c == ".") {
        return Some("the path has an empty or `.` component");
    }
    None
}

/// A reason Windows could not store this file name (one component), if any.
pub fn windows_unsafe(component: &str) -> Option<String> {
    if let Some(c) = component
        .chars()
        .find(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\\') || (*c as u32) < 32)
    {
        return Some(format!("contains {c:?}"));
    }
    if component.ends_with(' ') || component.ends_with('.') {
        return Some("ends with a space or a dot".to_string());
    }
    let stem = component
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    const RESERVED: [&str; 4] = ["CON", "PRN", "AUX", "NUL"];
    let numbered = (stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit()
        && stem.as_bytes()[3] != b'0';
    if RESERVED.contains(&stem.as_str()) || numbered {
        return Some(format!("{stem} is a reserved device name"));
    }
    None
}

/// The name with control and bidirectional-override characters escaped, safe to print on a
/// terminal (a name holding ESC or U+202E must not repaint the screen or reverse the text).
pub fn printable(name: &str) -> Cow<'_, str> {
    fn bad(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if !name.chars().any(bad) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if bad(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How many characters of user content a message quotes at most.
pub const EXCERPT_CHARS: usize = 80;

/// A short, terminal-safe excerpt of user content (a line, a value, a label) for a message:
/// control and bidirectional characters escaped as in [`printable`], and at most
/// [`EXCERPT_CHARS`] characters of the original, with `…` when cut. A message never echoes
/// a whole line: a hostile or mistaken input (a sidecar that is really `/etc/passwd`, a
/// 64 KiB manifest line) shows only its start.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.char_indices();
    let cut = chars.nth(EXCERPT_CHARS).map(|(at, _)| at);
    match cut {
        Some(at) => format!("{}…", printable(&text[..at])),
        None => printable(text).into_owned(),
    }
}

/// [`excerpt`] in double quotes (a `"` inside escaped), where a message quotes a value.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", excerpt(text).replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_exactly_cr_lf_and_percent() {
        assert_eq!(encode("data/file%0A1.txt"), "data/file%250A1.txt");
        assert_eq!(encode("data/a\nb"), "data/a%0Ab");
        assert_eq!(encode("data/a\r\nb"), "data/a%0D%0Ab");
        assert_eq!(encode("data/~x %7E"), "data/~x %257E");
        assert!(matches!(encode("data/plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn decodes_only_the_three_escapes_in_either_case() {
        assert_eq!(decode("data/file%250A1.txt").unwrap(), "data/file%0A1.txt");
        assert_eq!(decode("data/a%0ab%0D").unwrap(), "data/a\nb\r");
        assert_eq!(decode("data/%7Etest"), Err(BadEscape(5)));
        assert_eq!(decode("data/50%off.txt"), Err(BadEscape(7)));
        assert_eq!(decode("data/trailing%"), Err(BadEscape(13)));
        assert_eq!(decode("data/trailing%2"), Err(BadEscape(13)));
    }

    #[test]
    fn rejects_paths_that_leave_the_bag() {
        for p in [
            "../etc/passwd",
            "data/../../x",
            "data/..",
            "/tmp/foo",
            "~/foo",
            "~root/foo",
            "C:/Windows",
            "c:foo",
            "\\\\server\\share",
            "\\\\?\\C:\\x",
            "data\\..\\..\\x",
            "data/a\0b",
            "",
            "data//x",
            "data/./x",
        ] {
            assert!(unsafe_reason(p).is_some(), "{p:?} should be unsafe");
        }
        for p in [
            "data/a b",
            "data/...",
            "data/..x",
            "data/x..",
            "data/Алматы.jpg",
            "bag-info.txt",
        ] {
            assert_eq!(unsafe_reason(p), None, "{p:?}");
        }
    }

    #[test]
    fn windows_names() {
        assert!(windows_unsafe("a:b").is_some());
        assert!(windows_unsafe("CON").is_some());
        assert!(windows_unsafe("com1.txt").is_some());
        assert!(windows_unsafe("trailing.").is_some());
        assert!(windows_unsafe("COM0").is_none());
        assert!(windows_unsafe("console.txt").is_none());
        assert!(windows_unsafe("Площадь Республики.jpg").is_none());
    }

    #[test]
    fn printable_escapes_terminal_tricks() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(printable("Алматы"), "Алматы");
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("root:x:0:0"), "root:x:0:0");
        let long = "é".repeat(200);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            excerpt(&"a".repeat(EXCERPT_CHARS)),
            "a".repeat(EXCERPT_CHARS)
        );
        assert_eq!(excerpt("a\u{1b}[2J"), "a\\u{1b}[2J");
        assert_eq!(quoted("say \"hi\"\n"), r#""say \"hi\"\n""#);
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(s in "\\PC*|[%\r\n a-z]{0,12}") {
            let e = encode(&s);
            prop_assert!(!e.contains(['\n', '\r']));
            let back = decode(&e).unwrap().into_owned();
            prop_assert_eq!(back, s.clone());
        }
    }
}
