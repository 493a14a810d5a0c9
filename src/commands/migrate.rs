//! `migrate --manifest v1.json [--output v2.json]`: schema 1.0 → 2.0, losslessly; the result is
//! validated before anything is written.

use crate::cli::MigrateArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use expert_cli::manifest::{self, migrate::MigrateError, Role};

pub fn run(args: MigrateArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let (m, _) = manifest::load(&args.manifest)?;
    let text = manifest::migrate::to_v2(&m.source, m.schema).map_err(|e| match e {
        MigrateError::AlreadyV2 => CliError::new(
            ExitStatus::Invalid,
            format!(
                "`{}` is already schema 2.0; nothing to migrate",
                args.manifest.display()
            ),
        ),
        other => CliError::new(
            ExitStatus::Invalid,
            format!("`{}`: {other}", args.manifest.display()),
        ),
    })?;
    let checked = manifest::check_bytes(text.as_bytes(), Role::Authored);
    if checked.manifest.is_none() {
        let mut err = CliError::new(
            ExitStatus::Invalid,
            format!(
                "the migrated form of `{}` does not validate; nothing was written",
                args.manifest.display()
            ),
        )
        .hint("please report this as a bug, with the manifest");
        err.diagnostics = Some(("<migrated>".to_owned(), checked.diagnostics));
        return Err(err);
    }
    match &args.output {
        None => ui.out(&text),
        Some(out) => {
            super::write_atomically(out, text.as_bytes(), args.force)?;
            ui.status(
                "Migrated",
                &format!(
                    "`{}` → `{}` (schema 2.0)",
                    args.manifest.display(),
                    out.display()
                ),
            );
        }
    }
    Ok(ExitStatus::Success)
}
