//! The manifest format, written down once as data: every field, its type, whether it is
//! required, its allowed values and ranges, and a one-line description.
//!
//! Both the structural validator ([`super::check`]) and the JSON Schema that `expert-cli schema`
//! prints ([`super::schema`]) are generated from these tables, so they cannot disagree — the
//! failure of upstream, whose Rust structs, JSON Schema and docs were three different formats.

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Absent or `null` is an error.
    Required,
    /// Absent is a warning (the format works without it, but users expect it).
    Recommended,
    /// May be absent or `null`.
    Optional,
}

/// What a string must look like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Str {
    /// Any string.
    Any,
    /// Not empty after trimming white space.
    NonEmpty,
    /// One of these values; anything else is an error.
    Enum(&'static [&'static str]),
    /// Documented values; anything else is a warning (real manifests use more).
    Open(&'static [&'static str]),
    /// Empty (unknown) or 64 hex digits.
    Sha256,
    /// A safe relative path inside the expert folder.
    Path,
}

/// A JSON type with its constraints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    /// Anything.
    Any,
    /// `true` / `false`.
    Bool,
    /// A string.
    Str(Str),
    /// An integral number in `min..=max`.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// A number in the range; `above` makes the minimum exclusive.
    Num {
        /// Smallest allowed value.
        min: Option<f64>,
        /// Largest allowed value.
        max: Option<f64>,
        /// The minimum itself is not allowed.
        above: bool,
    },
    /// An array.
    Array {
        /// The element type.
        items: &'static Ty,
        /// Fewest elements allowed.
        min_items: usize,
    },
    /// An object with known fields.
    Object(&'static Obj),
    /// An object with free keys, each value of one type.
    Map(&'static Ty),
    /// The first alternative whose JSON type matches is used.
    OneOf(&'static [Ty]),
    /// The documented type, or a second type real manifests use, accepted with a warning.
    Lenient(&'static Ty, &'static Ty),
}

/// An object's fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obj {
    /// The known fields, in documentation order.
    pub fields: &'static [Field],
    /// Unknown keys are expected here (free-form metadata): no warning.
    pub open: bool,
}

/// One field of an object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether it must be present.
    pub presence: Presence,
    /// One line for the docs and the JSON Schema.
    pub doc: &'static str,
}

const fn f(name: &'static str, ty: Ty, presence: Presence, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        presence,
        doc,
    }
}
const fn opt(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    f(name, ty, Presence::Optional, doc)
}
const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    f(name, ty, Presence::Required, doc)
}
const fn rec(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    f(name, ty, Presence::Recommended, doc)
}
const fn int(min: i64) -> Ty {
    Ty::Int { min, max: None }
}
const fn num(min: f64, max: f64) -> Ty {
    Ty::Num {
        min: Some(min),
        max: Some(max),
        above: false,
    }
}
const fn positive() -> Ty {
    Ty::Num {
        min: Some(0.0),
        max: None,
        above: true,
    }
}
const ANY_STR: Ty = Ty::Str(Str::Any);
const STRINGS: Ty = Ty::Array {
    items: &ANY_STR,
    min_items: 0,
};
const MODULES: Ty = Ty::Array {
    items: &Ty::Str(Str::NonEmpty),
    min_items: 1,
};
const FREE: Ty = Ty::Any;

/// Adapter types the format knows (all trainable through peft).
pub const ADAPTER_TYPES: &[&str] = &["lora", "dora", "ia3", "lokr", "adalora"];
/// Adapter types that need a rank and an alpha.
pub const RANKED_ADAPTER_TYPES: &[&str] = &["lora", "dora", "lokr", "adalora"];
/// Prompt template names; `train::templates` holds the formats and a test keeps both in step.
pub const PROMPT_TEMPLATES: &[&str] = &[
    "qwen3",
    "chatml",
    "llama",
    "llama3",
    "phi",
    "phi4",
    "deepseek",
    "deepseek-coder",
    "gemma",
    "mistral",
    "alpaca",
];

