//! The command line, declared with clap derive. No logic here: commands turn these values into
//! library options. Doc comments become `--help`, the man page and completions.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Validate, package, sign, verify and train LoRA-family expert adapters.
#[derive(Debug, Parser)]
#[command(name = "expert-cli", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format of results on stdout (`sarif` and `github` only for `validate`).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour output; `NO_COLOR` set to anything turns `auto` off.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only results and errors: no notes, no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail about what is done.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0 (validate only), for code-scanning tools.
    Sarif,
    /// GitHub Actions workflow commands (validate only), shown as annotations.
    Github,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests, expert folders and .expert packages; report every problem.
    Validate(ValidateArgs),
    /// Build a deterministic .expert package for one base model.
    Package(PackageArgs),
    /// Create an Ed25519 key pair for signing packages.
    Keygen(KeygenArgs),
    /// Sign a .expert package.
    Sign(SignArgs),
    /// Verify a package's signature against trusted public keys.
    Verify(VerifyArgs),
    /// Train an adapter for one base model of a manifest.
    Train(TrainArgs),
    /// Rewrite a schema 1.0 manifest as 2.0, keeping every key and comment.
    Migrate(MigrateArgs),
    /// Print the JSON Schema of the manifest (for editors).
    Schema,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a folder.
    Man(ManArgs),
}

/// `validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files, expert folders (holding manifest.json) or .expert packages.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

/// `package`
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The manifest.
    #[arg(short, long, default_value = "manifest.json")]
    pub manifest: PathBuf,
    /// Folder holding adapter_model.safetensors and adapter_config.json.
    #[arg(short, long)]
    pub weights: Option<PathBuf>,
    /// Base model: exact name, last path component (any case) or slug.
    #[arg(long)]
    pub model: Option<String>,
    /// Output file; default `<name>-<slug>.v<version>.expert` in the current folder.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Also pack the `tests/` folder.
    #[arg(long)]
    pub include_tests: bool,
    /// Also pack pickle files (`*.bin`, `*.pt`, `*.pkl`), which can run code when loaded.
    #[arg(long)]
    pub include_pickle: bool,
    /// Print what would be packed (path, size, SHA-256) and write nothing.
    #[arg(long)]
    pub list_contents: bool,
    /// zlib level for text members (1-9); weights are always entropy-coded only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=9), default_value_t = 6)]
    pub compression_level: u32,
}

/// `keygen`
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Private key file; the public key goes beside it with the extension `.pub`.
    #[arg(short, long, default_value = "publisher.pem")]
    pub output: PathBuf,
    /// Publisher name, used by `sign` when no --publisher is given.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Protect the private key with a passphrase (PKCS#8 `ENCRYPTED PRIVATE KEY`, which
    /// OpenSSL reads): taken from EXPERT_CLI_KEY_PASSPHRASE, else asked twice on the terminal.
    #[arg(long)]
    pub encrypt: bool,
    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
}

/// `sign`
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The package to sign (rewritten in place, atomically).
    #[arg(
        value_name = "PACKAGE",
        required_unless_present = "expert",
        conflicts_with = "expert"
    )]
    pub package: Option<PathBuf>,
    /// The package to sign (the same as PACKAGE).
    #[arg(short, long, value_name = "PACKAGE")]
    pub expert: Option<PathBuf>,
    /// Private key file (PKCS#8 PEM, or a legacy 32-byte key).
    #[arg(
        short,
        long,
        conflicts_with = "key_env",
        required_unless_present = "key_env"
    )]
    pub key: Option<PathBuf>,
    /// Environment variable holding the private key (PEM text), for CI.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// Publisher name written into `integrity.publisher` (default: the key's name, else its
    /// key id).
    #[arg(long)]
    pub publisher: Option<String>,
    /// Also write the detached signature PACKAGE.minisig, which stock `minisign -V` checks and
    /// `verify` uses as a fast path. Without it, an earlier PACKAGE.minisig is removed.
    #[arg(long)]
    pub minisig: bool,
}

