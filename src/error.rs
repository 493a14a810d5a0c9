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

// ---- base-model selection (`--model`), the same words for every command ----

/// The error for a failed `--model` selection: `package` and `train` say the same thing.
pub fn select_error(
    manifest: &std::path::Path,
    models: &[expert_cli::manifest::BaseModel],
    e: expert_cli::manifest::select::SelectError,
) -> CliError {
    use expert_cli::manifest::select::SelectError;
    let list = models
        .iter()
        .map(|m| format!("{} ({})", m.slug, m.name))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = format!("pass --model with one of: {list}");
    match e {
        SelectError::NeedModel { choices } => CliError::new(
            ExitStatus::Usage,
            format!(
                "`{}` lists {} base models and no --model was given",
                manifest.display(),
                choices.len()
            ),
        )
        .hint(hint),
        SelectError::NotFound { wanted, .. } => CliError::new(
            ExitStatus::Usage,
            format!(
                "no base model of `{}` matches --model `{wanted}`",
                manifest.display()
            ),
        )
        .hint(hint),
        SelectError::Ambiguous {
            wanted, matches, ..
        } => CliError::new(
            ExitStatus::Usage,
            format!(
                "--model `{wanted}` matches {} base models: {}",
                matches.len(),
                matches.join(", ")
            ),
        )
        .hint("pass the full name of one of them"),
    }
}

// ---- train ----

impl From<expert_cli::train::TrainError> for CliError {
    fn from(e: expert_cli::train::TrainError) -> Self {
        use expert_cli::train::{dataset::DatasetError, TrainError};
        let message = e.to_string();
        match e {
            TrainError::Select {
                manifest,
                models,
                source,
            } => select_error(&manifest, &models, source),
            TrainError::NoDataset { .. } => CliError::new(ExitStatus::Usage, message)
                .hint("set training.dataset.path in the manifest or pass --dataset FILE"),
            TrainError::Unsupported { hint, .. } => {
                CliError::new(ExitStatus::Invalid, message).hint(hint)
            }
            TrainError::Missing { what, .. } => {
                CliError::new(ExitStatus::Usage, message).hint(if what == "the dataset" {
                    "check training.dataset.path (relative to the manifest's folder) or pass --dataset"
                } else {
                    "check the path"
                })
            }
            TrainError::Dataset(DatasetError::Io { path, source }) => {
                CliError::io("read", &path, &source)
            }
            TrainError::Dataset(DatasetError::Sink(source)) => CliError::new(
                ExitStatus::Io,
                format!("cannot write the rendered dataset: {}", io_reason(&source)),
            ),
            TrainError::Dataset(_) => CliError::new(ExitStatus::Invalid, message).hint(
                "name the columns in training.dataset.field_mapping (instruction, input, response, system, text or messages)",
            ),
            TrainError::BadLines { .. } => CliError::new(ExitStatus::Invalid, message)
                .hint("fix or remove them; `expert-cli train --dry-run` lists every one"),
            TrainError::Empty { .. } => CliError::new(ExitStatus::Invalid, message)
                .hint("add rows, or check the field mapping with --dry-run"),
            TrainError::Write { path, source } => CliError::io("write", &path, &source),
            TrainError::PythonEnv { searched, .. } => {
                let where_ = if searched.is_empty() {
                    "no virtual environment was found (no --python-env, $VIRTUAL_ENV or ./.venv)"
                        .to_owned()
                } else {
                    format!(
                        "looked in {}",
                        searched
                            .iter()
                            .map(|p| format!("`{}`", p.display()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                CliError::new(ExitStatus::Train, message).hint(format!(
                    "{where_}; create one with scripts/python-env.sh, or pass --python-env DIR"
                ))
            }
            TrainError::Python {
                kind,
                message: m,
                hint,
                ..
            } => {
                let text = if kind == "TrainerError" {
                    format!("training failed: {m}")
                } else {
                    format!("training failed: {kind}: {m}")
                };
                CliError::new(ExitStatus::Train, text).hint(hint.unwrap_or_else(|| {
                    "run again with --verbose to see the Python traceback".into()
                }))
            }
            TrainError::NoPython => CliError::new(ExitStatus::Train, message).hint(
                "use --dry-run, or --emit-plan and `python -m expert_trainer PLAN`, or build with default features",
            ),
        }
    }
}
