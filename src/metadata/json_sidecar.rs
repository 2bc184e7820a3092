//! `metadata.json`: an array of objects (or `{"items": [...]}`), one per item, whose values
//! are strings or arrays of strings. Lines are found by a small scanner, so that problems name
//! the line where each object starts, as they do for CSV.

use serde_json::Value;

use super::{ELEMENTS, Record, SECTION, Sidecar, cell_values, column_name};
use crate::error::{Code, Problem};
use crate::verdict::Problems;

pub(crate) fn parse(bytes: &[u8], file: &str, problems: &mut Problems) -> Sidecar {
    let mut sidecar = Sidecar {
        file: file.to_string(),
        ..Sidecar::default()
    };
    let Some(text) = decode(bytes, file, problems) else {
        return sidecar;
    };
    let Some(value) = parse_json(text, file, problems) else {
        return sidecar;
    };
    let Some(items) = records_array(&value, file, problems) else {
        return sidecar;
    };
    let lines = object_lines(text);
    let mut keys = Keys::default();
    for (i, item) in items.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        if let Some(record) = read_record(item, i, line, file, &mut keys, problems) {
            sidecar.records.push(record);
        }
    }
    keys.report_unknown(file, problems);
    sidecar.columns = keys.columns;
    sidecar
}

/// The text of the sidecar, without a byte-order mark; `None` (reported) when it is not UTF-8.
fn decode<'a>(bytes: &'a [u8], file: &str, problems: &mut Problems) -> Option<&'a str> {
    let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(data) {
        Ok(text) => Some(text),
        Err(e) => {
            let line = 1 + data[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            problems.push(
                Problem::new(
                    Code::SidecarEncoding,
                    format!("line {line} of {file} is not valid UTF-8; save the file as UTF-8"),
                )
                .file(file)
                .line(line),
            );
            None
        }
    }
}

fn parse_json(text: &str, file: &str, problems: &mut Problems) -> Option<Value> {
    match serde_json::from_str(text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(
                Problem::new(
                    Code::SidecarMalformed,
                    format!("{file} is not valid JSON: {e}"),
                )
                .file(file)
                .line(e.line() as u64),
            );
            None
        }
    }
}

/// The array of records: the document itself, or its `items`.
fn records_array<'a>(
    value: &'a Value,
    file: &str,
    problems: &mut Problems,
) -> Option<&'a Vec<Value>> {
    match value {
        Value::Array(a) => Some(a),
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => Some(a),
            _ => {
                problems.push(Problem::new(Code::SidecarMalformed, format!("{file} must be an array of records, or an object with an \"items\" array")).file(file).line(1));
                None
            }
        },
        _ => {
            problems.push(
                Problem::new(
                    Code::SidecarMalformed,
                    format!("{file} must be an array of records"),
                )
                .file(file)
                .line(1),
            );
            None
        }
    }
}

/// The keys met across the records: the known ones (in first-seen order) and the others.
#[derive(Default)]
struct Keys {
    columns: Vec<String>,
    unknown: Vec<String>,
}

impl Keys {
    /// Reports the unknown keys, once, in one warning.
    fn report_unknown(&self, file: &str, problems: &mut Problems) {
        if self.unknown.is_empty() {
            return;
        }
        problems.push(
            Problem::new(
                Code::UnknownColumn,
                format!(
                    "{file} has keys qoima does not know, which were ignored: {}",
                    crate::paths::excerpt(&self.unknown.join(", "))
                ),
            )
            .file(file)
            .field(crate::paths::excerpt(&self.unknown.join(", "))),
        );
    }
}

/// Item `index` (0-based) of the array, starting on `line`, as a record; `None` (reported)
/// when it is not an object.
fn read_record(
    item: &Value,
    index: usize,
    line: u64,
    file: &str,
    keys: &mut Keys,
    problems: &mut Problems,
) -> Option<Record> {
    let Value::Object(map) = item else {
        problems.push(
            Problem::new(
                Code::SidecarMalformed,
                format!(
                    "item {} of {file} (line {line}) is not an object",
                    index + 1
                ),
            )
            .file(file)
            .line(line),
        );
        return None;
    };
    let mut cells = Vec::new();
    for (key, v) in map {
        let name = column_name(key);
        if !(ELEMENTS.contains(&name.as_str()) || name == SECTION) {
            if !keys.unknown.contains(key) {
                keys.unknown.push(key.clone());
            }
            continue;
        }
        if !keys.columns.contains(&name) {
            keys.columns.push(name.clone());
        }
        let Some(raw) = raw_values(v) else {
            problems.push(
                Problem::new(
                    Code::SidecarMalformed,
                    format!(
                        "item {} of {file}: {} must be a string or an array of strings",
                        index + 1,
                        crate::paths::quoted(key)
                    ),
                )
                .file(file)
                .line(line)
                .field(crate::paths::excerpt(key)),
            );
            continue;
        };
        let mut values = Vec::new();
        for r in raw {
            values.extend(cell_values(&r, file, line, &name, problems));
        }
        if !values.is_empty() {
            // A later key of the same element replaces an earlier one, as it always has.
            cells.push((name, values));
        }
    }
    Some(Record {
        line,
        values: cells.into_iter().collect(),
        ..Record::default()
    })
}

/// A key's value as text: a string, a number, nothing (`null`), or an array of strings;
/// `None` for anything else.
fn raw_values(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Number(n) => Some(vec![n.to_string()]),
        Value::Null => Some(Vec::new()),
        Value::Array(a) if a.iter().all(|x| x.is_string()) => Some(
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
        ),
        _ => None,
    }
}

/// The line on which each object of the records array starts.
fn object_lines(text: &str) -> Vec<u64> {
    #[derive(PartialEq)]
    enum C {
        Arr,
        Obj,
    }
    let mut stack: Vec<C> = Vec::new();
    let mut out = Vec::new();
    let (mut line, mut in_str, mut esc) = (1u64, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => {
                if stack == [C::Arr] || stack == [C::Obj, C::Arr] {
                    out.push(line);
                }
                stack.push(C::Obj);
            }
            '[' => stack.push(C::Arr),
            '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_lines_and_values() {
        let text = "[\n  {\"identifier\": \"q-1\", \"subject\": [\"a\", \"b\"], \"title\": \"A {x}\"},\n  {\n    \"identifier\": \"q-2\", \"Shelf\": \"x\"\n  }\n]\n";
        let mut p = Problems::unlimited();
        let s = parse(text.as_bytes(), "metadata.json", &mut p);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].line, 2);
        assert_eq!(s.records[1].line, 3);
        assert_eq!(s.records[0].all("subject"), ["a", "b"]);
        assert_eq!(s.records[0].first("title"), Some("A {x}"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].code, Code::UnknownColumn);
    }

    #[test]
    fn items_object_and_errors() {
        let mut p = Problems::unlimited();
        let s = parse(
            br#"{"collection": {"title": "t"}, "items": [{"identifier": "q", "date": {"y": 1}}]}"#,
            "m.json",
            &mut p,
        );
        assert_eq!(s.records.len(), 1);
        assert_eq!(p[0].code, Code::SidecarMalformed);
        assert_eq!(p[0].location.field.as_deref(), Some("date"));
        let mut p = Problems::unlimited();
        parse(b"[{\"a\": }]", "m.json", &mut p);
        assert_eq!(p[0].code, Code::SidecarMalformed);
    }
}
