//! expert-cli: the binary. Parses argv, runs one command, prints an error once, and returns
//! the exit code from the one table in `exit.rs`. This is the only exit point: a closed stdout
//! (`expert-cli … | head`) is noticed by [`render::Ui`] and ends the run here, quietly, with
//! success.

mod cli;
mod commands;
mod env;
mod error;
mod exit;
mod interrupt;
mod key_input;
mod render;

use clap::FromArgMatches;
use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let parsed = cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return usage_error(&e, wants_json(&args)),
    };
    let ui = render::Ui::new(&cli.global);
    interrupt::install();
    let status = match commands::run(cli, &ui) {
        Ok(status) => status,
        Err(err) => {
            if let Some((path, diagnostics)) = &err.diagnostics {
                let mut text = String::new();
                for d in diagnostics.errors() {
                    text.push_str(&render::diagnostics::text_line(&ui, path, d));
                }
                ui.err(&text);
            }
            if ui.format == cli::Format::Json {
                ui.json(&error_json(&err.message, err.hint.as_deref(), err.status));
            }
            ui.error(&err.message, err.hint.as_deref());
            err.status
        }
    };
    // The reader closed stdout: it has all it wanted (ripgrep's rule).
    if ui.stdout_closed() {
        return ExitCode::SUCCESS;
    }
    status.into()
}

/// `{"error": {"message", "hint", "exit_code"}}`: what `--format json` prints on stdout for any
/// failure, usage errors included (docs/CLI.md).
fn error_json(message: &str, hint: Option<&str>, status: exit::ExitStatus) -> serde_json::Value {
    serde_json::json!({
        "error": { "message": message, "hint": hint, "exit_code": status.code() }
    })
}

/// True when the command line asks for `--format json` (the last `--format` before a `--`),
/// read from the raw words because clap refused them.
fn wants_json(args: &[OsString]) -> bool {
    let mut json = false;
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        if w == "--format" {
            json = words.next().is_some_and(|v| v == "json");
        } else if let Some(v) = w.strip_prefix("--format=") {
            json = v == "json";
        }
    }
    json
}

/// A command line clap refused (exit 2), or `--help`/`--version` (exit 0, text on stdout even
/// with `--format json`). The text goes to stderr as clap writes it; with `--format json` the
/// same error is also printed on stdout as JSON.
fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let _ = e.print();
    if json {
        let (message, hint) = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            (
                "no command was given".to_owned(),
                Some("run `expert-cli --help` for the list of commands".to_owned()),
            )
        } else {
            clap_message(&e.render().to_string())
        };
        let value = error_json(&message, hint.as_deref(), exit::ExitStatus::Usage);
        let text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
        let _ = render::write_stdout(&format!("{text}\n"));
    }
    exit::ExitStatus::Usage.into()
}

/// clap's rendered error as a one-line message (its first paragraph, without `error: `) and a
/// hint (its `tip:` lines, else the usage line).
fn clap_message(text: &str) -> (String, Option<String>) {
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    let message = paragraphs
        .first()
        .expect("`split` yields at least one piece")
        .trim_start_matches("error: ")
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let tips: Vec<&str> = paragraphs
        .iter()
        .flat_map(|p| p.lines())
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .collect();
    let hint = if tips.is_empty() {
        paragraphs
            .iter()
            .find_map(|p| p.trim().strip_prefix("Usage: "))
            .map(|u| format!("usage: {}", u.lines().next().unwrap_or(u).trim()))
    } else {
        Some(tips.join("; "))
    };
    (message, hint)
}

/// The rows of the table under `## {heading}` in docs/CLI.md, each as its cells (header and
/// separator rows included; callers keep the rows they can read). For the tests that keep
/// docs/CLI.md's tables and the code's (`exit.rs`, `env.rs`) in step.
#[cfg(test)]
fn cli_md_table(heading: &str) -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CLI.md"))
        .expect("docs/CLI.md is readable");
    let title = format!("## {heading}");
    doc.lines()
        .skip_while(|l| l.trim_end() != title)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| {
            let cells = l.strip_prefix("| ")?.strip_suffix(" |")?;
            Some(cells.split(" | ").map(str::to_owned).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_wanted_only_for_a_format_json_before_a_double_dash() {
        let w = |args: &[&str]| {
            let args: Vec<OsString> = std::iter::once("expert-cli")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect();
            wants_json(&args)
        };
        assert!(w(&["--format", "json", "validate", "--bogus"]));
        assert!(w(&["validate", "--format=json", "--bogus"]));
        assert!(!w(&["--format", "json", "--format", "text", "validate"]));
        assert!(!w(&["validate", "--", "--format", "json"]));
        assert!(!w(&["--format"]));
    }

    #[test]
    fn a_clap_error_becomes_a_message_and_a_hint() {
        let text = "error: unexpected argument '--modle' found\n\n  tip: a similar argument exists: '--model'\n\nUsage: expert-cli package --model <MODEL>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_message(text),
            (
                "unexpected argument '--modle' found".to_owned(),
                Some("a similar argument exists: '--model'".to_owned())
            )
        );
        let text = "error: the following required arguments were not provided:\n  --expert <EXPERT>\n  --key <KEY>\n\nUsage: expert-cli sign --expert <EXPERT> --key <KEY>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_message(text),
            (
                "the following required arguments were not provided: --expert <EXPERT> --key <KEY>"
                    .to_owned(),
                Some("usage: expert-cli sign --expert <EXPERT> --key <KEY>".to_owned())
            )
        );
    }
}
