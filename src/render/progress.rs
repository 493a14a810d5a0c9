//! The one progress bar, on stderr, drawn only on a terminal (and never with --quiet): bytes
//! for `package` and `sign` (through the library's [`Progress`] trait), steps for `train`.

use expert_cli::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// An indicatif bar that draws only when enabled.
pub struct Bar {
    bar: Option<ProgressBar>,
    enabled: bool,
}

const BYTES: &str = "{prefix:>12.green} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}";
const STEPS: &str =
    "{prefix:>12.green} [{bar:30}] {pos}/{len} steps  {msg}  ({elapsed}, eta {eta})";

impl Bar {
    /// A bar that draws only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self { bar: None, enabled }
    }

    fn draw(&mut self, template: &str, label: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(template)
            .expect("the bar templates are valid")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        self.bar = Some(bar);
    }

    /// Starts a bar counting `total` optimiser steps.
    pub fn start_steps(&mut self, label: &str, total: u64) {
        self.draw(STEPS, label, total);
    }

    /// Moves a step bar to `pos`, with `message` beside it.
    pub fn set(&self, pos: u64, message: String) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
            b.set_message(message);
        }
    }

    /// True while a bar is on screen.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Prints `line` above the bar; false when no bar is drawn (the caller prints it).
    pub fn println(&self, line: &str) -> bool {
        match &self.bar {
            Some(b) => {
                b.println(line);
                true
            }
            None => false,
        }
    }
}

impl Progress for Bar {
    fn start(&mut self, label: &str, total: u64) {
        self.draw(BYTES, label, total);
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
