//! Training: the plan (built here, from the manifest and the command line), the prompt-template
//! registry, field mapping, the streamed JSONL reader, and the bridge to the Python trainer
//! (`python/expert_trainer/`, embedded in the binary).
//!
//! Three operations take a plan: [`dry_run`] (render and check, no Python), [`emit`] (a
//! self-contained run folder for `torchrun`/`accelerate launch`) and [`train`] (render into the
//! output folder and train in-process). Each returns a typed, `Serialize` report.
//!
//! Rendering happens in Rust: every dataset row becomes one text (the conversation as the model's
//! chat template renders it) and its trained character ranges, written to a JSONL file the
//! trainer tokenises in one piece, masking by character offsets. So `--dry-run` and training use
//! one renderer, and Python has no templates of its own; it only checks ours against the base
//! model's chat template before training. Only `bridge` uses pyo3 (cargo feature `python`, on by default); this
//! module never prints, exits or reads the environment — the CLI passes values in.

pub mod check;
pub mod dataset;
pub mod decide;
pub mod events;
pub mod fields;
pub mod interpreter;
pub mod markup;
pub mod plan;
pub mod templates;

#[cfg(embedded_python)]
pub mod bridge;

pub use events::{Done, Event, Observer};
pub use plan::{Device, Options, TrainingPlan};

use crate::manifest::select::SelectError;
use crate::manifest::BaseModel;
use dataset::{BadLine, Scan};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use templates::Masking;

/// The trainer's Python package as embedded in the binary: file names inside
/// `expert_trainer/` and their text, `__init__.py` first and then in import order (a module
/// comes after the modules it imports). The bridge registers these; [`emit`] writes them.
pub const PYTHON_SOURCES: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../python/expert_trainer/__init__.py"),
    ),
    (
        "trainer.py",
        include_str!("../../python/expert_trainer/trainer.py"),
    ),
    (
        "__main__.py",
        include_str!("../../python/expert_trainer/__main__.py"),
    ),
];

/// Why training could not be planned or run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// No single base model could be chosen.
    #[error("{source}")]
    Select {
        /// The manifest.
        manifest: PathBuf,
        /// Its base models, for the hint.
        models: Vec<BaseModel>,
        /// What went wrong.
        #[source]
        source: SelectError,
    },
    /// No dataset in the manifest nor on the command line.
    #[error("`{}` names no dataset (training.dataset.path) and no --dataset was given", manifest.display())]
    NoDataset {
        /// The manifest.
        manifest: PathBuf,
    },
    /// The manifest asks for something the trainer cannot do.
    #[error("{what} is not supported by the trainer ({pointer})")]
    Unsupported {
        /// Where in the manifest.
        pointer: String,
        /// What was asked for.
        what: String,
        /// What to do instead.
        hint: String,
    },
    /// A path given on the command line or in the manifest does not exist.
    #[error("{what} `{}` does not exist", path.display())]
    Missing {
        /// Which flag or setting: `--resume`, `--base-model` or `the dataset`.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The dataset cannot be read or understood.
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// The dataset has bad lines (they are listed in the scan).
    #[error("`{}` has {count} bad line{}", path.display(), if *count == 1 { "" } else { "s" })]
    BadLines {
        /// The file.
        path: PathBuf,
        /// How many.
        count: u64,
        /// The scan, with the lines.
        scan: Box<Scan>,
    },
    /// The dataset has no usable row.
    #[error("`{}` has no training example", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A file in the output folder could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The Python packages the trainer needs are not importable.
    #[error("the Python packages of the trainer are not importable: {message}")]
    PythonEnv {
        /// The import failure.
        message: String,
        /// Where they were looked for.
        searched: Vec<PathBuf>,
    },
    /// The trainer raised an exception.
    #[error("training failed: {message}")]
    Python {
        /// Exception type (`TrainerError` for the trainer's own, explained failures).
        kind: String,
        /// The exception's message.
        message: String,
        /// The trainer's hint, for its own errors.
        hint: Option<String>,
        /// The last lines of the Python traceback.
        traceback: String,
    },
    /// This binary was built without the trainer: without the `python` feature, or where no
    /// static libpython was found (build.rs).
    #[error("this expert-cli was built without the Python trainer")]
    NoPython,
}

/// Rendered datasets and what their scans found.
#[derive(Debug)]
pub struct Prepared {
    /// The training data.
    pub train: Scan,
    /// The validation data, when the plan has some.
    pub eval: Option<Scan>,
}