const ADAPTER: Obj = Obj {
    open: false,
    fields: &[
        req("type", Ty::Str(Str::Enum(ADAPTER_TYPES)), "Adapter family."),
        rec(
            "target_modules",
            MODULES,
            "Modules the adapter wraps, e.g. q_proj.",
        ),
        opt(
            "r",
            Ty::Int {
                min: 1,
                max: Some(256),
            },
            "Rank (lora, dora, lokr, adalora).",
        ),
        opt(
            "alpha",
            int(1),
            "Scaling numerator (lora, dora, lokr, adalora).",
        ),
        opt(
            "scaling",
            Ty::Str(Str::Open(&["default", "standard", "dora", "learned"])),
            "Scaling mode.",
        ),
        opt("dropout", num(0.0, 1.0), "Adapter dropout."),
        opt("use_dora", Ty::Bool, "Weight-decomposed LoRA."),
        opt(
            "size_bytes",
            int(0),
            "Size of adapter_model.safetensors; 0 means unknown.",
        ),
        opt(
            "sha256",
            Ty::Str(Str::Sha256),
            "SHA-256 of adapter_model.safetensors; empty means unknown.",
        ),
        opt(
            "path",
            Ty::Str(Str::Path),
            "Folder (or file) holding the adapter, relative to the manifest.",
        ),
        opt(
            "checkpoint_step",
            int(0),
            "Training step the adapter was taken at.",
        ),
        opt("feedforward_modules", STRINGS, "IA3 feed-forward modules."),
    ],
};

const ROPE_OBJECT: Obj = Obj {
    open: false,
    fields: &[
        req(
            "type",
            Ty::Str(Str::Open(&["ntk-by-parts", "yarn", "dynamic", "linear"])),
            "RoPE scaling method.",
        ),
        req(
            "factor",
            Ty::Num {
                min: Some(1.0),
                max: None,
                above: false,
            },
            "Scaling factor.",
        ),
        req(
            "max_position_embeddings",
            int(1),
            "Context length after scaling.",
        ),
        req(
            "original_max_position_embeddings",
            int(1),
            "Context length before scaling.",
        ),
        req("fine_grained", Ty::Bool, "Per-dimension scaling."),
    ],
};
const ROPE: Ty = Ty::OneOf(&[ANY_STR, Ty::Object(&ROPE_OBJECT)]);
const QUANTIZATION: Ty = Ty::Str(Str::Open(&["int4", "int8", "fp16", "bf16", "none"]));

/// The fields both schema versions give a base model; 2.0 adds `adapters`.
macro_rules! base_model_fields {
    ($($extra:expr),*) => {
        &[
            req("name", Ty::Str(Str::NonEmpty), "Hub id (Qwen/Qwen3-0.6B) or local path of the base model."),
            opt("sha256", Ty::Str(Str::Sha256), "SHA-256 of the base weights; empty means unknown."),
            opt("quantization", QUANTIZATION, "Quantisation of the base model."),
            opt("rope_scaling", ROPE, "RoPE scaling, a name or an object."),
            opt("prompt_template", Ty::Str(Str::Enum(PROMPT_TEMPLATES)), "Prompt template; detected from the name when absent."),
            $($extra),*
        ]
    };
}

const BASE_MODEL_V1: Obj = Obj {
    open: false,
    fields: base_model_fields!(),
};

const BASE_MODEL_V2: Obj = Obj {
    open: false,
    fields: base_model_fields!(req(
        "adapters",
        Ty::Array {
            items: &Ty::Object(&ADAPTER),
            min_items: 1
        },
        "This model's adapters."
    )),
};

const SOFT_PROMPT: Obj = Obj {
    open: false,
    fields: &[
        req("name", Ty::Str(Str::NonEmpty), "Soft prompt name."),
        req(
            "path",
            Ty::Str(Str::Path),
            "File relative to the manifest; packaged.",
        ),
        req(
            "tokens",
            Ty::Int {
                min: 1,
                max: Some(512),
            },
            "Number of virtual tokens.",
        ),
        opt(
            "init_method",
            Ty::Str(Str::Open(&["random", "text", "vocab_sample"])),
            "Initialisation.",
        ),
        opt("init_text", ANY_STR, "Text for `text` initialisation."),
        opt("purpose", ANY_STR, "What it is for."),
        opt("description", ANY_STR, "Description."),
        opt("size_bytes", int(0), "File size; 0 means unknown."),
        opt(
            "sha256",
            Ty::Str(Str::Sha256),
            "File SHA-256; empty means unknown.",
        ),
    ],
};

