//! `package`: flags → [`PackageOptions`] → [`archive::package`] → the report on screen.
//! What it does is in `archive::package`; how it looks is in `render::package`.

use crate::cli::PackageArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{package as view, Ui};
use expert_cli::archive::{self, AtomicError, PackageOptions};
use std::path::Path;

pub fn run(args: PackageArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let opts = PackageOptions {
        model: args.model,
        weights: args.weights,
        output: args.output,
        force: args.force,
        include_tests: args.include_tests,
        include_pickle: args.include_pickle,
        list_contents: args.list_contents,
        created_at: super::source_date_epoch()?,
        level: args.compression_level,
    };
    let mut events = view::PackageUi::new(ui, &args.manifest, args.list_contents);
    let report = archive::package(&args.manifest, &opts, &mut events)?;
    view::render(ui, &report);
    Ok(ExitStatus::Success)
}

/// The error for a refused or failed atomic write (kept for `sign` and `man`; the mapping
/// itself is `From<AtomicError> for CliError` in error.rs).
pub fn atomic_error(e: AtomicError) -> CliError {
    e.into()
}

/// Refuses, before anything is written, an output whose name the `.sha256` sidecar cannot hold
/// (kept for `sign`; the mapping is in error.rs).
pub fn check_sidecar_name(output: &Path) -> Result<(), CliError> {
    Ok(archive::check_sidecar_name(output)?)
}
