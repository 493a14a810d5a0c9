//! A byte progress bar on stderr, drawn only on a terminal (and never with --quiet).

use expert_cli::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws [`Progress`] reports as an indicatif bar.
pub struct Bar {
    bar: Option<ProgressBar>,
    enabled: bool,
}

impl Bar {
    /// A bar that draws only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self { bar: None, enabled }
    }
}

impl Progress for Bar {
    fn start(&mut self, label: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{prefix:>12.green} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        self.bar = Some(bar);
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
