//! `verify`: reads a package once, recomputes every digest, and checks `signature.sig` against
//! trusted public keys only — never a key found inside the package. Four outcomes, four exit
//! codes: verified 0, untrusted 3, unsigned 4, invalid 5.

use crate::cli::{Format, VerifyArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{Style, Ui};
use expert_cli::archive::{inspect, Limits};
use expert_cli::manifest::Severity;
use expert_cli::signing::{self, ManifestFacts, Outcome, TrustedKeys};
use serde_json::json;

pub fn run(args: VerifyArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let trusted = trusted_keys(&args, ui)?;
    let file = expert_cli::archive::open_package(&args.expert)
        .map_err(|e| CliError::io("read", &args.expert, &e))?;
    let package = inspect::inspect_package(std::io::BufReader::new(file), &Limits::default());
    let first_error = package.diagnostics.errors().next().map(|d| {
        if d.pointer.is_empty() {
            d.message.clone()
        } else {
            format!("{}: {}", d.pointer, d.message)
        }
    });
    let facts = package.manifest.as_ref().map(|m| ManifestFacts {
        name: m.name.clone(),
        version: m.version.clone(),
        base_model: m
            .base_models
            .first()
            .map(|b| b.name.clone())
            .unwrap_or_default(),
    });
    let members: Vec<(String, String)> = package
        .members
        .iter()
        .map(|m| (m.path.clone(), m.sha256.clone()))
        .collect();

    // An unreadable package or one whose manifest and members disagree is invalid whatever its
    // signature says; otherwise the signature decides.
    let (kind, reason, key_id, key_source, statement) = match (&facts, &first_error) {
        (Some(facts), None) => {
            let r = signing::report(package.signature.as_deref(), &members, facts, &trusted);
            let statement = r.statement.clone();
            match r.outcome {
                Outcome::Verified { key_id, key_source } => {
                    ("verified", None, Some(key_id), Some(key_source), statement)
                }
                Outcome::Untrusted { key_id } => ("untrusted", None, Some(key_id), None, statement),
                Outcome::Unsigned => ("unsigned", None, None, None, statement),
                Outcome::Invalid { reason } => {
                    let key = statement.as_ref().map(|s| s.key_id.clone());
                    ("invalid", Some(reason.to_string()), key, None, statement)
                }
                _ => (
                    "invalid",
                    Some("unknown outcome".to_owned()),
                    None,
                    None,
                    statement,
                ),
            }
        }
        (_, Some(problem)) => ("invalid", Some(problem.clone()), None, None, None),
        (None, None) => (
            "invalid",
            Some("the packaged manifest is not valid".to_owned()),
            None,
            None,
            None,
        ),
    };
    let status = match kind {
        "verified" => ExitStatus::Success,
        "untrusted" => ExitStatus::Untrusted,
        "unsigned" => ExitStatus::Unsigned,
        _ => ExitStatus::BadSignature,
    };
    let path = args.expert.display().to_string();
    if ui.format == Format::Json {
        ui.json(&json!({
            "package": path,
            "outcome": kind,
            "exit_code": status.code(),
            "reason": reason,
            "key_id": key_id,
            "trusted_key": key_source.map(|p| p.display().to_string()),
            "statement": statement.as_ref().map(|s| json!({
                "name": s.name,
                "version": s.version,
                "base_model": s.base_model,
                "signed_at": s.signed_at,
                "publisher": s.publisher,
                "key_id": s.key_id,
                "members": s.members.iter().map(|(p, d)| json!({"path": p, "sha256": d})).collect::<Vec<_>>(),
            })),
            "members": package.members.iter().map(|m| json!({"path": m.path, "size": m.size, "sha256": m.sha256})).collect::<Vec<_>>(),
            "problems": package.diagnostics.0.iter().filter(|d| d.severity == Severity::Error).collect::<Vec<_>>(),
        }));
        return Ok(status);
    }
    let by = statement
        .as_ref()
        .map(|s| format!(" by {} ({}), signed {}", s.publisher, s.key_id, s.signed_at))
        .unwrap_or_default();
    let claimed = statement
        .as_ref()
        .map(|s| {
            format!(
                " (claims publisher {}, signed {})",
                s.publisher, s.signed_at
            )
        })
        .unwrap_or_default();
    match kind {
        "verified" => {
            let source = key_source
                .map(|p| format!(" with trusted key `{}`", p.display()))
                .unwrap_or_default();
            ui.outln(&format!(
                "{}: `{path}`{by}{source}",
                ui.paint_out(Style::Green, "verified")
            ));
        }
        "untrusted" => {
            ui.outln(&format!(
                "{}: `{path}` is signed by key {}{claimed}, which is not among the trusted keys",
                ui.paint_out(Style::Yellow, "untrusted"),
                key_id.unwrap_or_default()
            ));
            hint(ui, "if you trust this publisher, get their public key through another channel and pass it with --pubkey");
        }
        "unsigned" => {
            ui.outln(&format!(
                "{}: `{path}` has no signature.sig",
                ui.paint_out(Style::Yellow, "unsigned")
            ));
            hint(ui, "sign it with `expert-cli sign --expert FILE --key KEY`");
        }
        _ => {
            let key = key_id.map(|k| format!(" (key {k})")).unwrap_or_default();
            ui.outln(&format!(
                "{}: `{path}`{key}: {}",
                ui.paint_out(Style::Red, "invalid"),
                reason.unwrap_or_default()
            ));
            hint(
                ui,
                "do not use this package: it differs from what was signed or packaged",
            );
        }
    }
    Ok(status)
}

fn hint(ui: &Ui, text: &str) {
    if !ui.quiet {
        eprintln!("{}: {text}", ui.paint_err(Style::Cyan, "hint"));
    }
}

fn trusted_keys(args: &VerifyArgs, ui: &Ui) -> Result<TrustedKeys, CliError> {
    if args.pubkey.is_empty() && args.trusted_keys.is_none() {
        return Err(CliError::new(ExitStatus::Usage, "verify needs the keys to trust: none was given")
            .hint("pass --pubkey publisher.pub (repeatable) or --trusted-keys DIR; keys inside a package are never trusted"));
    }
    let mut trusted = TrustedKeys::new();
    for p in &args.pubkey {
        trusted.add_file(p).map_err(trust_error)?;
    }
    if let Some(dir) = &args.trusted_keys {
        let skipped = trusted.add_dir(dir).map_err(trust_error)?;
        for s in skipped {
            // `SkippedEntry`'s Display is the sentence; its reason's Debug form is not for users.
            ui.warn(&format!("{s} (in the trusted keys)"));
        }
    }
    if trusted.is_empty() {
        return Err(CliError::new(
            ExitStatus::Usage,
            "no trusted key was found in the given keys",
        )
        .hint("a --trusted-keys folder holds public keys named *.pub"));
    }
    Ok(trusted)
}

fn trust_error(e: signing::TrustError) -> CliError {
    match e {
        signing::TrustError::Key(k) => super::keygen::key_error(k),
        signing::TrustError::Io { ref source, .. } => CliError::new(
            ExitStatus::Io,
            format!("{e}: {}", crate::error::io_reason(source)),
        )
        .hint("--trusted-keys takes a folder of *.pub files; pass a single key with --pubkey"),
        other => CliError::new(ExitStatus::Io, other.to_string()),
    }
}
