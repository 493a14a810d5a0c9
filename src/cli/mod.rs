//! The command line, declared with clap derive, plus [`command`], which adds what derive cannot
//! say: each command's own `--format` values and its examples. No logic here: commands turn
//! these values into library options. Doc comments and [`EXAMPLES`] become `--help`, the man
//! pages and the completion scripts.

pub mod complete;
pub mod man;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

/// Validate, package, sign, verify and train LoRA-family expert adapters.
#[derive(Debug, Parser)]
#[command(name = "expert-cli", version, long_version = LONG_VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `--version`: the version, and the Python `train` runs (build.rs; docs/CLI.md#python).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (train: ",
    env!("EXPERT_CLI_TRAINER"),
    ")"
);

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format of results on stdout; each command lists the ones it takes (`sarif` and
    /// `github` are for `validate`).
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

impl Format {
    /// The name `--format` takes.
    pub fn to_possible_value_name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
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
    #[arg(long, value_hint = ValueHint::Other)]
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
#[command(group(clap::ArgGroup::new("secret").args(["key", "key_env"]).required(true)))]
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
    #[arg(short, long, conflicts_with = "key_env")]
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
    #[arg(long, value_hint = ValueHint::Other)]
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
    #[arg(
        value_enum,
        value_name = "SHELL",
        required_unless_present = "list_models"
    )]
    pub shell: Option<clap_complete::Shell>,
    /// Print the base models of this manifest, one per line, as `--model` takes them (the bash
    /// script completes `--model` with it).
    #[arg(long, value_name = "MANIFEST", conflicts_with = "shell")]
    pub list_models: Option<PathBuf>,
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

/// The `--format` values `command` accepts: `validate` takes all four, `completions` and `man`
/// print a script or roff and take only `text`, the others `text` and `json`.
pub fn formats(command: &str) -> &'static [Format] {
    match command {
        "validate" => &[Format::Text, Format::Json, Format::Sarif, Format::Github],
        "completions" | "man" => &[Format::Text],
        _ => &[Format::Text, Format::Json],
    }
}

/// Examples shown at the end of each command's `--help` and in the EXAMPLES section of its man
/// page: `(command, [(what it does, command line)])`. A test parses every command line.
pub const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "validate",
        &[
            (
                "Check an expert folder: its manifest and the adapter files it describes",
                "expert-cli validate experts/expert-neo4j",
            ),
            (
                "Check every expert and package given; exit 1 when any has an error",
                "expert-cli validate experts/*/ dist/*.expert",
            ),
            (
                "Annotations on a pull request, in GitHub Actions",
                "expert-cli --format github validate experts/*/",
            ),
            (
                "Fail on warnings too (unknown keys, doubtful values)",
                "expert-cli validate --strict manifest.json",
            ),
        ],
    ),
    (
        "package",
        &[
            (
                "Package one base model: <name>-<slug>.v<version>.expert and its .sha256",
                "expert-cli package --manifest experts/expert-neo4j/manifest.json --model qwen3-0.6b",
            ),
            (
                "Show what would be packed (path, size, SHA-256) and write nothing",
                "expert-cli package --model qwen3-0.6b --list-contents",
            ),
            (
                "Reproducible bytes, to a chosen file, replacing it",
                "SOURCE_DATE_EPOCH=1700000000 expert-cli package --model qwen3-0.6b --output neo4j.expert --force",
            ),
        ],
    ),
    (
        "keygen",
        &[
            (
                "Write publisher.pem (mode 0600) and publisher.pub; print the key id",
                "expert-cli keygen --output publisher.pem --name \"HiveLLM\"",
            ),
            (
                "Replace an existing key pair",
                "expert-cli keygen --output keys/ci.pem --force",
            ),
        ],
    ),
    (
        "sign",
        &[
            (
                "Sign a package in place with a key file",
                "expert-cli sign --expert expert-neo4j-qwen306b.v0.0.1.expert --key publisher.pem",
            ),
            (
                "In CI: the key's PEM text comes from a secret in an environment variable",
                "expert-cli sign --expert dist/neo4j.expert --key-env EXPERT_SIGNING_KEY --publisher \"HiveLLM CI\"",
            ),
        ],
    ),
    (
        "verify",
        &[
            (
                "Exit 0 when verified; 3 untrusted, 4 unsigned, 5 altered",
                "expert-cli verify --expert expert-neo4j-qwen306b.v0.0.1.expert --pubkey publisher.pub",
            ),
            (
                "Trust every *.pub key of a folder",
                "expert-cli verify --expert dist/neo4j.expert --trusted-keys keys/",
            ),
            (
                "The whole report as JSON",
                "expert-cli --format json verify --expert dist/neo4j.expert --pubkey publisher.pub",
            ),
        ],
    ),
    (
        "train",
        &[
            (
                "The plan and the first rendered examples; needs no Python",
                "expert-cli train --manifest experts/expert-neo4j/manifest.json --model qwen3-0.6b --dry-run",
            ),
            (
                "A short run on the CPU; the adapter goes to weights/<slug>/",
                "expert-cli train --model qwen3-0.6b --device cpu --max-steps 20",
            ),
            (
                "Continue from a checkpoint",
                "expert-cli train --model qwen3-0.6b --resume weights/qwen306b/checkpoints/checkpoint-100",
            ),
            (
                "A plan for several GPUs: accelerate launch -m expert_trainer plan.json",
                "expert-cli train --model qwen3-0.6b --emit-plan plan.json",
            ),
        ],
    ),
    (
        "migrate",
        &[
            (
                "Write the schema 2.0 manifest beside the 1.0 one",
                "expert-cli migrate --manifest manifest.json --output manifest.v2.json",
            ),
            (
                "Review it first: to stdout",
                "expert-cli migrate --manifest manifest.json",
            ),
        ],
    ),
    (
        "schema",
        &[
            (
                "The JSON Schema for editors (VS Code's json.schemas, …)",
                "expert-cli schema > expert-manifest.schema.json",
            ),
            (
                "Check that a committed copy is current (exit 1 when it differs)",
                "expert-cli schema | diff - docs/expert-manifest.schema.json",
            ),
        ],
    ),
    (
        "completions",
        &[
            (
                "bash",
                "expert-cli completions bash > ~/.local/share/bash-completion/completions/expert-cli",
            ),
            (
                "zsh (a folder of $fpath)",
                "expert-cli completions zsh > ~/.zfunc/_expert-cli",
            ),
            (
                "fish",
                "expert-cli completions fish > ~/.config/fish/completions/expert-cli.fish",
            ),
        ],
    ),
    (
        "man",
        &[
            ("Read the main page now", "expert-cli man | man -l -"),
            (
                "Install every page",
                "expert-cli man --output /usr/local/share/man/man1",
            ),
        ],
    ),
];

