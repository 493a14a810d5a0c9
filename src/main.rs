//! expert-cli: the binary. Parses argv, runs one command, prints an error once, and returns
//! the exit code from the one table in `exit.rs`. This is the only exit point.

mod cli;
mod commands;
mod env;
mod error;
mod exit;
mod interrupt;
mod render;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr.
            let _ = e.print();
            return if e.use_stderr() {
                exit::ExitStatus::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let no_color = std::env::var_os(env::NO_COLOR).is_some_and(|v| !v.is_empty());
    let ui = render::Ui::new(&cli.global, no_color);
    interrupt::install();
    match commands::run(cli, &ui) {
        Ok(status) => status.into(),
        Err(err) => {
            if let Some((path, diagnostics)) = &err.diagnostics {
                let mut text = String::new();
                for d in diagnostics.errors() {
                    text.push_str(&render::diagnostics::text_line(&ui, path, d));
                }
                eprint!("{text}");
            }
            if ui.format == cli::Format::Json {
                ui.json(&serde_json::json!({
                    "error": { "message": err.message, "hint": err.hint, "exit_code": err.status.code() }
                }));
            }
            ui.error(&err.message, err.hint.as_deref());
            err.status.into()
        }
    }
}
