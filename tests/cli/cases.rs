//! CLI case files: each `tests/cases/NAME.toml` is one run of the real binary (arguments,
//! environment, stdin, working folder, exit code) and `NAME.stdout` / `NAME.stderr` hold its
//! whole output, byte for byte. `tests/cases/README.md` describes the format, how to add a case
//! and how to regenerate after an intended change of output:
//!
//!     SNAPSHOTS=overwrite cargo test --test cli cases::
//!     git diff tests/cases/
//!
//! Volatile parts are masked with snapbox's placeholders and nothing else: `[ROOT]` (the case's
//! working folder), `[..]` (the rest of a line: only for what is random, such as a new key id),
//! `...` alone on a line (whole lines: only for the long schema). Everything else is fixed by
//! the inputs: the fixtures, `SOURCE_DATE_EPOCH`, the fixed-seed key in `fixtures/signing`.
//! Comparison is exact otherwise (trycmd would turn every `\` into `/`; see Cargo.toml).
//!
//! Cases that write run in a scratch copy of their `sandbox` folder. Those that start from a
//! package take it from `target/case-inputs/`, which [`stage`] builds before the cases run with
//! the binary itself (package, sign): the inputs are always what the current code writes, so
//! regenerating stays one command.

use crate::common::{cmd, copy_dir, fixture, root};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment every case starts from (a case adds its own with `env.NAME`): no colour, a
/// fixed time, none of the user's trust configuration, passphrase or terminal width.
const ENV: &[(&str, &str)] = &[
    ("NO_COLOR", "1"),
    // Package member mtimes and `sign`'s `created_at` (2023-11-14T22:13:20Z).
    ("SOURCE_DATE_EPOCH", "1700000000"),
    // `verify` without --pubkey reads the trust store: no case sees the user's own.
    ("XDG_CONFIG_HOME", "/nonexistent/expert-cli-tests/config"),
];
const ENV_REMOVED: &[&str] = &[
    "CLICOLOR_FORCE",
    "EXPERT_CLI_TRUSTED_KEYS",
    "EXPERT_CLI_KEY_PASSPHRASE",
    "VIRTUAL_ENV",
    // clap wraps help at $COLUMNS when it is set.
    "COLUMNS",
];

/// One case file. Paths are relative to `tests/cases/`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The arguments after `expert-cli`, split like a shell would.
    args: String,
    /// The exit code; absent means 0.
    #[serde(default)]
    status: i32,
    /// Run in a scratch copy of this folder. Without `sandbox` and `cwd`: an empty scratch folder.
    sandbox: Option<PathBuf>,
    /// Run in this folder itself (cases that only read).
    cwd: Option<PathBuf>,
    /// Variables set for this case (on top of [`ENV`]).
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Text on standard input; without it stdin is empty.
    stdin: Option<String>,
}

#[test]
fn case_files() {
    let dir = root().join("tests/cases");
    let names = case_names(&dir);
    assert!(!names.is_empty(), "no case files in {}", dir.display());
    stage(&root().join("target/case-inputs"));

    let overwrite = std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| run_case(&dir, name, overwrite).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{}\n\n{} of {} cases failed. If the change is intended: \
         `SNAPSHOTS=overwrite cargo test --test cli cases::`, then review `git diff tests/cases/`",
        failures.join("\n\n"),
        failures.len(),
        names.len()
    );
}

