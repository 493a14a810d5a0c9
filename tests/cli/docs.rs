//! The docs cannot drift (#12.6): every `expert-cli` command shown in a fenced block of
//! README.md, docs/, examples/ and experts/ READMEs is checked against the real command line
//! (each flag must exist for its subcommand), and every `sh`, `bash`, `shell` and `console` block
//! is run, in order, in a scratch copy of the repository (one per Markdown file), and must
//! succeed. A block that cannot run here says why in its info string: ```` ```sh no-run: needs a
//! GPU ````. `sh test`, the old marker of a runnable block, still means `sh`.

use crate::common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

struct Block {
    file: PathBuf,
    line: usize,
    info: String,
    text: String,
}

fn markdown_files() -> Vec<PathBuf> {
    let r = root();
    let mut files = vec![r.join("README.md")];
    for dir in ["docs", "examples", "experts"] {
        collect(&r.join(dir), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => {
                    current = Some(Block {
                        file: file.to_owned(),
                        line: i + 1,
                        info: rest.trim().to_owned(),
                        text: String::new(),
                    })
                }
            }
        } else if let Some(b) = current.as_mut() {
            b.text.push_str(line);
            b.text.push('\n');
        }
    }
    out
}

/// Command lines in a block: `\` continuations joined, `$ ` prompts dropped.
fn commands(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| l.trim().trim_start_matches("$ ").to_owned())
        .filter(|l| {
            ["expert-cli ", "cargo run --release -- "].iter().any(|c| {
                l.starts_with(c)
                    || ["&& ", "| ", "$(", "; "]
                        .iter()
                        .any(|p| l.contains(&format!("{p}{c}")))
            })
        })
        .collect()
}

const GLOBAL_WITH_VALUE: &[&str] = &["--format", "--color"];

fn clean(token: &str) -> &str {
    token.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | '|' | '…' | '`' | '"' | '\''))
}

/// The subcommand and the flags of one command line.
fn parse(line: &str) -> Option<(String, Vec<String>)> {
    let start = line
        .find("expert-cli ")
        .map(|i| i + "expert-cli ".len())
        .or_else(|| {
            line.find("cargo run --release -- ")
                .map(|i| i + "cargo run --release -- ".len())
        })?;
    let mut tokens = line[start..].split_whitespace();
    let mut sub = None;
    let mut flags = Vec::new();
    while let Some(raw) = tokens.next() {
        if matches!(raw, "|" | ">" | ";" | "&&" | "||" | "2>")
            || raw.starts_with('#')
            || raw.starts_with('>')
        {
            break;
        }
        let t = clean(raw);
        if t.is_empty() {
            continue;
        }
        if t.starts_with('-') && t.len() > 1 {
            let name = t.split('=').next().unwrap_or(t).to_owned();
            if sub.is_none() && GLOBAL_WITH_VALUE.contains(&name.as_str()) && !t.contains('=') {
                tokens.next();
            }
            flags.push(name);
        } else if sub.is_none() {
            sub = Some(t.to_owned());
        }
    }
    Some((sub?, flags))
}

fn help(sub: &str, cache: &mut HashMap<String, Option<String>>) -> Option<String> {
    cache
        .entry(sub.to_owned())
        .or_insert_with(|| {
            let out = cmd().args([sub, "--help"]).output().unwrap();
            out.status
                .success()
                .then(|| String::from_utf8(out.stdout).unwrap())
        })
        .clone()
}

fn has_flag(help: &str, flag: &str) -> bool {
    help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=')
        .any(|w| w == flag || w.strip_suffix("...") == Some(flag))
        || help.contains(&format!("{flag} <"))
}

