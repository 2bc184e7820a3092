//! The collection's own description: `collection.toml` (or `collection.json`) at the root,
//! whose keys are Dublin Core element names and whose values are text, TOML dates, or arrays
//! of those. `qoima check` and `qoima package` load it through [`load_collection`] alone, so
//! that what `package` would refuse, `check` reports first.

use std::path::Path;

use super::{ELEMENTS, Record, source};
use crate::error::{Code, Problem};
use crate::paths;

/// The description files, in the order they are looked for.
pub const COLLECTION_FILES: [&str; 2] = ["collection.toml", "collection.json"];

/// The collection's Dublin Core record and the problems of its description file. Without a
/// description, or for what it leaves out, the folder's name is the identifier and the title,
/// and the type is `Collection`.
pub fn load_collection(root: &Path) -> (Record, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut record = Record::default();
    let found = COLLECTION_FILES
        .iter()
        .find(|name| std::fs::symlink_metadata(root.join(name)).is_ok());
    if let Some(&name) = found {
        match source::read_inside(root, &root.join(name), name) {
            Ok(bytes) => read_values(&bytes, name, &mut record, &mut problems),
            Err(p) => problems.push(p),
        }
    }
    add_defaults(root, &mut record);
    (record, problems)
}

/// Parses the description and keeps the values of the Dublin Core keys.
fn read_values(bytes: &[u8], name: &str, record: &mut Record, problems: &mut Vec<Problem>) {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = line_at(bytes, e.valid_up_to());
            problems.push(
                Problem::new(
                    Code::CollectionMalformed,
                    format!("line {line} of {name} is not valid UTF-8; save the file as UTF-8"),
                )
                .file(name)
                .line(line),
            );
            return;
        }
    };
    let entries = if name.ends_with(".toml") {
        toml_entries(text, name)
    } else {
        json_entries(text, name)
    };
    let entries = match entries {
        Ok(entries) => entries,
        Err(p) => {
            problems.push(p);
            return;
        }
    };
    for (key, value) in entries {
        let element = key.to_lowercase();
        if !ELEMENTS.contains(&element.as_str()) {
            continue; // `sections` and other keys of the collection's own use
        }
        let values = match value {
            Ok(values) => values,
            Err(what) => {
                problems.push(wrong_type(text, name, &key, what));
                continue;
            }
        };
        let values: Vec<String> = values
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !values.is_empty() {
            record.values.insert(element, values);
        }
    }
}

/// A key's values as text, or what the value is when it is not text.
type Values = Result<Vec<String>, &'static str>;

/// The top-level keys of a TOML description; a syntax error names its line and column.
fn toml_entries(text: &str, name: &str) -> Result<Vec<(String, Values)>, Problem> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let line = line_at(text.as_bytes(), at);
        let column = text[..at]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
            + 1;
        Problem::new(
            Code::CollectionMalformed,
            format!(
                "{name} is not valid TOML at line {line}, column {column}: {}",
                paths::excerpt(e.message().trim())
            ),
        )
        .file(name)
        .line(line)
    })?;
    Ok(table
        .into_iter()
        .map(|(key, value)| {
            let values = match value {
                toml::Value::Array(items) => items.into_iter().map(toml_text).collect(),
                single => toml_text(single).map(|v| vec![v]),
            };
            (key, values)
        })
        .collect())
}

/// A TOML value as text: a string, or a date or date-time written as its ISO 8601 text.
fn toml_text(value: toml::Value) -> Result<String, &'static str> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Datetime(d) if d.date.is_some() => Ok(d.to_string()),
        toml::Value::Datetime(_) => Err("a time of day without a date"),
        toml::Value::Integer(_) => Err("a number"),
        toml::Value::Float(_) => Err("a number"),
        toml::Value::Boolean(_) => Err("a boolean (true or false)"),
        toml::Value::Array(_) => Err("an array inside an array"),
        toml::Value::Table(_) => Err("a table"),
    }
}

/// The keys of a JSON description (an object); a syntax error names its line and column.
fn json_entries(text: &str, name: &str) -> Result<Vec<(String, Values)>, Problem> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Problem::new(
            Code::CollectionMalformed,
            format!(
                "{name} is not valid JSON: {}",
                paths::excerpt(&e.to_string())
            ),
        )
        .file(name)
        .line(e.line() as u64)
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Problem::new(
            Code::CollectionMalformed,
            format!("{name} must be an object whose keys are Dublin Core elements"),
        )
        .file(name)
        .line(1));
    };
    Ok(map
        .into_iter()
        .map(|(key, value)| {
            let values = match value {
                serde_json::Value::Null => Ok(Vec::new()),
                serde_json::Value::Array(items) => items.into_iter().map(json_text).collect(),
                single => json_text(single).map(|v| vec![v]),
            };
            (key, values)
        })
        .collect())
}

