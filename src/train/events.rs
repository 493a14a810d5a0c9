//! Events the Python trainer reports while it works, as JSON objects tagged by `event`. The same
//! lines are written to `training_log.jsonl` in the output folder; the CLI draws a progress bar
//! from them or prints them as JSON lines (docs/TRAINING.md, "Events", lists every field).

use serde_json::Value as Json;

/// One report from the trainer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A phase starts (loading the model, tokenising…).
    Status {
        /// What is happening.
        message: String,
    },
    /// Training starts.
    Start {
        /// Optimiser steps planned.
        total_steps: u64,
        /// Training examples after tokenisation.
        examples: u64,
        /// Device in use (`cpu`, `cuda`).
        device: String,
        /// Precision in use (`fp32`, `bf16`, `fp16`).
        precision: String,
        /// Trainable parameters of the adapter.
        trainable_params: u64,
        /// Optimiser in use.
        #[serde(default)]
        optim: Option<String>,
        /// Attention implementation in use (`sdpa`, `eager`).
        #[serde(default)]
        attention: Option<String>,
        /// TF32 matmuls are on.
        #[serde(default)]
        tf32: Option<bool>,
        /// Gradient checkpointing is on.
        #[serde(default)]
        gradient_checkpointing: Option<bool>,
        /// Training processes (more than 1 under torchrun/accelerate).
        #[serde(default)]
        world_size: Option<u64>,
        /// Loss is reported every this many steps (and at steps 1 and last).
        #[serde(default)]
        log_every: Option<u64>,
    },
    /// A logging step.
    Log {
        /// Optimiser step.
        step: u64,
        /// Steps planned.
        total_steps: u64,
        /// Training loss since the last log.
        loss: Option<f64>,
        /// Learning rate.
        learning_rate: Option<f64>,
        /// Epoch, fractional.
        epoch: Option<f64>,
        /// Gradient norm before clipping.
        #[serde(default)]
        grad_norm: Option<f64>,
        /// Training examples per second since the last log (all processes).
        #[serde(default)]
        samples_per_second: Option<f64>,
        /// Tokens (padding excluded) per second since the last log (all processes).
        #[serde(default)]
        tokens_per_second: Option<f64>,
    },
    /// An evaluation.
    Eval {
        /// Optimiser step.
        step: u64,
        /// Loss on the validation set.
        eval_loss: Option<f64>,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Optimiser step.
        step: u64,
        /// Its folder.
        path: String,
    },
    /// Something the user should know.
    Warning {
        /// The sentence.
        message: String,
    },
    /// Training ended (finished or stopped by Ctrl-C) and the adapter was saved.
    Done(Done),
    /// An event this version does not know; kept as JSON.
    #[serde(skip)]
    Other(Json),
}

impl Event {
    /// Parses one event line; unknown shapes become [`Event::Other`].
    pub fn parse(line: &str) -> Event {
        serde_json::from_str(line).unwrap_or_else(|_| {
            Event::Other(serde_json::from_str(line).unwrap_or(Json::String(line.to_owned())))
        })
    }
    /// The event as a JSON value (for JSON-lines output).
    pub fn to_json(&self) -> Json {
        match self {
            Event::Other(v) => v.clone(),
            e => serde_json::to_value(e).expect("events are plain data: they always serialise"),
        }
    }
}

/// The last event of a run: training ended (finished or stopped) and the adapter was saved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Done {
    /// Last optimiser step.
    pub step: u64,
    /// Folder holding the adapter.
    pub output_dir: String,
    /// First logged loss (a number once a step ran).
    pub first_loss: Option<f64>,
    /// Last logged loss (a number once a step ran).
    pub last_loss: Option<f64>,
    /// Wall time of the training loop, in seconds.
    pub seconds: f64,
    /// Stopped early by a stop request.
    pub interrupted: bool,
    /// Last checkpoint folder, to resume from.
    pub checkpoint: Option<String>,
    /// The template check's report (`status` `match`, `mismatch` allowed by
    /// `--allow-template-mismatch`, or `skipped` with the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_check: Option<Json>,
}

/// Receives the trainer's events as they come.
pub trait Observer {
    /// One event.
    fn event(&mut self, event: &Event);
}

/// An [`Observer`] that ignores everything.
pub struct Ignore;

impl Observer for Ignore {
    fn event(&mut self, _event: &Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_keeps_unknown_events() {
        let e = Event::parse(
            r#"{"event":"log","step":3,"total_steps":10,"loss":2.5,"learning_rate":0.001,"epoch":0.3}"#,
        );
        assert!(matches!(e, Event::Log { step: 3, .. }));
        let o = Event::parse(r#"{"event":"new_kind","x":1}"#);
        assert_eq!(o.to_json()["x"], 1);
        let d = Event::parse(
            r#"{"event":"done","step":4,"output_dir":"w","first_loss":6.2,"last_loss":5.9,"seconds":1.5,"interrupted":false,"checkpoint":null}"#,
        );
        assert!(matches!(&d, Event::Done(Done { step: 4, last_loss: Some(l), .. }) if *l == 5.9));
        assert_eq!(d.to_json()["event"], "done");
    }
}
