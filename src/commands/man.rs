//! `man [--output DIR]`: man pages generated from the clap tree (`src/cli/mod.rs`) with
//! clap_mangen. Without `--output`, `expert-cli.1` goes to stdout; with it, `expert-cli.1` and
//! one `expert-cli-COMMAND.1` per command are written (atomically, `--force` to replace).

use crate::cli::{Cli, ManArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use clap::CommandFactory;

pub fn run(args: ManArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let pages = pages()?;
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
            expert_cli::archive::check_output_free(&path, false)?;
        }
    }
    for (name, bytes) in &pages {
        let path = dir.join(name);
        super::write_atomically(&path, bytes, args.force)?;
        ui.outln(&path.display().to_string());
    }
    Ok(ExitStatus::Success)
}

/// `(file name, roff bytes)` for the main page, then one per visible command, in tree order.
fn pages() -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // `build` gives each subcommand its display name, `expert-cli-validate`.
    cmd.build();
    let mut pages = vec![render(cmd.clone())?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(render(sub.clone())?);
    }
    Ok(pages)
}

fn render(cmd: clap::Command) -> Result<(String, Vec<u8>), CliError> {
    let man = clap_mangen::Man::new(cmd);
    let mut bytes = Vec::new();
    man.render(&mut bytes).map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!(
                "cannot render the man page: {}",
                crate::error::io_reason(&e)
            ),
        )
    })?;
    Ok((man.get_filename(), bytes))
}
