//! `sign`'s result: a status line on stderr and `<sha256>  <path>` on stdout, or the
//! [`SignReport`] as JSON.

use super::Ui;
use crate::cli::Format;
use expert_cli::signing::{display_name as shown, SignReport};

/// Prints what `sign` did.
pub fn report(ui: &Ui, report: &SignReport) {
    if ui.format == Format::Json {
        ui.json(&serde_json::to_value(report).expect("a sign report serialises"));
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
    ui.outln(&format!("{}  {}", report.sha256, report.package));
}
