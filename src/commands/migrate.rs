//! `migrate --manifest v1.json [--output v2.json]`: schema 1.0 → 2.0, losslessly. Any 1.0
//! manifest that is JSON migrates; what `validate` says about the result is reported with it.

use crate::cli::MigrateArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::migrate::{render, MigrateReport};
use crate::render::Ui;
use expert_cli::manifest::{self, migrate::MigrateError};

pub fn run(args: MigrateArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let shown = args.manifest.display().to_string();
    let bytes = manifest::read(&args.manifest)?;
    let migrated = manifest::migrate::migrate(&bytes).map_err(|e| match e {
        MigrateError::AlreadyV2 => CliError::new(
            ExitStatus::Invalid,
            format!("`{shown}` is already schema 2.0; nothing to migrate"),
        ),
        MigrateError::NoBaseModel => CliError::new(
            ExitStatus::Invalid,
            format!("`{shown}` has no `base_model` object to migrate"),
        )
        .hint("a schema 1.0 manifest names its base model in a `base_model` object"),
        MigrateError::NotJson(diagnostics) => {
            let mut err = CliError::new(
                ExitStatus::Invalid,
                format!("`{shown}` is not valid JSON; nothing was migrated"),
            )
            .hint(format!(
                "fix the JSON, then run `expert-cli validate {shown}`"
            ));
            err.diagnostics = Some((shown.clone(), diagnostics));
            err
        }
    })?;
    if let Some(out) = &args.output {
        super::write_atomically(out, migrated.text.as_bytes(), args.force)?;
    }
    let report = MigrateReport {
        input: shown,
        output: args.output.as_ref().map(|p| p.display().to_string()),
        text: migrated.text,
        diagnostics: migrated.diagnostics,
    };
    render(ui, &report);
    Ok(ExitStatus::Success)
}
