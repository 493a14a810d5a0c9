//! Where output goes: results on stdout, talk on stderr; colour only on a terminal and never
//! under `NO_COLOR`. A closed stdout (`| head`) ends the run quietly.

pub mod diagnostics;
pub mod package;
pub mod progress;
pub mod sign;
pub mod train;
pub mod verify;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use std::io::{IsTerminal, Write};

/// The user interface of one run.
pub struct Ui {
    /// Result format.
    pub format: Format,
    /// Only results and errors.
    pub quiet: bool,
    /// More detail.
    pub verbose: bool,
    color_out: bool,
    color_err: bool,
}

/// Styles used in text output.
#[derive(Clone, Copy)]
pub enum Style {
    /// Errors.
    Red,
    /// Warnings.
    Yellow,
    /// Notes, paths.
    Cyan,
    /// Success.
    Green,
}

impl Ui {
    /// The UI for `args` and the given value of `NO_COLOR`.
    pub fn new(args: &GlobalArgs, no_color: bool) -> Self {
        let want = |tty: bool| match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Self {
            format: args.format,
            quiet: args.quiet,
            verbose: args.verbose,
            color_out: want(std::io::stdout().is_terminal()),
            color_err: want(std::io::stderr().is_terminal()),
        }
    }

    /// True when stderr is a terminal (progress bars are drawn only then).
    pub fn stderr_is_terminal(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// `text` in `style` for stdout.
    pub fn paint_out(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }
    /// `text` in `style` for stderr.
    pub fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }

    /// Writes a result to stdout. A closed pipe ends the process with success: the reader
    /// has all it wanted.
    pub fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }
    /// Writes a result line to stdout.
    pub fn outln(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }
    /// Writes pretty JSON to stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_default();
        self.outln(&text);
    }

    /// A status line on stderr, cargo style: `   Packaging expert-sql v0.1.0`.
    pub fn status(&self, verb: &str, message: &str) {
        if !self.quiet {
            eprintln!(
                "{} {message}",
                self.paint_err(Style::Green, &format!("{verb:>12}"))
            );
        }
    }
    /// A warning on stderr.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}: {message}", self.paint_err(Style::Yellow, "warning"));
        }
    }
    /// A note on stderr (only with --verbose).
    pub fn note(&self, message: &str) {
        if self.verbose {
            eprintln!("{}: {message}", self.paint_err(Style::Cyan, "note"));
        }
    }
    /// An error and its hint on stderr.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        eprintln!("{}: {message}", self.paint_err(Style::Red, "error"));
        if let Some(h) = hint {
            eprintln!("{}: {h}", self.paint_err(Style::Cyan, "hint"));
        }
    }
}

fn paint(on: bool, style: Style, text: &str) -> String {
    if !on {
        return text.to_owned();
    }
    let code = match style {
        Style::Red => "1;31",
        Style::Yellow => "1;33",
        Style::Cyan => "36",
        Style::Green => "1;32",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
