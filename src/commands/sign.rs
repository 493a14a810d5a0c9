//! `sign`: adds `signature.sig` (the signed statement and its Ed25519 signature) to a package.
//! The key comes from a file or an environment variable (CI), never a prompt. Every other
//! member is copied byte for byte; the package is rewritten through a temporary file and
//! renamed, and its sidecar refreshed.

use crate::cli::{Format, SignArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::Ui;
use expert_cli::archive::inspect::{self, SIGNATURE_MEMBER};
use expert_cli::archive::{
    self, ArchiveWriter, AtomicFile, ContentKind, Limits, VisitError, WriteError, WriteOptions,
    MANIFEST_NAME,
};
use expert_cli::digest::HashingWriter;
use expert_cli::signing::{self, SecretKey, Statement};
use serde_json::json;

pub fn run(args: SignArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let key = secret_key(&args)?;
    let path = &args.expert;
    let open = || {
        archive::open_package(path)
            .map(std::io::BufReader::new)
            .map_err(|e| CliError::io("read", path, &e))
    };
    drop(open()?);
    super::package::check_sidecar_name(path)?;
    // First pass: check the package and hash every member.
    let package = inspect::inspect_package(open()?, &Limits::default());
    if let Some(d) = package.diagnostics.errors().next() {
        let at = if d.pointer.is_empty() {
            String::new()
        } else {
            format!("{}: ", d.pointer)
        };
        return Err(CliError::new(
            ExitStatus::Invalid,
            format!("`{}` cannot be signed: {at}{}", path.display(), d.message),
        )
        .hint(format!(
            "run `expert-cli validate {}` for the full report",
            path.display()
        )));
    }
    let Some(manifest) = &package.manifest else {
        return Err(CliError::new(
            ExitStatus::Invalid,
            format!("`{}` has no valid manifest", path.display()),
        ));
    };
    let members: Vec<(String, String)> = package
        .members
        .iter()
        .filter(|m| m.path != SIGNATURE_MEMBER)
        .map(|m| (m.path.clone(), m.sha256.clone()))
        .collect();
    let signed_at = match std::env::var(crate::env::SOURCE_DATE_EPOCH) {
        Ok(_) => super::source_date_epoch()?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let publisher = args
        .publisher
        .clone()
        .or_else(|| key.name().map(str::to_owned))
        .unwrap_or_else(|| key.key_id());
    let mut statement = Statement {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        base_model: manifest
            .base_models
            .first()
            .map(|b| b.name.clone())
            .unwrap_or_default(),
        signed_at: signing::format_signed_at(signed_at),
        publisher,
        key_id: key.key_id(),
        members: members.clone(),
    };
    statement.sort_members();
    let sigfile = signing::sign_statement(&key, &statement).map_err(|e| {
        CliError::new(
            ExitStatus::Invalid,
            format!("cannot sign `{}`: {e}", path.display()),
        )
    })?;
    let sig_bytes = sigfile.to_bytes();

    // Second pass: copy every member but an old signature, adding the new one in name order.
    let mut out = AtomicFile::create(path, true).map_err(super::package::atomic_error)?;
    crate::interrupt::guard(out.temp_path());
    let temp = out.temp_path().to_owned();
    let result = rewrite(open()?, &mut out, &sig_bytes).and_then(|(copied, digest)| {
        let now: Vec<(String, String)> = copied
            .iter()
            .filter(|m| m.path != SIGNATURE_MEMBER)
            .map(|m| (m.path.clone(), m.sha256.clone()))
            .collect();
        if now != members {
            return Err(CliError::new(
                ExitStatus::Invalid,
                format!("`{}` changed while it was being signed", path.display()),
            )
            .hint("run again when nothing else writes the file"));
        }
        Ok(digest)
    });
    let committed = result.and_then(|digest| {
        let _ = std::fs::remove_file(archive::sidecar_path(path));
        out.commit().map_err(super::package::atomic_error)?;
        Ok(digest)
    });
    crate::interrupt::forget(&temp);
    let digest = committed?;
    archive::write_sidecar(path, &digest).map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!("the package was signed but its sidecar was not written: {e}"),
        )
    })?;

    if ui.format == Format::Json {
        ui.json(&json!({
            "package": path.display().to_string(),
            "sha256": digest,
            "key_id": statement.key_id,
            "publisher": statement.publisher,
            "signed_at": statement.signed_at,
            "members": statement.members.len(),
        }));
    } else {
        ui.status(
            "Signed",
            &format!(
                "`{}` with key {} as {} ({} members)",
                path.display(),
                statement.key_id,
                statement.publisher,
                statement.members.len()
            ),
        );
        ui.outln(&format!("{digest}  {}", path.display()));
    }
    Ok(ExitStatus::Success)
}

