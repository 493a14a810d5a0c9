//! JSONL datasets, streamed: one pass reads every line, renders it with the template and field
//! map, and reports each bad line by number. Memory does not grow with the file (bad lines are
//! kept up to [`MAX_BAD_LINES_KEPT`], then only counted; column counts grow with the number of
//! distinct column names, not rows).

use super::fields::{Example, FieldMap, Mapping};
use super::templates::{Masking, Rendered, Template};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Bad lines remembered with their message; more are counted.
pub const MAX_BAD_LINES_KEPT: usize = 10_000;
/// Longest line read, in bytes.
pub const MAX_LINE: usize = 64 * 1024 * 1024;
/// Conversations kept for the tokenizer check (the first ones of the file).
pub const CHECK_EXAMPLES: usize = 16;

/// A line that cannot be trained on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong, as a sentence.
    pub message: String,
}

/// What one pass over a dataset found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scan {
    /// The file.
    pub path: PathBuf,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Rows rendered into examples.
    pub examples: u64,
    /// Bad lines, the first [`MAX_BAD_LINES_KEPT`].
    pub bad: Vec<BadLine>,
    /// Every bad line, kept or not.
    pub bad_total: u64,
    /// The mapping used (from the manifest, completed from the first valid row), with the
    /// columns every row used.
    pub field_map: Option<FieldMap>,
    /// The first examples, with their line numbers.
    #[serde(skip)]
    pub first: Vec<(u64, Rendered)>,
    /// The first [`CHECK_EXAMPLES`] conversations as the trainer's tokenizer check reads them:
    /// the example record ([`Rendered::record`]) plus `messages` for the model's chat template.
    pub check: Vec<serde_json::Value>,
    /// Examples whose system text the template leaves out (mistral).
    pub system_dropped: u64,
    /// What the author should know about the data (unused columns, mixed columns, system texts
    /// left out), one sentence each.
    pub warnings: Vec<String>,
}

/// Why a dataset could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Reading failed.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The format cannot be worked out from the manifest and the first valid row.
    #[error("`{path}`:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The first valid row's line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The sink that receives examples failed (writing the rendered file).
    #[error("cannot write the rendered dataset: {0}")]
    Sink(#[source] std::io::Error),
}

/// Reads `path` line by line, renders each row, hands each example to `each` and keeps the
/// first `keep_first` for display.
///
/// # Errors
/// [`DatasetError`] when the file cannot be read, its format cannot be determined, or `each`
/// fails. Bad rows are not errors: they are listed in [`Scan::bad`].
pub fn scan(
    path: &Path,
    mapping: &Mapping,
    template: &Template,
    masking: Masking,
    keep_first: usize,
    each: impl FnMut(u64, &Rendered) -> std::io::Result<()>,
) -> Result<Scan, DatasetError> {
    let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_owned(),
        source,
    })?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    scan_reader(reader, path, mapping, template, masking, keep_first, each)
}

