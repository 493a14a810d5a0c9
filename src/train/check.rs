//! The tokenizer check on its own: `train --dry-run --base-model PATH` asks the Python trainer
//! to render the plan's first conversations with the base model's chat template and compare
//! them with ours, without training and without writing anything. (A real run does the same
//! check before it loads the model.)

use super::{Event, Observer, PythonSetup, TrainError, TrainingPlan};
use serde_json::Value as Json;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Runs the check for a prepared plan (see [`super::prepare`]). Returns the trainer's
/// `template_check` report: `status` `match` (with the number of `examples` compared),
/// `skipped` (with the `reason`: no chat template, no conversations) or `mismatch` (only with
/// `allow_mismatch`; with the `line` and the `message`).
///
/// # Errors
/// [`TrainError::Python`] when the template differs (the trainer's message names the template,
/// the dataset line and the first differing characters) or the tokenizer cannot be loaded;
/// [`TrainError::PythonEnv`]; [`TrainError::NoPython`] without the `python` feature.
pub fn check_template(plan: &TrainingPlan, python: &PythonSetup) -> Result<Json, TrainError> {
    struct Capture(Option<Json>);
    impl Observer for Capture {
        fn event(&mut self, event: &Event) {
            if let Event::Other(v) = event {
                if v.get("event").and_then(Json::as_str) == Some("template_check") {
                    self.0 = Some(v.clone());
                }
            }
        }
    }
    let mut plan = plan.clone();
    plan.template.check.only = true;
    let mut capture = Capture(None);
    super::run(
        &plan,
        python,
        &mut capture,
        Arc::new(AtomicBool::new(false)),
    )?;
    Ok(capture
        .0
        .unwrap_or_else(|| serde_json::json!({"event": "template_check", "status": "skipped", "reason": "the trainer reported no check"})))
}

/// The check's report as one line of text.
pub fn summary(report: &Json) -> String {
    let get = |k: &str| report.get(k).and_then(Json::as_str).unwrap_or("");
    let tokenizer = get("tokenizer");
    match get("status") {
        "match" => format!(
            "template check: `{}` renders the first {} conversation(s) exactly as the chat template of `{tokenizer}`",
            get("template"),
            report.get("examples").and_then(Json::as_u64).unwrap_or(0)
        ),
        "mismatch" => format!("template check: MISMATCH (allowed): {}", get("message")),
        _ => format!("template check: skipped: {}", get("reason")),
    }
}
