//! `validate PATH…`: manifests, expert folders and packages; every problem of every path in
//! one run, as text, JSON, SARIF or GitHub annotations.
//!
//! A path that cannot be checked at all (a folder without manifest.json, a file that cannot be
//! read) is one more report with one diagnostic (E0004, E0005), so the other paths are still
//! checked and every format shows it; the exit code is the worst of all paths (I/O 7, then
//! invalid 1, then 0), as ripgrep does for the files it cannot read.

use crate::cli::ValidateArgs;
use crate::error::{io_reason, CliError};
use crate::exit::ExitStatus;
use crate::render::diagnostics::{render, FileReport};
use crate::render::Ui;
use expert_cli::archive::{validate, Limits, ReadMode};
use expert_cli::manifest::{self, Code, Diagnostic, Diagnostics, LoadError, Role, Severity};
use std::path::Path;

pub fn run(args: ValidateArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let reports: Vec<FileReport> = args.paths.iter().map(|p| validate_path(p)).collect();
    render(ui, &reports, args.strict);
    let unreadable = reports
        .iter()
        .any(|r| r.diagnostics.0.iter().any(|d| d.code == Code::Unreadable));
    Ok(if unreadable {
        ExitStatus::Io
    } else if reports.iter().any(|r| r.diagnostics.fails(args.strict)) {
        ExitStatus::Invalid
    } else {
        ExitStatus::Success
    })
}

/// A report whose one diagnostic is about the path itself.
fn path_problem(
    path: &Path,
    kind: &'static str,
    code: Code,
    message: String,
    hint: &str,
) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        kind,
        schema: None,
        diagnostics: Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            code,
            pointer: String::new(),
            line: 1,
            column: 1,
            message,
            hint: Some(hint.to_owned()),
        }]),
    }
}

fn unreadable(path: &Path, kind: &'static str, e: &std::io::Error) -> FileReport {
    path_problem(
        path,
        kind,
        Code::Unreadable,
        format!("cannot read `{}`: {}", path.display(), io_reason(e)),
        "pass a manifest file, an expert folder or a .expert package",
    )
}

fn validate_path(path: &Path) -> FileReport {
    let is_package = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("expert"));
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let kind = if is_package { "package" } else { "manifest" };
            return unreadable(path, kind, &e);
        }
    };
    if meta.is_dir() {
        let file = path.join("manifest.json");
        if std::fs::symlink_metadata(&file).is_err() {
            return path_problem(
                path,
                "directory",
                Code::NoManifest,
                format!("`{}` has no manifest.json", path.display()),
                "pass the expert folder, the manifest file or a .expert package",
            );
        }
        let (checked, schema) = validate::validate_folder(&file);
        return FileReport {
            path: file.display().to_string(),
            kind: "directory",
            schema,
            diagnostics: checked.diagnostics,
        };
    }
    if is_package {
        let file = match expert_cli::archive::open_package(path) {
            Ok(f) => f,
            Err(e) => return unreadable(path, "package", &e),
        };
        // Lenient: a package from another tool is read and explained (E0705), not just refused.
        let report = validate::validate_package_in(
            ReadMode::Lenient,
            std::io::BufReader::new(file),
            &Limits::default(),
        );
        let schema = report.manifest.as_ref().map(|m| m.schema.as_str());
        return FileReport {
            path: path.display().to_string(),
            kind: "package",
            schema,
            diagnostics: report.diagnostics,
        };
    }
    manifest_report(path)
}

fn manifest_report(path: &Path) -> FileReport {
    let display = path.display().to_string();
    let bytes = match manifest::read(path) {
        Ok(b) => b,
        Err(LoadError::Io { path, source }) => return unreadable(&path, "manifest", &source),
        Err(e) => {
            let d = Diagnostic {
                severity: Severity::Error,
                code: Code::Syntax,
                pointer: String::new(),
                line: 1,
                column: 1,
                message: e.to_string(),
                hint: None,
            };
            return FileReport {
                path: display,
                kind: "manifest",
                schema: None,
                diagnostics: Diagnostics(vec![d]),
            };
        }
    };
    let checked = manifest::check_bytes(&bytes, Role::Authored);
    let schema = checked.manifest.as_ref().map(|m| m.schema.as_str());
    FileReport {
        path: display,
        kind: "manifest",
        schema,
        diagnostics: checked.diagnostics,
    }
}