/// [`scan`] over any buffered reader; `path` only names the data in messages (used by the
/// fuzz target and tests).
///
/// # Errors
/// As [`scan`].
pub fn scan_reader<R: std::io::BufRead>(
    mut reader: R,
    path: &Path,
    mapping: &Mapping,
    template: &Template,
    masking: Masking,
    keep_first: usize,
    mut each: impl FnMut(u64, &Rendered) -> std::io::Result<()>,
) -> Result<Scan, DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_owned(),
        source,
    };
    let mut scan = Scan {
        path: path.to_owned(),
        lines: 0,
        examples: 0,
        bad: Vec::new(),
        bad_total: 0,
        field_map: None,
        first: Vec::new(),
        check: Vec::new(),
        system_dropped: 0,
        warnings: Vec::new(),
    };
    let mut buf = Vec::with_capacity(4096);
    let mut label = String::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        scan.lines += 1;
        let line_no = scan.lines;
        if buf.len() > MAX_LINE {
            bad(&mut scan, line_no, format!("longer than {MAX_LINE} bytes"));
            // skip the rest of this line
            let mut rest = Vec::new();
            reader.read_until(b'\n', &mut rest).map_err(io)?;
            continue;
        }
        let mut line = buf.as_slice();
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(line) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(other) => {
                let kind = match other {
                    serde_json::Value::Array(_) => "a list",
                    serde_json::Value::String(_) => "a string",
                    _ => "not an object",
                };
                bad(
                    &mut scan,
                    line_no,
                    format!("expected a JSON object, found {kind}"),
                );
                continue;
            }
            Err(e) => {
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg);
                bad(&mut scan, line_no, format!("invalid JSON: {msg}"));
                continue;
            }
        };
        if scan.field_map.is_none() {
            let map = mapping
                .resolve(Some(&row))
                .map_err(|message| DatasetError::Format {
                    path: path.to_owned(),
                    line: line_no,
                    message,
                })?;
            label.clone_from(&map.input_label);
            scan.field_map = Some(map);
        }
        let Some(map) = scan.field_map.as_mut() else {
            continue;
        };
        match map.example(&row) {
            Ok(example) => {
                let rendered = match &example {
                    Example::Plain(text) => Rendered::plain(text),
                    Example::Chat { system, turns } => {
                        template.render(*system, turns, &label, masking)
                    }
                };
                scan.examples += 1;
                if rendered.system_dropped {
                    scan.system_dropped += 1;
                }
                each(line_no, &rendered).map_err(DatasetError::Sink)?;
                if let Example::Chat { system, turns } = &example {
                    if scan.check.len() < CHECK_EXAMPLES {
                        let mut record = rendered.record(line_no);
                        record["messages"] = template.messages(*system, turns, &label);
                        scan.check.push(record);
                    }
                }
                if scan.first.len() < keep_first {
                    scan.first.push((line_no, rendered));
                }
            }
            Err(message) => bad(&mut scan, line_no, message),
        }
    }
    if let Some(map) = scan.field_map.as_mut() {
        scan.warnings = map.finish();
    }
    if scan.system_dropped > 0 {
        scan.warnings.push(format!(
            "{} example{} of `{}` {} a system text that template `{}` leaves out: {}'s chat template writes it into the last user turn only when a conversation ends with a user turn, which a training example never does (put the text into the instruction if the model should learn it)",
            scan.system_dropped,
            if scan.system_dropped == 1 { "" } else { "s" },
            path.display(),
            if scan.system_dropped == 1 { "has" } else { "have" },
            template.name,
            template.family
        ));
    }
    Ok(scan)
}

fn bad(scan: &mut Scan, line: u64, message: String) {
    scan.bad_total += 1;
    if scan.bad.len() < MAX_BAD_LINES_KEPT {
        scan.bad.push(BadLine { line, message });
    }
}

use std::io::Read as _;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::templates::get;

    #[test]
    fn reports_every_bad_line_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        std::fs::write(
            &p,
            "\u{feff}{\"instruction\":\"a\",\"response\":\"b\"}\n\n{oops\n[1]\n{\"instruction\":\"a\"}\r\n{\"instruction\":\"c\",\"response\":\"d\"}",
        )
        .unwrap();
        let mut seen = Vec::new();
        let scan = scan(
            &p,
            &Mapping::default(),
            get("alpaca").unwrap(),
            Masking::default(),
            1,
            |n, _| {
                seen.push(n);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, vec![1, 6]);
        assert_eq!(scan.lines, 6);
        assert_eq!(scan.examples, 2);
        let lines: Vec<u64> = scan.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(scan.bad[0].message.starts_with("invalid JSON"));
        assert_eq!(
            scan.bad[2].message,
            "the row has no response column (one of `response`, `output`, `answer`, `completion`)"
        );
        assert_eq!(scan.first.len(), 1);
    }

    #[test]
    fn an_unknown_shape_is_an_error_at_the_first_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        std::fs::write(&p, "{\"a\":1}\n").unwrap();
        let err = scan(
            &p,
            &Mapping::default(),
            get("alpaca").unwrap(),
            Masking::default(),
            1,
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("d.jsonl`:1: cannot tell"), "{err}");
    }
}
