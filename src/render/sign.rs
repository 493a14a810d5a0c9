//! `sign`'s result: status lines on stderr and `<sha256>  <path>` on stdout, or the
//! [`SignReport`] as JSON (plus `removed_stale_minisig`).

use super::Ui;
use crate::cli::Format;
use expert_cli::signing::{display_name as shown, SignReport};
use serde::Serialize;

#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a SignReport,
    /// An earlier `PACKAGE.minisig` was removed and none written (no `--minisig`).
    removed_stale_minisig: bool,
}

/// Prints what `sign` did; `removed_stale_minisig` when an earlier `PACKAGE.minisig` was
/// removed and no new one written.
pub fn report(ui: &Ui, report: &SignReport, removed_stale_minisig: bool) {
    if ui.format == Format::Json {
        let json = Json {
            report,
            removed_stale_minisig,
        };
        ui.json(&serde_json::to_value(&json).expect("a sign report serialises"));
        return;
    }
    ui.status(
        "Signed",
        &format!(
            "`{}`: {} v{} for {}, key {} as {} ({} members{})",
            report.package,
            shown(&report.name),
            shown(&report.version),
            shown(&report.base_model),
            report.key_id,
            shown(&report.publisher),
            report.members,
            if report.replaced_signature {
                "; the earlier signature was replaced"
            } else {
                ""
            }
        ),
    );
    if let Some(m) = &report.minisig {
        ui.status(
            "Wrote",
            &format!(
                "`{}`, the detached signature (minisign key id {}); `minisign -V -p KEY.minisign.pub -m {}` checks it",
                m.path, m.key_id, report.package
            ),
        );
    } else if removed_stale_minisig {
        ui.status(
            "Removed",
            &format!(
                "`{}`: it signed the package as it was before (pass --minisig to write a new one)",
                expert_cli::signing::minisig_path(std::path::Path::new(&report.package)).display()
            ),
        );
    }
    ui.outln(&format!("{}  {}", report.sha256, report.package));
}
