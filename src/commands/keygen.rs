//! `keygen`: an Ed25519 key pair for signing packages — private key PKCS#8 PEM (0600), public
//! key SPKI PEM beside it (`.pub`). Prints the key id and the command to run next.

use crate::cli::{Format, KeygenArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use expert_cli::signing::{self, KeyError};
use serde_json::json;

pub fn run(args: KeygenArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let info = signing::write_keypair(&args.output, args.name.as_deref(), args.force)
        .map_err(key_error)?;
    if ui.format == Format::Json {
        ui.json(&json!({
            "key_id": info.key_id,
            "private_key": info.private_path.display().to_string(),
            "public_key": info.public_path.display().to_string(),
            "public_key_hex": info.public_key.to_hex(),
            "name": args.name,
        }));
    } else {
        ui.status(
            "Created",
            &format!(
                "private key `{}` (keep it secret, mode 0600)",
                info.private_path.display()
            ),
        );
        ui.status(
            "Created",
            &format!("public key `{}` (share it)", info.public_path.display()),
        );
        ui.outln(&info.key_id);
        if !ui.quiet {
            eprintln!(
                "next: expert-cli sign --expert PACKAGE.expert --key {}\n      expert-cli verify --expert PACKAGE.expert --pubkey {}",
                info.private_path.display(),
                info.public_path.display()
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// The error for a key that cannot be read or written (shared with `sign` and `verify`).
pub fn key_error(e: KeyError) -> CliError {
    let text = e.to_string();
    match e {
        KeyError::Exists { path } => CliError::new(
            ExitStatus::Exists,
            format!("`{}` already exists", path.display()),
        )
        .hint("pass --force to replace it (the old key is lost), or choose another --output"),
        KeyError::Io { ref source, .. } => CliError::new(
            ExitStatus::Io,
            format!("{text}: {}", crate::error::io_reason(source)),
        ),
        _ => CliError::new(ExitStatus::Invalid, text),
    }
}
