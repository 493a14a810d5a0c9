//! `keygen`: an Ed25519 key pair for signing packages — private key PKCS#8 PEM (0600, encrypted
//! with a passphrase under `--encrypt`), public key SPKI PEM beside it (`.pub`) and the same
//! public key for stock minisign (`.minisign.pub`). Prints the key id and the commands to run
//! next.

use crate::cli::{Format, KeygenArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::key_input::{self, Confirm};
use crate::render::Ui;
use expert_cli::signing::{self, KeyFileOptions, SecretKey};
use serde_json::json;

pub fn run(args: KeygenArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let passphrase = if args.encrypt {
        // Refuse an unusable or existing output before asking for anything.
        signing::check_key_outputs(&args.output, args.force)?;
        let what = format!("the new key `{}`", args.output.display());
        Some(key_input::passphrase(&what, Confirm::Twice)?)
    } else {
        None
    };
    let info = signing::write_key_files(
        &SecretKey::generate(),
        &args.output,
        &KeyFileOptions {
            name: args.name.as_deref(),
            force: args.force,
            passphrase: passphrase.as_ref().map(|p| p.as_slice()),
        },
    )?;
    if ui.format == Format::Json {
        ui.json(&json!({
            "key_id": info.key_id,
            "private_key": info.private_path.display().to_string(),
            "public_key": info.public_path.display().to_string(),
            "minisign_public_key": info.minisign_public_path.display().to_string(),
            "public_key_hex": info.public_key.to_hex(),
            "encrypted": info.encrypted,
            "name": args.name,
        }));
    } else {
        let protection = if info.encrypted {
            "encrypted with your passphrase"
        } else {
            "not encrypted"
        };
        ui.status(
            "Created",
            &format!(
                "private key `{}` (keep it secret, mode 0600, {protection})",
                info.private_path.display()
            ),
        );
        ui.status(
            "Created",
            &format!("public key `{}` (share it)", info.public_path.display()),
        );
        ui.status(
            "Created",
            &format!(
                "minisign public key `{}` (the same key, for `minisign -V`)",
                info.minisign_public_path.display()
            ),
        );
        ui.outln(&info.key_id);
        if !ui.quiet {
            ui.err(&format!(
                "next: expert-cli sign --expert PACKAGE.expert --key {}\n      expert-cli verify --expert PACKAGE.expert --pubkey {}\n      minisign -V -p {} -m PACKAGE.expert   (checks PACKAGE.expert.minisig from `sign --minisig`)\n",
                info.private_path.display(),
                info.public_path.display(),
                info.minisign_public_path.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}