const LIMITATION: Obj = Obj {
    open: false,
    fields: &[
        req("pattern", ANY_STR, "The kind of input that fails."),
        req("description", ANY_STR, "How it fails."),
        opt("example", ANY_STR, "An example."),
        opt("workaround", ANY_STR, "What to do instead."),
    ],
};

const REPOSITORY: Obj = Obj {
    open: false,
    fields: &[
        req("type", ANY_STR, "VCS type, e.g. git."),
        req("url", ANY_STR, "Repository URL."),
    ],
};

const ROUTING: Obj = Obj {
    open: false,
    fields: &[
        req("keywords", STRINGS, "Keywords that route a query here."),
        opt("exclude_keywords", STRINGS, "Keywords that route away."),
        opt("router_hint", ANY_STR, "Boolean expression for routers."),
        opt("priority", num(0.0, 1.0), "Routing priority, default 0.5."),
    ],
};

const CONSTRAINTS: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "max_chain",
            int(1),
            "Most experts chained together, default 10.",
        ),
        rec("load_order", int(0), "Lower loads first."),
        opt(
            "incompatible_with",
            STRINGS,
            "`name@spec` of experts that conflict.",
        ),
        opt(
            "requires",
            STRINGS,
            "`name@spec` of experts this one needs.",
        ),
    ],
};

const PERF: Obj = Obj {
    open: false,
    fields: &[
        rec(
            "latency_ms_overhead",
            Ty::Num {
                min: Some(0.0),
                max: None,
                above: false,
            },
            "Added latency.",
        ),
        rec("vram_mb_overhead", int(0), "Added VRAM."),
        rec(
            "supported_batch_sizes",
            Ty::Array {
                items: &int(1),
                min_items: 1,
            },
            "Batch sizes tested.",
        ),
    ],
};

const RUNTIME: Obj = Obj {
    open: false,
    fields: &[
        opt("candle_compatible", Ty::Bool, "Loads in candle."),
        opt(
            "requires_kv_cache_persistence",
            Ty::Bool,
            "Needs a persistent KV cache.",
        ),
        opt(
            "attention_kernel",
            Ty::Str(Str::Open(&[
                "sdpa", "flash-v1", "flash-v2", "xformers", "vanilla",
            ])),
            "Attention kernel.",
        ),
        opt(
            "tool_validation_middleware",
            FREE,
            "Tool-call validation settings.",
        ),
        opt("max_tool_retries", int(0), "Tool-call retries."),
        opt("tool_timeout_ms", int(0), "Tool-call timeout."),
        opt("schema_validation", FREE, "Schema validation mode."),
    ],
};

const GENERATION: Obj = Obj {
    open: true,
    fields: &[
        req("domain", ANY_STR, "Domain."),
        req("task", ANY_STR, "Task."),
        req("count", int(0), "Examples to generate."),
        req("provider", ANY_STR, "Generator."),
        opt(
            "temperature",
            Ty::Num {
                min: Some(0.0),
                max: None,
                above: false,
            },
            "Sampling temperature.",
        ),
        opt("diversity_threshold", num(0.0, 1.0), "Diversity threshold."),
        opt("difficulty_distribution", FREE, "easy/medium/hard shares."),
    ],
};

const DATASET: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "path",
            Ty::Str(Str::NonEmpty),
            "JSONL file relative to the manifest, or a hub id with format huggingface.",
        ),
        opt(
            "validation_path",
            Ty::Str(Str::NonEmpty),
            "Validation file.",
        ),
        opt("test_path", Ty::Str(Str::NonEmpty), "Test file."),
        opt(
            "type",
            Ty::Str(Str::Enum(&["single", "multi_task"])),
            "One dataset or several tasks.",
        ),
        opt(
            "tasks",
            FREE,
            "multi_task: name → {train, valid, test, weight, format}.",
        ),
        opt(
            "generation",
            Ty::Object(&GENERATION),
            "Synthetic generation settings.",
        ),
        opt(
            "field_mapping",
            Ty::Map(&ANY_STR),
            "Dataset columns for instruction, input, response or text.",
        ),
        opt(
            "format",
            Ty::Str(Str::Open(&["jsonl", "huggingface", "csv", "parquet"])),
            "File format.",
        ),
        opt("streaming", Ty::Bool, "Stream instead of loading."),
        opt(
            "max_in_memory_samples",
            int(1),
            "Cap on samples held in memory.",
        ),
        opt("use_pretokenized", Ty::Bool, "Use a pre-tokenised cache."),
        opt("source", FREE, "Provenance."),
        opt("sources", FREE, "Provenance of each source."),
        opt("validation", FREE, "Validation settings."),
        opt("augmentation", FREE, "Augmentation settings."),
        opt("preprocessing", FREE, "Preprocessing statistics."),
        opt("format_distribution", FREE, "Statistics."),
        opt("task_distribution", FREE, "Statistics."),
        opt("splits", FREE, "Split sizes."),
        opt(
            "validation_split",
            num(0.0, 1.0),
            "Share held out for validation.",
        ),
        opt(
            "error_injection_ratio",
            num(0.0, 1.0),
            "Share of corrupted examples.",
        ),
    ],
};

