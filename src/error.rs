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

pub use expert_cli::fs::io_reason;

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
            other @ (KeyError::UnrecognizedSecretKey { .. }
            | KeyError::UnrecognizedPublicKey { .. }
            | KeyError::EncryptedSecretKey
            | KeyError::WrongPassphrase
            | KeyError::EmptyPassphrase
            | KeyError::UnsupportedEncryption { .. }
            | KeyError::PublicKeyGiven { .. }
            | KeyError::Malformed { .. }
            | KeyError::InvalidPoint
            | KeyError::WeakPublicKey
            | KeyError::InvalidName(_)
            | KeyError::TooLarge
            | KeyError::SamePath { .. }
            | KeyError::NoFileName { .. }
            | KeyError::Encode(_)) => {
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

// ---- archive: package, output files (the `package` area) ----

impl From<expert_cli::fs::AtomicError> for CliError {
    fn from(e: expert_cli::fs::AtomicError) -> Self {
        use expert_cli::fs::AtomicError;
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
        }
    }
}

impl From<expert_cli::archive::SidecarError> for CliError {
    fn from(e: expert_cli::archive::SidecarError) -> Self {
        use expert_cli::archive::SidecarError;
        match e {
            SidecarError::UnsupportedName { path } => sidecar_name_error(&path),
            SidecarError::Write(e) => e.into(),
            other @ SidecarError::BadDigest { .. } => {
                CliError::new(ExitStatus::Io, other.to_string())
            }
        }
    }
}

fn sidecar_name_error(path: &std::path::Path) -> CliError {
    CliError::new(
        ExitStatus::Usage,
        format!(
            "`{}` cannot be named in its .sha256 sidecar: the file name contains a newline, carriage return or backslash",
            path.display().to_string().escape_debug()
        ),
    )
    .hint("choose a file name without those characters")
}

impl From<expert_cli::archive::MemberError> for CliError {
    fn from(e: expert_cli::archive::MemberError) -> Self {
        use expert_cli::archive::MemberError;
        match e {
            MemberError::Symlink { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
                .hint("replace the link with the file itself"),
            MemberError::NotRegularFile { .. } | MemberError::Outside { .. } => {
                CliError::new(ExitStatus::Invalid, e.to_string())
            }
            MemberError::Changed { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
                .hint("a file changed while it was packed; run again when it is stable"),
            MemberError::Read { path, source } => CliError::io("read", &path, &source),
        }
    }
}

impl From<expert_cli::archive::PackageError> for CliError {
    fn from(e: expert_cli::archive::PackageError) -> Self {
        use expert_cli::archive::adapter::AdapterError;
        use expert_cli::archive::{PackageError, WriteMembersError};
        match e {
            PackageError::Load(e) => e.into(),
            PackageError::Select { manifest, error } => select_error(&manifest, error),
            PackageError::Output(e) => e.into(),
            PackageError::SidecarName { path } => sidecar_name_error(&path),
            PackageError::CreateFolder { path, source } => {
                CliError::io("create the folder", &path, &source)
            }
            PackageError::Adapter(AdapterError::NotFound { ref slug, .. }) => {
                let hint = format!(
                    "train it with `expert-cli train --model {slug}`, put it in `weights/{slug}/`, or pass --weights DIR (the folder that holds the adapters)"
                );
                CliError::new(ExitStatus::Invalid, e.to_string()).hint(hint)
            }
            PackageError::Adapter(AdapterError::Member(m)) => m.into(),
            PackageError::Adapter(other @ AdapterError::SeveralPaths { .. }) => {
                CliError::new(ExitStatus::Invalid, other.to_string())
                    .hint("give the base model's adapters one `path`")
            }
            PackageError::Disagrees {
                ref manifest,
                ref diagnostics,
                ..
            } => {
                let mut err = CliError::new(ExitStatus::Invalid, e.to_string()).hint(format!(
                    "package the adapter made for this base model, or correct the manifest; `expert-cli validate {}` reports the same",
                    expert_cli::archive::package::expert_folder(manifest).display()
                ));
                err.diagnostics = Some((manifest.display().to_string(), diagnostics.clone()));
                err
            }
            PackageError::Missing { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
                .hint("add the file, or remove its entry from the manifest"),
            PackageError::Duplicate { .. } => {
                CliError::new(ExitStatus::Invalid, e.to_string()).hint("rename one of the files")
            }
            PackageError::BadName { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
                .hint("rename it with a UTF-8 name"),
            PackageError::Member(m) | PackageError::Write(WriteMembersError::Member(m)) => m.into(),
            PackageError::Write(other) => CliError::new(ExitStatus::Io, other.to_string()),
            PackageError::Sidecar { .. } => CliError::new(ExitStatus::Io, e.to_string()),
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
        KeyError::UnrecognizedSecretKey { .. }
        | KeyError::UnrecognizedPublicKey { .. }
        | KeyError::WrongPassphrase
        | KeyError::EmptyPassphrase
        | KeyError::UnsupportedEncryption { .. }
        | KeyError::Malformed { .. }
        | KeyError::InvalidPoint
        | KeyError::WeakPublicKey
        | KeyError::InvalidName(_)
        | KeyError::Io { .. }
        | KeyError::File { .. }
        | KeyError::TooLarge
        | KeyError::Exists { .. }
        | KeyError::SamePath { .. }
        | KeyError::NoFileName { .. }
        | KeyError::Encode(_) => None,
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
            M::TooLarge
            | M::NotText(_)
            | M::LineCount { .. }
            | M::Malformed { .. }
            | M::Comment { .. }
            | M::UnsupportedAlgorithm { .. }
            | M::Legacy
            | M::NoKeys
            | M::KeyIdMismatch { .. }
            | M::BadSignature { .. }
            | M::BadTrustedComment { .. }
            | M::Key(_)
            | M::SelfCheck => e.to_string(),
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

// ---- base-model selection (`--model`), the same words for every command ----

/// The error for a failed `--model` selection: `package` and `train` say the same thing,
/// listing the choices as `slug (name)`.
pub fn select_error(
    manifest: &std::path::Path,
    e: expert_cli::manifest::select::SelectError,
) -> CliError {
    use expert_cli::manifest::select::SelectError;
    let hint = format!(
        "pass --model with one of: {}",
        e.choices()
            .iter()
            .map(|name| format!("{} ({name})", expert_cli::names::slug(name)))
            .collect::<Vec<_>>()
            .join(", ")
    );
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
                manifest, source, ..
            } => select_error(&manifest, source),
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
            TrainError::Dataset(DatasetError::Format { .. }) => CliError::new(ExitStatus::Invalid, message).hint(
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
                "use --dry-run, or --emit-plan and `python -m expert_trainer PLAN`; or rebuild in this repository with the default features and a static libpython3.11 installed (Debian: libpython3.11-dev; docs/CLI.md#python)",
            ),
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