/// Streams the plan's dataset (and validation set) through the template and field map. With
/// `render_to`, writes each example as one JSON line ([`templates::Rendered::record`]: `{"line",
/// "text", "train": [[start, end]…], "tokenizer_bos", "tokenizer_eos_at"?}`, character offsets)
/// to `render_to/train.rendered.jsonl` (and `eval.rendered.jsonl`) and records the paths in the
/// plan, with the first conversations for the tokenizer check and the data warnings. Keeps the first `keep_first` examples for display. Bad lines are reported in the
/// scans; with `render_to` they are an error, since training would silently skip them.
///
/// # Errors
/// [`TrainError::Dataset`], [`TrainError::BadLines`], [`TrainError::Empty`],
/// [`TrainError::Write`].
pub fn prepare(
    plan: &mut TrainingPlan,
    keep_first: usize,
    render_to: Option<&Path>,
) -> Result<Prepared, TrainError> {
    let masking = Masking {
        train_on_prompt: plan.dataset.train_on_prompt,
    };
    let mapping = plan.mapping();
    let template = *plan.template();
    let run = |src: &Path, name: &str| -> Result<(Scan, Option<PathBuf>), TrainError> {
        let mut out = None;
        let dest = render_to.map(|d| d.join(name));
        if let Some(d) = &dest {
            let write = |source| TrainError::Write {
                path: d.clone(),
                source,
            };
            if let Some(parent) = d.parent() {
                std::fs::create_dir_all(parent).map_err(write)?;
            }
            out = Some(std::io::BufWriter::new(
                std::fs::File::create(d).map_err(write)?,
            ));
        }
        let scan = dataset::scan(src, &mapping, &template, masking, keep_first, |line, r| {
            if let Some(w) = out.as_mut() {
                serde_json::to_writer(&mut *w, &r.record(line))?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?;
        if let (Some(mut w), Some(d)) = (out, &dest) {
            w.flush().map_err(|source| TrainError::Write {
                path: d.clone(),
                source,
            })?;
        }
        Ok((scan, dest))
    };
    let (train, train_file) = run(&plan.dataset.path.clone(), "train.rendered.jsonl")?;
    let eval = match plan.dataset.validation_path.clone() {
        Some(p) => {
            let (scan, file) = run(&p, "eval.rendered.jsonl")?;
            plan.dataset.rendered_eval = file;
            plan.dataset.eval_examples = scan.examples;
            Some(scan)
        }
        None => None,
    };
    plan.dataset.field_map = train.field_map.clone();
    plan.template.check.examples = train.check.clone();
    let warnings: Vec<String> = std::iter::once(&train)
        .chain(eval.as_ref())
        .flat_map(|s| s.warnings.iter().cloned())
        .collect();
    plan.warnings.extend(warnings.iter().cloned());
    plan.dataset.warnings = warnings;
    plan.dataset.rendered_train = train_file;
    plan.dataset.train_examples = train.examples;
    if render_to.is_some() {
        for scan in std::iter::once(&train).chain(eval.as_ref()) {
            if scan.bad_total > 0 {
                return Err(TrainError::BadLines {
                    path: scan.path.clone(),
                    count: scan.bad_total,
                    scan: Box::new(scan.clone()),
                });
            }
        }
        if train.examples == 0 {
            return Err(TrainError::Empty {
                path: train.path.clone(),
            });
        }
    }
    Ok(Prepared { train, eval })
}

/// Where the trainer's third-party packages come from.
#[derive(Debug, Clone, Default)]
pub struct PythonSetup {
    /// A virtual environment whose `lib/python3.X/site-packages` is put first on `sys.path`.
    pub venv: Option<PathBuf>,
}

/// What a dataset pass found, without the rendered examples.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanSummary {
    /// The file.
    pub path: PathBuf,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Examples rendered.
    pub examples: u64,
    /// Bad lines, counted.
    pub bad_total: u64,
    /// Bad lines with their message (the first [`dataset::MAX_BAD_LINES_KEPT`]).
    pub bad: Vec<BadLine>,
}

impl From<&Scan> for ScanSummary {
    fn from(s: &Scan) -> Self {
        Self {
            path: s.path.clone(),
            lines: s.lines,
            examples: s.examples,
            bad_total: s.bad_total,
            bad: s.bad.clone(),
        }
    }
}

/// One rendered example with its line number; serialised as [`templates::Rendered::to_json`].
#[derive(Debug, Clone)]
pub struct Example {
    /// 1-based line in the dataset.
    pub line: u64,
    /// The example as the template renders it.
    pub rendered: templates::Rendered,
}

impl serde::Serialize for Example {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rendered.to_json(self.line).serialize(s)
    }
}

/// What `--dry-run` found: the plan, the first examples, every bad line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DryRun {
    /// The plan, with the field map in force.
    pub plan: TrainingPlan,
    /// The first examples, rendered.
    pub examples: Vec<Example>,
    /// The training data.
    pub train: ScanSummary,
    /// The validation data, when there is some.
    pub eval: Option<ScanSummary>,
    /// With a local base model and Python: the check of the template against the model's
    /// tokenizer ([`check::check_template`]'s report).
    pub template_check: Option<serde_json::Value>,
}

