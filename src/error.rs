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

// ---- archive: package, output files (the `package` area) ----

impl From<expert_cli::archive::AtomicError> for CliError {
    fn from(e: expert_cli::archive::AtomicError) -> Self {
        use expert_cli::archive::AtomicError;
        match e {
            AtomicError::OutputExists { path } => CliError::new(
                ExitStatus::Exists,
                format!("`{}` already exists", path.display()),
            )
            .hint("pass --force to replace it, or choose another --output"),
            AtomicError::Io { path, source } => CliError::io("write", &path, &source),
            other @ (AtomicError::IsDirectory { .. } | AtomicError::NoParent { .. }) => {
                CliError::new(ExitStatus::Io, other.to_string())
            }
            other => CliError::new(ExitStatus::Io, other.to_string()),
        }
    }
}