const CONFIG: Obj = Obj {
    open: false,
    fields: &[
        req(
            "method",
            Ty::Str(Str::Open(&["sft", "rlhf", "dpo"])),
            "Training method.",
        ),
        req(
            "adapter_type",
            Ty::Str(Str::Enum(ADAPTER_TYPES)),
            "Adapter family to train.",
        ),
        opt(
            "rank",
            Ty::Int {
                min: 1,
                max: Some(256),
            },
            "Rank (required for rank-based types).",
        ),
        opt("alpha", int(1), "Alpha (required for rank-based types)."),
        opt("dropout", num(0.0, 1.0), "Adapter dropout."),
        rec("target_modules", MODULES, "Modules to adapt."),
        opt("feedforward_modules", STRINGS, "IA3 feed-forward modules."),
        opt(
            "epochs",
            positive(),
            "Epochs; fractions allowed (one of epochs, num_epochs, max_steps is required).",
        ),
        opt("num_epochs", positive(), "Alias of epochs."),
        opt(
            "max_steps",
            int(0),
            "Stop after this many optimiser steps; 0 means no limit.",
        ),
        req(
            "learning_rate",
            Ty::Num {
                min: Some(0.0),
                max: Some(1.0),
                above: true,
            },
            "Peak learning rate.",
        ),
        req("batch_size", int(1), "Per-device batch size."),
        rec(
            "gradient_accumulation_steps",
            int(1),
            "Batches per optimiser step.",
        ),
        opt("warmup_steps", int(0), "Warm-up steps."),
        opt("warmup_ratio", num(0.0, 1.0), "Warm-up share of all steps."),
        rec(
            "lr_scheduler",
            Ty::Str(Str::Open(&[
                "linear",
                "cosine",
                "constant",
                "constant_with_warmup",
                "polynomial",
                "cosine_with_restarts",
            ])),
            "Learning-rate schedule.",
        ),
        opt("lr_scheduler_kwargs", Ty::Map(&FREE), "Schedule arguments."),
        opt("max_seq_length", int(1), "Longest tokenised example."),
        opt("seed", int(0), "Random seed."),
        opt(
            "weight_decay",
            Ty::Num {
                min: Some(0.0),
                max: None,
                above: false,
            },
            "Weight decay.",
        ),
        opt(
            "max_grad_norm",
            Ty::Num {
                min: Some(0.0),
                max: None,
                above: false,
            },
            "Gradient clipping.",
        ),
        opt("use_unsloth", Ty::Bool, "Use unsloth kernels when present."),
        opt("dataloader_num_workers", int(0), "Data-loader workers."),
        opt("dataloader_pin_memory", Ty::Bool, "Pin memory."),
        opt("dataloader_prefetch_factor", int(1), "Prefetch factor."),
        opt(
            "dataloader_persistent_workers",
            Ty::Bool,
            "Keep workers alive.",
        ),
        opt("fp16", Ty::Bool, "fp16 mixed precision."),
        opt("bf16", Ty::Bool, "bf16 mixed precision where supported."),
        opt("use_tf32", Ty::Bool, "TF32 matmuls where supported."),
        opt("use_sdpa", Ty::Bool, "Scaled-dot-product attention."),
        opt(
            "flash_attention_2",
            Ty::Bool,
            "FlashAttention 2 where installed.",
        ),
        opt(
            "memory_efficient_attention",
            Ty::Bool,
            "Memory-efficient attention.",
        ),
        opt(
            "activation_checkpointing",
            ANY_STR,
            "Activation checkpointing mode.",
        ),
        opt(
            "gradient_checkpointing",
            Ty::Lenient(&Ty::Bool, &ANY_STR),
            "Gradient checkpointing (a mode name is read as true).",
        ),
        opt(
            "gradient_checkpointing_kwargs",
            FREE,
            "Checkpointing arguments.",
        ),
        opt("packing", Ty::Bool, "Pack short examples."),
        opt("torch_compile", Ty::Bool, "torch.compile the model."),
        opt("torch_compile_backend", ANY_STR, "Compile backend."),
        opt("torch_compile_mode", ANY_STR, "Compile mode."),
        opt(
            "optim",
            Ty::Str(Str::Open(&[
                "adamw_torch",
                "adamw_torch_fused",
                "adamw_bnb_8bit",
                "adamw_8bit",
                "sgd",
                "adafactor",
            ])),
            "Optimiser.",
        ),
        opt(
            "group_by_length",
            Ty::Bool,
            "Group examples of similar length.",
        ),
        opt("save_steps", int(1), "Checkpoint every N steps."),
        opt(
            "save_strategy",
            Ty::Str(Str::Open(&["no", "steps", "epoch"])),
            "When to checkpoint.",
        ),
        opt("save_total_limit", int(1), "Checkpoints kept."),
        opt(
            "evaluation_strategy",
            Ty::Str(Str::Open(&["no", "steps", "epoch"])),
            "When to evaluate.",
        ),
        opt("eval_steps", int(1), "Evaluate every N steps."),
        opt(
            "load_best_model_at_end",
            Ty::Bool,
            "Keep the best checkpoint.",
        ),
        opt(
            "metric_for_best_model",
            ANY_STR,
            "Metric that picks the best checkpoint.",
        ),
        opt("greater_is_better", Ty::Bool, "Direction of that metric."),
        opt("logging_steps", int(1), "Log every N steps."),
        opt(
            "pretokenized_cache",
            Ty::Str(Str::Path),
            "Pre-tokenised dataset cache folder.",
        ),
        opt(
            "memory_clear_every",
            int(0),
            "Clear the CUDA cache every N steps.",
        ),
        opt("use_cuda_graphs", Ty::Bool, "CUDA graphs."),
        opt(
            "cuda_graph_warmup_steps",
            int(0),
            "CUDA graph warm-up steps.",
        ),
    ],
};

