//! The pyo3 bridge: the only file that touches Python. It registers the embedded trainer
//! package ([`super::PYTHON_SOURCES`]) in `sys.modules`, puts the virtual
//! environment's `site-packages` first on `sys.path` (SPEC §7: enough to import torch,
//! transformers and peft from a venv), and calls `expert_trainer.trainer.run(plan_json, emit)`.
//!
//! No pyo3 macros are used, so `#![forbid(unsafe_code)]` holds: data crosses as JSON text, and
//! `emit` is a Rust closure wrapped with `PyCFunction::new_closure`. Python runs on its own
//! thread; events come back over a channel to the caller's thread, where the observer (progress
//! bar, JSON lines) runs, so the observer needs neither `Send` nor the GIL. `emit` returns the
//! stop flag, which the trainer polls after every step.

use super::{Done, Event, Observer, PythonSetup, TrainError, TrainingPlan, PYTHON_SOURCES};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyList, PyModule, PyTuple};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

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
) -> Result<Option<Done>, TrainError> {
    let plan_json =
        serde_json::to_string(plan).expect("a plan is plain data: it always serialises");
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
                if let Event::Done(d) = &event {
                    done = Some(d.clone());
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
        Some(Ok(_)) => Ok(done),
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
    CString::new(text).expect("the embedded Python sources and their names contain no NUL byte")
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
            let message = e
                .value(py)
                .str()
                .map_or_else(|_| "the import failed".to_owned(), |s| s.to_string());
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

/// Registers the embedded package as `expert_trainer` and each module as
/// `expert_trainer.<name>`, in [`PYTHON_SOURCES`] order (`__main__` is for `python -m` only);
/// returns `expert_trainer.trainer`.
fn register(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let modules = py.import("sys")?.getattr("modules")?;
    let file = |name: &str| c_string(&format!("<expert-cli>/python/expert_trainer/{name}"));
    let mut package: Option<Bound<'_, PyModule>> = None;
    for (name, text) in PYTHON_SOURCES {
        let stem = name.trim_end_matches(".py");
        if stem == "__main__" {
            continue;
        }
        let qualified = if stem == "__init__" {
            "expert_trainer".to_owned()
        } else {
            format!("expert_trainer.{stem}")
        };
        let module = PyModule::from_code(py, &c_string(text), &file(name), &c_string(&qualified))?;
        if let Some(p) = &package {
            p.setattr(stem, &module)?;
        } else {
            module.setattr("__path__", PyList::empty(py))?;
        }
        modules.set_item(&qualified, &module)?;
        if package.is_none() {
            package = Some(module);
        }
    }
    modules
        .get_item("expert_trainer.trainer")?
        .cast_into::<PyModule>()
        .map_err(Into::into)
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
        .unwrap_or_else(|_| "(no traceback: it could not be formatted)".to_owned());
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
