//! `schema`: prints the manifest's JSON Schema, generated from the validator's tables.

use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;

pub fn run(ui: &Ui) -> Result<ExitStatus, CliError> {
    ui.json(&expert_cli::manifest::schema::json_schema());
    Ok(ExitStatus::Success)
}