impl DryRun {
    /// Bad lines in the training and validation data.
    pub fn bad_lines(&self) -> u64 {
        self.train.bad_total + self.eval.as_ref().map_or(0, |e| e.bad_total)
    }
}

/// Renders the first `show` examples and checks every line of the data; needs no Python.
/// With `python` (`--base-model PATH` given), also checks the template against the base
/// model's tokenizer ([`check::check_template`]), which does need Python.
///
/// # Errors
/// [`TrainError::Dataset`] when the data cannot be read or understood; the check's errors.
pub fn dry_run(
    mut plan: TrainingPlan,
    show: usize,
    python: Option<&PythonSetup>,
) -> Result<DryRun, TrainError> {
    let prepared = prepare(&mut plan, show, None)?;
    let template_check = match python {
        Some(python) => Some(check::check_template(&plan, python)?),
        None => None,
    };
    let examples = prepared
        .train
        .first
        .iter()
        .map(|(line, rendered)| Example {
            line: *line,
            rendered: rendered.clone(),
        })
        .collect();
    Ok(DryRun {
        plan,
        examples,
        train: (&prepared.train).into(),
        eval: prepared.eval.as_ref().map(Into::into),
        template_check,
    })
}

/// Shell commands that run an emitted plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Launch {
    /// One process: `PYTHONPATH=DIR python -m expert_trainer DIR/plan.json`.
    pub python: String,
    /// One process per GPU with `torchrun`.
    pub torchrun: String,
    /// The same with `accelerate launch` (its configuration decides the processes).
    pub accelerate: String,
}

/// A self-contained run folder written by [`emit`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Emitted {
    /// The plan file (absolute); not written yet: the caller commits [`Emitted::plan_json`]
    /// there, last, so a failed emit leaves no plan.
    pub plan_file: PathBuf,
    /// The run folder (absolute): the plan's folder, which goes on `PYTHONPATH`.
    pub dir: PathBuf,
    /// The rendered examples (`<plan stem>.data/`).
    pub data_dir: PathBuf,
    /// The trainer package (`DIR/expert_trainer/`).
    pub package_dir: PathBuf,
    /// Training examples rendered.
    pub examples: u64,
    /// Commands that run it.
    pub launch: Launch,
    /// The plan, as JSON, with absolute paths.
    #[serde(skip)]
    pub plan_json: String,
}

/// Writes a run folder for `plan_file`: the rendered examples in `<stem>.data/` and the trainer
/// package in `expert_trainer/`, both beside the plan file, and returns the plan (with absolute
/// paths) for the caller to write last. With only the virtual environment,
/// `PYTHONPATH=DIR torchrun --nproc-per-node N -m expert_trainer DIR/plan.json` then runs it
/// from any folder.
///
/// # Errors
/// [`TrainError::Write`] and the errors of [`dry_run`]; bad dataset lines are
/// [`TrainError::BadLines`].
pub fn emit(mut plan: TrainingPlan, plan_file: &Path) -> Result<Emitted, TrainError> {
    let plan_file = absolute(plan_file);
    let dir = plan_file
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("/"));
    let stem = plan_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let data_dir = dir.join(format!("{stem}.data"));
    let package_dir = dir.join("expert_trainer");
    let fresh: Vec<PathBuf> = [&dir, &data_dir, &package_dir]
        .into_iter()
        .filter(|d| !d.exists())
        .cloned()
        .collect();
    let written = prepare(&mut plan, 0, Some(&data_dir)).and_then(|_| {
        let write = |path: PathBuf, source| TrainError::Write { path, source };
        std::fs::create_dir_all(&package_dir).map_err(|e| write(package_dir.clone(), e))?;
        for (name, text) in PYTHON_SOURCES {
            let path = package_dir.join(name);
            std::fs::write(&path, text).map_err(|e| write(path, e))?;
        }
        Ok(())
    });
    if let Err(e) = written {
        for d in fresh.iter().rev() {
            let _ = std::fs::remove_dir_all(d);
        }
        return Err(e);
    }
    let plan = absolute_paths(plan);
    let launch = launch_commands(&dir, &plan_file);
    Ok(Emitted {
        examples: plan.dataset.train_examples,
        plan_json: plan.to_json(),
        plan_file,
        dir,
        data_dir,
        package_dir,
        launch,
    })
}

