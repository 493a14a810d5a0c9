//! The pyo3 bridge: the only file that touches Python. It embeds the trainer package
//! (`python/expert_trainer/`, `include_str!`), registers it in `sys.modules`, puts the virtual
//! environment's `site-packages` first on `sys.path` (SPEC §7: enough to import torch,
//! transformers and peft from a venv), and calls `expert_trainer.trainer.run(plan_json, emit)`.
//!
//! No pyo3 macros are used, so `#![forbid(unsafe_code)]` holds: data crosses as JSON text, and
//! `emit` is a Rust closure wrapped with `PyCFunction::new_closure`. Python runs on its own
//! thread; events come back over a channel to the caller's thread, where the observer (progress
//! bar, JSON lines) runs, so the observer needs neither `Send` nor the GIL. `emit` returns the
//! stop flag, which the trainer polls after every step.

use super::{Event, Observer, Outcome, PythonSetup, TrainError, TrainingPlan};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyList, PyModule, PyTuple};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

const INIT_PY: &str = include_str!("../../python/expert_trainer/__init__.py");
const TRAINER_PY: &str = include_str!("../../python/expert_trainer/trainer.py");
/// Third-party modules the trainer imports, checked first for a clear error.
const NEEDED: &[&str] = &["torch", "transformers", "peft", "safetensors", "accelerate"];

enum Msg {
    Event(String),
    Finished(Result<String, TrainError>),
}

/// Runs the trainer on `plan` (see [`super::run`]).
///
/// # Errors
/// [`TrainError::PythonEnv`] when torch, transformers or peft cannot be imported;
/// [`TrainError::Python`] when the trainer raises.
pub fn run(
    plan: &TrainingPlan,
    python: &PythonSetup,
    observer: &mut dyn Observer,
    stop: Arc<AtomicBool>,
) -> Result<Outcome, TrainError> {
    let plan_json = serde_json::to_string(plan).unwrap_or_default();
    let venv = python.venv.clone();
    let (tx, rx) = mpsc::channel::<Msg>();
    let worker = std::thread::Builder::new()
        .name("python-trainer".into())
        .spawn(move || {
            let events = tx.clone();
            // Not `auto-initialize`: PyO3 allows it only for a shared libpython (#12.1).
            Python::initialize();
            let result = Python::attach(|py| call(py, &plan_json, venv.as_deref(), events, stop));
            let _ = tx.send(Msg::Finished(result));
        })
        .map_err(|e| TrainError::Python {
            kind: "OSError".into(),
            message: format!("cannot start the trainer thread: {e}"),
            hint: None,
            traceback: String::new(),
        })?;
    let mut done = None;
    let mut finished = None;
    for msg in rx.iter() {
        match msg {
            Msg::Event(line) => {
                let event = Event::parse(&line);
                if matches!(event, Event::Done { .. }) {
                    done = Some(event.clone());
                }
                observer.event(&event);
            }
            Msg::Finished(result) => {
                finished = Some(result);
                break;
            }
        }
    }
    let _ = worker.join();
    match finished {
        Some(Ok(_)) => {
            let interrupted = matches!(
                done,
                Some(Event::Done {
                    interrupted: true,
                    ..
                })
            );
            Ok(Outcome { done, interrupted })
        }
        Some(Err(e)) => Err(e),
        None => Err(TrainError::Python {
            kind: "panic".into(),
            message: "the trainer thread ended without a result".into(),
            hint: None,
            traceback: String::new(),
        }),
    }
}

fn c_string(text: &str) -> CString {
    // The embedded sources are ours and contain no NUL; an empty module is the safe fallback.
    CString::new(text).unwrap_or_default()
}

fn call(
    py: Python<'_>,
    plan_json: &str,
    venv: Option<&Path>,
    events: mpsc::Sender<Msg>,
    stop: Arc<AtomicBool>,
) -> Result<String, TrainError> {
    let err = |e: PyErr| python_error(py, e);
    let sys = py.import("sys").map_err(err)?;
    let mut searched = Vec::new();
    if let Some(venv) = venv {
        let v = py.version_info();
        let site = venv
            .join("lib")
            .join(format!("python{}.{}", v.major, v.minor))
            .join("site-packages");
        searched.push(site.clone());
        if site.is_dir() {
            let text = site.display().to_string();
            let path = sys.getattr("path").map_err(err)?;
            let list = path.cast::<PyList>().map_err(|e| err(e.into()))?;
            if !list.contains(&text).map_err(err)? {
                list.insert(0, &text).map_err(err)?;
                // .pth files of the venv (namespace packages, editable installs)
                py.import("site")
                    .and_then(|s| s.call_method1("addsitedir", (&text,)))
                    .map_err(err)?;
            }
        }
    }
    let mut missing = Vec::new();
    for name in NEEDED {
        if let Err(e) = py.import(*name) {
            let message = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
            missing.push(format!("{name} ({message})"));
        }
    }
    if !missing.is_empty() {
        return Err(TrainError::PythonEnv {
            message: missing.join("; "),
            searched,
        });
    }
    let trainer = register(py).map_err(err)?;
    let emit = PyCFunction::new_closure(
        py,
        Some(c"emit"),
        Some(c"emit(line or None) -> stop requested"),
        move |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| -> PyResult<bool> {
            let line = args.get_item(0)?;
            if !line.is_none() {
                let _ = events.send(Msg::Event(line.extract::<String>()?));
            }
            Ok(stop.load(Ordering::SeqCst))
        },
    )
    .map_err(err)?;
    let result = trainer
        .getattr("run")
        .and_then(|f| f.call1((plan_json, emit)))
        .map_err(err)?;
    result.extract::<String>().map_err(err)
}

/// Registers the embedded package as `expert_trainer` and `expert_trainer.trainer`.
fn register(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let modules = py.import("sys")?.getattr("modules")?;
    let file = |name: &str| c_string(&format!("<expert-cli>/python/expert_trainer/{name}"));
    let package = PyModule::from_code(
        py,
        &c_string(INIT_PY),
        &file("__init__.py"),
        c"expert_trainer",
    )?;
    package.setattr("__path__", PyList::empty(py))?;
    modules.set_item("expert_trainer", &package)?;
    let trainer = PyModule::from_code(
        py,
        &c_string(TRAINER_PY),
        &file("trainer.py"),
        c"expert_trainer.trainer",
    )?;
    modules.set_item("expert_trainer.trainer", &trainer)?;
    package.setattr("trainer", &trainer)?;
    Ok(trainer)
}

/// A Python exception as a [`TrainError::Python`], with the trainer's hint and the traceback's
/// last lines.
fn python_error(py: Python<'_>, e: PyErr) -> TrainError {
    let kind = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let value = e.value(py);
    let message = value
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "unknown error".into());
    let hint = value
        .getattr("hint")
        .ok()
        .filter(|h| !h.is_none())
        .and_then(|h| h.extract::<String>().ok());
    let traceback = py
        .import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", (value,)))
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| {
            let all = lines.concat();
            let tail: Vec<&str> = all.lines().rev().take(12).collect();
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        })
        .unwrap_or_default();
    TrainError::Python {
        kind,
        message,
        hint,
        traceback,
    }
}

/// `<venv>/lib/python3.X/site-packages` for every `python3.X` folder of a venv (for messages).
pub fn site_packages_candidates(venv: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(venv.join("lib")) {
        for e in dir.flatten() {
            let p = e.path().join("site-packages");
            if p.is_dir() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
