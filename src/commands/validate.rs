//! `validate PATH…`: manifests, expert folders and packages; every problem of every path in
//! one run, as text, JSON, SARIF or GitHub annotations.

use crate::cli::ValidateArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::diagnostics::{render, FileReport};
use crate::render::Ui;
use expert_cli::archive::{inspect, Limits, ReadMode};
use expert_cli::manifest::{self, Code, Diagnostic, Diagnostics, LoadError, Role, Severity};
use std::path::Path;

pub fn run(args: ValidateArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let mut reports = Vec::new();
    for path in &args.paths {
        reports.push(validate_path(path)?);
    }
    render(ui, &reports, args.strict);
    if reports.iter().any(|r| r.diagnostics.fails(args.strict)) {
        Ok(ExitStatus::Invalid)
    } else {
        Ok(ExitStatus::Success)
    }
}

fn validate_path(path: &Path) -> Result<FileReport, CliError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        CliError::io("read", path, &e)
            .hint("pass a manifest file, an expert folder or a .expert package")
    })?;
    let is_package = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("expert"));
    if meta.is_dir() {
        let file = path.join("manifest.json");
        if std::fs::symlink_metadata(&file).is_err() {
            return Err(CliError::new(
                ExitStatus::Invalid,
                format!("`{}` has no manifest.json", path.display()),
            )
            .hint("pass the expert folder, the manifest file or a .expert package"));
        }
        let (checked, schema) = inspect::inspect_folder(&file);
        return Ok(FileReport {
            path: file.display().to_string(),
            kind: "directory",
            schema,
            diagnostics: checked.diagnostics,
        });
    }
    if is_package {
        let file =
            expert_cli::archive::open_package(path).map_err(|e| CliError::io("read", path, &e))?;
        // Lenient: a package from another tool is read and explained (E0704), not just refused.
        let report = inspect::inspect_package_in(
            ReadMode::Lenient,
            std::io::BufReader::new(file),
            &Limits::default(),
        );
        let schema = report.manifest.as_ref().map(|m| m.schema.as_str());
        return Ok(FileReport {
            path: path.display().to_string(),
            kind: "package",
            schema,
            diagnostics: report.diagnostics,
        });
    }
    manifest_report(path)
}

fn manifest_report(path: &Path) -> Result<FileReport, CliError> {
    let display = path.display().to_string();
    let bytes = match manifest::read(path) {
        Ok(b) => b,
        Err(LoadError::Io { path, source }) => return Err(CliError::io("read", &path, &source)),
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
            return Ok(FileReport {
                path: display,
                kind: "manifest",
                schema: None,
                diagnostics: Diagnostics(vec![d]),
            });
        }
    };
    let checked = manifest::check_bytes(&bytes, Role::Authored);
    let schema = checked.manifest.as_ref().map(|m| m.schema.as_str());
    Ok(FileReport {
        path: display,
        kind: "manifest",
        schema,
        diagnostics: checked.diagnostics,
    })
}
