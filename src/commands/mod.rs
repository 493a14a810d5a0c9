//! One match over the commands; each command file holds that command's whole story.

mod completions;
mod key_input;
mod keygen;
mod man;
mod migrate;
mod package;
mod schema;
mod sign;
mod train;
mod validate;
mod verify;

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
        Command::Package(args) => package::run(args, ui),
        Command::Keygen(args) => keygen::run(args, ui),
        Command::Sign(args) => sign::run(args, ui),
        Command::Verify(args) => verify::run(args, ui),
        Command::Train(args) => train::run(args, ui),
        Command::Completions(args) => completions::run(args, ui),
        Command::Man(args) => man::run(args, ui),
    }
}

/// `SOURCE_DATE_EPOCH`, or the archive default, for member mtimes and `created_at`.
fn source_date_epoch() -> Result<u64, CliError> {
    match std::env::var(crate::env::SOURCE_DATE_EPOCH) {
        Err(_) => Ok(expert_cli::archive::DEFAULT_MTIME),
        Ok(v) => v.trim().parse::<u64>().map_err(|_| {
            CliError::new(
                ExitStatus::Usage,
                format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds"),
            )
            .hint("set it to a Unix time such as 1700000000, or unset it")
        }),
    }
}

/// The signing time: `SOURCE_DATE_EPOCH` when set (reproducible signing), else now.
fn signing_time() -> Result<u64, CliError> {
    match std::env::var_os(crate::env::SOURCE_DATE_EPOCH) {
        Some(_) => source_date_epoch(),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| {
                CliError::new(ExitStatus::Usage, "the system clock is before 1970")
                    .hint("set SOURCE_DATE_EPOCH to the signing time in seconds")
            }),
    }
}

/// Writes a small file (a migrated manifest, a man page, a training plan) through the one
/// guarded-commit helper, [`expert_cli::archive::write_atomically`]: nothing half-written, not
/// even on Ctrl-C, and an existing file is kept unless `force`.
fn write_atomically(path: &std::path::Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    use std::io::Write;
    expert_cli::archive::write_atomically(path, force, 0o644, |file| {
        file.write_all(bytes)
            .map_err(|e| CliError::io("write", path, &e))
    })
}
