//! Diagnostics as text, JSON, SARIF 2.1.0 and GitHub workflow commands — four views of one
//! list of [`PathReport`]s.

use super::{Style, Ui};
use expert_cli::archive::validate::PathReport;
use expert_cli::manifest::{Code, Diagnostic, Diagnostics, Severity};
use serde::Serialize;
use serde_json::{json, Value};

/// One diagnostic as text: `path:line:col: error[E0202] /pointer: message`, then the hint.
pub fn text_line(ui: &Ui, path: &str, d: &Diagnostic) -> String {
    let mut s = String::new();
    write_text_line(&Paint::new(ui), &mut s, path, d);
    s
}

/// The colour codes around each styled part of a text line, worked out once per run (`ui`
/// decides whether there are any).
struct Paint {
    /// (before, after) for error, warning, note, hint.
    parts: [(String, String); 4],
}

impl Paint {
    fn new(ui: &Ui) -> Self {
        let split = |style| {
            let painted = ui.paint_out(style, "\0");
            let (before, after) = painted.split_once('\0').unwrap_or(("", ""));
            (before.to_owned(), after.to_owned())
        };
        Paint {
            parts: [
                split(Style::Red),
                split(Style::Yellow),
                split(Style::Cyan),
                split(Style::Cyan),
            ],
        }
    }
}

/// [`text_line`], appended to `out` without a temporary string (`validate` may print a
/// million of them).
fn write_text_line(paint: &Paint, out: &mut String, path: &str, d: &Diagnostic) {
    use std::fmt::Write as _;
    let (i, word) = match d.severity {
        Severity::Error => (0, "error"),
        Severity::Warning => (1, "warning"),
        Severity::Note => (2, "note"),
    };
    let (before, after) = &paint.parts[i];
    let _ = write!(
        out,
        "{path}:{}:{}: {before}{word}[{}]{after} ",
        d.line, d.column, d.code
    );
    if !d.pointer.is_empty() {
        out.push_str(&d.pointer);
        out.push_str(": ");
    }
    out.push_str(&d.message);
    out.push('\n');
    if let Some(h) = &d.hint {
        let (before, after) = &paint.parts[3];
        let _ = writeln!(out, "  {before}hint{after}: {h}");
    }
}

/// Renders `reports` in `ui.format`. `strict` decides what counts as failing.
pub fn render(ui: &Ui, reports: &[PathReport], strict: bool) {
    use crate::cli::Format;
    match ui.format {
        Format::Text => text(ui, reports, strict),
        Format::Json => write_json(ui, &json_report(reports, strict)),
        Format::Sarif => write_json(ui, &sarif(reports)),
        Format::Github => github(ui, reports),
    }
}

/// Output is written in pieces of about 1 MiB: memory stays flat however many diagnostics
/// there are.
const PIECE: usize = 1 << 20;

fn text(ui: &Ui, reports: &[PathReport], strict: bool) {
    let mut out = String::with_capacity(PIECE + 4096);
    let paint = Paint::new(ui);
    for r in reports {
        for d in &r.diagnostics.0 {
            if d.severity == Severity::Note && !ui.verbose {
                continue;
            }
            if matches!(d.code, Code::NoManifest | Code::Unreadable) {
                // about the path, not its content: said on stderr, as for any file error
                ui.error(&d.message, d.hint.as_deref());
                continue;
            }
            write_text_line(&paint, &mut out, &r.path, d);
            if out.len() >= PIECE {
                ui.out(&out);
                out.clear();
            }
        }
    }
    ui.out(&out);
    if ui.quiet {
        return;
    }
    for r in reports {
        let e = r.diagnostics.count(Severity::Error);
        let w = r.diagnostics.count(Severity::Warning);
        let ok = !r.diagnostics.fails(strict);
        let verdict = if ok {
            ui.paint_err(Style::Green, "ok")
        } else {
            ui.paint_err(Style::Red, "FAILED")
        };
        let schema = r
            .schema
            .map(|s| format!(" (schema {s})"))
            .unwrap_or_default();
        ui.err(&format!(
            "{verdict}: {}{schema}: {e} error{}, {w} warning{}\n",
            r.path,
            plural(e),
            plural(w)
        ));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The JSON form: `{ "valid": bool, "files": [ { path, kind, schema_version, valid, errors,
/// warnings, diagnostics: [...] } ] }`. Serialised straight from the reports (a hostile file
/// can have a million diagnostics: no intermediate JSON tree).
#[derive(Serialize)]
struct JsonReport<'a> {
    valid: bool,
    files: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    kind: &'a str,
    schema_version: Option<&'a str>,
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: &'a Diagnostics,
}

fn json_report(reports: &[PathReport], strict: bool) -> JsonReport<'_> {
    JsonReport {
        valid: reports.iter().all(|r| !r.diagnostics.fails(strict)),
        files: reports
            .iter()
            .map(|r| JsonFile {
                path: &r.path,
                kind: r.kind,
                schema_version: r.schema,
                valid: !r.diagnostics.fails(strict),
                errors: r.diagnostics.count(Severity::Error),
                warnings: r.diagnostics.count(Severity::Warning),
                diagnostics: &r.diagnostics,
            })
            .collect(),
    }
}

/// SARIF 2.1.0 with one rule per diagnostic code.
#[derive(Serialize)]
struct Sarif<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<'a>; 1],
}

