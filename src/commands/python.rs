//! Before `train` starts the embedded Python (#12.1): check that it can start — the version of
//! the virtual environment, a standard library where it will be looked for — and tell it where
//! that library is. CPython ends the whole process when it finds none, so this runs first.

use crate::error::CliError;
use crate::render::Ui;
use expert_cli::train::interpreter;
use std::path::{Path, PathBuf};

/// Checks the embedded interpreter against `venv` and sets `PYTHONHOME` for it. Nothing to do
/// in a binary without the trainer (`train` then says so).
pub fn prepare(venv: Option<&Path>, ui: &Ui) -> Result<(), CliError> {
    let Some(embedded) = interpreter::EMBEDDED else {
        return Ok(());
    };
    let user_home = std::env::var_os(crate::env::PYTHONHOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let home = interpreter::locate(embedded, venv, user_home.as_deref())?;
    ui.note(&format!(
        "Python {}: standard library in {} ({})",
        embedded.version,
        home.path.display(),
        home.source
    ));
    // Another installation of the same version may compile other modules into its interpreter
    // (Debian's has `math` and `zlib` built in, pyenv's loads them from lib-dynload).
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if !same(&home.path, Path::new(embedded.prefix)) {
        ui.warn(&format!(
            "the standard library comes from {}, not from {} where this expert-cli's Python {} was built; if an import fails, make the environment with {}/bin/python{}",
            home.path.display(),
            embedded.prefix,
            embedded.version,
            embedded.prefix,
            embedded.minor()
        ));
    }
    // Python reads it when it starts, on the trainer thread, after this returns; no other
    // thread reads the environment meanwhile.
    std::env::set_var(crate::env::PYTHONHOME, &home.path);
    Ok(())
}
