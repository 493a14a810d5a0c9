//! `man [--output DIR]`: the man pages ([`crate::cli::man::pages`]). Without `--output`,
//! `expert-cli.1` goes to stdout; with it, `expert-cli.1` and one `expert-cli-COMMAND.1` per
//! command are written (atomically, `--force` to replace).

use crate::cli::ManArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;

pub fn run(args: ManArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let pages = crate::cli::man::pages().map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!(
                "cannot render the man page: {}",
                crate::error::io_reason(&e)
            ),
        )
    })?;
    let Some(dir) = &args.output else {
        let (_, main) = &pages[0];
        ui.out(&String::from_utf8_lossy(main));
        return Ok(ExitStatus::Success);
    };
    if !dir.is_dir() {
        return Err(CliError::new(
            ExitStatus::Io,
            format!("`{}` is not a folder", dir.display()),
        )
        .hint("create it first, e.g. `mkdir -p man/man1`"));
    }
    // Refuse before writing anything, so a refused run leaves no half-set of pages.
    if !args.force {
        for (name, _) in &pages {
            let path = dir.join(name);
            expert_cli::fs::check_output_free(&path, false)?;
        }
    }
    for (name, bytes) in &pages {
        let path = dir.join(name);
        super::write_atomically(&path, bytes, args.force)?;
        ui.outln(&path.display().to_string());
    }
    Ok(ExitStatus::Success)
}
