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

// ---- cli: the embedded Python of `train` (#12.1) ----

impl From<expert_cli::train::interpreter::InterpreterError> for CliError {
    fn from(e: expert_cli::train::interpreter::InterpreterError) -> Self {
        use expert_cli::train::interpreter::{InterpreterError, Source, EMBEDDED};
        let minor = EMBEDDED.map_or("3.11", |p| p.minor());
        let recreate = format!(
            "make one with Python {minor} (`scripts/python-env.sh DIR` when `python3` is {minor}, or `python{minor} -m venv DIR` then `DIR/bin/pip install -r python/requirements.txt`) and pass --python-env DIR"
        );
        let message = e.to_string();
        match e {
            InterpreterError::Config { path, error } => CliError::io("read", &path, &error),
            InterpreterError::Version { .. } => {
                CliError::new(ExitStatus::Train, message).hint(recreate)
            }
            InterpreterError::Newer { embedded, .. } => CliError::new(ExitStatus::Train, message)
                .hint(format!(
                    "make the environment with Python {embedded} (the Python this expert-cli was built with), or rebuild expert-cli with the environment's Python (`PYO3_PYTHON=…/bin/python{minor} cargo build --release`)"
                )),
            InterpreterError::NoStdlib { chosen_by, .. } => {
                let hint = match chosen_by {
                    Source::PythonHome => format!(
                        "set PYTHONHOME to the prefix of a Python {minor} installation (the folder holding lib/python{minor}/os.py), or unset it"
                    ),
                    Source::Venv(_) => format!(
                        "the Python this environment was made with is gone: install Python {minor} again, or {recreate}"
                    ),
                    Source::Build => format!(
                        "no virtual environment names its Python: {recreate}; or set PYTHONHOME to a Python {minor} installation"
                    ),
                };
                CliError::new(ExitStatus::Train, message).hint(hint)
            }
        }
    }
}