/// The case names, checked: every `NAME.toml` is named like `package-ambiguous-model`, and
/// every `NAME.stdout` / `NAME.stderr` belongs to a case (no leftovers of a renamed one).
fn case_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut problems = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let (Some(stem), Some(ext)) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        match ext {
            "toml" => {
                let kebab = stem.split('-').all(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
                if !kebab {
                    problems.push(format!(
                        "`{stem}.toml`: name a case like `package-ambiguous-model`"
                    ));
                }
                names.push(stem.to_owned());
            }
            "stdout" | "stderr" if !dir.join(format!("{stem}.toml")).is_file() => {
                problems.push(format!("`{stem}.{ext}` belongs to no case"));
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    names.sort();
    names
}

/// Runs one case; Err is the report of every difference (or, under overwrite, of what could
/// not be rewritten).
fn run_case(dir: &Path, name: &str, overwrite: bool) -> Result<(), String> {
    let file = dir.join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let args = shlex::split(&case.args)
        .ok_or_else(|| format!("{}: `args` has an unclosed quote", file.display()))?;

    let scratch = tempfile::tempdir().unwrap();
    let cwd = match (&case.sandbox, &case.cwd) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{}: give `sandbox` or `cwd`, not both",
                file.display()
            ))
        }
        (Some(from), None) => {
            let from = dir.join(from);
            if !from.is_dir() {
                return Err(format!(
                    "{}: no folder `{}`",
                    file.display(),
                    from.display()
                ));
            }
            copy_dir(&from, scratch.path());
            scratch.path().to_owned()
        }
        (None, Some(cwd)) => dir.join(cwd).canonicalize().unwrap(),
        (None, None) => scratch.path().to_owned(),
    };

    let mut command = Command::new(env!("CARGO_BIN_EXE_expert-cli"));
    command
        .args(&args)
        .current_dir(&cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ENV_REMOVED {
        command.env_remove(var);
    }
    command.envs(ENV.iter().copied()).envs(&case.env);
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(case.stdin.as_deref().unwrap_or("").as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();

    let mut redactions = snapbox::Redactions::new();
    redactions
        .insert("[ROOT]", cwd.clone())
        .expect("a valid placeholder");
    let assert = snapbox::Assert::new()
        .action_env("SNAPSHOTS")
        .normalize_paths(false)
        .redact_with(redactions);
    let mut problems = Vec::new();
    for (stream, actual) in [("stdout", out.stdout), ("stderr", out.stderr)] {
        let expected = snapbox::Data::read_from(&dir.join(format!("{name}.{stream}")), None);
        let actual_name = format!("{name} {stream}");
        if let Err(e) = assert.try_eq(Some(&actual_name), snapbox::Data::binary(actual), expected) {
            problems.push(e.to_string());
        }
    }
    match out.status.code() {
        Some(code) if code == case.status => {}
        Some(code) if overwrite => std::fs::write(&file, with_status(&text, code)).unwrap(),
        code => problems.push(format!(
            "{}: the case says exit code {}, the run ended with {}",
            file.display(),
            case.status,
            code.map_or("a signal".to_owned(), |c| format!("exit code {c}"))
        )),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "case `{name}` (`expert-cli {}`):\n{}",
            case.args,
            problems.join("\n")
        ))
    }
}

/// The case file's text with `status = code` (the line dropped for 0, the default).
fn with_status(text: &str, code: i32) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("status ="))
        .map(str::to_owned)
        .collect();
    if code != 0 {
        let at = lines
            .iter()
            .position(|l| l.starts_with("args ="))
            .map_or(lines.len(), |i| i + 1);
        lines.insert(at, format!("status = {code}"));
    }
    lines.join("\n") + "\n"
}

/// Builds the folders the sandboxed cases start from, each a step further than the last:
///
/// - `source/`: `expert/` (a copy of fixtures/expert-tiny), the fixed-seed key pair
///   `seed0-31.pem`/`.pub` from fixtures/signing, and `other.pub`, a key that signed nothing
///   (tests/cases/inputs/other.pub);
/// - `adapter-mismatch/`: `source/` with the adapter's `"r": 8` changed to 16;
/// - `packaged/`: `source/` plus `tiny.expert` and `tiny.expert.sha256` from `package`;
/// - `signed/`: `packaged/` with `tiny.expert` signed by `seed0-31.pem`;
/// - `minisigned/`: the same signed with `--minisig`, plus `tiny.expert.minisig`.
///
/// Built in a scratch folder and moved into place whole.
fn stage(dest: &Path) {
    let parent = dest.parent().unwrap();
    std::fs::create_dir_all(parent).unwrap();
    let scratch = tempfile::Builder::new()
        .prefix(".case-inputs-")
        .tempdir_in(parent)
        .unwrap();
    let built = scratch.path().join("built");
    let dir = |name: &str| built.join(name);

    let source = dir("source");
    copy_dir(&fixture("expert-tiny"), &source.join("expert"));
    for key in ["seed0-31.pem", "seed0-31.pub"] {
        std::fs::copy(fixture("signing").join(key), source.join(key)).unwrap();
    }
    std::fs::copy(
        root().join("tests/cases/inputs/other.pub"),
        source.join("other.pub"),
    )
    .unwrap();

    let mismatch = dir("adapter-mismatch");
    copy_dir(&source, &mismatch);
    let config = mismatch.join("expert/weights/qwen306b/adapter_config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(text.matches("\"r\": 8").count(), 1, "{}", config.display());
    std::fs::write(&config, text.replace("\"r\": 8", "\"r\": 16")).unwrap();

    let packaged = dir("packaged");
    copy_dir(&source, &packaged);
    stage_step(
        &packaged,
        &[
            "package",
            "--manifest",
            "expert/manifest.json",
            "--output",
            "tiny.expert",
        ],
    );
    for (name, extra) in [("signed", None), ("minisigned", Some("--minisig"))] {
        let d = dir(name);
        copy_dir(&packaged, &d);
        let mut args = vec!["sign", "tiny.expert", "--key", "seed0-31.pem"];
        args.extend(extra);
        stage_step(&d, &args);
    }

    // The previous inputs (if any) go into the scratch folder, which is removed on drop.
    if dest.exists() {
        std::fs::rename(dest, scratch.path().join("old")).unwrap();
    }
    std::fs::rename(&built, dest).unwrap();
}

/// Runs one staging step, which must succeed.
fn stage_step(dir: &Path, args: &[&str]) {
    let out = cmd()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "staging `expert-cli {}` in {} failed:\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