/// The examples of `command`.
pub fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    EXAMPLES
        .iter()
        .find(|(c, _)| *c == command)
        .map_or(&[], |(_, e)| e)
}

/// The command line as parsed, helped, completed and documented: the derive tree, each
/// command's own `--format` (only the values it takes, so help, completions and the parse error
/// list those), and its examples after the help.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let formats = formats(&name);
        let examples = examples(&name);
        cmd = cmd.mut_subcommand(&name, |sub| {
            let sub = sub.arg(format_arg(formats));
            if examples.is_empty() {
                sub
            } else {
                sub.after_help(examples_help(examples))
            }
        });
    }
    cmd
}

/// `--format` limited to `formats`, under the same id as the global flag: clap then does not
/// copy the global one into this command, and its value reaches [`GlobalArgs::format`].
fn format_arg(formats: &'static [Format]) -> clap::Arg {
    let values: Vec<PossibleValue> = formats
        .iter()
        .filter_map(|f| f.to_possible_value())
        .collect();
    let names: Vec<&str> = formats.iter().map(|f| f.to_possible_value_name()).collect();
    let help = if formats.len() == 1 {
        "Output format: this command prints a script or a page, as text".to_owned()
    } else {
        format!("Output format of results on stdout: {}", names.join(", "))
    };
    clap::Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .help(help)
        .default_value("text")
        .value_parser(
            PossibleValuesParser::new(values)
                .map(|v: String| Format::from_str(&v, false).expect("only listed values get here")),
        )
}

/// The examples as a help section: `Examples:` then a comment line and the command per example.
fn examples_help(examples: &[(&str, &str)]) -> String {
    let header = clap::builder::Styles::default().get_header().to_owned();
    let mut text = format!("{header}Examples:{header:#}\n");
    for (i, (what, line)) in examples.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!("  # {what}\n  {line}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of an example as the shell would pass them: leading `VAR=value` assignments and
    /// everything from a redirection or pipe on are not the command's.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                _ => word.push(c),
            }
        }
        words.push(word);
        words
            .into_iter()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'))
            .take_while(|w| !matches!(w.as_str(), ">" | "|"))
            .collect()
    }

    #[test]
    fn every_example_parses_and_fits_the_help() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        assert_eq!(EXAMPLES.len(), names.len(), "one entry per command");
        for (command, examples) in EXAMPLES {
            assert!(names.iter().any(|n| n == command), "{command}");
            assert!((2..=4).contains(&examples.len()), "{command}: 2-4 examples");
            for (what, line) in *examples {
                let args = words(line);
                assert_eq!(args[0], "expert-cli", "{line}");
                assert_eq!(
                    args.iter().find(|a| !a.starts_with('-')
                        && *a != "expert-cli"
                        && *a != "json"
                        && *a != "github"),
                    Some(&command.to_string()),
                    "{line} is not a `{command}` example"
                );
                if let Err(e) = super::command().try_get_matches_from(&args) {
                    panic!("{line}: {e}");
                }
                // help is wrapped at 100 columns; an example must not be
                assert!(line.len() + 2 <= 100, "too long for the help: {line}");
                assert!(what.len() + 4 <= 100, "too long for the help: {what}");
            }
        }
    }

    #[test]
    fn format_lists_only_what_each_command_takes() {
        let cmd = command();
        for sub in cmd.get_subcommands() {
            let format = sub
                .get_arguments()
                .find(|a| a.get_id() == "format")
                .expect("every command has --format");
            let values: Vec<String> = format
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_owned())
                .collect();
            let want: Vec<&str> = formats(sub.get_name())
                .iter()
                .map(|f| f.to_possible_value_name())
                .collect();
            assert_eq!(values, want, "{}", sub.get_name());
        }
        assert_eq!(formats("validate").len(), 4);
        assert_eq!(formats("package"), [Format::Text, Format::Json]);
    }

    #[test]
    fn the_tree_is_consistent() {
        command().debug_assert();
    }
}
