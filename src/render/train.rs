//! `train`'s output: the plan and the dry run (text or JSON), the run folder of `--emit-plan`,
//! the trainer's events (a step bar on a terminal, status lines on stderr otherwise, JSON lines
//! on stdout with `--format json`) and the closing summary.

use super::progress::Bar;
use super::{Style, Ui};
use crate::cli::Format;
use crate::exit::ExitStatus;
use expert_cli::train::dataset::Scan;
use expert_cli::train::decide::{Decision, Status};
use expert_cli::train::templates::Rendered;
use expert_cli::train::{
    DryRun, Emitted, Event, Finish, Observer, ScanSummary, TrainError, TrainReport, TrainingPlan,
};
use std::fmt::Write;

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The plan as aligned text: what is trained, how, and every decision and unused key.
pub fn plan_text(plan: &TrainingPlan) -> String {
    let h = &plan.hyper;
    let a = &plan.adapter;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan: {} {} for base model {} (slug {})",
        plan.expert.name, plan.expert.version, plan.base_model.name, plan.base_model.slug
    );
    let _ = writeln!(
        s,
        "  load         {}{}",
        plan.base_model.load,
        if plan.base_model.local {
            " (local)"
        } else {
            " (hub id, from the Hugging Face cache)"
        }
    );
    let _ = writeln!(s, "  template     {}", plan.template.describe());
    let map = plan.dataset.field_map.as_ref().map(|m| {
        let cols: Vec<String> = [
            ("text", &m.text),
            ("messages", &m.messages),
            ("instruction", &m.instruction),
            ("input", &m.input),
            ("response", &m.response),
            ("system", &m.system),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        format!("{:?} {} ({})", m.format, cols.join(" "), m.source).to_lowercase()
    });
    let _ = writeln!(s, "  dataset      {}", plan.dataset.path.display());
    if let Some(v) = &plan.dataset.validation_path {
        let _ = writeln!(s, "  validation   {}", v.display());
    }
    let _ = writeln!(s, "  fields       {}", map.unwrap_or_else(|| "-".into()));
    let _ = writeln!(
        s,
        "  loss on      {}",
        if plan.dataset.train_on_prompt {
            "prompt and answer"
        } else {
            "answer only (prompt masked)"
        }
    );
    let _ = writeln!(
        s,
        "  adapter      {} r={} alpha={} dropout={} targets={}",
        a.kind,
        opt(&a.rank),
        opt(&a.alpha),
        a.dropout,
        a.target_modules
            .as_ref()
            .map_or("(peft default)".into(), |t| t.join(","))
    );
    let _ = writeln!(
        s,
        "  schedule     epochs {} max_steps {} lr {} {} warmup {} steps / ratio {}",
        h.epochs,
        opt(&h.max_steps),
        h.learning_rate,
        h.lr_scheduler,
        h.warmup_steps,
        opt(&h.warmup_ratio)
    );
    let _ = writeln!(
        s,
        "  batch        {} x {} accumulation, max_seq_length {}",
        h.batch_size, h.gradient_accumulation_steps, h.max_seq_length
    );
    let _ = writeln!(
        s,
        "  precision    {} tf32 {} attention {} gradient_checkpointing {}",
        h.precision, h.tf32, h.attention, h.gradient_checkpointing
    );
    let _ = writeln!(
        s,
        "  optimiser    {} weight_decay {} max_grad_norm {}",
        h.optim,
        opt(&h.weight_decay),
        opt(&h.max_grad_norm)
    );
    let _ = writeln!(
        s,
        "  checkpoints  strategy {} every {} keep {}; eval {} every {}; loss at most {} times",
        opt(&h.save_strategy),
        opt(&h.save_steps),
        opt(&h.save_total_limit),
        opt(&h.eval_strategy),
        opt(&h.eval_steps),
        h.max_loss_events
    );
    let _ = writeln!(s, "  seed         {}", h.seed);
    let _ = writeln!(s, "  device       {:?}", plan.device);
    let _ = writeln!(s, "  output       {}", plan.output_dir.display());
    if let Some(r) = &plan.resume {
        let _ = writeln!(s, "  resume       {}", r.display());
    }
    let _ = writeln!(s, "decisions:");
    for d in &plan.decisions {
        let what = match d.status {
            Status::Used if d.asked == "default" => format!("{} (default)", d.used),
            Status::Used => d.used.clone(),
            Status::Mapped => format!("{} → {} (mapped)", d.asked, d.used),
        };
        let at = d
            .pointer
            .as_ref()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        let why = d
            .reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {:<23}{what}{at}{why}", d.setting);
    }
    if !plan.unused.is_empty() {
        let _ = writeln!(s, "not used by the trainer:");
        for u in &plan.unused {
            let _ = writeln!(s, "  {}: {}", u.pointer, u.reason);
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

/// Rendered examples: trained text between « and », the tokenizer's EOS as ⟨eos⟩; on a
/// terminal the trained text is also green.
fn examples_text(ui: &Ui, first: &[(u64, &Rendered)]) -> String {
    let mut s = String::new();
    for (line, r) in first {
        s.push_str(&format!(
            "--- example from line {line} (« » = trained, the rest is masked) ---\n"
        ));
        for seg in r.segments() {
            if seg.eos {
                s.push_str(&ui.paint_out(Style::Green, "⟨eos⟩"));
            } else if seg.trained {
                s.push_str(&ui.paint_out(Style::Green, &format!("«{}»", seg.text)));
            } else {
                s.push_str(&seg.text);
            }
        }
        s.push('\n');
    }
    s
}

fn bad_lines_text(scan: &ScanSummary, limit: usize) -> String {
    let mut s = String::new();
    for b in scan.bad.iter().take(limit) {
        s.push_str(&format!(
            "{}:{}: {}\n",
            scan.path.display(),
            b.line,
            b.message
        ));
    }
    if scan.bad_total as usize > limit {
        s.push_str(&format!("… and {} more\n", scan.bad_total as usize - limit));
    }
    s
}

fn scan_text(scan: &ScanSummary) -> String {
    let mut s = format!(
        "dataset {}: {} lines, {} examples, {} bad line{}\n",
        scan.path.display(),
        scan.lines,
        scan.examples,
        scan.bad_total,
        if scan.bad_total == 1 { "" } else { "s" }
    );
    s.push_str(&bad_lines_text(scan, usize::MAX));
    s
}

/// `--dry-run`: the plan, the examples and every bad line; exit 1 when a line is bad.
pub fn dry_run(ui: &Ui, report: &DryRun) -> ExitStatus {
    if ui.format == Format::Json {
        ui.json(&serde_json::to_value(report).expect("a dry run is plain data"));
    } else {
        ui.out(&plan_text(&report.plan));
        let first: Vec<(u64, &Rendered)> = report
            .examples
            .iter()
            .map(|e| (e.line, &e.rendered))
            .collect();
        ui.out(&examples_text(ui, &first));
        ui.out(&scan_text(&report.train));
        if let Some(c) = &report.template_check {
            ui.outln(&expert_cli::train::check::summary(c));
        }
        if let Some(eval) = &report.eval {
            ui.out(&scan_text(eval));
        }
    }
    if report.bad_lines() > 0 {
        ExitStatus::Invalid
    } else {
        ExitStatus::Success
    }
}

/// `--emit-plan`: where the run folder is and the commands that run it.
pub fn emitted(ui: &Ui, e: &Emitted) {
    if ui.format == Format::Json {
        ui.json(&serde_json::to_value(e).expect("an emitted plan is plain data"));
        return;
    }
    ui.outln(&format!(
        "wrote {} ({} examples rendered into {}, trainer in {})\nrun it with the Python environment's bin/ on PATH:\n  {}\n  {}\n  {}",
        e.plan_file.display(),
        e.examples,
        e.data_dir.display(),
        e.package_dir.display(),
        e.launch.python,
        e.launch.torchrun,
        e.launch.accelerate,
    ));
}

/// Before a real run: what is trained, the plan's warnings and, with --verbose, everything.
pub fn planned(ui: &Ui, plan: &TrainingPlan) {
    ui.status(
        "Planning",
        &format!(
            "{} {} for {}",
            plan.expert.name, plan.expert.version, plan.base_model.name
        ),
    );
    if ui.verbose {
        ui.err(&plan_text(plan));
    }
    for w in &plan.warnings {
        ui.warn(w);
    }
    // every mapping that changes what is trained (the loss report interval does not)
    let changes = |d: &&Decision| d.status == Status::Mapped && d.setting != "logging";
    for d in plan.decisions.iter().filter(changes) {
        ui.warn(&format!(
            "{} {} is used as {}: {}",
            d.setting,
            d.asked,
            d.used,
            d.reason.as_deref().unwrap_or("")
        ));
    }
    for u in &plan.unused {
        ui.note(&format!("{} is not used: {}", u.pointer, u.reason));
    }
    if !plan.unused.is_empty() && !ui.verbose {
        ui.warn(&format!(
            "{} manifest setting(s) are not used by the trainer (--verbose or --dry-run lists them)",
            plan.unused.len()
        ));
    }
}

/// What a failed run shows before its error: the bad lines, or the Python traceback with
/// --verbose.
pub fn failed(ui: &Ui, e: &TrainError) {
    match e {
        TrainError::BadLines { scan, .. } => {
            ui.err(&bad_lines_text(&ScanSummary::from(&**scan as &Scan), 20))
        }
        TrainError::Python { traceback, .. } if ui.verbose => ui.err(&format!("{traceback}\n")),
        TrainError::Python { .. }
        | TrainError::Select { .. }
        | TrainError::NoDataset { .. }
        | TrainError::Unsupported { .. }
        | TrainError::Missing { .. }
        | TrainError::Dataset(_)
        | TrainError::Empty { .. }
        | TrainError::Write { .. }
        | TrainError::PythonEnv { .. }
        | TrainError::NoPython => {}
    }
}

/// The closing line: where the adapter is, steps, time and loss.
pub fn finished(ui: &Ui, report: &TrainReport) -> ExitStatus {
    let summary = report.done.as_ref().map_or_else(String::new, |d| {
        let loss = match (d.first_loss, d.last_loss) {
            (Some(a), Some(b)) => format!(", loss {a:.4} → {b:.4}"),
            _ => String::new(),
        };
        let resume = d
            .checkpoint
            .as_ref()
            .filter(|_| report.finish == Finish::Interrupted)
            .map(|c| format!("; resume with --resume {c}"))
            .unwrap_or_default();
        format!("{} steps in {:.1} s{loss}{resume}", d.step, d.seconds)
    });
    let out = report.output_dir.display();
    match report.finish {
        Finish::Finished => {
            if ui.format != Format::Json {
                ui.outln(&format!("trained adapter: {out} ({summary})"));
            }
            ExitStatus::Success
        }
        Finish::Interrupted => {
            ui.warn(&format!(
                "training stopped early; adapter saved to {out} ({summary})"
            ));
            ExitStatus::Interrupted
        }
        Finish::StoppedBeforeStart => {
            ui.warn("training stopped before the first step; nothing was saved");
            ExitStatus::Interrupted
        }
    }
}

/// Shows the trainer's events: JSON lines on stdout with `--format json`, the step bar on a
/// terminal, status lines on stderr otherwise.
pub struct Events<'a> {
    ui: &'a Ui,
    bar: Bar,
}

impl<'a> Events<'a> {
    /// Events for `ui`.
    pub fn new(ui: &'a Ui) -> Self {
        Self {
            ui,
            bar: Bar::new(ui.stderr_is_terminal()),
        }
    }
    /// Clears the bar.
    pub fn finish(&mut self) {
        expert_cli::progress::Progress::finish(&mut self.bar);
    }
    fn say(&self, verb: &str, text: &str) {
        let line = format!(
            "{} {text}",
            self.ui.paint_err(Style::Green, &format!("{verb:>12}"))
        );
        if !self.bar.println(&line) {
            self.ui.status(verb, text);
        }
    }
}

/// `loss 2.3456 lr 2.00e-4 12.5 samples/s 3400 tokens/s` (the parts that are known).
fn log_text(
    loss: Option<f64>,
    learning_rate: Option<f64>,
    samples: Option<f64>,
    tokens: Option<f64>,
) -> String {
    let mut parts = Vec::new();
    if let Some(l) = loss {
        parts.push(format!("loss {l:.4}"));
    }
    if let Some(l) = learning_rate {
        parts.push(format!("lr {l:.2e}"));
    }
    if let Some(s) = samples {
        parts.push(format!("{s:.1} samples/s"));
    }
    if let Some(t) = tokens {
        parts.push(format!("{t:.0} tokens/s"));
    }
    parts.join(" ")
}

impl Observer for Events<'_> {
    fn event(&mut self, event: &Event) {
        if self.ui.format == Format::Json {
            self.ui.outln(&event.to_json().to_string());
            return;
        }
        match event {
            Event::Status { message } => {
                let (verb, rest) = message.split_once(' ').unwrap_or((message, ""));
                let mut c = verb.chars();
                let verb: String = c
                    .next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default();
                self.say(&verb, rest);
            }
            Event::Start {
                total_steps,
                examples,
                device,
                precision,
                trainable_params,
                optim,
                world_size,
                ..
            } => {
                let procs = match world_size {
                    Some(n) if *n > 1 => format!(", {n} processes"),
                    _ => String::new(),
                };
                self.say(
                    "Starting",
                    &format!(
                        "{total_steps} steps, {examples} examples, {device} {precision}, {}, {trainable_params} trainable parameters{procs}",
                        opt(optim)
                    ),
                );
                self.bar.start_steps("Training", *total_steps);
            }
            Event::Log {
                step,
                total_steps,
                loss,
                learning_rate,
                samples_per_second,
                tokens_per_second,
                ..
            } => {
                let text = log_text(
                    *loss,
                    *learning_rate,
                    *samples_per_second,
                    *tokens_per_second,
                );
                if self.bar.is_drawn() {
                    self.bar.set(*step, text);
                } else {
                    self.ui
                        .status("Step", &format!("{step}/{total_steps} {text}"));
                }
            }
            Event::Eval { step, eval_loss } => self.say(
                "Evaluated",
                &format!(
                    "step {step}: eval loss {}",
                    opt(&eval_loss.map(|l| format!("{l:.4}")))
                ),
            ),
            Event::Checkpoint { path, .. } => self.say("Saved", path),
            Event::Warning { message } => {
                let line = format!("{}: {message}", self.ui.paint_err(Style::Yellow, "warning"));
                if !self.bar.println(&line) {
                    self.ui.warn(message);
                }
            }
            Event::Done(_) => self.finish(),
            Event::Other(_) => {}
        }
    }
}
