//! The training plan: everything the trainer needs, resolved in Rust from the manifest and the
//! command line (SPEC §7). It is the one contract with Python: serialised as JSON it is handed
//! over the bridge, or written by `--emit-plan` for `python -m expert_trainer plan.json`.
//!
//! Nothing the author wrote is silently dropped: every key of `training.config` and
//! `training.dataset` is either carried into the plan or listed in [`TrainingPlan::unused`] with
//! the reason.

use super::decide::{self, Decision};
use super::fields::{FieldMap, Mapping};
use super::templates::{self, Template};
use super::TrainError;
use crate::manifest::{select, shape, Manifest, Node, Value};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Version of the plan's JSON layout; the trainer refuses other versions (the Python side's
/// `PLAN_VERSION` is checked against this one by a test). 2: examples are one text with trained
/// character ranges (was: segments), the template carries the tokenizer check, `decisions`.
pub const PLAN_VERSION: u32 = 2;
/// Maximum sequence length when the manifest gives none.
pub const DEFAULT_MAX_SEQ_LENGTH: u64 = 2048;
/// Seed when neither the manifest nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 42;

/// Where to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// CUDA when available, else CPU.
    #[default]
    Auto,
    /// CPU only (fp32).
    Cpu,
    /// CUDA; an error when there is none.
    Cuda,
}

/// Values from the command line that shape the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--model`.
    pub model: Option<String>,
    /// `--dataset` (used as given).
    pub dataset: Option<PathBuf>,
    /// `--output`; default `<manifest dir>/weights`.
    pub output: Option<PathBuf>,
    /// `--epochs`.
    pub epochs: Option<f64>,
    /// `--max-steps`.
    pub max_steps: Option<u64>,
    /// `--device`.
    pub device: Device,
    /// `--resume`.
    pub resume: Option<PathBuf>,
    /// `--base-model`.
    pub base_model: Option<PathBuf>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// Train on the prompt too (`--train-on-prompt`).
    pub train_on_prompt: bool,
    /// Train even when the template differs from the tokenizer's chat template
    /// (`--allow-template-mismatch`).
    pub allow_template_mismatch: bool,
}

/// The expert being trained.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expert {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// The manifest file.
    pub manifest: PathBuf,
}

/// The base model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BaseModelPlan {
    /// The manifest's name.
    pub name: String,
    /// Its slug (the output folder's name).
    pub slug: String,
    /// What the trainer loads: a local folder, or a hub id looked up in the Hugging Face cache.
    pub load: String,
    /// `load` is a local folder.
    pub local: bool,
}

/// The template and why it was chosen.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplatePlan {
    /// Registry name.
    pub name: &'static str,
    /// `manifest`, `detected` (from the model name) or `default`.
    pub source: &'static str,
    /// The template: family, BOS/EOS and end-of-turn marker (the trainer receives rendered
    /// examples, not the template).
    pub parts: Template,
    /// The check against the base model's own chat template.
    pub check: TemplateCheck,
}

/// Before training, the trainer renders the first conversations with the base model's own
/// chat template (transformers, `add_generation_prompt=False`) and refuses on any difference.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateCheck {
    /// Extra template variables for that rendering (e.g. `enable_thinking: false` for qwen3).
    pub kwargs: Json,
    /// The first conversations (records as in the rendered files, plus `messages`), filled when
    /// the dataset is rendered.
    pub examples: Vec<Json>,
    /// A difference is reported and recorded, not refused (`--allow-template-mismatch`).
    pub allow_mismatch: bool,
    /// Check only, do not train (`train --dry-run --base-model PATH`).
    pub only: bool,
}

/// The data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DatasetPlan {
    /// Training JSONL.
    pub path: PathBuf,
    /// Validation JSONL, when given.
    pub validation_path: Option<PathBuf>,
    /// The author's `field_mapping` (plus `text_field`).
    pub mapping: serde_json::Map<String, Json>,
    /// The mapping in force, once the first row has been read.
    pub field_map: Option<FieldMap>,
    /// Loss on the prompt too (default: answer only).
    pub train_on_prompt: bool,
    /// Rendered training examples (JSONL of segments) the trainer reads.
    pub rendered_train: Option<PathBuf>,
    /// Rendered validation examples.
    pub rendered_eval: Option<PathBuf>,
    /// Training examples rendered.
    pub train_examples: u64,
    /// Validation examples rendered.
    pub eval_examples: u64,
    /// What the rendering found that the author should know (unused columns, system texts a
    /// template leaves out), filled when the dataset is rendered; the trainer reports them.
    pub warnings: Vec<String>,
}

