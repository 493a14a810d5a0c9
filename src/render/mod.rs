//! Where output goes: results on stdout, talk on stderr; colour only where `anstream` says a
//! stream takes it (a terminal, no `NO_COLOR`, `CLICOLOR`/`CLICOLOR_FORCE` honoured, and on
//! Windows a console that shows ANSI colours or is driven through its API). Styles are
//! `anstyle`'s, so this module writes no escape code by hand; without colour the bytes are the
//! text alone. A closed stdout (`| head`) is remembered, later results are dropped, and `main`
//! ends the run quietly with success; a closed stderr is ignored.

pub mod diagnostics;
pub mod migrate;
pub mod package;
pub mod progress;
pub mod sign;
pub mod train;
pub mod verify;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use anstream::AutoStream;
use anstyle::AnsiColor;
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
    /// How stdout takes colour: `Never`, or how `anstream` writes it (ANSI, or the Windows
    /// console API).
    color_out: anstream::ColorChoice,
    /// The same for stderr.
    color_err: anstream::ColorChoice,
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
    /// The UI for `args`: `--color auto` leaves the choice per stream to `anstream`
    /// (terminal detection, `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`).
    pub fn new(args: &GlobalArgs) -> Self {
        let choice = match args.color {
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
            ColorChoice::Auto => anstream::ColorChoice::Auto,
        };
        let (color_out, color_err) = match choice {
            anstream::ColorChoice::Auto => (
                AutoStream::choice(&std::io::stdout()),
                AutoStream::choice(&std::io::stderr()),
            ),
            chosen => (chosen, chosen),
        };
        Self {
            format: args.format,
            quiet: args.quiet,
            verbose: args.verbose,
            color_out,
            color_err,
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
        if let Err(e) = write_to(std::io::stdout().lock(), self.color_out, text) {
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
        let _ = write_to(std::io::stderr().lock(), self.color_err, text);
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

/// Writes `text` to stdout and flushes it (no colour: what `main` writes before a [`Ui`]
/// exists).
///
/// # Errors
/// The write's error; `BrokenPipe` when the reader has gone.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), anstream::ColorChoice::Never, text)
}

/// Writes `text` to `stream` and flushes it. Without colour the bytes go as they are; with it,
/// through `anstream`, which passes the styles on as ANSI codes or, on a Windows console
/// without ANSI support, as console calls.
fn write_to<S: anstream::stream::RawStream + anstream::stream::AsLockedWrite>(
    stream: S,
    color: anstream::ColorChoice,
    text: &str,
) -> std::io::Result<()> {
    match color {
        anstream::ColorChoice::Never => {
            let mut raw = stream;
            raw.write_all(text.as_bytes())?;
            raw.flush()
        }
        chosen @ (anstream::ColorChoice::Always
        | anstream::ColorChoice::AlwaysAnsi
        | anstream::ColorChoice::Auto) => {
            let mut styled = AutoStream::new(stream, chosen);
            styled.write_all(text.as_bytes())?;
            styled.flush()
        }
    }
}

impl Style {
    /// The `anstyle` style: bold red, bold yellow, cyan, bold green.
    fn anstyle(self) -> anstyle::Style {
        let (color, bold) = match self {
            Style::Red => (AnsiColor::Red, true),
            Style::Yellow => (AnsiColor::Yellow, true),
            Style::Cyan => (AnsiColor::Cyan, false),
            Style::Green => (AnsiColor::Green, true),
        };
        let style = anstyle::Style::new().fg_color(Some(color.into()));
        if bold {
            style.bold()
        } else {
            style
        }
    }
}

/// `text` in `style` when the stream takes colour, else `text` alone.
fn paint(color: anstream::ColorChoice, style: Style, text: &str) -> String {
    match color {
        anstream::ColorChoice::Never => text.to_owned(),
        anstream::ColorChoice::Always
        | anstream::ColorChoice::AlwaysAnsi
        | anstream::ColorChoice::Auto => {
            let style = style.anstyle();
            format!("{style}{text}{style:#}")
        }
    }
}
