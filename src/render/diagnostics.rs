//! Diagnostics as text, JSON, SARIF 2.1.0 and GitHub workflow commands — four views of one
//! list of [`FileReport`]s.

use super::{Style, Ui};
use expert_cli::manifest::{Code, Diagnostic, Diagnostics, Severity};
use serde_json::{json, Value};

/// What `validate` found in one path.
pub struct FileReport {
    /// The path as given (for directories: the manifest inside).
    pub path: String,
    /// `manifest`, `directory` or `package`.
    pub kind: &'static str,
    /// `1.0` / `2.0` when known.
    pub schema: Option<&'static str>,
    /// The findings.
    pub diagnostics: Diagnostics,
}

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
pub fn render(ui: &Ui, reports: &[FileReport], strict: bool) {
    use crate::cli::Format;
    match ui.format {
        Format::Text => text(ui, reports, strict),
        Format::Json => ui.json(&json_report(reports, strict)),
        Format::Sarif => ui.json(&sarif(reports)),
        Format::Github => github(ui, reports),
    }
}

fn text(ui: &Ui, reports: &[FileReport], strict: bool) {
    // written in pieces of about 1 MiB: memory stays flat however many diagnostics there are
    const PIECE: usize = 1 << 20;
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
        eprintln!(
            "{verdict}: {}{schema}: {e} error{}, {w} warning{}",
            r.path,
            plural(e),
            plural(w)
        );
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
/// warnings, diagnostics: [...] } ] }`.
pub fn json_report(reports: &[FileReport], strict: bool) -> Value {
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "path": r.path,
                "kind": r.kind,
                "schema_version": r.schema,
                "valid": !r.diagnostics.fails(strict),
                "errors": r.diagnostics.count(Severity::Error),
                "warnings": r.diagnostics.count(Severity::Warning),
                "diagnostics": r.diagnostics,
            })
        })
        .collect();
    json!({ "valid": reports.iter().all(|r| !r.diagnostics.fails(strict)), "files": files })
}

/// SARIF 2.1.0 with one rule per diagnostic code.
pub fn sarif(reports: &[FileReport]) -> Value {
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
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.diagnostics.0.iter().map(move |d| {
                let text = one_line(d);
                json!({
                    "ruleId": d.code.as_str(),
                    "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                    "level": level(d.severity),
                    "message": { "text": text },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": r.path.replace('\\', "/") },
                            "region": { "startLine": d.line, "startColumn": d.column },
                        },
                        "logicalLocations": [{ "fullyQualifiedName": d.pointer, "kind": "member" }],
                    }],
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "expert-cli",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/hivellm/expert",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub Actions workflow commands, one per diagnostic.
fn github(ui: &Ui, reports: &[FileReport]) {
    let mut out = String::new();
    for r in reports {
        for d in &r.diagnostics.0 {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let msg = one_line(d);
            out.push_str(&format!(
                "::{kind} file={},line={},col={},title={}::{}\n",
                escape_property(&r.path),
                d.line,
                d.column,
                d.code,
                escape_data(&msg)
            ));
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