fn secret_key(args: &SignArgs) -> Result<SecretKey, CliError> {
    match (&args.key, &args.key_env) {
        (Some(file), _) => signing::read_secret_key_file(file).map_err(super::keygen::key_error),
        (None, Some(var)) => {
            let value = std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    CliError::new(
                        ExitStatus::Usage,
                        format!("environment variable `{var}` is not set or empty"),
                    )
                    .hint("put the private key's PEM text in it, e.g. from a CI secret")
                })?;
            signing::read_secret_key(value.as_encoded_bytes()).map_err(|e| {
                CliError::new(
                    ExitStatus::Invalid,
                    format!("`{var}` does not hold a usable private key: {e}"),
                )
            })
        }
        (None, None) => Err(CliError::new(ExitStatus::Usage, "sign needs a key")
            .hint("pass --key FILE or --key-env VAR")),
    }
}

/// Copies the package into `out`, minus any old `signature.sig`, plus `sig` before the first
/// member that sorts after it (members after `manifest.json` are in byte order). Returns the
/// members copied and the SHA-256 of the new package, hashed as it is written (for the sidecar).
fn rewrite<R: std::io::Read>(
    input: R,
    out: &mut AtomicFile,
    sig: &[u8],
) -> Result<(Vec<archive::MemberInfo>, String), CliError> {
    let mtime = super::source_date_epoch()?;
    let mut writer = ArchiveWriter::new(
        HashingWriter::new(&mut *out),
        WriteOptions {
            mtime,
            ..WriteOptions::default()
        },
    )
    .map_err(write_error)?;
    let mut inserted = false;
    let add_sig =
        |w: &mut ArchiveWriter<HashingWriter<&mut AtomicFile>>| -> Result<(), WriteError> {
            w.append(
                SIGNATURE_MEMBER,
                sig.len() as u64,
                &mut &sig[..],
                ContentKind::Text,
            )
            .map(|_| ())
        };
    let copied = archive::visit(input, &Limits::default(), &mut |head, data| {
        if head.path == SIGNATURE_MEMBER {
            return Ok(());
        }
        if !inserted && head.path != MANIFEST_NAME && head.path.as_str() > SIGNATURE_MEMBER {
            add_sig(&mut writer)?;
            inserted = true;
        }
        writer
            .append(
                &head.path,
                head.size,
                data,
                ContentKind::for_path(&head.path),
            )
            .map(|_| ())
    })
    .map_err(|e| match e {
        VisitError::Member { source, .. } => write_error(source),
        other => CliError::new(
            ExitStatus::Invalid,
            format!("the package cannot be read: {other}"),
        ),
    })?;
    if !inserted {
        add_sig(&mut writer).map_err(write_error)?;
    }
    let (_, digest, _) = writer.finish().map_err(write_error)?.finish();
    Ok((copied, digest))
}

fn write_error(e: WriteError) -> CliError {
    CliError::new(
        ExitStatus::Io,
        format!("cannot write the signed package: {e}"),
    )
}