/// The adapter to train.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterPlan {
    /// `lora`, `dora`, `ia3` or `lokr`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Rank (rank-based types).
    pub rank: Option<u64>,
    /// Alpha (rank-based types).
    pub alpha: Option<f64>,
    /// Dropout (default 0.05).
    pub dropout: f64,
    /// Modules to adapt; `None` lets peft pick its default for the architecture.
    pub target_modules: Option<Vec<String>>,
    /// IA3 feed-forward modules.
    pub feedforward_modules: Option<Vec<String>>,
}

/// Hyperparameters, after command-line overrides. `None` means the trainer's default.
#[derive(Debug, Clone, serde::Serialize)]
#[allow(missing_docs)] // each field is the Hugging Face TrainingArguments field of the same name
pub struct Hyper {
    /// Epochs (fractions allowed).
    pub epochs: f64,
    /// Step cap; `None` for no cap.
    pub max_steps: Option<u64>,
    pub learning_rate: f64,
    pub batch_size: u64,
    pub gradient_accumulation_steps: u64,
    pub warmup_steps: u64,
    pub warmup_ratio: Option<f64>,
    pub lr_scheduler: String,
    pub lr_scheduler_kwargs: Option<Json>,
    pub max_seq_length: u64,
    /// `auto` (bf16 where supported on CUDA, fp32 on CPU), `bf16`, `fp16` (both on CUDA; fp32
    /// on CPU) or `fp32`.
    pub precision: &'static str,
    /// TF32 matmuls on CUDA.
    pub tf32: bool,
    /// `sdpa` or `eager`.
    pub attention: &'static str,
    pub gradient_checkpointing: bool,
    pub gradient_checkpointing_kwargs: Option<Json>,
    /// A torch optimiser (see [`decide::OPTIMISERS`]).
    pub optim: String,
    pub weight_decay: Option<f64>,
    pub max_grad_norm: Option<f64>,
    pub group_by_length: Option<bool>,
    pub save_steps: Option<u64>,
    pub save_strategy: Option<String>,
    pub save_total_limit: Option<u64>,
    pub eval_strategy: Option<String>,
    pub eval_steps: Option<u64>,
    pub load_best_model_at_end: Option<bool>,
    pub metric_for_best_model: Option<String>,
    pub greater_is_better: Option<bool>,
    /// Loss is reported from step 1, every ⌈total steps / this⌉ steps and at the last step.
    pub max_loss_events: u64,
    pub seed: u64,
    pub dataloader_num_workers: Option<u64>,
    pub dataloader_pin_memory: Option<bool>,
    pub dataloader_prefetch_factor: Option<u64>,
    pub dataloader_persistent_workers: Option<bool>,
    pub torch_compile: bool,
    pub torch_compile_backend: Option<String>,
    pub torch_compile_mode: Option<String>,
}

/// A key the author wrote that the trainer does not use.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unused {
    /// JSON pointer in the manifest.
    pub pointer: String,
    /// Why it has no effect.
    pub reason: String,
}

/// The whole plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainingPlan {
    /// [`PLAN_VERSION`].
    pub plan_version: u32,
    /// The expert.
    pub expert: Expert,
    /// The base model.
    pub base_model: BaseModelPlan,
    /// The prompt template.
    pub template: TemplatePlan,
    /// The data.
    pub dataset: DatasetPlan,
    /// The adapter.
    pub adapter: AdapterPlan,
    /// Hyperparameters.
    pub hyper: Hyper,
    /// Device.
    pub device: Device,
    /// `<output>/<slug>`: the adapter, tokenizer, log and `checkpoints/` go here.
    pub output_dir: PathBuf,
    /// Checkpoint to resume from.
    pub resume: Option<PathBuf>,
    /// How the settings that decide whether the run works are used or mapped.
    pub decisions: Vec<Decision>,
    /// Keys the trainer does not use, with reasons.
    pub unused: Vec<Unused>,
    /// Things the author should know (template fallback, model not found locally…).
    pub warnings: Vec<String>,
}

