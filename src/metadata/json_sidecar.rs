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
    let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
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
            return sidecar;
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(
                Problem::new(
                    Code::SidecarMalformed,
                    format!("{file} is not valid JSON: {e}"),
                )
                .file(file)
                .line(e.line() as u64),
            );
            return sidecar;
        }
    };
    let items = match &value {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => a,
            _ => {
                problems.push(Problem::new(Code::SidecarMalformed, format!("{file} must be an array of records, or an object with an \"items\" array")).file(file).line(1));
                return sidecar;
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
            return sidecar;
        }
    };
    let lines = object_lines(text);
    let mut unknown: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        let Value::Object(map) = item else {
            problems.push(
                Problem::new(
                    Code::SidecarMalformed,
                    format!("item {} of {file} (line {line}) is not an object", i + 1),
                )
                .file(file)
                .line(line),
            );
            continue;
        };
        let mut rec = Record {
            line,
            ..Record::default()
        };
        for (key, v) in map {
            let name = column_name(key);
            if !(ELEMENTS.contains(&name.as_str()) || name == SECTION) {
                if !unknown.contains(key) {
                    unknown.push(key.clone());
                }
                continue;
            }
            if !columns.contains(&name) {
                columns.push(name.clone());
            }
            let raw: Vec<String> = match v {
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Null => Vec::new(),
                Value::Array(a) if a.iter().all(|x| x.is_string()) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => {
                    problems.push(
                        Problem::new(
                            Code::SidecarMalformed,
                            format!(
                                "item {} of {file}: {} must be a string or an array of strings",
                                i + 1,
                                crate::paths::quoted(key)
                            ),
                        )
                        .file(file)
                        .line(line)
                        .field(crate::paths::excerpt(key)),
                    );
                    continue;
                }
            };
            let mut values = Vec::new();
            for r in raw {
                values.extend(cell_values(&r, file, line, &name, problems));
            }
            if !values.is_empty() {
                rec.values.insert(name, values);
            }
        }
        sidecar.records.push(rec);
    }
    if !unknown.is_empty() {
        problems.push(
            Problem::new(
                Code::UnknownColumn,
                format!(
                    "{file} has keys qoima does not know, which were ignored: {}",
                    crate::paths::excerpt(&unknown.join(", "))
                ),
            )
            .file(file)
            .field(crate::paths::excerpt(&unknown.join(", "))),
        );
    }
    sidecar.columns = columns;
    sidecar
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