fn json_text(value: serde_json::Value) -> Result<String, &'static str> {
    match value {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(_) => Err("a number"),
        serde_json::Value::Bool(_) => Err("a boolean (true or false)"),
        serde_json::Value::Null => Err("null inside an array"),
        serde_json::Value::Array(_) => Err("an array inside an array"),
        serde_json::Value::Object(_) => Err("an object"),
    }
}

/// The problem of a key whose value is not text, on the line that sets it when it is found.
fn wrong_type(text: &str, name: &str, key: &str, what: &str) -> Problem {
    let mut p = Problem::new(
        Code::CollectionValueType,
        format!(
            "{name}: the value of {} is {what}, not text",
            paths::quoted(key)
        ),
    )
    .file(name)
    .field(paths::excerpt(key));
    if let Some(line) = key_line(text, key) {
        p = p.line(line);
    }
    p
}

/// The first line that sets `key` (`key =` in TOML, `"key":` in JSON).
fn key_line(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")));
            rest.is_some_and(|r| r.trim_start().starts_with(['=', ':']))
        })
        .map(|i| i as u64 + 1)
}

/// The 1-based line holding byte `at`.
fn line_at(bytes: &[u8], at: usize) -> u64 {
    1 + bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

/// The folder's name as identifier and title, and `Collection` as type, where the
/// description gives none.
fn add_defaults(root: &Path, record: &mut Record) {
    let folder = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "collection".into());
    record
        .values
        .insert_if_absent("identifier", vec![folder.clone()]);
    record.values.insert_if_absent("title", vec![folder]);
    record
        .values
        .insert_if_absent("type", vec!["Collection".into()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &[u8]) -> (Record, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        load_collection(dir.path())
    }

    #[test]
    fn toml_dates_are_iso_text() {
        let (r, p) = load(
            "collection.toml",
            b"title = \"T\"\ndate = 2022-01-04\ncoverage = [\"A\", \"B\"]\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(r.all("date"), ["2022-01-04"]);
        assert_eq!(r.all("coverage"), ["A", "B"]);
        let (r, _) = load("collection.toml", b"date = 2022-01-04T19:30:00+06:00\n");
        assert_eq!(r.all("date"), ["2022-01-04T19:30:00+06:00"]);
        let (r, _) = load("collection.toml", b"date = [2022-01-04, \"2023\"]\n");
        assert_eq!(r.all("date"), ["2022-01-04", "2023"]);
    }

    #[test]
    fn other_types_name_the_key_and_line() {
        let (r, p) = load(
            "collection.toml",
            b"title = \"T\"\nrights = true\ncreator = [\"A\", 3]\nsections = 7\n",
        );
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.code, p.location.line, p.location.field.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (Code::CollectionValueType, Some(3), Some("creator".into())),
                (Code::CollectionValueType, Some(2), Some("rights".into())),
            ]
        );
        assert!(r.all("rights").is_empty());
        let (_, p) = load("collection.json", br#"{"date": 2022, "title": {"a": "b"}}"#);
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.code == Code::CollectionValueType));
    }

    #[test]
    fn syntax_errors_name_the_line_and_escape_the_text() {
        for text in [
            &b"title = \"X\x1b[2J\nbad"[..],
            b"\x1b[2J = 1\n",
            b"title = \x1b]0;x\x07\n",
        ] {
            let (_, p) = load("collection.toml", text);
            assert_eq!(p[0].code, Code::CollectionMalformed);
            assert!(p[0].location.line.is_some());
            assert!(!p[0].message.contains(['\x1b', '\x07']), "{}", p[0].message);
        }
        let (_, p) = load("collection.json", b"{\n\"title\": }");
        assert_eq!(p[0].code, Code::CollectionMalformed);
        assert_eq!(p[0].location.line, Some(2));
        let (_, p) = load("collection.json", b"[\"title\"]");
        assert_eq!(p[0].code, Code::CollectionMalformed);
    }

    #[test]
    fn defaults_fill_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let (r, p) = load_collection(dir.path());
        assert!(p.is_empty());
        assert_eq!(r.first("type"), Some("Collection"));
        assert_eq!(r.first("identifier"), r.first("title"));
    }
}