/// How the trainer treats each `training.dataset` key.
const DATASET_KEYS: &[(&str, Option<&str>)] = &[
    ("path", None),
    ("validation_path", None),
    ("field_mapping", None),
    ("text_field", None),
    ("format", None),
    ("type", None),
    (
        "test_path",
        Some("the test split is for evaluation after training, not for training"),
    ),
    (
        "streaming",
        Some("expert-cli always streams the JSONL when rendering it"),
    ),
    (
        "max_in_memory_samples",
        Some("expert-cli always streams the JSONL when rendering it"),
    ),
    (
        "use_pretokenized",
        Some("the trainer tokenises the rendered examples at start"),
    ),
    ("tasks", Some("multi-task datasets are not supported")),
    (
        "generation",
        Some("synthetic generation settings; not used for training"),
    ),
    (
        "validation_split",
        Some("no automatic split: give validation_path for evaluation"),
    ),
];

fn str_at<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a str> {
    node?.get_non_null(key)?.as_str()
}
fn f64_at(node: Option<&Node>, key: &str) -> Option<f64> {
    node?.get_non_null(key)?.as_f64()
}
fn u64_at(node: Option<&Node>, key: &str) -> Option<u64> {
    node?
        .get_non_null(key)?
        .as_i64()
        .filter(|&n| n >= 0)
        .map(|n| n as u64)
}
fn bool_at(node: Option<&Node>, key: &str) -> Option<bool> {
    node?.get_non_null(key)?.as_bool()
}
fn strings_at(node: Option<&Node>, key: &str) -> Option<Vec<String>> {
    let list = node?.get_non_null(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Node::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// A manifest value as plain JSON.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) if !n.raw.contains(['.', 'e', 'E']) => Json::from(i),
            _ => serde_json::Number::from_f64(n.value)
                .map(Json::Number)
                .unwrap_or(Json::Null),
        },
        Value::String(s) => Json::String(s.clone()),
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Object(members) => Json::Object(
            members
                .iter()
                .map(|m| (m.key.clone(), to_json(&m.value)))
                .collect(),
        ),
    }
}

/// True when a model name is written as a file-system path (not a hub id).
fn looks_like_path(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with(['/', '\\', '.', '~'])
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'/' | b'\\'))
        || name.contains('\\')
        || name.matches('/').count() > 1
}

fn resolve(dir: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    }
}

