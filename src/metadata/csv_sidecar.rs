//! `metadata.csv`: what spreadsheets export — UTF-8 with or without a byte-order mark, comma
//! or semicolon separated (detected from the header), quoted fields that may span lines.

use super::{ELEMENTS, Record, SECTION, Sidecar, cell_values, column_name};
use crate::error::{Code, Problem};
use crate::paths;
use crate::verdict::Problems;

/// The delimiter the header line uses most, outside quotes: `,`, `;` or tab.
fn detect_delimiter(data: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in data {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

pub(crate) fn parse(
    bytes: &[u8],
    file: &str,
    delimiter: Option<u8>,
    problems: &mut Problems,
) -> Sidecar {
    let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(data));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut sidecar = Sidecar {
        file: file.to_string(),
        ..Sidecar::default()
    };
    let mut header: Option<Vec<Option<String>>> = None;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(
                    Problem::new(
                        Code::SidecarMalformed,
                        format!("{file} is not valid CSV near line {line}: {e}"),
                    )
                    .file(file)
                    .line(line),
                );
                break;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut fields = Vec::with_capacity(record.len());
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s.to_string()),
                Err(_) => {
                    let column = header
                        .as_ref()
                        .and_then(|h| h.get(i).cloned().flatten())
                        .unwrap_or_else(|| format!("column {}", i + 1));
                    problems.push(
                        Problem::new(
                            Code::SidecarEncoding,
                            format!("line {line} of {file} is not valid UTF-8 (in {column}); save the file as UTF-8"),
                        )
                        .file(file)
                        .line(line)
                        .field(column),
                    );
                    // The value is kept, decoded lossily, so that the record is still judged
                    // on everything else.
                    fields.push(String::from_utf8_lossy(raw).into_owned());
                }
            }
        }
        let Some(columns) = &header else {
            header = Some(read_header(&fields, file, line, problems));
            sidecar.columns = header.iter().flatten().flatten().cloned().collect();
            continue;
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank row, as spreadsheets leave at the end
        }
        if fields.len() != columns.len() {
            problems.push(
                Problem::new(
                    Code::FieldCount,
                    format!(
                        "line {line} of {file} has {} fields; the header has {}",
                        fields.len(),
                        columns.len()
                    ),
                )
                .file(file)
                .line(line),
            );
        }
        let mut cells = Vec::with_capacity(fields.len());
        for (i, raw) in fields.iter().enumerate() {
            let Some(Some(column)) = columns.get(i) else {
                continue;
            };
            let values = cell_values(raw, file, line, column, problems);
            if !values.is_empty() {
                cells.push((column.clone(), values));
            }
        }
        sidecar.records.push(Record {
            line,
            ragged: fields.len() != columns.len(),
            values: cells.into_iter().collect(),
        });
    }
    if header.is_none() {
        problems.push(
            Problem::new(
                Code::SidecarMalformed,
                format!("{file} is empty: it needs a header row naming the columns"),
            )
            .file(file)
            .line(1),
        );
    }
    sidecar
}

/// The header's columns: known ones by their normalised name, unknown ones reported (once, in
/// one warning) and ignored, duplicates refused.
fn read_header(
    fields: &[String],
    file: &str,
    line: u64,
    problems: &mut Problems,
) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for raw in fields {
        let name = column_name(raw);
        if ELEMENTS.contains(&name.as_str()) || name == SECTION {
            if out.contains(&Some(name.clone())) {
                problems.push(
                    Problem::new(
                        Code::DuplicateColumn,
                        format!(
                            "the header of {file} names the column {} twice",
                            crate::paths::quoted(&name)
                        ),
                    )
                    .file(file)
                    .line(line)
                    .field(name.as_str()),
                );
                out.push(None);
            } else {
                out.push(Some(name));
            }
        } else {
            if !name.is_empty() {
                unknown.push(raw.trim().to_string());
            }
            out.push(None);
        }
    }
    if !unknown.is_empty() {
        problems.push(
            Problem::new(
                Code::UnknownColumn,
                format!(
                    "{file} has columns qoima does not know, which were ignored: {}",
                    paths::excerpt(&unknown.join(", "))
                ),
            )
            .file(file)
            .line(line)
            .field(paths::excerpt(&unknown.join(", "))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Sidecar, Vec<(Code, Option<u64>)>) {
        let mut p = Problems::unlimited();
        let s = parse(text.as_bytes(), "metadata.csv", None, &mut p);
        (s, p.iter().map(|p| (p.code, p.location.line)).collect())
    }

    #[test]
    fn bom_semicolons_multiline_and_repeats() {
        let (s, p) = load(
            "\u{feff}Identifier;File;Title;Subject;Description\nq-1;a.jpg;Площадь;Алматы|Протесты;\"line one\nline two; still\"\nq-2;b.jpg;B;;\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].line, 2);
        assert_eq!(s.records[1].line, 4);
        assert_eq!(s.records[0].all("subject"), ["Алматы", "Протесты"]);
        assert_eq!(
            s.records[0].first("description"),
            Some("line one\nline two; still")
        );
        assert_eq!(s.records[1].first("subject"), None);
    }

    #[test]
    fn header_problems_and_ragged_rows() {
        let (_, p) = load("identifier,title,Shelfmark,title\nq-1,A,S1,B\nq-2,B\n");
        assert!(p.contains(&(Code::DuplicateColumn, Some(1))));
        assert!(p.contains(&(Code::UnknownColumn, Some(1))));
        assert!(p.contains(&(Code::FieldCount, Some(3))));
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let mut p = Problems::unlimited();
        parse(
            b"identifier,title\nq-1,caf\xe9\n",
            "metadata.csv",
            None,
            &mut p,
        );
        assert_eq!(p[0].code, Code::SidecarEncoding);
        assert_eq!(p[0].location.line, Some(2));
        assert_eq!(p[0].location.field.as_deref(), Some("title"));
    }

    #[test]
    fn delimiter_detection_ignores_quoted_commas() {
        assert_eq!(detect_delimiter(b"\"a,b,c\";d;e\n1,2,3,4,5"), b';');
        assert_eq!(detect_delimiter(b"a,b\n"), b',');
        assert_eq!(detect_delimiter(b"a\tb\tc\n"), b'\t');
    }

    #[test]
    fn empty_file() {
        assert_eq!(load("").1, vec![(Code::SidecarMalformed, Some(1))]);
    }
}
