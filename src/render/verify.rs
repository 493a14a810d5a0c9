//! `verify`'s result: one line naming the outcome, the expert, its base model, the publisher,
//! the key and the signing time (stdout), then warnings and a hint (stderr); or the
//! [`VerifyReport`] as JSON with the exit code and where the trusted keys came from.

use super::{Style, Ui};
use crate::cli::Format;
use crate::exit::ExitStatus;
use expert_cli::signing::{
    display_name as shown, Check, DetachedStatus, ExpertFacts, Outcome, Reason, SigFileError,
    Signer, SkippedEntry, TrustOrigin, TrustSources, VerifyReport,
};
use serde::Serialize;

/// Where the trusted keys came from, and how many there are.
pub struct Trust<'a> {
    /// The sources that were loaded.
    pub sources: &'a TrustSources,
    /// How many distinct keys they held.
    pub keys: usize,
}

#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a VerifyReport,
    exit_code: u8,
    trust: TrustJson,
}

#[derive(Serialize)]
struct TrustJson {
    origin: TrustOrigin,
    paths: Vec<String>,
    keys: usize,
}

/// Warns about trusted-key folder entries that were skipped.
pub fn skipped(ui: &Ui, skipped: &[SkippedEntry]) {
    for s in skipped {
        // `SkippedEntry`'s Display is the sentence; its reason's Debug form is not for users.
        ui.warn(&format!("{s} (in the trusted keys)"));
    }
}

/// Prints the outcome of `verify`.
pub fn report(ui: &Ui, report: &VerifyReport, trust: &Trust<'_>, status: ExitStatus) {
    if ui.format == Format::Json {
        let json = Json {
            report,
            exit_code: status.code(),
            trust: TrustJson {
                origin: trust.sources.origin,
                paths: trust
                    .sources
                    .paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                keys: trust.keys,
            },
        };
        ui.json(&serde_json::to_value(&json).expect("a verify report serialises"));
        return;
    }
    let path = &report.package;
    let expert = describe(report.expert.as_ref());
    let signer = report.signer.clone().unwrap_or_default();
    let by = |key_id: &str| {
        format!(
            "signed by {} with key {key_id} at {}",
            field(&signer.publisher),
            field(&signer.created_at)
        )
    };
    match &report.outcome {
        Outcome::Verified { key_id, key_source } => ui.outln(&format!(
            "{}: `{path}` is {expert}, {} (trusted key `{}`{})",
            ui.paint_out(Style::Green, "verified"),
            by(key_id),
            key_source.display(),
            how(report)
        )),
        Outcome::Untrusted { key_id } => ui.outln(&format!(
            "{}: `{path}` claims to be {expert}, {}; that key is not trusted",
            ui.paint_out(Style::Yellow, "untrusted"),
            by(key_id)
        )),
        Outcome::Unsigned => ui.outln(&format!(
            "{}: `{path}` ({expert}) has no signature.sig",
            ui.paint_out(Style::Yellow, "unsigned")
        )),
        Outcome::Invalid(reason) => ui.outln(&format!(
            "{}: `{path}`: {reason}",
            ui.paint_out(Style::Red, "invalid")
        )),
    }
    for w in &report.warnings {
        ui.warn(&w.to_string());
    }
    if let Some(text) = hint(&report.outcome, trust, &signer) {
        if !ui.quiet {
            ui.err(&format!("{}: {text}\n", ui.paint_err(Style::Cyan, "hint")));
        }
    }
}

/// How a verified outcome was reached, when a detached signature took part: `, by the
/// detached signature …` (the fast path), or `; the detached signature … verifies too`
/// (`--full`).
fn how(report: &VerifyReport) -> String {
    match (&report.check, &report.minisig) {
        (Check::Detached, Some(m)) => {
            format!(", by the detached signature `{}`", m.path.display())
        }
        (Check::Full, Some(m)) if m.status() == DetachedStatus::Verified => format!(
            "; every member checked, and the detached signature `{}` verifies too",
            m.path.display()
        ),
        (Check::Full, Some(_)) | (Check::Full | Check::Detached, None) => String::new(),
    }
}

/// `NAME vVERSION for BASE MODEL`, `?` for what the manifest does not say.
fn describe(expert: Option<&ExpertFacts>) -> String {
    let Some(e) = expert else {
        return "an unreadable manifest".to_owned();
    };
    format!(
        "{} v{} for {}",
        field(&e.name),
        field(&e.version),
        field(&e.base_model)
    )
}

fn field(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "?".to_owned(), shown)
}

fn hint(outcome: &Outcome, trust: &Trust<'_>, signer: &Signer) -> Option<String> {
    let store = match &trust.sources.store {
        Some(p) => format!("`{}`", p.display()),
        None => "~/.config/expert-cli/trusted/".to_owned(),
    };
    Some(match outcome {
        Outcome::Verified { .. } => return None,
        Outcome::Untrusted { .. } if trust.keys == 0 && trust.sources.origin == TrustOrigin::Flags => {
            "the keys given hold no public key: --trusted-keys takes a folder of *.pub files, --pubkey a key file".to_owned()
        }
        Outcome::Untrusted { .. } if trust.keys == 0 => format!(
            "no trusted keys are configured: pass --pubkey KEY, set EXPERT_CLI_TRUSTED_KEYS to key files or folders, or copy the publisher's .pub file into {store}"
        ),
        Outcome::Untrusted { .. } => format!(
            "if you trust {}, get their public key through another channel and pass it with --pubkey or copy it into {store}",
            signer.publisher.as_deref().map_or_else(|| "this publisher".to_owned(), shown)
        ),
        Outcome::Unsigned => "sign it with `expert-cli sign --expert FILE --key KEY`".to_owned(),
        Outcome::Invalid(Reason::Signature(SigFileError::LegacyStatement)) => {
            "ask its publisher to sign it again with this version of `expert-cli sign`; re-signing keeps every other member".to_owned()
        }
        Outcome::Invalid(Reason::Unexpected { .. }) => {
            "this is not the release you asked for: it may be an older or substituted package".to_owned()
        }
        Outcome::Invalid(
            Reason::Unreadable(_)
            | Reason::NotCanonical(_)
            | Reason::Manifest(_)
            | Reason::Signature(
                SigFileError::TooLarge { .. } | SigFileError::Malformed { .. },
            )
            | Reason::Integrity(_)
            | Reason::BadSignature { .. }
            | Reason::NotByNamedKey { .. }
            | Reason::SignerMismatch { .. }
            | Reason::ListsReserved { .. }
            | Reason::MissingMember { .. }
            | Reason::ExtraMember { .. }
            | Reason::DigestMismatch { .. }
            | Reason::Renamed { .. },
        ) => "do not use this package: it differs from what was signed or packaged".to_owned(),
    })
}
