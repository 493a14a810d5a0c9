//! `train`: manifest + flags → a training plan (library), then either a dry run (plan, rendered
//! examples, every bad dataset line), a plan file for `python -m expert_trainer`, or a real run
//! through the embedded Python trainer with a progress bar (terminal) or JSON lines
//! (`--format json`). Ctrl-C asks the trainer to stop after the current step with a checkpoint.

use crate::cli::{Device, Format, TrainArgs};
use crate::env;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{Style, Ui};
use expert_cli::manifest;
use expert_cli::train::{
    self, dataset::Scan, plan, templates::Rendered, Event, Observer, TrainError, TrainingPlan,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Runs `train`.
pub fn run(args: TrainArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let (manifest, _warnings) = manifest::load(&args.manifest)?;
    for (flag, path) in [
        ("--resume", &args.resume),
        ("--base-model", &args.base_model),
    ] {
        if let Some(p) = path {
            if !p.exists() {
                return Err(CliError::new(
                    ExitStatus::Usage,
                    format!("{flag} `{}` does not exist", p.display()),
                )
                .hint("check the path"));
            }
        }
    }
    let opts = plan::Options {
        model: args.model.clone(),
        dataset: args.dataset.clone(),
        output: args.output.clone(),
        epochs: args.epochs,
        max_steps: args.max_steps,
        device: match args.device {
            Device::Auto => train::Device::Auto,
            Device::Cpu => train::Device::Cpu,
            Device::Cuda => train::Device::Cuda,
        },
        resume: args.resume.clone(),
        base_model: args.base_model.clone(),
        seed: args.seed,
        train_on_prompt: args.train_on_prompt,
    };
    let mut plan = plan::plan(&manifest, &args.manifest, &opts).map_err(train_error)?;
    if !plan.dataset.path.is_file() {
        return Err(CliError::new(
            ExitStatus::Usage,
            format!(
                "the dataset `{}` does not exist",
                plan.dataset.path.display()
            ),
        )
        .hint(
            "check training.dataset.path (relative to the manifest's folder) or pass --dataset",
        ));
    }

    if args.dry_run {
        let prepared = train::prepare(&mut plan, args.show, None).map_err(train_error)?;
        let bad = prepared.train.bad_total + prepared.eval.as_ref().map_or(0, |s| s.bad_total);
        if ui.format == Format::Json {
            let examples: Vec<_> = prepared
                .train
                .first
                .iter()
                .map(|(line, r)| serde_json::json!({"line": line, "segments": r.segments, "eos": r.eos}))
                .collect();
            ui.json(&serde_json::json!({
                "plan": plan,
                "examples": examples,
                "train": scan_json(&prepared.train),
                "eval": prepared.eval.as_ref().map(scan_json),
            }));
        } else {
            ui.out(&plan_text(&plan));
            ui.out(&examples_text(ui, &prepared.train.first));
            ui.out(&scan_text(&prepared.train));
            if let Some(eval) = &prepared.eval {
                ui.out(&scan_text(eval));
            }
        }
        return Ok(if bad > 0 {
            ExitStatus::Invalid
        } else {
            ExitStatus::Success
        });
    }

    if let Some(plan_file) = &args.emit_plan {
        let dir = match plan_file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let stem = plan_file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into());
        let render_dir = dir.join(format!("{stem}.data"));
        train::prepare(&mut plan, 0, Some(&render_dir)).map_err(train_error)?;
        let plan = absolute(plan);
        super::write_atomically(plan_file, plan.to_json().as_bytes(), true)?;
        if ui.format == Format::Json {
            ui.json(
                &serde_json::json!({"plan": plan_file, "examples": plan.dataset.train_examples}),
            );
        } else {
            ui.outln(&format!(
                "wrote {} ({} examples rendered into {})\nrun it with:\n  PYTHONPATH=python python -m expert_trainer {}\n  PYTHONPATH=python accelerate launch -m expert_trainer {}",
                plan_file.display(),
                plan.dataset.train_examples,
                render_dir.display(),
                plan_file.display(),
                plan_file.display(),
            ));
        }
        return Ok(ExitStatus::Success);
    }

    // A real run: render into the output folder, then hand the plan to Python.
    if !cfg!(embedded_python) {
        return Err(train_error(TrainError::NoPython));
    }
    super::python::prepare(python_env(args.python_env.as_deref()).as_deref(), ui)?;
    let out = plan.output_dir.clone();
    // Folders this run creates are removed again if it fails before writing anything in them.
    let created: Vec<PathBuf> = [Some(out.clone()), out.parent().map(Path::to_owned)]
        .into_iter()
        .flatten()
        .filter(|d| !d.exists())
        .collect();
    let cleanup = || {
        for d in &created {
            let _ = std::fs::remove_dir(d); // only when empty
        }
    };
    ui.status(
        "Planning",
        &format!(
            "{} {} for {}",
            plan.expert.name, plan.expert.version, plan.base_model.name
        ),
    );
    if ui.verbose {
        eprint!("{}", plan_text(&plan));
    }
    for w in &plan.warnings {
        ui.warn(w);
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
    ui.status("Rendering", &plan.dataset.path.display().to_string());
    let prepared = train::prepare(&mut plan, 0, Some(&out));
    if prepared.is_err() {
        cleanup();
    }
    let prepared = match prepared {
        Ok(p) => p,
        Err(TrainError::BadLines { scan, .. }) => {
            eprint!("{}", bad_lines_text(&scan, 20));
            return Err(train_error(TrainError::BadLines {
                path: scan.path.clone(),
                count: scan.bad_total,
                scan,
            }));
        }
        Err(e) => return Err(train_error(e)),
    };
    let plan = absolute(plan);
    let python = train::PythonSetup {
        venv: python_env(args.python_env.as_deref()),
    };
    let stop = Arc::new(AtomicBool::new(false));
    // The first Ctrl-C stops after this step with a checkpoint; a second aborts at once.
    crate::interrupt::cooperate(stop.clone());
    ui.status(
        "Training",
        &format!("{} examples → {}", prepared.train.examples, out.display()),
    );
    let mut observer = CliObserver::new(ui);
    let result = train::run(&plan, &python, &mut observer, stop);
    observer.finish();
    for f in [&plan.dataset.rendered_train, &plan.dataset.rendered_eval]
        .into_iter()
        .flatten()
    {
        let _ = std::fs::remove_file(f);
    }
    if result.is_err() {
        cleanup();
    }
    let outcome = result.map_err(|e| {
        if let (TrainError::Python { traceback, .. }, true) = (&e, ui.verbose) {
            eprintln!("{traceback}");
        }
        train_error(e)
    })?;
    let summary = match &outcome.done {
        Some(Event::Done {
            step,
            first_loss,
            last_loss,
            seconds,
            checkpoint,
            ..
        }) => {
            let loss = match (first_loss, last_loss) {
                (Some(a), Some(b)) => format!(", loss {a:.4} → {b:.4}"),
                _ => String::new(),
            };
            let resume = checkpoint
                .as_ref()
                .map(|c| format!("; resume with --resume {c}"))
                .unwrap_or_default();
            format!("{step} steps in {seconds:.1} s{loss}{resume}")
        }
        _ => String::new(),
    };
    if outcome.interrupted {
        let started = matches!(outcome.done, Some(Event::Done { step, .. }) if step > 0);
        if started {
            ui.warn(&format!(
                "training stopped early; adapter saved to {} ({summary})",
                out.display()
            ));
        } else {
            ui.warn("training stopped before the first step; nothing was saved");
        }
        return Ok(ExitStatus::Interrupted);
    }
    if ui.format != Format::Json {
        ui.outln(&format!("trained adapter: {} ({summary})", out.display()));
    }
    Ok(ExitStatus::Success)
}

/// The Python environment: --python-env, then `$VIRTUAL_ENV`, then `./.venv` when it exists.
fn python_env(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_owned());
    }
    if let Some(v) = std::env::var_os(env::VIRTUAL_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let local = PathBuf::from(".venv");
    local
        .is_dir()
        .then(|| std::path::absolute(&local).unwrap_or(local))
}

