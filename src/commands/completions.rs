//! `completions SHELL`: the completion script ([`crate::cli::complete::script`]);
//! `completions --list-models MANIFEST`: the manifest's base models as `--model` takes them, one
//! a line (what the scripts call to complete `--model`).

use crate::cli::{complete, CompletionsArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use expert_cli::manifest;

pub fn run(args: CompletionsArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    if let Some(path) = &args.list_models {
        let (manifest, _) = manifest::load(path)?;
        for model in complete::models(&manifest) {
            ui.outln(&model);
        }
        return Ok(ExitStatus::Success);
    }
    let shell = args
        .shell
        .expect("clap requires SHELL when --list-models is absent");
    ui.out(&complete::script(shell));
    Ok(ExitStatus::Success)
}