const DECODING: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "use_grammar",
            Ty::Bool,
            "Constrain decoding with a grammar.",
        ),
        opt(
            "grammar_type",
            Ty::Str(Str::Open(&[
                "json",
                "gbnf",
                "sql",
                "sql-postgres",
                "sql-mysql",
                "cypher",
                "typescript",
                "python",
                "tool-call",
            ])),
            "Grammar kind.",
        ),
        opt(
            "grammar_file",
            Ty::Str(Str::Path),
            "Grammar file relative to the manifest; packaged.",
        ),
        opt(
            "validation",
            Ty::Str(Str::Open(&[
                "parser",
                "parser-strict",
                "schema-strict",
                "tsc",
                "explain",
                "none",
            ])),
            "Output validation.",
        ),
        opt("validation_cmd", ANY_STR, "Validation command."),
        opt("stop_sequences", STRINGS, "Stop sequences."),
        opt("temperature", num(0.0, 2.0), "Sampling temperature."),
        opt("top_p", num(0.0, 1.0), "Nucleus sampling."),
        opt("top_k", int(1), "Top-k sampling."),
        opt("min_p", num(0.0, 1.0), "Min-p sampling."),
        opt("max_new_tokens", int(1), "Generation cap."),
    ],
};

const METADATA: Obj = Obj {
    open: true,
    fields: &[],
};