#[test]
fn every_documented_command_uses_real_flags() {
    let mut cache = HashMap::new();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for b in blocks(&file) {
            // shell and synopsis blocks; `text`, `json` and others hold data, not commands
            if !b.info.is_empty() && kind(&b.info) == Kind::Other {
                continue;
            }
            for line in commands(&b.text) {
                let Some((sub, flags)) = parse(&line) else {
                    continue;
                };
                if sub
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c == '<')
                {
                    continue; // `expert-cli <COMMAND>` synopsis
                }
                let Some(text) = help(&sub, &mut cache) else {
                    problems.push(format!(
                        "{}:{}: `{sub}` is not an expert-cli command: {line}",
                        b.file.display(),
                        b.line
                    ));
                    continue;
                };
                for f in flags {
                    if !has_flag(&text, &f) {
                        problems.push(format!(
                            "{}:{}: `{sub}` has no flag `{f}`: {line}",
                            b.file.display(),
                            b.line
                        ));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} commands found in the docs");
    assert!(
        problems.is_empty(),
        "the docs show flags that do not exist:\n{}",
        problems.join("\n")
    );
}

/// What the test does with a fenced block, from its info string.
#[derive(Debug, PartialEq)]
enum Kind {
    /// `sh`, `bash`, `shell` (or the old `sh test`): run as a bash script.
    Script,
    /// `console`: its `$ ` lines are run; the others are the output shown.
    Console,
    /// `sh no-run: <reason>` (any shell language): not run, for the reason given.
    NoRun(String),
    /// A shell block with an info string this test does not know.
    Unknown,
    /// Not a shell block (`json`, `text`, `yaml`, a bare synopsis …).
    Other,
}

fn kind(info: &str) -> Kind {
    let (lang, rest) = info.split_once(' ').unwrap_or((info, ""));
    if !matches!(lang, "sh" | "bash" | "shell" | "console") {
        return Kind::Other;
    }
    let rest = rest.trim();
    if let Some(reason) = rest.strip_prefix("no-run:") {
        return Kind::NoRun(reason.trim().to_owned());
    }
    match (lang, rest) {
        ("console", "") => Kind::Console,
        (_, "" | "test") if lang != "console" => Kind::Script,
        _ => Kind::Unknown,
    }
}

/// The script a block runs: for `console`, its `$ ` commands (with `\` continuations); `cargo run
/// --release --` stands for the binary under test, which is what it would build and run.
fn script(kind: &Kind, text: &str) -> String {
    let text = match kind {
        Kind::Console => {
            let mut out = String::new();
            let mut continued = false;
            for line in text.lines() {
                if let Some(command) = line.strip_prefix("$ ") {
                    out.push_str(command);
                } else if continued {
                    out.push_str(line);
                } else {
                    continue;
                }
                out.push('\n');
                continued = line.ends_with('\\');
            }
            out
        }
        _ => text.to_owned(),
    };
    text.replace("cargo run --release -- ", "expert-cli ")
}

/// A copy of the repository without build output, VCS data and the Python environment.
fn scratch_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if matches!(name.to_str(), Some("target" | ".git" | ".venv")) {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                copy(&e.path(), &to.join(&name));
            } else if ft.is_file() {
                std::fs::copy(e.path(), to.join(&name)).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&root(), &dir.path().join("repo"));
    dir
}

/// Runs the shell blocks of one Markdown file in a fresh copy of the repository, in order (a
/// block may use what an earlier one made). Returns (blocks run, blocks marked no-run, problems).
fn run_file(file: &Path, path: &str) -> (usize, usize, Vec<String>) {
    let blocks: Vec<(Kind, Block)> = blocks(file)
        .into_iter()
        .map(|b| (kind(&b.info), b))
        .filter(|(k, _)| *k != Kind::Other)
        .collect();
    let (mut ran, mut skipped, mut problems) = (0, 0, Vec::new());
    if blocks.is_empty() {
        return (ran, skipped, problems);
    }
    let scratch = scratch_copy();
    let repo = scratch.path().join("repo");
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    for (kind, b) in blocks {
        let place = format!("{}:{}", b.file.display(), b.line);
        match &kind {
            Kind::NoRun(reason) if reason.is_empty() => {
                problems.push(format!("{place}: `no-run:` needs a reason"))
            }
            Kind::NoRun(_) => skipped += 1,
            Kind::Unknown => problems.push(format!(
                "{place}: unknown marker ```{}: use sh, or sh no-run: <reason>",
                b.info
            )),
            Kind::Script | Kind::Console => {
                let out = std::process::Command::new("bash")
                    .args(["-euo", "pipefail", "-c", &script(&kind, &b.text)])
                    .current_dir(&repo)
                    .env("PATH", path)
                    .env("HOME", &home)
                    .env("NO_COLOR", "1")
                    .env("SOURCE_DATE_EPOCH", "1764072000")
                    .env_remove("VIRTUAL_ENV")
                    .output()
                    .unwrap();
                if !out.status.success() {
                    problems.push(format!(
                        "{place}: the block failed ({}):\n{}\nstdout:\n{}\nstderr:\n{}",
                        out.status,
                        b.text,
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                ran += 1;
            }
            Kind::Other => unreachable!("filtered out above"),
        }
    }
    (ran, skipped, problems)
}

#[test]
fn every_shell_block_runs_or_says_why_not() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_expert-cli"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Files are independent (a copy each): four at a time.
    let files = markdown_files();
    let results: Vec<(usize, usize, Vec<String>)> = files
        .chunks(files.len().div_ceil(4).max(1))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|chunk| {
            let path = path.clone();
            let chunk = chunk.to_vec();
            std::thread::spawn(move || chunk.iter().map(|f| run_file(f, &path)).collect::<Vec<_>>())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let ran: usize = results.iter().map(|r| r.0).sum();
    let skipped: usize = results.iter().map(|r| r.1).sum();
    let problems: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    assert!(
        problems.is_empty(),
        "{} of the docs' shell blocks fail or are not marked:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    // Guards the reader itself: the docs hold far more runnable blocks than this.
    assert!(ran >= 15, "only {ran} blocks ran ({skipped} marked no-run)");
}

#[test]
fn markers_are_read_as_documented() {
    assert_eq!(kind("sh"), Kind::Script);
    assert_eq!(kind("sh test"), Kind::Script);
    assert_eq!(kind("bash"), Kind::Script);
    assert_eq!(kind("console"), Kind::Console);
    assert_eq!(
        kind("sh no-run: needs a GPU"),
        Kind::NoRun("needs a GPU".into())
    );
    assert_eq!(kind("sh no-run:"), Kind::NoRun(String::new()));
    assert_eq!(kind("sh tset"), Kind::Unknown);
    assert_eq!(kind("json"), Kind::Other);
    assert_eq!(kind(""), Kind::Other);
    assert_eq!(
        script(
            &Kind::Console,
            "$ expert-cli validate \\\n    a.json\nok: a.json\n$ cargo run --release -- schema\n{}\n"
        ),
        "expert-cli validate \\\n    a.json\nexpert-cli schema\n"
    );
}

#[test]
fn the_flag_check_catches_a_made_up_flag() {
    let mut cache = HashMap::new();
    let (sub, flags) = parse("expert-cli package --manifest m.json --frobnicate").unwrap();
    let text = help(&sub, &mut cache).unwrap();
    assert!(has_flag(&text, &flags[0]));
    assert!(!has_flag(&text, &flags[1]), "--frobnicate must be caught");
    assert_eq!(
        parse("expert-cli --format json verify --expert x --pubkey k")
            .unwrap()
            .0,
        "verify"
    );
}
