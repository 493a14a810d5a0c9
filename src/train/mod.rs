//! Training: the plan (built here, from the manifest and the command line), the prompt-template
//! registry, field mapping, the streamed JSONL reader, and the bridge to the Python trainer
//! (`python/expert_trainer/`, embedded in the binary).
//!
//! Rendering happens in Rust: every dataset row becomes masked and trained segments, written to a
//! JSONL file the trainer tokenises. So `--dry-run` and training use one renderer, and Python has
//! no templates of its own. Only `bridge` uses pyo3 (cargo feature `python`, on by default); this
//! module never prints, exits or reads the environment — the CLI passes values in.

pub mod dataset;
pub mod events;
pub mod fields;
pub mod interpreter;
pub mod plan;
pub mod templates;

#[cfg(embedded_python)]
pub mod bridge;

pub use events::{Event, Observer};
pub use plan::{Device, Options, TrainingPlan};

use crate::manifest::select::SelectError;
use dataset::Scan;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use templates::Masking;

/// Why training could not be planned or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// No single base model could be chosen.
    #[error(transparent)]
    Select(#[from] SelectError),
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
    /// A path given on the command line does not exist.
    #[error("{what} `{}` does not exist", path.display())]
    Missing {
        /// Which flag or setting.
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
/// `render_to`, writes each example as one JSON line (`{"line", "segments": [[text, trained]…],
/// "eos"}`) to `render_to/train.rendered.jsonl` (and `eval.rendered.jsonl`) and records the paths
/// in the plan. Keeps the first `keep_first` examples for display. Bad lines are reported in the
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
                let segments: Vec<(&str, bool)> = r
                    .segments
                    .iter()
                    .map(|s| (s.text.as_str(), s.trained))
                    .collect();
                serde_json::to_writer(
                    &mut *w,
                    &serde_json::json!({"line": line, "segments": segments, "eos": r.eos}),
                )?;
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

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The final [`Event::Done`], when the trainer reported one.
    pub done: Option<Event>,
    /// Stopped early by the stop flag; the adapter and a checkpoint were still saved.
    pub interrupted: bool,
}

/// Runs the trainer in-process on a prepared plan (see [`prepare`]), reporting events to
/// `observer`. Setting `stop` asks the trainer to save a checkpoint and the adapter and return.
///
/// # Errors
/// [`TrainError::PythonEnv`], [`TrainError::Python`], or [`TrainError::NoPython`] when built
/// without the trainer.
pub fn run(
    plan: &TrainingPlan,
    python: &PythonSetup,
    observer: &mut dyn Observer,
    stop: Arc<AtomicBool>,
) -> Result<Outcome, TrainError> {
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
