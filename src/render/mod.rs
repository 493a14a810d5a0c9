//! Where output goes: results on stdout, talk on stderr; colour only on a terminal and never
//! under `NO_COLOR`. A closed stdout (`| head`) is remembered, later results are dropped, and
//! `main` ends the run quietly with success; a closed stderr is ignored.

pub mod diagnostics;
pub mod migrate;
pub mod package;
pub mod progress;
pub mod sign;
pub mod train;
pub mod verify;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use std::cell::Cell;
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
    stdout_closed: Cell<bool>,
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
            stdout_closed: Cell::new(false),
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

    /// Writes a result to stdout. Once the reader has closed the pipe, results are dropped and
    /// [`Ui::stdout_closed`] tells `main`, which ends the run with success.
    pub fn out(&self, text: &str) {
        if self.stdout_closed.get() {
            return;
        }
        if let Err(e) = write_stdout(text) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.stdout_closed.set(true);
            }
        }
    }
    /// True when a write found stdout closed by its reader.
    pub fn stdout_closed(&self) -> bool {
        self.stdout_closed.get()
    }
    /// Writes a result line to stdout.
    pub fn outln(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }
    /// Writes pretty JSON to stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).expect("a JSON value serialises");
        self.outln(&text);
    }
    /// Writes `text` to stderr as is; a closed stderr is ignored (`eprint!` would panic).
    pub fn err(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
    }

    /// A status line on stderr, cargo style: `   Packaging expert-sql v0.1.0`.
    pub fn status(&self, verb: &str, message: &str) {
        if !self.quiet {
            let verb = self.paint_err(Style::Green, &format!("{verb:>12}"));
            self.err(&format!("{verb} {message}\n"));
        }
    }
    /// A warning on stderr.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let label = self.paint_err(Style::Yellow, "warning");
            self.err(&format!("{label}: {message}\n"));
        }
    }
    /// A note on stderr (only with --verbose).
    pub fn note(&self, message: &str) {
        if self.verbose {
            let label = self.paint_err(Style::Cyan, "note");
            self.err(&format!("{label}: {message}\n"));
        }
    }
    /// An error and its hint on stderr.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let mut text = format!("{}: {message}\n", self.paint_err(Style::Red, "error"));
        if let Some(h) = hint {
            text.push_str(&format!("{}: {h}\n", self.paint_err(Style::Cyan, "hint")));
        }
        self.err(&text);
    }
}

/// Writes `text` to stdout and flushes it.
///
/// # Errors
/// The write's error; `BrokenPipe` when the reader has gone.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush())
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
