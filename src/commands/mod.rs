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
use expert_cli::archive::AtomicFile;

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
        _ => (
            format!(
                "`{command}` prints a script or a page: it takes only --format text, not {given}"
            ),
            "leave --format out".to_owned(),
        ),
    };
    Err(CliError::new(ExitStatus::Usage, message).hint(hint))
}

/// Prints a manifest's warnings on stderr (commands other than `validate` keep going).
fn print_warnings(
    ui: &Ui,
    path: &std::path::Path,
    diagnostics: &expert_cli::manifest::Diagnostics,
) {
    if ui.quiet {
        return;
    }
    for d in &diagnostics.0 {
        if d.severity == expert_cli::manifest::Severity::Warning {
            eprint!(
                "{}",
                crate::render::diagnostics::text_line(ui, &path.display().to_string(), d)
            );
        }
    }
}

/// The folder a manifest lives in: the expert folder its paths are relative to.
fn folder_of(manifest: &std::path::Path) -> std::path::PathBuf {
    match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
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

/// Writes a small file (a migrated manifest) through [`AtomicFile`]: nothing half-written, and
/// an existing file is kept unless `force`.
fn write_atomically(path: &std::path::Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    use std::io::Write;
    let mut file = AtomicFile::create(path, force).map_err(package::atomic_error)?;
    crate::interrupt::guard(file.temp_path());
    let temp = file.temp_path().to_owned();
    let result = file
        .write_all(bytes)
        .map_err(|e| CliError::io("write", path, &e))
        .and_then(|_| file.commit().map_err(package::atomic_error));
    crate::interrupt::forget(&temp);
    result
}