/// `verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The package to verify.
    #[arg(
        value_name = "PACKAGE",
        required_unless_present = "expert",
        conflicts_with = "expert"
    )]
    pub package: Option<PathBuf>,
    /// The package to verify (the same as PACKAGE).
    #[arg(short, long, value_name = "PACKAGE")]
    pub expert: Option<PathBuf>,
    /// A trusted public key file (repeatable). Without --pubkey and --trusted-keys the keys come
    /// from EXPERT_CLI_TRUSTED_KEYS, else from ~/.config/expert-cli/trusted/*.pub.
    #[arg(long, value_name = "KEY")]
    pub pubkey: Vec<PathBuf>,
    /// A folder of trusted public keys (`*.pub`).
    #[arg(long, value_name = "DIR")]
    pub trusted_keys: Option<PathBuf>,
    /// Invalid (exit 5) unless the signed manifest's `name` is NAME.
    #[arg(long, value_name = "NAME")]
    pub expect_name: Option<String>,
    /// Invalid (exit 5) unless the signed manifest's `version` is VERSION.
    #[arg(long, value_name = "VERSION")]
    pub expect_version: Option<String>,
    /// Always check signature.sig, every member and the whole archive, even when
    /// PACKAGE.minisig could decide faster (a PACKAGE.minisig is then checked too).
    #[arg(long)]
    pub full: bool,
}

/// `train`
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The manifest.
    #[arg(short, long, default_value = "manifest.json")]
    pub manifest: PathBuf,
    /// Base model: exact name, last path component (any case) or slug.
    #[arg(long)]
    pub model: Option<String>,
    /// Dataset file (JSONL), instead of the manifest's `training.dataset.path`.
    #[arg(short, long)]
    pub dataset: Option<PathBuf>,
    /// Output folder; the adapter goes to `<output>/<slug>/`. Default: `weights/` beside the
    /// manifest, where `package` looks.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Epochs, instead of the manifest's (fractions allowed).
    #[arg(long, value_name = "N")]
    pub epochs: Option<f64>,
    /// Stop after this many optimiser steps.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Device to train on.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Resume from a checkpoint folder (`<output>/<slug>/checkpoints/checkpoint-N`).
    #[arg(long, value_name = "CKPT")]
    pub resume: Option<PathBuf>,
    /// Local copy of the base model (folder with config, weights, tokenizer), instead of the
    /// manifest's name.
    #[arg(long, value_name = "PATH")]
    pub base_model: Option<PathBuf>,
    /// Random seed, instead of the manifest's (default 42).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Train on the prompt as well as the answer (default: the loss covers the answer only).
    #[arg(long)]
    pub train_on_prompt: bool,
    /// Train even when the prompt template's text differs from the base model's own chat
    /// template (the difference is reported and recorded in the training log).
    #[arg(long)]
    pub allow_template_mismatch: bool,
    /// Print the plan, render the first examples and check every dataset line; needs no Python
    /// (with --base-model it also checks the template against the model's tokenizer, which does).
    #[arg(long, conflicts_with = "emit_plan")]
    pub dry_run: bool,
    /// With --dry-run: how many examples to render.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub show: usize,
    /// Write the resolved plan (and the rendered examples beside it) instead of training, for
    /// `python -m expert_trainer PLAN` (e.g. under `accelerate launch` or `torchrun`).
    #[arg(long, value_name = "PLAN")]
    pub emit_plan: Option<PathBuf>,
    /// Python virtual environment with the trainer's packages. Default: `$VIRTUAL_ENV`, then
    /// `./.venv`.
    #[arg(long, value_name = "DIR")]
    pub python_env: Option<PathBuf>,
}

/// `train --device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Device {
    /// CUDA when available, else CPU.
    Auto,
    /// CPU (fp32).
    Cpu,
    /// CUDA; an error when there is none.
    Cuda,
}

/// `migrate`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The schema 1.0 manifest.
    #[arg(short, long)]
    pub manifest: PathBuf,
    /// Where to write the 2.0 manifest; stdout when absent.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// `completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `expert-cli.1` and one `expert-cli-COMMAND.1` per command into this folder,
    /// instead of printing `expert-cli.1` on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace existing pages in the --output folder.
    #[arg(long, requires = "output")]
    pub force: bool,
}