#[derive(Serialize)]
struct SarifRun<'a> {
    tool: Value,
    results: SarifResults<'a>,
}

/// The results, made one at a time while they are written.
struct SarifResults<'a>(&'a [PathReport]);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: Option<usize>,
    level: &'static str,
    message: SarifText,
    locations: [SarifLocation<'a>; 1],
}

#[derive(Serialize)]
struct SarifText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    physical_location: SarifPhysical<'a>,
    logical_locations: [SarifLogical<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical<'a> {
    artifact_location: SarifUri<'a>,
    region: SarifRegion,
}

#[derive(Serialize)]
struct SarifUri<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    start_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLogical<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
}

impl Serialize for SarifResults<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for r in self.0 {
            let uri = r.path.replace('\\', "/");
            for d in &r.diagnostics.0 {
                seq.serialize_element(&SarifResult {
                    rule_id: d.code.as_str(),
                    rule_index: Code::ALL.iter().position(|c| *c == d.code),
                    level: level(d.severity),
                    message: SarifText { text: one_line(d) },
                    locations: [SarifLocation {
                        physical_location: SarifPhysical {
                            artifact_location: SarifUri { uri: &uri },
                            region: SarifRegion {
                                start_line: d.line,
                                start_column: d.column,
                            },
                        },
                        logical_locations: [SarifLogical {
                            fully_qualified_name: &d.pointer,
                            kind: "member",
                        }],
                    }],
                })?;
            }
        }
        seq.end()
    }
}

fn sarif(reports: &[PathReport]) -> Sarif<'_> {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": { "text": c.summary() },
                "defaultConfiguration": { "level": level(c.severity()) },
            })
        })
        .collect();
    Sarif {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [SarifRun {
            tool: json!({ "driver": {
                "name": "expert-cli",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/hivellm/expert",
                "rules": rules,
            }}),
            results: SarifResults(reports),
        }],
    }
}

/// Pretty JSON of `value` on stdout, written in pieces of about 1 MiB as it is serialised.
fn write_json(ui: &Ui, value: &impl Serialize) {
    let mut out = Pieces {
        ui,
        buf: Vec::with_capacity(PIECE + 4096),
    };
    // Writing into memory cannot fail, and the reports serialise without error.
    let _ = serde_json::to_writer_pretty(&mut out, value);
    out.buf.push(b'\n');
    out.emit();
}

/// Bytes for stdout, handed to `Ui::out` a piece at a time (cut after the last whole
/// character).
struct Pieces<'u> {
    ui: &'u Ui,
    buf: Vec<u8>,
}

impl Pieces<'_> {
    fn emit(&mut self) {
        let whole = match std::str::from_utf8(&self.buf) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.buf[..whole]).unwrap_or_default();
        self.ui.out(text);
        self.buf.drain(..whole);
    }
}

impl std::io::Write for Pieces<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PIECE {
            self.emit();
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub Actions workflow commands, one per diagnostic.
fn github(ui: &Ui, reports: &[PathReport]) {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(PIECE + 4096);
    for r in reports {
        let file = escape_property(&r.path);
        for d in &r.diagnostics.0 {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let _ = writeln!(
                out,
                "::{kind} file={file},line={},col={},title={}::{}",
                d.line,
                d.column,
                d.code,
                escape_data(&one_line(d))
            );
            if out.len() >= PIECE {
                ui.out(&out);
                out.clear();
            }
        }
    }
    ui.out(&out);
}

/// `/pointer: message (hint: …)` on one line; without the pointer when there is none.
fn one_line(d: &Diagnostic) -> String {
    let mut s = String::new();
    if !d.pointer.is_empty() {
        s.push_str(&d.pointer);
        s.push_str(": ");
    }
    s.push_str(&d.message);
    if let Some(h) = &d.hint {
        s.push_str(" (hint: ");
        s.push_str(h);
        s.push(')');
    }
    s
}

/// Escapes a workflow-command message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