/// Paths in the plan made absolute, so the trainer does not depend on its working folder.
fn absolute(mut plan: TrainingPlan) -> TrainingPlan {
    let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    plan.output_dir = abs(&plan.output_dir);
    plan.dataset.path = abs(&plan.dataset.path);
    plan.dataset.rendered_train = plan.dataset.rendered_train.as_ref().map(abs);
    plan.dataset.rendered_eval = plan.dataset.rendered_eval.as_ref().map(abs);
    plan.resume = plan.resume.as_ref().map(abs);
    if plan.base_model.local {
        let p = PathBuf::from(&plan.base_model.load);
        if p.exists() {
            plan.base_model.load = abs(&p).display().to_string();
        }
    }
    plan
}

fn train_error(e: TrainError) -> CliError {
    let message = e.to_string();
    match e {
        TrainError::Select(s) => CliError::new(ExitStatus::Usage, message)
            .hint(format!("pass --model with one of: {}", s.choices().join(", "))),
        TrainError::NoDataset { .. } => CliError::new(ExitStatus::Usage, message)
            .hint("set training.dataset.path in the manifest or pass --dataset FILE"),
        TrainError::Unsupported { hint, .. } => CliError::new(ExitStatus::Invalid, message).hint(hint),
        TrainError::Missing { .. } => CliError::new(ExitStatus::Usage, message).hint("check the path"),
        TrainError::Dataset(train::dataset::DatasetError::Io { path, source }) => {
            CliError::io("read", &path, &source)
        }
        TrainError::Dataset(train::dataset::DatasetError::Sink(source)) => {
            CliError::new(ExitStatus::Io, format!("cannot write the rendered dataset: {}", crate::error::io_reason(&source)))
        }
        TrainError::Dataset(_) => CliError::new(ExitStatus::Invalid, message).hint(
            "name the columns in training.dataset.field_mapping (instruction, input, response, system, text or messages)",
        ),
        TrainError::BadLines { .. } => CliError::new(ExitStatus::Invalid, message)
            .hint("fix or remove them; `expert-cli train --dry-run` lists every one"),
        TrainError::Empty { .. } => CliError::new(ExitStatus::Invalid, message)
            .hint("add rows, or check the field mapping with --dry-run"),
        TrainError::Write { path, source } => CliError::io("write", &path, &source),
        TrainError::PythonEnv { searched, .. } => {
            let where_ = if searched.is_empty() {
                "no virtual environment was found (no --python-env, $VIRTUAL_ENV or ./.venv)".to_owned()
            } else {
                format!(
                    "looked in {}",
                    searched.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
                )
            };
            CliError::new(ExitStatus::Train, message).hint(format!(
                "{where_}; create one with scripts/python-env.sh, or pass --python-env DIR"
            ))
        }
        TrainError::Python { kind, message: m, hint, .. } => {
            let text = if kind == "TrainerError" {
                format!("training failed: {m}")
            } else {
                format!("training failed: {kind}: {m}")
            };
            CliError::new(ExitStatus::Train, text).hint(
                hint.unwrap_or_else(|| "run again with --verbose to see the Python traceback".into()),
            )
        }
        TrainError::NoPython => CliError::new(ExitStatus::Train, message).hint(
            "use --dry-run, or --emit-plan and `python -m expert_trainer PLAN`; or rebuild in this repository with the default features and a static libpython3.11 installed (Debian: libpython3.11-dev; docs/CLI.md#python)",
        ),
        other => CliError::new(ExitStatus::Train, other.to_string()),
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The plan as aligned text.
fn plan_text(plan: &TrainingPlan) -> String {
    use std::fmt::Write;
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
    let _ = writeln!(
        s,
        "  template     {} ({})",
        plan.template.name, plan.template.source
    );
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
        h.precision,
        opt(&h.tf32),
        opt(&h.attention),
        h.gradient_checkpointing
    );
    let _ = writeln!(
        s,
        "  optimiser    {} weight_decay {} max_grad_norm {}",
        opt(&h.optim),
        opt(&h.weight_decay),
        opt(&h.max_grad_norm)
    );
    let _ = writeln!(
        s,
        "  checkpoints  strategy {} every {} keep {}; eval {} every {}; log every {}",
        opt(&h.save_strategy),
        opt(&h.save_steps),
        opt(&h.save_total_limit),
        opt(&h.eval_strategy),
        opt(&h.eval_steps),
        h.logging_steps
    );
    let _ = writeln!(s, "  seed         {}", h.seed);
    let _ = writeln!(s, "  device       {:?}", plan.device);
    let _ = writeln!(s, "  output       {}", plan.output_dir.display());
    if let Some(r) = &plan.resume {
        let _ = writeln!(s, "  resume       {}", r.display());
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
fn examples_text(ui: &Ui, first: &[(u64, Rendered)]) -> String {
    let mut s = String::new();
    for (line, r) in first {
        s.push_str(&format!(
            "--- example from line {line} (« » = trained, the rest is masked) ---\n"
        ));
        for seg in &r.segments {
            if seg.trained {
                s.push_str(&ui.paint_out(Style::Green, &format!("«{}»", seg.text)));
            } else {
                s.push_str(&seg.text);
            }
        }
        if r.eos {
            s.push_str(&ui.paint_out(Style::Green, "⟨eos⟩"));
        }
        s.push('\n');
    }
    s
}

fn bad_lines_text(scan: &Scan, limit: usize) -> String {
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

fn scan_text(scan: &Scan) -> String {
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

fn scan_json(scan: &Scan) -> serde_json::Value {
    serde_json::json!({
        "path": scan.path,
        "lines": scan.lines,
        "examples": scan.examples,
        "bad_total": scan.bad_total,
        "bad": scan.bad,
    })
}

/// Shows the trainer's events: JSON lines on stdout with `--format json`, a progress bar on a
/// terminal, plain lines on stderr otherwise.
struct CliObserver<'a> {
    ui: &'a Ui,
    bar: Option<indicatif::ProgressBar>,
}

impl<'a> CliObserver<'a> {
    fn new(ui: &'a Ui) -> Self {
        Self { ui, bar: None }
    }
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
    fn say(&self, verb: &str, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("{verb:>12} {text}")),
            None => self.ui.status(verb, text),
        }
    }
}

impl Observer for CliObserver<'_> {
    fn event(&mut self, event: &Event) {
        if self.ui.format == Format::Json {
            self.ui.outln(&event.to_json().to_string());
            return;
        }
        match event {
            Event::Status { message } => self.say("Preparing", message),
            Event::Start {
                total_steps,
                examples,
                device,
                precision,
                trainable_params,
            } => {
                self.say("Starting", &format!("{total_steps} steps, {examples} examples, {device} {precision}, {trainable_params} trainable parameters"));
                if self.ui.stderr_is_terminal() {
                    let bar = indicatif::ProgressBar::new(*total_steps);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{spinner} [{bar:30}] {pos}/{len} steps  {msg}  ({elapsed}, eta {eta})",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    self.bar = Some(bar);
                }
            }
            Event::Log {
                step,
                total_steps,
                loss,
                learning_rate,
                epoch,
            } => {
                let text = format!(
                    "loss {} lr {} epoch {}",
                    opt(&loss.map(|l| format!("{l:.4}"))),
                    opt(&learning_rate.map(|l| format!("{l:.2e}"))),
                    opt(&epoch.map(|e| format!("{e:.2}")))
                );
                match &self.bar {
                    Some(bar) => {
                        bar.set_position(*step);
                        bar.set_message(text);
                    }
                    None => self
                        .ui
                        .status("Step", &format!("{step}/{total_steps} {text}")),
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
            Event::Warning { message } => match &self.bar {
                Some(bar) => bar.println(format!("warning: {message}")),
                None => self.ui.warn(message),
            },
            Event::Done { .. } => self.finish(),
            Event::Other(_) => {}
        }
    }
}
