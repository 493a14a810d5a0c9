//! `train`: flags → a training plan (library), then one library operation — a dry run, a run
//! folder for `torchrun`/`accelerate launch`, or a real run through the embedded Python
//! trainer — and its rendering (`render/train.rs`). Ctrl-C asks the trainer to stop after the
//! current step with a checkpoint.

use crate::cli::{Device, TrainArgs};
use crate::env;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::render::{train as show, Ui};
use expert_cli::manifest;
use expert_cli::train::{self, plan};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Runs `train`.
pub fn run(args: TrainArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let (manifest, _warnings) = manifest::load(&args.manifest)?;
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
        allow_template_mismatch: args.allow_template_mismatch,
    };
    let plan = plan::plan(&manifest, &args.manifest, &opts)?;

    let python = train::PythonSetup {
        venv: python_env(args.python_env.as_deref()),
    };
    if args.dry_run {
        // With --base-model, the template is also checked against the model's tokenizer.
        let check = args.base_model.as_ref().map(|_| &python);
        if check.is_some() {
            super::python::prepare(python.venv.as_deref(), ui)?;
        }
        let report = train::dry_run(plan, args.show, check)?;
        return Ok(show::dry_run(ui, &report));
    }
    if let Some(plan_file) = &args.emit_plan {
        let emitted = train::emit(plan, plan_file).inspect_err(|e| show::failed(ui, e))?;
        super::write_atomically(&emitted.plan_file, emitted.plan_json.as_bytes(), true)?;
        show::emitted(ui, &emitted);
        return Ok(ExitStatus::Success);
    }

    show::planned(ui, &plan);
    super::python::prepare(python.venv.as_deref(), ui)?;
    let stop = Arc::new(AtomicBool::new(false));
    // The first Ctrl-C stops after this step with a checkpoint; a second aborts at once.
    crate::interrupt::cooperate(stop.clone());
    let mut events = show::Events::new(ui);
    let result = train::train(plan, &python, &mut events, stop);
    events.finish();
    let report = result.inspect_err(|e| show::failed(ui, e))?;
    Ok(show::finished(ui, &report))
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
