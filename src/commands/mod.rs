//! One match over the commands; each command file holds that command's whole story.

mod migrate;
mod schema;
mod train;
mod validate;

use crate::cli::{Cli, Command, Format};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;

/// Runs the parsed command line.
pub fn run(cli: Cli, ui: &Ui) -> Result<ExitStatus, CliError> {
    let only_validate = matches!(ui.format, Format::Sarif | Format::Github);
    if only_validate && !matches!(cli.command, Command::Validate(_)) {
        return Err(CliError::new(
            ExitStatus::Usage,
            "--format sarif and --format github are only for `validate`",
        )
        .hint("use --format text or --format json"));
    }
    match cli.command {
        Command::Validate(args) => validate::run(args, ui),
        Command::Migrate(args) => migrate::run(args, ui),
        Command::Schema => schema::run(ui),
        Command::Package(_) => not_yet("package"),
        Command::Keygen(_) => not_yet("keygen"),
        Command::Sign(_) => not_yet("sign"),
        Command::Verify(_) => not_yet("verify"),
        Command::Train(args) => train::run(args, ui),
    }
}

fn not_yet(name: &str) -> Result<ExitStatus, CliError> {
    Err(CliError::new(
        ExitStatus::NotImplemented,
        format!("`{name}` is not yet implemented in this version"),
    )
    .hint("see CHANGELOG.md for what this version does"))
}
