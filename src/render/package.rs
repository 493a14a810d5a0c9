//! `package` on screen: status lines and the progress bar while it works ([`PackageUi`], the
//! [`PackageEvents`] of the CLI), then the [`PackageReport`] as text or JSON ([`render`]).
//!
//! Text: stdout gets `<sha256>  <path>` of the package, or for `--list-contents` one line per
//! member (`<sha256>  <size>  <path>`); stderr gets the manifest's warnings, `Packaging …`
//! (not for a dry run, which writes nothing), where the adapter came from, and `Finished …`.
//! JSON: the report as it serialises (docs/PACKAGING.md).

use super::progress::Bar;
use super::Ui;
use crate::cli::Format;
use expert_cli::archive::package::{PackageContents, PackageEvents, PackageReport};
use expert_cli::manifest::{BaseModel, Diagnostics, Manifest, Severity};
use expert_cli::progress::Progress;
use std::path::Path;

/// Inputs above this many bytes get a progress bar (on a terminal).
const BAR_FROM: u64 = 8 << 20;

/// The CLI's side of a running `package`.
pub struct PackageUi<'a> {
    ui: &'a Ui,
    manifest_path: &'a Path,
    dry_run: bool,
    bar: Bar,
}

impl<'a> PackageUi<'a> {
    /// Events of packaging `manifest_path`; `dry_run` for `--list-contents`.
    pub fn new(ui: &'a Ui, manifest_path: &'a Path, dry_run: bool) -> Self {
        Self {
            ui,
            manifest_path,
            dry_run,
            bar: Bar::new(false),
        }
    }
}

impl PackageEvents for PackageUi<'_> {
    fn started(&mut self, manifest: &Manifest, warnings: &Diagnostics, model: &BaseModel) {
        if !self.ui.quiet {
            let path = self.manifest_path.display().to_string();
            for d in warnings
                .0
                .iter()
                .filter(|d| d.severity == Severity::Warning)
            {
                self.ui
                    .err(&super::diagnostics::text_line(self.ui, &path, d));
            }
        }
        if !self.dry_run {
            self.ui.status(
                "Packaging",
                &format!("{} v{} for {}", manifest.name, manifest.version, model.name),
            );
        }
    }

    fn planned(&mut self, contents: &PackageContents) {
        let a = &contents.adapter;
        self.ui.status(
            "Adapter",
            &format!("`{}` ({})", a.weights.display(), a.found_by.describe()),
        );
        let total: u64 = contents.members.iter().map(|m| m.size).sum();
        self.bar = Bar::new(!self.dry_run && self.ui.stderr_is_terminal() && total > BAR_FROM);
    }

    fn progress(&mut self) -> &mut dyn Progress {
        &mut self.bar
    }
}

/// Prints `report` on stdout (and, for text, the closing status line on stderr).
pub fn render(ui: &Ui, report: &PackageReport) {
    if ui.format == Format::Json {
        ui.json(&serde_json::to_value(report).expect("a package report serialises to JSON"));
        return;
    }
    match &report.written {
        None => {
            let mut out = String::new();
            for m in &report.members {
                out.push_str(&format!("{}  {:>12}  {}\n", m.sha256, m.size, m.path));
            }
            ui.out(&out);
        }
        Some(w) => {
            ui.status(
                "Finished",
                &format!(
                    "`{}` ({}, {} members)",
                    w.path.display(),
                    human(w.size),
                    report.members.len()
                ),
            );
            ui.outln(&format!("{}  {}", w.sha256, w.path.display()));
        }
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
