//! What the run will really do with each setting that decides whether it can run: optimiser,
//! precision, TF32, attention, scheduler, quantisation, packing, `torch.compile`, gradient
//! checkpointing and loss logging. Each is either used as asked, mapped to what the pinned
//! trainer can do (with the reason), or refused with a fix — before anything is loaded, so
//! `--dry-run` says first what the real run does or fails on (issue #13.1).
//!
//! The pinned environment is `python/requirements.txt`: torch, transformers, peft, accelerate,
//! no bitsandbytes, no flash-attn (docs/TRAINING.md, "8-bit optimisers and quantisation", has
//! the measurements behind that choice).

use super::plan::Device;
use super::TrainError;

/// Whether a setting is used as asked or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Used as asked (or the default, when nothing was asked).
    Used,
    /// Replaced by `used`; `reason` says why.
    Mapped,
}

/// One setting: what the author asked for and what the run does.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// `optimiser`, `precision`, `tf32`, `attention`, `scheduler`, `quantisation`, `packing`,
    /// `torch_compile`, `gradient_checkpointing` or `logging`.
    pub setting: &'static str,
    /// Where the author set it (JSON pointer); `None` for a default.
    pub pointer: Option<String>,
    /// What was asked for (`default` when nothing was).
    pub asked: String,
    /// What the run uses.
    pub used: String,
    /// Used as asked, or mapped.
    pub status: Status,
    /// Why it was mapped, or what it depends on.
    pub reason: Option<String>,
}

/// Optimisers the pinned torch and transformers provide on CPU and CUDA.
pub const OPTIMISERS: &[&str] = &[
    "adamw_torch",
    "adamw_torch_fused",
    "adafactor",
    "sgd",
    "adagrad",
    "rmsprop",
];

/// bitsandbytes/torchao optimisers and the torch optimiser that replaces each.
const MAPPED_OPTIMISERS: &[(&str, &str)] = &[
    ("adamw_bnb_8bit", "adamw_torch"),
    ("adamw_8bit", "adamw_torch"),
    ("paged_adamw_8bit", "adamw_torch"),
    ("paged_adamw_32bit", "adamw_torch"),
    ("adamw_torch_8bit", "adamw_torch"),
    ("adamw_torch_4bit", "adamw_torch"),
    ("rmsprop_bnb", "rmsprop"),
    ("rmsprop_bnb_8bit", "rmsprop"),
    ("rmsprop_bnb_32bit", "rmsprop"),
];

/// Learning-rate schedules of the pinned transformers that train without extra inputs.
pub const SCHEDULERS: &[&str] = &[
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
    "reduce_lr_on_plateau",
];

/// Loss is reported at most this many times per run (and every step of a short run).
pub const MAX_LOSS_EVENTS: u64 = 100;

