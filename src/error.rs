//! `CliError`: what a command failed at, said once by `main`: a sentence, a hint, an exit status.

use crate::exit::ExitStatus;
use expert_cli::manifest::LoadError;

/// A failure the user reads: `error: <message>` then `hint: <hint>`.
#[derive(Debug)]
pub struct CliError {
    /// How the process exits.
    pub status: ExitStatus,
    /// Lower-case sentence naming the path or value concerned.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Diagnostics to print before the message (invalid manifests).
    pub diagnostics: Option<(String, expert_cli::manifest::Diagnostics)>,
}

impl CliError {
    /// A failure with `status` and `message`.
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
            diagnostics: None,
        }
    }
    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// An I/O failure on `path`.
    pub fn io(what: &str, path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::new(
            ExitStatus::Io,
            format!("cannot {what} `{}`: {}", path.display(), io_reason(e)),
        )
    }
}

/// An I/O error as a short lower-case phrase, without Rust's `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or folder".to_owned(),
        PermissionDenied => "permission denied".to_owned(),
        AlreadyExists => "it already exists".to_owned(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_owned();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Io { path, source } => CliError::io("read", &path, &source).hint(
                "check the path; `--manifest` defaults to manifest.json in the current folder",
            ),
            LoadError::Invalid { path, diagnostics } => {
                let n = diagnostics.count(expert_cli::manifest::Severity::Error);
                let mut err = CliError::new(
                    ExitStatus::Invalid,
                    format!(
                        "`{}` has {n} error{}",
                        path.display(),
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .hint(format!(
                    "run `expert-cli validate {}` for the full report",
                    path.display()
                ));
                err.diagnostics = Some((path.display().to_string(), diagnostics));
                err
            }
            other @ (LoadError::NotAFile { .. } | LoadError::TooLarge { .. }) => {
                CliError::new(ExitStatus::Invalid, other.to_string())
            }
            other => CliError::new(ExitStatus::Invalid, other.to_string()),
        }
    }
}

// ---- signing keys and minisign (keygen, sign, verify) -----------------------------------

impl From<expert_cli::signing::KeyError> for CliError {
    fn from(e: expert_cli::signing::KeyError) -> Self {
        use expert_cli::signing::KeyError;
        match e {
            KeyError::Exists { path } => CliError::new(
                ExitStatus::Exists,
                format!("`{}` already exists", path.display()),
            )
            .hint("pass --force to replace it (the old key is lost), or choose another --output"),
            KeyError::Io { ref source, .. } => {
                CliError::new(ExitStatus::Io, format!("{e}: {}", io_reason(source)))
            }
            // Keep the reason: "cannot use key file `k`: <why>".
            KeyError::File { path, source } => {
                let hint = key_hint(&source);
                let err = CliError::new(
                    ExitStatus::Invalid,
                    format!("cannot use key file `{}`: {source}", path.display()),
                );
                match hint {
                    Some(h) => err.hint(h),
                    None => err,
                }
            }
            other => {
                let hint = key_hint(&other);
                let err = CliError::new(ExitStatus::Invalid, other.to_string());
                match hint {
                    Some(h) => err.hint(h),
                    None => err,
                }
            }
        }
    }
}

fn key_hint(e: &expert_cli::signing::KeyError) -> Option<String> {
    use expert_cli::signing::KeyError;
    match e {
        KeyError::EncryptedSecretKey => Some(format!(
            "set {} to its passphrase, or run on a terminal to be asked",
            crate::env::EXPERT_CLI_KEY_PASSPHRASE
        )),
        KeyError::PublicKeyGiven { .. } => {
            Some("pass the secret key (the `.pem` file `expert-cli keygen` wrote)".to_owned())
        }
        _ => None,
    }
}

impl From<expert_cli::signing::MinisignError> for CliError {
    fn from(e: expert_cli::signing::MinisignError) -> Self {
        use expert_cli::signing::MinisignError as M;
        let status = match &e {
            M::NoKeys | M::KeyIdMismatch { .. } => ExitStatus::Untrusted,
            M::TooLarge
            | M::NotText(_)
            | M::LineCount { .. }
            | M::Malformed { .. }
            | M::UnsupportedAlgorithm { .. }
            | M::Legacy
            | M::BadSignature { .. }
            | M::BadTrustedComment { .. } => ExitStatus::BadSignature,
            M::Read(_) => ExitStatus::Io,
            M::Comment { .. } | M::Key(_) | M::SelfCheck => ExitStatus::Invalid,
        };
        let message = match &e {
            M::Read(source) => format!("{e}: {}", io_reason(source)),
            _ => e.to_string(),
        };
        CliError::new(status, message)
    }
}

// ---- signing: `sign` and `verify` (keys read for them, trust, the operations) -------------

use expert_cli::signing::{SignError, TrustError, VerifyError};

impl From<SignError> for CliError {
    fn from(e: SignError) -> Self {
        let text = e.to_string();
        match e {
            SignError::Io { path, source } => CliError::io("read", &path, &source),
            SignError::NotAPackage { .. } => CliError::new(ExitStatus::Invalid, text)
                .hint("`sign` takes a package written by `expert-cli package`"),
            SignError::Refused { path, .. } => {
                CliError::new(ExitStatus::Invalid, text).hint(format!(
                    "run `expert-cli validate {}` for the full report",
                    path.display()
                ))
            }
            SignError::Publisher(_) => CliError::new(ExitStatus::Usage, text)
                .hint("pass --publisher with a one-line name, e.g. --publisher \"ACME CI\""),
            SignError::Changed { .. } => CliError::new(ExitStatus::Invalid, text)
                .hint("run again when nothing else writes the file"),
            SignError::Write(_) => CliError::new(ExitStatus::Io, text),
            SignError::SelfCheck => CliError::new(ExitStatus::Invalid, text),
            SignError::DetachedComment(_) => CliError::new(ExitStatus::Invalid, text)
                .hint("rename the package to a shorter file name, or sign without --minisig"),
            SignError::Detached(_) => CliError::new(ExitStatus::Invalid, text),
        }
    }
}

impl From<VerifyError> for CliError {
    fn from(e: VerifyError) -> Self {
        let text = e.to_string();
        match e {
            VerifyError::Io { path, source } => CliError::io("read", &path, &source),
            VerifyError::NotAPackage { .. } => CliError::new(ExitStatus::Invalid, text)
                .hint("`verify` takes a package written by `expert-cli package`, e.g. `expert-cli verify NAME.expert`"),
        }
    }
}

impl From<TrustError> for CliError {
    fn from(e: TrustError) -> Self {
        match e {
            TrustError::Key(k) => CliError::from(k),
            TrustError::Io { ref source, .. } => {
                CliError::new(ExitStatus::Io, format!("{e}: {}", io_reason(source))).hint(
                    "--trusted-keys takes a folder of *.pub files; pass a single key with --pubkey",
                )
            }
        }
    }
}
