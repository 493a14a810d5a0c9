//! `sign`: the signed `integrity` section and `signature.sig` added to a package
//! (`expert_cli::signing::sign_package`), written through one guarded temporary file renamed
//! over the original; then the `.sha256` sidecar.

use crate::cli::SignArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{self, progress::Bar, Ui};
use expert_cli::archive::{self, Limits, WriteOptions};
use expert_cli::signing::{self, SignOptions};

pub fn run(args: SignArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let key = super::key_input::secret_key(args.key.as_deref(), args.key_env.as_deref())?;
    let path = &args.expert;
    let size = archive::open_package(path)
        .and_then(|f| f.metadata())
        .map_err(|e| CliError::io("read", path, &e))?
        .len();
    archive::check_sidecar_name(path)?;
    let opts = SignOptions {
        publisher: args.publisher,
        created_at: super::signing_time()?,
        write: WriteOptions {
            mtime: super::source_date_epoch()?,
            ..WriteOptions::default()
        },
        limits: Limits::default(),
    };
    let mut bar = Bar::new(ui.stderr_is_terminal() && size > 8 << 20);
    let report = expert_cli::archive::write_atomically(path, true, 0o644, |file| {
        let report = signing::sign_package(path, file, &key, &opts, &mut bar)?;
        // The old sidecar describes the old bytes: gone before the new file appears.
        let _ = std::fs::remove_file(archive::sidecar_path(path));
        Ok::<_, CliError>(report)
    })?;
    archive::write_sidecar(path, &report.sha256).map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!("the package was signed but its sidecar was not written: {e}"),
        )
    })?;
    // SEAM (#12.7, `sign --minisig`): the package is final here. Write `PACKAGE.minisig`
    // (minisign's prehashed format, trusted comment `report.trusted_comment()`) with the same
    // `key` through `expert_cli::archive::write_atomically(&minisig_path, true, 0o644, …)`.
    render::sign::report(ui, &report);
    Ok(ExitStatus::Success)
}
