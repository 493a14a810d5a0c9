//! `sign`: the signed `integrity` section and `signature.sig` added to a package
//! (`expert_cli::signing::sign_package`), written through one guarded temporary file renamed
//! over the original; then the `.sha256` sidecar; with `--minisig` then `PACKAGE.minisig`.

use crate::cli::SignArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{self, progress::Bar, Ui};
use expert_cli::archive::{self, Limits, WriteOptions};
use expert_cli::signing::{self, SignOptions};
use std::io::Write;

pub fn run(args: SignArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let key = crate::key_input::secret_key(args.key.as_deref(), args.key_env.as_deref())?;
    let path = args
        .package
        .as_deref()
        .or(args.expert.as_deref())
        .expect("clap requires PACKAGE or --expert");
    let size = archive::open_package(path)
        .and_then(|f| f.metadata())
        .map_err(|e| CliError::io("read", path, &e))?
        .len();
    archive::check_sidecar_name(path)?;
    let write = WriteOptions::default();
    let opts = SignOptions {
        publisher: args.publisher,
        created_at: super::signing_time()?,
        level: write.level,
        threads: write.threads,
        limits: Limits::default(),
        minisig: args.minisig,
    };
    let minisig_path = signing::minisig_path(path);
    let mut bar = Bar::new(ui.stderr_is_terminal() && size > 8 << 20);
    let (report, removed_minisig) = expert_cli::fs::write_atomically(path, true, 0o644, |file| {
        let report = signing::sign_package(path, file, &key, &opts, &mut bar)?;
        // The old sidecar and detached signature describe the old bytes: gone before the new
        // file appears. A `.minisig` that cannot be removed stops the signing (it would stay
        // beside bytes it does not match); the sidecar is rewritten just after anyway.
        let _ = std::fs::remove_file(archive::sidecar_path(path));
        let removed = match std::fs::remove_file(&minisig_path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(CliError::io("remove the earlier", &minisig_path, &e)
                    .hint("remove it yourself, or sign a copy of the package elsewhere"))
            }
        };
        Ok::<_, CliError>((report, removed))
    })?;
    archive::write_sidecar(path, &report.sha256).map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!("the package was signed but its sidecar was not written: {e}"),
        )
    })?;
    // The package and its sidecar are final: now the detached signature of those bytes.
    if let Some(minisig) = &report.minisig {
        expert_cli::fs::write_atomically(&minisig_path, true, 0o644, |file| {
            file.write_all(minisig.text.as_bytes())
                .map_err(|e| CliError::io("write", &minisig_path, &e))
        })
        .map_err(|e| {
            CliError::new(
                ExitStatus::Io,
                format!(
                    "the package was signed but its detached signature was not written: {}",
                    e.message
                ),
            )
            .hint("run `expert-cli sign --minisig` again once the folder is writable")
        })?;
    }
    let removed_stale = removed_minisig && report.minisig.is_none();
    render::sign::report(ui, &report, removed_stale);
    Ok(ExitStatus::Success)
}