/// Builds the plan for `manifest` (read from `manifest_path`) and the command-line `opts`.
///
/// # Errors
/// [`TrainError`] when the base model cannot be chosen, the manifest asks for something the
/// trainer cannot do (multi-task data, DPO, AdaLoRA, a hub dataset, an optimiser or schedule
/// the pinned trainer lacks), no dataset is given, or a path does not exist.
pub fn plan(
    manifest: &Manifest,
    manifest_path: &Path,
    opts: &Options,
) -> Result<TrainingPlan, TrainError> {
    let dir = match manifest_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let model =
        select::select(manifest, opts.model.as_deref()).map_err(|source| TrainError::Select {
            manifest: manifest_path.to_owned(),
            models: manifest.base_models.clone(),
            source,
        })?;
    for (what, path) in [
        ("--resume", &opts.resume),
        ("--base-model", &opts.base_model),
    ] {
        if let Some(p) = path.as_ref().filter(|p| !p.exists()) {
            return Err(TrainError::Missing {
                what,
                path: p.clone(),
            });
        }
    }
    let root = manifest.root();
    let training = root.get_non_null("training");
    let config = training.and_then(|t| t.get_non_null("config"));
    let data = training.and_then(|t| t.get_non_null("dataset"));
    let mut unused = Vec::new();
    let mut warnings = Vec::new();

    // Every key of config and dataset is used or reported. The config keys are the trainer
    // column of the manifest's field table.
    let config_keys = crate::manifest::shape::trainer_config_keys();
    for (section, node, table) in [
        ("config", config, &config_keys[..]),
        ("dataset", data, DATASET_KEYS),
    ] {
        for m in node.and_then(Node::as_object).unwrap_or(&[]) {
            if m.key.starts_with('_') {
                continue;
            }
            let reason = match table.iter().find(|(k, _)| *k == m.key) {
                Some((_, None)) => continue,
                Some((_, Some(reason))) => (*reason).to_owned(),
                None => "not a setting the trainer knows".to_owned(),
            };
            unused.push(Unused {
                pointer: format!("/training/{section}/{}", m.key),
                reason,
            });
        }
    }
    let model_node = root.pointer(&model.pointer);
    if model_node
        .and_then(|n| n.get_non_null("rope_scaling"))
        .is_some()
    {
        unused.push(Unused {
            pointer: format!("{}/rope_scaling", model.pointer),
            reason: "the model's own rope settings are used".to_owned(),
        });
    }
    let quantization = model_node
        .and_then(|n| str_at(Some(n), "quantization"))
        .map(|q| (q, format!("{}/quantization", model.pointer)));

    // Method and adapter.
    let method = str_at(config, "method").unwrap_or("sft");
    if method != "sft" {
        return Err(TrainError::Unsupported {
            pointer: "/training/config/method".into(),
            what: format!("method `{method}`"),
            hint: "the trainer does supervised fine-tuning only; set method to \"sft\"".into(),
        });
    }
    let kind = str_at(config, "adapter_type")
        .unwrap_or("lora")
        .to_ascii_lowercase();
    if !matches!(kind.as_str(), "lora" | "dora" | "ia3" | "lokr") {
        return Err(TrainError::Unsupported {
            pointer: "/training/config/adapter_type".into(),
            what: format!("adapter type `{kind}`"),
            hint: "use lora, dora, ia3 or lokr".into(),
        });
    }
    let adapter = AdapterPlan {
        rank: u64_at(config, "rank"),
        alpha: f64_at(config, "alpha"),
        dropout: f64_at(config, "dropout").unwrap_or(0.05),
        target_modules: strings_at(config, "target_modules").filter(|v| !v.is_empty()),
        feedforward_modules: strings_at(config, "feedforward_modules").filter(|v| !v.is_empty()),
        kind,
    };

    // Dataset.
    if str_at(data, "type") == Some("multi_task") {
        return Err(TrainError::Unsupported {
            pointer: "/training/dataset/type".into(),
            what: "multi-task datasets".into(),
            hint: "merge the tasks into one JSONL file and set training.dataset.path".into(),
        });
    }
    let format = str_at(data, "format").unwrap_or("jsonl");
    if opts.dataset.is_none() && !matches!(format, "jsonl" | "json") {
        return Err(TrainError::Unsupported {
            pointer: "/training/dataset/format".into(),
            what: format!("dataset format `{format}`"),
            hint: "export the data to a JSONL file and pass it with --dataset".into(),
        });
    }
    let path = match (&opts.dataset, str_at(data, "path")) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => resolve(&dir, p),
        (None, None) => {
            return Err(TrainError::NoDataset {
                manifest: manifest_path.to_owned(),
            })
        }
    };
    if !path.is_file() {
        return Err(TrainError::Missing {
            what: "the dataset",
            path,
        });
    }
    let validation_path = str_at(data, "validation_path").map(|p| resolve(&dir, p));
    let mut mapping = serde_json::Map::new();
    if let Some(members) = data
        .and_then(|d| d.get_non_null("field_mapping"))
        .and_then(Node::as_object)
    {
        let slots = shape::field_mapping_keys();
        for m in members {
            if slots.contains(&m.key.as_str()) {
                if let Some(s) = m.value.as_str() {
                    mapping.insert(m.key.clone(), Json::String(s.to_owned()));
                }
            } else if !m.key.starts_with('_') {
                unused.push(Unused {
                    pointer: format!("/training/dataset/field_mapping/{}", m.key),
                    reason: format!("field_mapping understands {}", slots.join(", ")),
                });
            }
        }
    }
    if let Some(tf) = str_at(data, "text_field") {
        mapping
            .entry("text")
            .or_insert_with(|| Json::String(tf.to_owned()));
    }

    // Template.
    let (template, source) = match &model.prompt_template {
        Some(name) => match templates::get(name) {
            Some(t) => (t, "manifest"),
            None => {
                return Err(TrainError::Unsupported {
                    pointer: format!("{}/prompt_template", model.pointer),
                    what: format!("prompt template `{name}`"),
                    hint: format!("use one of: {}", templates::names().join(", ")),
                })
            }
        },
        None => match templates::detect(&model.name) {
            Some(t) => (t, "detected"),
            None => {
                warnings.push(format!(
                    "no prompt template detected from the model name `{}`; using alpaca (set prompt_template in the manifest to choose)",
                    model.name
                ));
                (
                    templates::get("alpaca").unwrap_or(&templates::TEMPLATES[0]),
                    "default",
                )
            }
        },
    };

    // Base model: --base-model, else the manifest's name resolved against its folder.
    let (load, local) = match &opts.base_model {
        Some(p) => (p.display().to_string(), true),
        None => {
            let candidate = resolve(&dir, &model.name);
            if candidate.is_dir() {
                (candidate.display().to_string(), true)
            } else if looks_like_path(&model.name) {
                warnings.push(format!(
                    "the base model `{}` is not a folder on this machine; pass --base-model PATH to a local copy",
                    model.name
                ));
                (model.name.clone(), true)
            } else {
                (model.name.clone(), false)
            }
        }
    };

    // Hyperparameters.
    let epochs = opts
        .epochs
        .or_else(|| f64_at(config, "epochs"))
        .or_else(|| f64_at(config, "num_epochs"))
        .unwrap_or(1.0);
    let max_steps = opts
        .max_steps
        .or_else(|| u64_at(config, "max_steps"))
        .filter(|&n| n > 0);
    let gradient_checkpointing = config
        .and_then(|c| c.get_non_null("gradient_checkpointing"))
        .map(|n| match &n.value {
            Value::Bool(b) => *b,
            Value::String(s) => !matches!(s.as_str(), "" | "false" | "none" | "off"),
            _ => false,
        });
    let json_at = |key: &str| config.and_then(|c| c.get_non_null(key)).map(to_json);
    let scheduler_kwargs = json_at("lr_scheduler_kwargs");
    let decided = decide::decide(&decide::Asked {
        optim: str_at(config, "optim"),
        bf16: bool_at(config, "bf16"),
        fp16: bool_at(config, "fp16"),
        tf32: bool_at(config, "use_tf32"),
        use_sdpa: bool_at(config, "use_sdpa"),
        flash_attention_2: bool_at(config, "flash_attention_2"),
        lr_scheduler: str_at(config, "lr_scheduler"),
        lr_scheduler_kwargs: scheduler_kwargs.as_ref(),
        has_validation: validation_path.is_some(),
        quantization,
        packing: bool_at(config, "packing"),
        torch_compile: bool_at(config, "torch_compile"),
        gradient_checkpointing,
        logging_steps: u64_at(config, "logging_steps"),
        device: opts.device,
    })?;
    let string_at = |key: &str| str_at(config, key).map(str::to_owned);
    let hyper = Hyper {
        epochs,
        max_steps,
        learning_rate: f64_at(config, "learning_rate").unwrap_or(2e-4),
        batch_size: u64_at(config, "batch_size").unwrap_or(1).max(1),
        gradient_accumulation_steps: u64_at(config, "gradient_accumulation_steps")
            .unwrap_or(1)
            .max(1),
        warmup_steps: u64_at(config, "warmup_steps").unwrap_or(0),
        warmup_ratio: f64_at(config, "warmup_ratio"),
        lr_scheduler: decided.lr_scheduler,
        lr_scheduler_kwargs: scheduler_kwargs,
        max_seq_length: u64_at(config, "max_seq_length").unwrap_or(DEFAULT_MAX_SEQ_LENGTH),
        precision: decided.precision,
        tf32: decided.tf32,
        attention: decided.attention,
        gradient_checkpointing: decided.gradient_checkpointing,
        gradient_checkpointing_kwargs: json_at("gradient_checkpointing_kwargs"),
        optim: decided.optim,
        weight_decay: f64_at(config, "weight_decay"),
        max_grad_norm: f64_at(config, "max_grad_norm"),
        group_by_length: bool_at(config, "group_by_length"),
        save_steps: u64_at(config, "save_steps"),
        save_strategy: string_at("save_strategy"),
        save_total_limit: u64_at(config, "save_total_limit"),
        eval_strategy: string_at("evaluation_strategy"),
        eval_steps: u64_at(config, "eval_steps"),
        load_best_model_at_end: bool_at(config, "load_best_model_at_end"),
        metric_for_best_model: string_at("metric_for_best_model"),
        greater_is_better: bool_at(config, "greater_is_better"),
        max_loss_events: decide::MAX_LOSS_EVENTS,
        seed: opts
            .seed
            .or_else(|| u64_at(config, "seed"))
            .unwrap_or(DEFAULT_SEED),
        dataloader_num_workers: u64_at(config, "dataloader_num_workers"),
        dataloader_pin_memory: bool_at(config, "dataloader_pin_memory"),
        dataloader_prefetch_factor: u64_at(config, "dataloader_prefetch_factor"),
        dataloader_persistent_workers: bool_at(config, "dataloader_persistent_workers"),
        torch_compile: decided.torch_compile,
        torch_compile_backend: string_at("torch_compile_backend"),
        torch_compile_mode: string_at("torch_compile_mode"),
    };
    if hyper.warmup_steps > 0 && hyper.warmup_ratio.is_some_and(|r| r > 0.0) {
        warnings.push(
            "both warmup_steps and warmup_ratio are set; warmup_steps wins (as in transformers)"
                .into(),
        );
    }

    let output = opts.output.clone().unwrap_or_else(|| dir.join("weights"));
    Ok(TrainingPlan {
        plan_version: PLAN_VERSION,
        expert: Expert {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            manifest: manifest_path.to_owned(),
        },
        base_model: BaseModelPlan {
            name: model.name.clone(),
            slug: model.slug.clone(),
            load,
            local,
        },
        template: TemplatePlan {
            name: template.name,
            source,
            parts: *template,
            check: TemplateCheck {
                kwargs: serde_json::from_str(template.check_kwargs)
                    .unwrap_or_else(|_| Json::Object(serde_json::Map::new())),
                examples: Vec::new(),
                allow_mismatch: opts.allow_template_mismatch,
                only: false,
            },
        },
        dataset: DatasetPlan {
            path,
            validation_path,
            mapping,
            field_map: None,
            train_on_prompt: opts.train_on_prompt,
            rendered_train: None,
            rendered_eval: None,
            train_examples: 0,
            eval_examples: 0,
            warnings: Vec::new(),
        },
        adapter,
        hyper,
        device: opts.device,
        output_dir: output.join(&model.slug),
        resume: opts.resume.clone(),
        decisions: decided.decisions,
        unused,
        warnings,
    })
}

impl TemplatePlan {
    /// One line for the plan: the template, where it came from, its family and the check.
    pub fn describe(&self) -> String {
        let family = match self.parts.name {
            "alpaca" => "alpaca text, no model's chat template".to_owned(),
            _ => format!("the {} chat template", self.parts.family),
        };
        format!(
            "{} ({}; {family}); checked against the base model's tokenizer before training \
             (by --dry-run only with --base-model, which needs Python){}",
            self.name,
            self.source,
            if self.check.allow_mismatch {
                "; a mismatch is allowed"
            } else {
                ""
            }
        )
    }
}

impl TrainingPlan {
    /// The author's field mapping as a [`Mapping`].
    pub fn mapping(&self) -> Mapping {
        Mapping {
            columns: self
                .dataset
                .mapping
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect(),
        }
    }
    /// The template in force.
    pub fn template(&self) -> &Template {
        &self.template.parts
    }
    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan is plain data: it always serialises")
    }
}