const TRAINING: Obj = Obj {
    open: false,
    fields: &[
        req("dataset", Ty::Object(&DATASET), "Training data."),
        req("config", Ty::Object(&CONFIG), "Hyperparameters."),
        opt(
            "decoding",
            Ty::Object(&DECODING),
            "Inference-time decoding settings.",
        ),
        opt(
            "metadata",
            Ty::Object(&METADATA),
            "Free-form training metadata.",
        ),
        opt("trained_on", ANY_STR, "Training date."),
        opt("base_model_version", ANY_STR, "Base model revision."),
        opt(
            "packaging_checkpoint",
            ANY_STR,
            "Checkpoint folder name packaged (informational).",
        ),
        opt(
            "checkpoint",
            ANY_STR,
            "Checkpoint the adapter was taken from (informational).",
        ),
        opt("quality_score", FREE, "Score of the packaged checkpoint."),
        opt("test_scenarios", FREE, "Evaluation notes."),
        opt(
            "alternative_checkpoints",
            FREE,
            "Other checkpoints and their scores.",
        ),
    ],
};

const EVALUATION: Obj = Obj {
    open: true,
    fields: &[
        opt("test_set_size", int(0), "Examples in the test set."),
        opt(
            "metrics",
            FREE,
            "Metric name → value, or a list of metric names.",
        ),
        opt("suite", FREE, "Evaluation suite."),
        opt("test_cases", ANY_STR, "Test-case file."),
        opt("failure_modes", FREE, "Known failure modes."),
    ],
};

const INTEGRITY: Obj = Obj {
    open: true,
    fields: &[
        opt(
            "created_at",
            ANY_STR,
            "When the package was made (RFC 3339).",
        ),
        opt("publisher", ANY_STR, "Who made it."),
        opt(
            "signature_algorithm",
            ANY_STR,
            "`none` in packages; signatures live in signature.sig.",
        ),
        opt(
            "files",
            Ty::Map(&ANY_STR),
            "Member path → SHA-256 of every other member.",
        ),
    ],
};

/// The top level of a manifest (both schema versions).
pub const MANIFEST: Obj = Obj {
    open: false,
    fields: &[
        req(
            "name",
            ANY_STR,
            "Package name, `expert-<topic>`: lower-case letters, digits, `-`.",
        ),
        req(
            "version",
            ANY_STR,
            "Semantic version MAJOR.MINOR.PATCH[-pre][+build].",
        ),
        opt(
            "schema_version",
            ANY_STR,
            "\"1.0\" or \"2.0\"; inferred from the shape when absent.",
        ),
        req("description", ANY_STR, "What the expert does."),
        opt("author", ANY_STR, "Author."),
        opt("homepage", ANY_STR, "Home page URL."),
        opt("repository", Ty::Object(&REPOSITORY), "Source repository."),
        opt(
            "base_model",
            Ty::Object(&BASE_MODEL_V1),
            "v1.0: the one base model.",
        ),
        opt(
            "base_models",
            Ty::Array {
                items: &Ty::Object(&BASE_MODEL_V2),
                min_items: 1,
            },
            "v2.0: every base model, each with its adapters.",
        ),
        opt(
            "adapters",
            Ty::Array {
                items: &Ty::Object(&ADAPTER),
                min_items: 1,
            },
            "v1.0: the adapters of `base_model`.",
        ),
        opt(
            "soft_prompts",
            Ty::Array {
                items: &Ty::Object(&SOFT_PROMPT),
                min_items: 0,
            },
            "Soft prompts, packaged.",
        ),
        req(
            "capabilities",
            STRINGS,
            "Capability tags such as database:neo4j.",
        ),
        opt(
            "limitations",
            Ty::Array {
                items: &Ty::OneOf(&[ANY_STR, Ty::Object(&LIMITATION)]),
                min_items: 0,
            },
            "Known limitations.",
        ),
        opt("quality_metrics", Ty::Map(&FREE), "Benchmark results."),
        opt(
            "routing",
            Ty::Object(&ROUTING),
            "How routers pick this expert.",
        ),
        rec(
            "constraints",
            Ty::Object(&CONSTRAINTS),
            "Loading constraints.",
        ),
        opt("perf", Ty::Object(&PERF), "Runtime overheads."),
        opt("runtime", Ty::Object(&RUNTIME), "Runtime needs."),
        req(
            "training",
            Ty::Object(&TRAINING),
            "How the adapters were (or will be) trained.",
        ),
        opt("evaluation", Ty::Object(&EVALUATION), "Evaluation results."),
        opt(
            "integrity",
            Ty::Object(&INTEGRITY),
            "Written by `package`: digests of the members.",
        ),
        rec("license", ANY_STR, "SPDX license id of the adapter."),
        opt("tags", STRINGS, "Search tags."),
    ],
};
