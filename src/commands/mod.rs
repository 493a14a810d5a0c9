//! One match over the commands; each command file holds that command's whole story.

mod completions;
mod keygen;
mod man;
mod migrate;
mod package;
mod python;
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
    check_format(name(&cli.command), ui.format)?;
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

/// The command's name, as typed.
fn name(command: &Command) -> &'static str {
    match command {
        Command::Validate(_) => "validate",
        Command::Migrate(_) => "migrate",
        Command::Schema => "schema",
        Command::Package(_) => "package",
        Command::Keygen(_) => "keygen",
        Command::Sign(_) => "sign",
        Command::Verify(_) => "verify",
        Command::Train(_) => "train",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
    }
}

/// A `--format` given before the command is checked here; after it, clap only offers the
/// command's own values ([`crate::cli::formats`]).
fn check_format(command: &str, format: Format) -> Result<(), CliError> {
    let takes = crate::cli::formats(command);
    if takes.contains(&format) {
        return Ok(());
    }
    let given = format.to_possible_value_name();
    let list: Vec<&str> = takes.iter().map(|f| f.to_possible_value_name()).collect();
    let (message, hint) = match (format, takes.len()) {
        (Format::Sarif | Format::Github, 1) => (
            format!(
                "--format {given} is only for `validate`; `{command}` takes only --format text"
            ),
            "leave --format out: this command prints a script or a page".to_owned(),
        ),
        (Format::Sarif | Format::Github, _) => (
            format!(
                "--format {given} is only for `validate`; `{command}` takes --format {}",
                list.join(" or ")
            ),
            format!("use --format {}", list.join(" or ")),
        ),
        (Format::Text | Format::Json, _) => (
            format!(
                "`{command}` prints a script or a page: it takes only --format text, not {given}"
            ),
            "leave --format out".to_owned(),
        ),
    };
    Err(CliError::new(ExitStatus::Usage, message).hint(hint))
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
/// guarded-commit helper, [`expert_cli::fs::write_atomically`]: nothing half-written, not
/// even on Ctrl-C, and an existing file is kept unless `force`.
fn write_atomically(path: &std::path::Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    use std::io::Write;
    expert_cli::fs::write_atomically(path, force, 0o644, |file| {
        file.write_all(bytes)
            .map_err(|e| CliError::io("write", path, &e))
    })
}