/// What the author wrote for the settings decided here (`None` = not set).
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)] // each field is the `training.config` key of the same name
pub struct Asked<'a> {
    pub optim: Option<&'a str>,
    pub bf16: Option<bool>,
    pub fp16: Option<bool>,
    pub tf32: Option<bool>,
    pub use_sdpa: Option<bool>,
    pub flash_attention_2: Option<bool>,
    pub lr_scheduler: Option<&'a str>,
    pub lr_scheduler_kwargs: Option<&'a serde_json::Value>,
    pub has_validation: bool,
    /// The base model's `quantization`, with its pointer.
    pub quantization: Option<(&'a str, String)>,
    pub packing: Option<bool>,
    pub torch_compile: Option<bool>,
    pub gradient_checkpointing: Option<bool>,
    pub logging_steps: Option<u64>,
    pub device: Device,
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // the plan's `hyper` field of the same name
pub struct Decided {
    pub optim: String,
    /// `auto`, `bf16`, `fp16` or `fp32`.
    pub precision: &'static str,
    pub tf32: bool,
    /// `sdpa` or `eager`.
    pub attention: &'static str,
    pub lr_scheduler: String,
    pub torch_compile: bool,
    pub gradient_checkpointing: bool,
    /// Every decision, in the order above.
    pub decisions: Vec<Decision>,
}

const CONFIG: &str = "/training/config";

fn unsupported(key: &str, what: String, hint: String) -> TrainError {
    TrainError::Unsupported {
        pointer: format!("{CONFIG}/{key}"),
        what,
        hint,
    }
}

fn decision(
    setting: &'static str,
    key: Option<&str>,
    asked: Option<String>,
    used: impl Into<String>,
    reason: Option<String>,
) -> Decision {
    let used = used.into();
    let status = match &asked {
        Some(a) if *a != used => Status::Mapped,
        _ => Status::Used,
    };
    Decision {
        setting,
        pointer: asked.as_ref().and(key).map(|k| format!("{CONFIG}/{k}")),
        asked: asked.unwrap_or_else(|| "default".to_owned()),
        used,
        status,
        reason,
    }
}

/// Decides every setting, or refuses the first one the trainer cannot do.
///
/// # Errors
/// [`TrainError::Unsupported`] for an optimiser or schedule the pinned trainer cannot run.
pub fn decide(a: &Asked<'_>) -> Result<Decided, TrainError> {
    let mut decisions = Vec::new();
    let cpu = a.device == Device::Cpu;

    // Optimiser.
    let optim = match a.optim {
        None => "adamw_torch".to_owned(),
        Some(o) if OPTIMISERS.contains(&o) => o.to_owned(),
        Some(o) => match MAPPED_OPTIMISERS.iter().find(|(from, _)| *from == o) {
            Some((_, to)) => (*to).to_owned(),
            None => {
                return Err(unsupported(
                    "optim",
                    format!("optimiser `{o}`"),
                    format!(
                        "use one of {} (8-bit AdamW is mapped to adamw_torch)",
                        OPTIMISERS.join(", ")
                    ),
                ))
            }
        },
    };
    let optim_reason = a.optim.filter(|o| *o != optim).map(|_| {
        "bitsandbytes/torchao are not in the pinned trainer; the adapter's optimiser state is small, so the 32-bit torch optimiser costs little memory".to_owned()
    });
    decisions.push(decision(
        "optimiser",
        Some("optim"),
        a.optim.map(str::to_owned),
        optim.clone(),
        optim_reason,
    ));

    // Precision.
    let (asked_precision, key) = match (a.bf16, a.fp16) {
        (Some(true), _) => (Some("bf16"), "bf16"),
        (_, Some(true)) => (Some("fp16"), "fp16"),
        (Some(false), Some(false)) => (Some("fp32"), "bf16"),
        _ => (None, "bf16"),
    };
    let precision = asked_precision.unwrap_or("auto");
    let (used, reason) = match (precision, a.device) {
        ("bf16" | "fp16", Device::Cpu) => (
            "fp32",
            Some(format!(
                "{precision} mixed precision needs a CUDA GPU; CPU trains in fp32"
            )),
        ),
        ("bf16", Device::Cuda) => ("bf16", Some("fp16 on a GPU without bf16".to_owned())),
        ("bf16", Device::Auto) => (
            "bf16",
            Some("on a CUDA GPU (fp16 where it has no bf16); fp32 on CPU".to_owned()),
        ),
        ("fp16", _) => ("fp16", Some("on a CUDA GPU; fp32 on CPU".to_owned())),
        ("auto", Device::Cpu) => ("fp32", None),
        ("auto", _) => (
            "auto",
            Some("bf16 on a CUDA GPU that has it, else fp32".to_owned()),
        ),
        _ => ("fp32", None),
    };
    decisions.push(decision(
        "precision",
        Some(key),
        asked_precision.map(str::to_owned),
        used,
        reason,
    ));
    let precision = used;

    // TF32.
    let tf32 = a.tf32 == Some(true) && !cpu;
    if let Some(t) = a.tf32 {
        let reason = if t && cpu {
            Some("TF32 is a CUDA (Ampere or newer) matmul mode; CPU trains in full fp32".to_owned())
        } else if t {
            Some("on CUDA GPUs that have it (Ampere or newer); no effect on CPU".to_owned())
        } else {
            None
        };
        decisions.push(decision(
            "tf32",
            Some("use_tf32"),
            Some(on_off(t)),
            on_off(tf32),
            reason,
        ));
    }

    // Attention.
    let (attention, key, asked, reason): (&str, &str, Option<String>, Option<String>) = if a
        .flash_attention_2
        == Some(true)
    {
        (
                "sdpa",
                "flash_attention_2",
                Some("flash_attention_2".into()),
                Some("flash-attn is not in the pinned trainer; PyTorch's SDPA kernels (flash and memory-efficient on CUDA) are used".into()),
            )
    } else {
        match a.use_sdpa {
            Some(true) => ("sdpa", "use_sdpa", Some("sdpa".into()), None),
            Some(false) => ("eager", "use_sdpa", Some("eager".into()), None),
            None => ("sdpa", "use_sdpa", None, None),
        }
    };
    decisions.push(decision("attention", Some(key), asked, attention, reason));

    // Scheduler.
    let lr_scheduler = a.lr_scheduler.unwrap_or("linear").to_owned();
    if !SCHEDULERS.contains(&lr_scheduler.as_str()) {
        return Err(unsupported(
            "lr_scheduler",
            format!("learning-rate schedule `{lr_scheduler}`"),
            format!("use one of {}", SCHEDULERS.join(", ")),
        ));
    }
    let kwarg = |k: &str| a.lr_scheduler_kwargs.and_then(|v| v.get(k)).is_some();
    if lr_scheduler.contains("with_min_lr") && !kwarg("min_lr") && !kwarg("min_lr_rate") {
        return Err(unsupported(
            "lr_scheduler",
            format!("`{lr_scheduler}` without a minimum learning rate"),
            "set lr_scheduler_kwargs to {\"min_lr_rate\": 0.1} (or min_lr), or use cosine".into(),
        ));
    }
    if lr_scheduler == "reduce_lr_on_plateau" && !a.has_validation {
        return Err(unsupported(
            "lr_scheduler",
            "`reduce_lr_on_plateau` without a validation set".into(),
            "set training.dataset.validation_path, or use cosine or linear".into(),
        ));
    }
    decisions.push(decision(
        "scheduler",
        Some("lr_scheduler"),
        a.lr_scheduler.map(str::to_owned),
        lr_scheduler.clone(),
        None,
    ));

    // Quantisation of the base model.
    if let Some((q, pointer)) = &a.quantization {
        let (used, reason) = match *q {
            "int4" | "int8" => (
                "none",
                Some(format!("{q} loading needs bitsandbytes, which is not in the pinned trainer: the base model is loaded unquantised in the training precision (more memory than QLoRA; the adapter is the same format)")),
            ),
            other => (other, None),
        };
        let mut d = decision("quantisation", None, Some((*q).to_owned()), used, reason);
        d.pointer = Some(pointer.clone());
        decisions.push(d);
    }

    // Packing.
    if let Some(p) = a.packing {
        let reason = p.then(|| {
            "examples are not packed: each keeps its own prompt mask and attention (padding per batch instead)".to_owned()
        });
        decisions.push(decision(
            "packing",
            Some("packing"),
            Some(on_off(p)),
            "off",
            reason,
        ));
    }

    // torch.compile.
    let torch_compile = a.torch_compile == Some(true);
    if let Some(t) = a.torch_compile {
        let reason = t.then(|| {
            "the first steps compile the model (minutes; on CPU it needs a C compiler)".to_owned()
        });
        decisions.push(decision(
            "torch_compile",
            Some("torch_compile"),
            Some(on_off(t)),
            on_off(t),
            reason,
        ));
    }

    // Gradient checkpointing.
    let gradient_checkpointing = a.gradient_checkpointing == Some(true);
    decisions.push(decision(
        "gradient_checkpointing",
        Some("gradient_checkpointing"),
        a.gradient_checkpointing.map(on_off),
        on_off(gradient_checkpointing),
        gradient_checkpointing
            .then(|| "recomputes activations in the backward pass (non-reentrant)".to_owned()),
    ));

    // Loss logging.
    let every =
        format!("every step up to {MAX_LOSS_EVENTS} steps, else every steps/{MAX_LOSS_EVENTS}");
    decisions.push(decision(
        "logging",
        Some("logging_steps"),
        a.logging_steps.map(|n| match n {
            1 => "every step".to_owned(),
            n => format!("every {n} steps"),
        }),
        every,
        Some(format!(
            "loss, learning rate and throughput from step 1 and at the last step, at most {MAX_LOSS_EVENTS} times per run"
        )),
    ));

    Ok(Decided {
        optim,
        precision,
        tf32,
        attention,
        lr_scheduler,
        torch_compile,
        gradient_checkpointing,
        decisions,
    })
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> Asked<'static> {
        Asked {
            device: Device::Auto,
            ..Asked::default()
        }
    }

    #[test]
    fn eight_bit_adamw_is_mapped_with_the_reason() {
        let d = decide(&Asked {
            optim: Some("adamw_bnb_8bit"),
            ..asked()
        })
        .unwrap();
        assert_eq!(d.optim, "adamw_torch");
        let o = &d.decisions[0];
        assert_eq!(o.status, Status::Mapped);
        assert_eq!(o.pointer.as_deref(), Some("/training/config/optim"));
        assert!(o.reason.as_deref().unwrap().contains("bitsandbytes"));
    }

    #[test]
    fn unknown_optimisers_and_schedules_are_refused() {
        for a in [
            Asked {
                optim: Some("lion_8bit"),
                ..asked()
            },
            Asked {
                lr_scheduler: Some("cosin"),
                ..asked()
            },
            Asked {
                lr_scheduler: Some("reduce_lr_on_plateau"),
                ..asked()
            },
        ] {
            assert!(matches!(decide(&a), Err(TrainError::Unsupported { .. })));
        }
    }

    #[test]
    fn cpu_maps_mixed_precision_and_tf32_to_fp32() {
        let d = decide(&Asked {
            bf16: Some(true),
            tf32: Some(true),
            device: Device::Cpu,
            ..asked()
        })
        .unwrap();
        let p = d
            .decisions
            .iter()
            .find(|d| d.setting == "precision")
            .unwrap();
        assert_eq!((p.used.as_str(), p.status), ("fp32", Status::Mapped));
        assert!(!d.tf32);
    }

    #[test]
    fn flash_attention_becomes_sdpa_and_sdpa_off_is_eager() {
        let d = decide(&Asked {
            flash_attention_2: Some(true),
            ..asked()
        })
        .unwrap();
        assert_eq!(d.attention, "sdpa");
        let d = decide(&Asked {
            use_sdpa: Some(false),
            ..asked()
        })
        .unwrap();
        assert_eq!(d.attention, "eager");
    }
}
