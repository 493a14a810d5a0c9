//! `package`: flags → [`PackageOptions`] → [`archive::package`] → the report on screen.
//! What it does is in `archive::package`; how it looks is in `render::package`.

use crate::cli::PackageArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{package as view, Ui};
use expert_cli::archive::{self, PackageOptions};

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
