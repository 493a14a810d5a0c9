//! `completions SHELL`: a completion script generated from the clap tree (`src/cli/mod.rs`), so
//! it always knows every command and flag of this binary.

use crate::cli::{Cli, CompletionsArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use clap::CommandFactory;

pub fn run(args: CompletionsArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "expert-cli", &mut script);
    ui.out(&String::from_utf8_lossy(&script));
    Ok(ExitStatus::Success)
}