fn launch_commands(dir: &Path, plan_file: &Path) -> Launch {
    let path = format!("PYTHONPATH={}", shell_quote(&dir.display().to_string()));
    let plan = shell_quote(&plan_file.display().to_string());
    Launch {
        python: format!("{path} python -m expert_trainer {plan}"),
        torchrun: format!("{path} torchrun --nproc-per-node gpu -m expert_trainer {plan}"),
        accelerate: format!("{path} accelerate launch -m expert_trainer {plan}"),
    }
}

/// `s` as one POSIX shell word: as is when it holds only safe characters, else single-quoted.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Every planned step ran; the adapter is saved.
    Finished,
    /// Stopped early by the stop flag; the adapter and a checkpoint were saved.
    Interrupted,
    /// Stopped before the first step; nothing was saved.
    StoppedBeforeStart,
}

/// What a training run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    /// How it ended.
    pub finish: Finish,
    /// `<output>/<slug>`: the adapter, tokenizer and log.
    pub output_dir: PathBuf,
    /// Training examples rendered.
    pub examples: u64,
    /// The trainer's final `done` event.
    pub done: Option<Done>,
}

/// Renders the data into the plan's output folder and trains there in-process, reporting
/// events (its own `status` events included) to `observer`. Setting `stop` asks the trainer to
/// save a checkpoint and the adapter and return. The rendered files are removed afterwards,
/// and a failed run leaves no folder it created empty.
///
/// # Errors
/// [`TrainError::NoPython`] when built without the `python` feature (before anything is
/// written), the errors of [`emit`], [`TrainError::PythonEnv`] and [`TrainError::Python`].
pub fn train(
    mut plan: TrainingPlan,
    python: &PythonSetup,
    observer: &mut dyn Observer,
    stop: Arc<AtomicBool>,
) -> Result<TrainReport, TrainError> {
    if !cfg!(embedded_python) {
        return Err(TrainError::NoPython);
    }
    let out = absolute(&plan.output_dir);
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
    observer.event(&Event::Status {
        message: format!("rendering {}", plan.dataset.path.display()),
    });
    let prepared = prepare(&mut plan, 0, Some(&out));
    let rendered: Vec<PathBuf> = [&plan.dataset.rendered_train, &plan.dataset.rendered_eval]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let remove_rendered = || {
        for f in &rendered {
            let _ = std::fs::remove_file(f);
        }
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            remove_rendered();
            cleanup();
            return Err(e);
        }
    };
    let plan = absolute_paths(plan);
    observer.event(&Event::Status {
        message: format!(
            "rendered {} examples into {}",
            prepared.train.examples,
            out.display()
        ),
    });
    let result = run(&plan, python, observer, stop);
    remove_rendered();
    if result.is_err() {
        cleanup();
    }
    let done = result?;
    let finish = match &done {
        Some(d) if d.interrupted && d.step == 0 => Finish::StoppedBeforeStart,
        Some(d) if d.interrupted => Finish::Interrupted,
        _ => Finish::Finished,
    };
    Ok(TrainReport {
        finish,
        output_dir: out,
        examples: prepared.train.examples,
        done,
    })
}

/// Runs the trainer in-process on a prepared plan (see [`prepare`]), reporting events to
/// `observer`; returns the trainer's `done` event.
///
/// # Errors
/// [`TrainError::PythonEnv`], [`TrainError::Python`], or [`TrainError::NoPython`] when built
/// without the trainer.
pub fn run(
    plan: &TrainingPlan,
    python: &PythonSetup,
    observer: &mut dyn Observer,
    stop: Arc<AtomicBool>,
) -> Result<Option<Done>, TrainError> {
    #[cfg(embedded_python)]
    {
        bridge::run(plan, python, observer, stop)
    }
    #[cfg(not(embedded_python))]
    {
        let _ = (plan, python, observer, stop);
        Err(TrainError::NoPython)
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// Paths in the plan made absolute, so the trainer does not depend on its working folder.
fn absolute_paths(mut plan: TrainingPlan) -> TrainingPlan {
    let abs = |p: &PathBuf| absolute(p);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_plan_version_is_the_rust_one() {
        let wanted = format!("PLAN_VERSION = {}", plan::PLAN_VERSION);
        let found: Vec<&str> = PYTHON_SOURCES
            .iter()
            .flat_map(|(_, text)| text.lines())
            .filter(|l| l.starts_with("PLAN_VERSION ="))
            .collect();
        assert_eq!(
            found,
            [wanted.as_str()],
            "python/expert_trainer/ must define PLAN_VERSION once, equal to plan::PLAN_VERSION"
        );
    }

    #[test]
    fn every_python_file_of_the_package_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python/expert_trainer");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = PYTHON_SOURCES
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("/tmp/run/plan.json"), "/tmp/run/plan.json");
        assert_eq!(shell_quote("/tmp/my run/it's"), r"'/tmp/my run/it'\''s'");
    }
}
