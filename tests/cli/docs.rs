//! The docs cannot drift: every `expert-cli` command shown in a fenced block of README.md,
//! docs/, examples/ and experts/ READMEs is checked against the real command line (each flag
//! must exist for its subcommand), and every block fenced as ```` ```sh test ```` is run, in
//! order, in a scratch copy of the repository's examples, experts and fixtures, and must
//! succeed.
//!
//! Exception (documented in docs/CLI.md): README.md's two set-up commands are only flag-checked
//! — one of them is this very test suite.

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
            if !matches!(
                b.info.as_str(),
                "" | "sh" | "sh test" | "bash" | "shell" | "console"
            ) {
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

#[test]
fn every_runnable_block_succeeds() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_expert-cli"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for file in markdown_files() {
        let runnable: Vec<Block> = blocks(&file)
            .into_iter()
            .filter(|b| b.info == "sh test")
            .collect();
        if runnable.is_empty() {
            continue;
        }
        let sandbox = tempfile::tempdir().unwrap();
        for dir in ["examples", "experts", "fixtures"] {
            if root().join(dir).is_dir() {
                copy_dir(&root().join(dir), &sandbox.path().join(dir));
            }
        }
        for b in runnable {
            let out = std::process::Command::new("bash")
                .args(["-euo", "pipefail", "-c", &b.text])
                .current_dir(sandbox.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env("SOURCE_DATE_EPOCH", "1764072000")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}:{}: the block failed ({}):\n{}\nstdout:\n{}\nstderr:\n{}",
                b.file.display(),
                b.line,
                out.status,
                b.text,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 3, "only {ran} runnable blocks");
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
