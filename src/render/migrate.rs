//! What `migrate` says: the 2.0 manifest on stdout (without `--output`), or a status line
//! (text) or a JSON result (`--format json`) when it was written to a file; the diagnostics
//! of the migrated manifest go to stderr in text form.

use super::diagnostics::text_line;
use super::Ui;
use crate::cli::Format;
use expert_cli::manifest::{Diagnostics, Severity};
use serde_json::json;

/// The outcome of one `migrate`.
pub struct MigrateReport {
    /// The 1.0 manifest, as given.
    pub input: String,
    /// Where the 2.0 manifest was written; `None`: stdout.
    pub output: Option<String>,
    /// The 2.0 manifest.
    pub text: String,
    /// What `validate` says about it.
    pub diagnostics: Diagnostics,
}

/// Renders `report` in `ui.format`.
pub fn render(ui: &Ui, report: &MigrateReport) {
    match (&report.output, ui.format) {
        (None, _) => {
            ui.out(&report.text);
            diagnostics(ui, "<stdout>", report);
        }
        (Some(out), Format::Json) => ui.json(&json!({
            "input": report.input,
            "output": out,
            "schema_version": "2.0",
            "written": true,
            "valid": !report.diagnostics.fails(false),
            "errors": report.diagnostics.count(Severity::Error),
            "warnings": report.diagnostics.count(Severity::Warning),
            "diagnostics": report.diagnostics,
        })),
        (Some(out), _) => {
            diagnostics(ui, out, report);
            ui.status(
                "Migrated",
                &format!("`{}` → `{out}` (schema 2.0)", report.input),
            );
        }
    }
}

/// The migrated manifest's errors and warnings (notes with `-v`) on stderr, with a last line
/// saying that they were written anyway.
fn diagnostics(ui: &Ui, path: &str, report: &MigrateReport) {
    if ui.quiet {
        return;
    }
    let mut shown = 0;
    for d in &report.diagnostics.0 {
        if d.severity == Severity::Note && !ui.verbose {
            continue;
        }
        ui.err(&text_line(ui, path, d));
        shown += 1;
    }
    let errors = report.diagnostics.count(Severity::Error);
    if errors > 0 {
        ui.warn(&format!(
            "the migrated manifest has {errors} error{} (written all the same: migrating changes only the shape); `expert-cli validate` reports {}",
            if errors == 1 { "" } else { "s" },
            if errors == 1 { "it" } else { "them" }
        ));
    } else if shown > 0 {
        ui.note("the migrated manifest was written with the warnings above");
    }
}
