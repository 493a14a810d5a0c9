//! `validate PATH…`: manifests, expert folders and packages; every problem of every path in
//! one run, as text, JSON, SARIF or GitHub annotations.
//!
//! A path that cannot be checked at all (a folder without manifest.json, a file that cannot be
//! read) is one more report with one diagnostic (E0004, E0005), so the other paths are still
//! checked and every format shows it; the exit code is the worst of all paths (I/O 7, then
//! invalid 1, then 0), as ripgrep does for the files it cannot read.

use crate::cli::ValidateArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::diagnostics::render;
use crate::render::Ui;
use expert_cli::archive::validate::{validate_path, PathReport};

pub fn run(args: ValidateArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let reports: Vec<PathReport> = args.paths.iter().map(|p| validate_path(p)).collect();
    render(ui, &reports, args.strict);
    Ok(if reports.iter().any(PathReport::unreadable) {
        ExitStatus::Io
    } else if reports.iter().any(|r| r.diagnostics.fails(args.strict)) {
        ExitStatus::Invalid
    } else {
        ExitStatus::Success
    })
}
