//! The manifest format, written down once as data: every field, its type, whether it is
//! required, its allowed values and ranges, what the expert runtime's loader does with it, what
//! the trainer does with it, and a one-line description.
//!
//! The structural validator ([`super::check`]), the JSON Schema that `expert-cli schema` prints
//! ([`super::schema`]), the check of packaged manifests (the same validator, through
//! `archive::validate`) and the trainer's list of `training.config` keys (`train::plan`) all read
//! these tables, so they cannot disagree — the failure of upstream, whose Rust structs, JSON
//! Schema and docs were three different formats.
//!
//! The "runtime" column is the loader of the upstream expert runtime (hivellm/expert,
//! `cli/src/manifest.rs` at commit 9cd24b1, summarised in `reference/upstream-manifest.md`): a
//! serde struct tree, so a key it requires that is absent (or `null`), or an integer field
//! holding `32.0`, a negative or an over-large number, makes the whole manifest unloadable.

/// Whether a field must be present, by this format's own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Absent or `null` is an error.
    Required,
    /// Absent is a warning (the format works without it, but users expect it).
    Recommended,
    /// May be absent or `null`.
    Optional,
}

/// What the expert runtime's loader does with a field (when the object holding it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Absent or `null`: the runtime cannot load the manifest (`E0207`). The field's
    /// [`Field::example`] is what the hint tells the author to add.
    Required,
    /// May be absent, but `null` is refused (a serde default that only covers absence).
    NotNull,
    /// Read when present (absent or `null` is fine); the value must fit the runtime's type.
    Read,
    /// Not read at all: any value loads.
    Ignored,
}

/// What the trainer (`train::plan`) does with a field. Only `training.config` keys are
/// trainer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trainer {
    /// Not a trainer setting.
    NotASetting,
    /// The trainer reads it.
    Used,
    /// The trainer does not use it; the plan lists it with this reason.
    Unused(&'static str),
}

/// The integer type the runtime stores a whole number in (only checked where it reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bits {
    /// `u32`: 0 to 4294967295.
    U32,
    /// `u64` / `usize` (64-bit): 0 to 18446744073709551615.
    U64,
}

impl Bits {
    /// The largest value.
    pub fn max(self) -> u64 {
        match self {
            Bits::U32 => u64::from(u32::MAX),
            Bits::U64 => u64::MAX,
        }
    }
    /// `u32` or `u64`.
    pub fn name(self) -> &'static str {
        match self {
            Bits::U32 => "u32",
            Bits::U64 => "u64",
        }
    }
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
    /// A whole number (no fraction, no exponent) in `min..=max`.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: Option<i64>,
        /// The runtime's integer type, checked where the runtime reads the field.
        bits: Bits,
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

impl Obj {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field of an object: one row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether this format requires it.
    pub presence: Presence,
    /// What the expert runtime's loader does with it.
    pub runtime: Runtime,
    /// What the trainer does with it.
    pub trainer: Trainer,
    /// A value to suggest when it is missing (JSON text); every runtime-required field has one.
    pub example: Option<&'static str>,
    /// One line for the docs and the JSON Schema.
    pub doc: &'static str,
}

impl Field {
    /// True when a value in this field is read by the runtime (required or not).
    pub fn runtime_reads(&self) -> bool {
        self.runtime != Runtime::Ignored
    }
    /// The runtime fails to load a manifest without this field; `example` is what to add.
    const fn needs(self, example: &'static str) -> Field {
        Field {
            runtime: Runtime::Required,
            example: Some(example),
            ..self
        }
    }
    /// The runtime reads this field when present.
    const fn read(self) -> Field {
        Field {
            runtime: Runtime::Read,
            ..self
        }
    }
    /// The runtime reads this field when present and refuses `null`.
    const fn not_null(self) -> Field {
        Field {
            runtime: Runtime::NotNull,
            ..self
        }
    }
    /// The trainer reads this `training.config` key.
    const fn trains(self) -> Field {
        Field {
            trainer: Trainer::Used,
            ..self
        }
    }
    /// The trainer does not use this `training.config` key, for `reason`.
    const fn untrained(self, reason: &'static str) -> Field {
        Field {
            trainer: Trainer::Unused(reason),
            ..self
        }
    }
}

const fn f(name: &'static str, ty: Ty, presence: Presence, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        presence,
        runtime: Runtime::Ignored,
        trainer: Trainer::NotASetting,
        example: None,
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
/// A whole number of at least `min`, a `u32` for the runtime.
const fn int(min: i64) -> Ty {
    Ty::Int {
        min,
        max: None,
        bits: Bits::U32,
    }
}
/// A whole number of at least `min`, a `u64`/`usize` for the runtime.
const fn int64(min: i64) -> Ty {
    Ty::Int {
        min,
        max: None,
        bits: Bits::U64,
    }
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
const NON_NEGATIVE: Ty = Ty::Num {
    min: Some(0.0),
    max: None,
    above: false,
};
const ANY_NUM: Ty = Ty::Num {
    min: None,
    max: None,
    above: false,
};
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
        req("type", Ty::Str(Str::Enum(ADAPTER_TYPES)), "Adapter family.").needs("\"lora\""),
        rec(
            "target_modules",
            MODULES,
            "Modules the adapter wraps, e.g. q_proj.",
        )
        .needs("[\"q_proj\", \"v_proj\"]"),
        opt(
            "r",
            Ty::Int {
                min: 1,
                max: Some(256),
                bits: Bits::U32,
            },
            "Rank (lora, dora, lokr, adalora).",
        )
        .read(),
        opt(
            "alpha",
            int(1),
            "Scaling numerator (lora, dora, lokr, adalora).",
        )
        .read(),
        opt(
            "scaling",
            Ty::Str(Str::Open(&["default", "standard", "dora", "learned"])),
            "Scaling mode.",
        )
        .read(),
        opt("dropout", num(0.0, 1.0), "Adapter dropout.").read(),
        opt("use_dora", Ty::Bool, "Weight-decomposed LoRA.").read(),
        opt(
            "size_bytes",
            int64(0),
            "Size of adapter_model.safetensors; 0 means unknown.",
        )
        .read(),
        opt(
            "sha256",
            Ty::Str(Str::Sha256),
            "SHA-256 of adapter_model.safetensors; empty means unknown.",
        )
        .read(),
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
        )
        .needs("\"yarn\""),
        req(
            "factor",
            Ty::Num {
                min: Some(1.0),
                max: None,
                above: false,
            },
            "Scaling factor.",
        )
        .needs("4.0"),
        req(
            "max_position_embeddings",
            int64(1),
            "Context length after scaling.",
        )
        .needs("32768"),
        req(
            "original_max_position_embeddings",
            int64(1),
            "Context length before scaling.",
        )
        .needs("8192"),
        req("fine_grained", Ty::Bool, "Per-dimension scaling.").needs("false"),
    ],
};
const ROPE: Ty = Ty::OneOf(&[ANY_STR, Ty::Object(&ROPE_OBJECT)]);
const QUANTIZATION: Ty = Ty::Str(Str::Open(&["int4", "int8", "fp16", "bf16", "none"]));

/// The fields both schema versions give a base model; 2.0 adds `adapters`.
macro_rules! base_model_fields {
    ($($extra:expr),*) => {
        &[
            req("name", Ty::Str(Str::NonEmpty), "Hub id (Qwen/Qwen3-0.6B) or local path of the base model.").needs("\"Qwen/Qwen3-0.6B\""),
            opt("sha256", Ty::Str(Str::Sha256), "SHA-256 of the base weights; empty means unknown.").read(),
            opt("quantization", QUANTIZATION, "Quantisation of the base model.").read(),
            opt("rope_scaling", ROPE, "RoPE scaling, a name or an object.").read(),
            opt("prompt_template", Ty::Str(Str::Enum(PROMPT_TEMPLATES)), "Prompt template; detected from the name when absent.").read(),
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
    )
    .needs("[{\"type\": \"lora\", \"target_modules\": [\"q_proj\", \"v_proj\"], \"r\": 8, \"alpha\": 16}]")),
};

const SOFT_PROMPT: Obj = Obj {
    open: false,
    fields: &[
        req("name", Ty::Str(Str::NonEmpty), "Soft prompt name.").needs("\"style\""),
        req(
            "path",
            Ty::Str(Str::Path),
            "File relative to the manifest; packaged.",
        )
        .needs("\"soft_prompts/style.pt\""),
        req(
            "tokens",
            Ty::Int {
                min: 1,
                max: Some(512),
                bits: Bits::U32,
            },
            "Number of virtual tokens.",
        )
        .needs("20"),
        opt(
            "init_method",
            Ty::Str(Str::Open(&["random", "text", "vocab_sample"])),
            "Initialisation.",
        ),
        opt("init_text", ANY_STR, "Text for `text` initialisation."),
        opt("purpose", ANY_STR, "What it is for."),
        opt("description", ANY_STR, "Description."),
        opt("size_bytes", int64(0), "File size; 0 means unknown."),
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
        req("type", ANY_STR, "VCS type, e.g. git.").needs("\"git\""),
        req("url", ANY_STR, "Repository URL.").needs("\"https://github.com/OWNER/REPO\""),
    ],
};

const ROUTING: Obj = Obj {
    open: false,
    fields: &[
        req("keywords", STRINGS, "Keywords that route a query here.").needs("[]"),
        opt("exclude_keywords", STRINGS, "Keywords that route away.").read(),
        opt("router_hint", ANY_STR, "Boolean expression for routers.").read(),
        opt("priority", num(0.0, 1.0), "Routing priority, default 0.5.").read(),
    ],
};

const CONSTRAINTS: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "max_chain",
            int(1),
            "Most experts chained together, default 10.",
        )
        .read(),
        rec("load_order", int(0), "Lower loads first.").needs("5"),
        opt(
            "incompatible_with",
            STRINGS,
            "`name@spec` of experts that conflict.",
        )
        .needs("[]"),
        opt(
            "requires",
            STRINGS,
            "`name@spec` of experts this one needs.",
        )
        .needs("[]"),
    ],
};

const PERF: Obj = Obj {
    open: false,
    fields: &[
        rec("latency_ms_overhead", NON_NEGATIVE, "Added latency.").needs("1.0"),
        rec("vram_mb_overhead", int(0), "Added VRAM.").needs("25"),
        rec(
            "supported_batch_sizes",
            Ty::Array {
                items: &int(1),
                min_items: 1,
            },
            "Batch sizes tested.",
        )
        .needs("[1]"),
    ],
};

const RUNTIME: Obj = Obj {
    open: false,
    fields: &[
        opt("candle_compatible", Ty::Bool, "Loads in candle.").read(),
        opt(
            "requires_kv_cache_persistence",
            Ty::Bool,
            "Needs a persistent KV cache.",
        )
        .read(),
        opt(
            "attention_kernel",
            Ty::Str(Str::Open(&[
                "sdpa", "flash-v1", "flash-v2", "xformers", "vanilla",
            ])),
            "Attention kernel.",
        )
        .read(),
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

const DIFFICULTY: Obj = Obj {
    open: true,
    fields: &[
        opt("easy", ANY_NUM, "Share of easy examples.").needs("0.3"),
        opt("medium", ANY_NUM, "Share of medium examples.").needs("0.5"),
        opt("hard", ANY_NUM, "Share of hard examples.").needs("0.2"),
    ],
};

const GENERATION: Obj = Obj {
    open: true,
    fields: &[
        req("domain", ANY_STR, "Domain.").needs("\"sql\""),
        req("task", ANY_STR, "Task.").needs("\"text-to-sql\""),
        req("count", int64(0), "Examples to generate.").needs("1000"),
        req("provider", ANY_STR, "Generator.").needs("\"openai\""),
        opt("temperature", NON_NEGATIVE, "Sampling temperature.").read(),
        opt("diversity_threshold", num(0.0, 1.0), "Diversity threshold.").read(),
        opt(
            "difficulty_distribution",
            Ty::Object(&DIFFICULTY),
            "easy/medium/hard shares.",
        )
        .read(),
    ],
};

/// `training.dataset.field_mapping`: slot → dataset column (a key, or a JSON pointer into the
/// row). The runtime reads four slots, each optional (so `null` is absent there too); the trainer
/// reads them all ([`field_mapping_keys`]).
const FIELD_MAPPING: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "instruction",
            ANY_STR,
            "Column of the instruction (the user's turn).",
        )
        .read(),
        opt(
            "input",
            ANY_STR,
            "Column of the input added to the instruction.",
        )
        .read(),
        opt(
            "response",
            ANY_STR,
            "Column of the answer (the trained text).",
        )
        .read(),
        opt("system", ANY_STR, "Column of the system message."),
        opt("text", ANY_STR, "Column of a plain or chat-marked text.").read(),
        opt("messages", ANY_STR, "Column of a list of chat messages."),
        opt(
            "input_label",
            ANY_STR,
            "Label put before the input (default `Input`).",
        ),
    ],
};

const DATASET: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "path",
            Ty::Str(Str::NonEmpty),
            "JSONL file relative to the manifest, or a hub id with format huggingface.",
        )
        .read(),
        opt(
            "validation_path",
            Ty::Str(Str::NonEmpty),
            "Validation file.",
        )
        .read(),
        opt("test_path", Ty::Str(Str::NonEmpty), "Test file.").read(),
        opt(
            "type",
            Ty::Str(Str::Enum(&["single", "multi_task"])),
            "One dataset or several tasks.",
        )
        .read(),
        opt(
            "tasks",
            FREE,
            "multi_task: name → {train, valid, test, weight, format}.",
        )
        .read(),
        opt(
            "generation",
            Ty::Object(&GENERATION),
            "Synthetic generation settings.",
        )
        .read(),
        opt(
            "field_mapping",
            Ty::Object(&FIELD_MAPPING),
            "Dataset columns for instruction, input, response, system, text or messages.",
        )
        .read(),
        opt(
            "format",
            Ty::Str(Str::Open(&["jsonl", "huggingface", "csv", "parquet"])),
            "File format.",
        )
        .read(),
        opt("streaming", Ty::Bool, "Stream instead of loading.").read(),
        opt(
            "max_in_memory_samples",
            int(1),
            "Cap on samples held in memory.",
        )
        .read(),
        opt("use_pretokenized", Ty::Bool, "Use a pre-tokenised cache.").read(),
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

/// `training.config`. The trainer column is what `train::plan` reads: every key is either used
/// or reported as unused with the reason given here.
const CONFIG: Obj = Obj {
    open: false,
    fields: &[
        req(
            "method",
            Ty::Str(Str::Open(&["sft", "rlhf", "dpo"])),
            "Training method.",
        )
        .needs("\"sft\"")
        .trains(),
        req(
            "adapter_type",
            Ty::Str(Str::Enum(ADAPTER_TYPES)),
            "Adapter family to train.",
        )
        .needs("\"lora\"")
        .trains(),
        opt(
            "rank",
            Ty::Int {
                min: 1,
                max: Some(256),
                bits: Bits::U32,
            },
            "Rank (required for rank-based types).",
        )
        .read()
        .trains(),
        opt("alpha", int(1), "Alpha (required for rank-based types).")
            .read()
            .trains(),
        opt("dropout", num(0.0, 1.0), "Adapter dropout.").trains(),
        rec("target_modules", MODULES, "Modules to adapt.")
            .needs("[\"q_proj\", \"v_proj\"]")
            .trains(),
        opt("feedforward_modules", STRINGS, "IA3 feed-forward modules.")
            .read()
            .trains(),
        opt(
            "epochs",
            positive(),
            "Epochs; fractions allowed. A positive max_steps ends training earlier.",
        )
        .needs("3")
        .trains(),
        opt(
            "num_epochs",
            positive(),
            "Alias of epochs for the trainer; the expert runtime reads only epochs.",
        )
        .trains(),
        opt(
            "max_steps",
            int64(0),
            "Stop after this many optimiser steps; 0 means no limit.",
        )
        .trains(),
        req(
            "learning_rate",
            Ty::Num {
                min: Some(0.0),
                max: Some(1.0),
                above: true,
            },
            "Peak learning rate.",
        )
        .needs("0.0002")
        .trains(),
        req("batch_size", int(1), "Per-device batch size.")
            .needs("4")
            .trains(),
        rec(
            "gradient_accumulation_steps",
            int(1),
            "Batches per optimiser step.",
        )
        .needs("1")
        .trains(),
        opt(
            "warmup_steps",
            int(0),
            "Warm-up steps; with 0, warmup_ratio decides.",
        )
        .needs("0")
        .trains(),
        opt("warmup_ratio", num(0.0, 1.0), "Warm-up share of all steps.").trains(),
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
        )
        .needs("\"linear\"")
        .trains(),
        opt("lr_scheduler_kwargs", Ty::Map(&FREE), "Schedule arguments.")
            .read()
            .trains(),
        opt("max_seq_length", int(1), "Longest tokenised example.")
            .read()
            .trains(),
        opt("seed", int64(0), "Random seed.").trains(),
        opt("weight_decay", NON_NEGATIVE, "Weight decay.").trains(),
        opt("max_grad_norm", NON_NEGATIVE, "Gradient clipping.").trains(),
        opt("use_unsloth", Ty::Bool, "Use unsloth kernels when present.")
            .read()
            .untrained("unsloth is not part of the pinned trainer; peft trains the adapter"),
        opt("dataloader_num_workers", int(0), "Data-loader workers.")
            .read()
            .trains(),
        opt("dataloader_pin_memory", Ty::Bool, "Pin memory.")
            .read()
            .trains(),
        opt("dataloader_prefetch_factor", int(1), "Prefetch factor.")
            .read()
            .trains(),
        opt(
            "dataloader_persistent_workers",
            Ty::Bool,
            "Keep workers alive.",
        )
        .read()
        .trains(),
        opt("fp16", Ty::Bool, "fp16 mixed precision.")
            .read()
            .trains(),
        opt("bf16", Ty::Bool, "bf16 mixed precision where supported.")
            .read()
            .trains(),
        opt("use_tf32", Ty::Bool, "TF32 matmuls where supported.")
            .read()
            .trains(),
        opt("use_sdpa", Ty::Bool, "Scaled-dot-product attention.")
            .read()
            .trains(),
        opt(
            "flash_attention_2",
            Ty::Bool,
            "FlashAttention 2 where installed.",
        )
        .read()
        .trains(),
        opt(
            "memory_efficient_attention",
            Ty::Bool,
            "Memory-efficient attention.",
        )
        .read()
        .untrained("attention is chosen by use_sdpa / flash_attention_2"),
        opt(
            "activation_checkpointing",
            ANY_STR,
            "Activation checkpointing mode.",
        )
        .read()
        .untrained("use gradient_checkpointing"),
        opt(
            "gradient_checkpointing",
            Ty::Lenient(&Ty::Bool, &ANY_STR),
            "Gradient checkpointing (a mode name is read as true).",
        )
        .read()
        .trains(),
        opt(
            "gradient_checkpointing_kwargs",
            FREE,
            "Checkpointing arguments.",
        )
        .read()
        .trains(),
        opt("packing", Ty::Bool, "Pack short examples.")
            .read()
            .trains(),
        opt("torch_compile", Ty::Bool, "torch.compile the model.")
            .read()
            .trains(),
        opt("torch_compile_backend", ANY_STR, "Compile backend.")
            .read()
            .trains(),
        opt("torch_compile_mode", ANY_STR, "Compile mode.")
            .read()
            .trains(),
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
        )
        .read()
        .trains(),
        opt(
            "group_by_length",
            Ty::Bool,
            "Group examples of similar length.",
        )
        .read()
        .trains(),
        opt("save_steps", int(1), "Checkpoint every N steps.")
            .read()
            .trains(),
        opt(
            "save_strategy",
            Ty::Str(Str::Open(&["no", "steps", "epoch"])),
            "When to checkpoint.",
        )
        .read()
        .trains(),
        opt("save_total_limit", int(1), "Checkpoints kept.")
            .read()
            .trains(),
        opt(
            "evaluation_strategy",
            Ty::Str(Str::Open(&["no", "steps", "epoch"])),
            "When to evaluate.",
        )
        .read()
        .trains(),
        opt("eval_steps", int(1), "Evaluate every N steps.")
            .read()
            .trains(),
        opt(
            "load_best_model_at_end",
            Ty::Bool,
            "Keep the best checkpoint.",
        )
        .read()
        .trains(),
        opt(
            "metric_for_best_model",
            ANY_STR,
            "Metric that picks the best checkpoint.",
        )
        .read()
        .trains(),
        opt("greater_is_better", Ty::Bool, "Direction of that metric.")
            .read()
            .trains(),
        opt("logging_steps", int(1), "Log every N steps.")
            .read()
            .trains(),
        opt(
            "pretokenized_cache",
            Ty::Str(Str::Path),
            "Pre-tokenised dataset cache folder.",
        )
        .read()
        .untrained("the trainer tokenises the rendered examples at start; no cache"),
        opt(
            "memory_clear_every",
            int(0),
            "Clear the CUDA cache every N steps.",
        )
        .untrained("the trainer does not clear the CUDA cache periodically"),
        opt("use_cuda_graphs", Ty::Bool, "CUDA graphs.").untrained("CUDA graphs are not used"),
        opt(
            "cuda_graph_warmup_steps",
            int(0),
            "CUDA graph warm-up steps.",
        )
        .untrained("CUDA graphs are not used"),
    ],
};

const DECODING: Obj = Obj {
    open: false,
    fields: &[
        opt(
            "use_grammar",
            Ty::Bool,
            "Constrain decoding with a grammar.",
        )
        .read(),
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
        )
        .read(),
        opt(
            "grammar_file",
            Ty::Str(Str::Path),
            "Grammar file relative to the manifest; packaged.",
        )
        .read(),
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
        )
        .read(),
        opt("validation_cmd", ANY_STR, "Validation command.").read(),
        opt("stop_sequences", STRINGS, "Stop sequences.").read(),
        opt("temperature", num(0.0, 2.0), "Sampling temperature.").read(),
        opt("top_p", num(0.0, 1.0), "Nucleus sampling.").read(),
        opt("top_k", int64(1), "Top-k sampling.").read(),
        opt("min_p", num(0.0, 1.0), "Min-p sampling."),
        opt("max_new_tokens", int(1), "Generation cap."),
    ],
};

const METADATA: Obj = Obj {
    open: true,
    fields: &[
        opt("trained_on", ANY_STR, "Training date.").read(),
        opt("base_model_version", ANY_STR, "Base model revision.").read(),
        opt("training_time_hours", NON_NEGATIVE, "Training time.").read(),
        opt("gpu", ANY_STR, "GPU used.").read(),
    ],
};

const TRAINING: Obj = Obj {
    open: false,
    fields: &[
        req("dataset", Ty::Object(&DATASET), "Training data.")
            .needs("{\"path\": \"datasets/train.jsonl\"}"),
        req("config", Ty::Object(&CONFIG), "Hyperparameters.").needs(
            "{\"method\": \"sft\", \"adapter_type\": \"lora\", \"rank\": 8, \"alpha\": 16, \"target_modules\": [\"q_proj\", \"v_proj\"], \"epochs\": 3, \"learning_rate\": 0.0002, \"batch_size\": 4, \"gradient_accumulation_steps\": 1, \"warmup_steps\": 0, \"lr_scheduler\": \"linear\"}",
        ),
        opt(
            "decoding",
            Ty::Object(&DECODING),
            "Inference-time decoding settings.",
        )
        .read(),
        opt(
            "metadata",
            Ty::Object(&METADATA),
            "Free-form training metadata.",
        )
        .read(),
        opt("trained_on", ANY_STR, "Training date."),
        opt("base_model_version", ANY_STR, "Base model revision."),
        opt(
            "packaging_checkpoint",
            ANY_STR,
            "Checkpoint folder name packaged (informational).",
        )
        .read(),
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
        opt("test_set_size", int(0), "Examples in the test set.").needs("0"),
        opt(
            "metrics",
            Ty::Map(&ANY_NUM),
            "Metric name → value (a number).",
        )
        .needs("{}"),
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
        )
        .read(),
        opt("publisher", ANY_STR, "Who made it.").needs("\"unknown\""),
        opt("pubkey", ANY_STR, "Signer's Ed25519 public key, bare hex.").read(),
        opt(
            "signature_algorithm",
            ANY_STR,
            "`none` in unsigned packages, `ed25519` in signed ones.",
        )
        .needs("\"none\""),
        opt(
            "key_id",
            ANY_STR,
            "Signer's key id: the first 8 bytes of SHA-256 over `pubkey`, hex (expert-cli's; the runtime ignores it).",
        ),
        opt("signature", ANY_STR, "Signature (hex), when stored here.").read(),
        opt(
            "files",
            Ty::Map(&ANY_STR),
            "Member path → SHA-256 of every other member.",
        )
        .needs("{}"),
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
        )
        .needs("\"expert-topic\""),
        req(
            "version",
            ANY_STR,
            "Semantic version MAJOR.MINOR.PATCH[-pre][+build].",
        )
        .needs("\"0.1.0\""),
        opt(
            "schema_version",
            ANY_STR,
            "\"1.0\" or \"2.0\"; absent means 1.0 (a 2.0 manifest must say \"2.0\").",
        )
        .not_null(),
        req("description", ANY_STR, "What the expert does.").needs("\"What the expert does.\""),
        opt("author", ANY_STR, "Author.").read(),
        opt("homepage", ANY_STR, "Home page URL.").read(),
        opt("repository", Ty::Object(&REPOSITORY), "Source repository.").read(),
        opt(
            "base_model",
            Ty::Object(&BASE_MODEL_V1),
            "v1.0: the one base model.",
        )
        .read(),
        opt(
            "base_models",
            Ty::Array {
                items: &Ty::Object(&BASE_MODEL_V2),
                min_items: 1,
            },
            "v2.0: every base model, each with its adapters.",
        )
        .read(),
        opt(
            "adapters",
            Ty::Array {
                items: &Ty::Object(&ADAPTER),
                min_items: 1,
            },
            "v1.0: the adapters of `base_model`.",
        )
        .read(),
        opt(
            "soft_prompts",
            Ty::Array {
                items: &Ty::Object(&SOFT_PROMPT),
                min_items: 0,
            },
            "Soft prompts, packaged.",
        )
        .not_null(),
        req(
            "capabilities",
            STRINGS,
            "Capability tags such as database:neo4j.",
        )
        .needs("[]"),
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
        )
        .read(),
        rec(
            "constraints",
            Ty::Object(&CONSTRAINTS),
            "Loading constraints.",
        )
        .needs("{\"load_order\": 5, \"incompatible_with\": [], \"requires\": []}"),
        opt("perf", Ty::Object(&PERF), "Runtime overheads.").read(),
        opt("runtime", Ty::Object(&RUNTIME), "Runtime needs.").read(),
        req(
            "training",
            Ty::Object(&TRAINING),
            "How the adapters were (or will be) trained.",
        )
        .needs("{\"dataset\": {\"path\": \"datasets/train.jsonl\"}, \"config\": {\"method\": \"sft\", \"adapter_type\": \"lora\", \"rank\": 8, \"alpha\": 16, \"target_modules\": [\"q_proj\", \"v_proj\"], \"epochs\": 3, \"learning_rate\": 0.0002, \"batch_size\": 4, \"gradient_accumulation_steps\": 1, \"warmup_steps\": 0, \"lr_scheduler\": \"linear\"}}"),
        opt("evaluation", Ty::Object(&EVALUATION), "Evaluation results.").read(),
        opt(
            "integrity",
            Ty::Object(&INTEGRITY),
            "Written by `package`: digests of the members.",
        )
        .read(),
        rec("license", ANY_STR, "SPDX license id of the adapter.").read(),
        opt("tags", STRINGS, "Search tags.").read(),
    ],
};

/// What the trainer does with each `training.config` key, in table order: `None` when it
/// reads the key, `Some(reason)` when it does not (the plan reports the key with that reason).
/// `train::plan` reads this instead of keeping its own list.
pub fn trainer_config_keys() -> Vec<(&'static str, Option<&'static str>)> {
    CONFIG
        .fields
        .iter()
        .filter_map(|f| match f.trainer {
            Trainer::NotASetting => None,
            Trainer::Used => Some((f.name, None)),
            Trainer::Unused(reason) => Some((f.name, Some(reason))),
        })
        .collect()
}

/// The slots of `training.dataset.field_mapping` the trainer understands.
pub fn field_mapping_keys() -> Vec<&'static str> {
    FIELD_MAPPING.fields.iter().map(|f| f.name).collect()
}

/// Every field the expert runtime requires, as (pointer pattern, field): `*` stands for any
/// array index, and a nested field is only required when its parent object is present.
pub fn runtime_required() -> Vec<(String, &'static Field)> {
    let mut out = Vec::new();
    walk(&MANIFEST, String::new(), &mut out);
    out
}

fn walk(obj: &'static Obj, at: String, out: &mut Vec<(String, &'static Field)>) {
    for field in obj.fields {
        if field.runtime == Runtime::Ignored {
            continue;
        }
        let here = format!("{at}/{}", field.name);
        if field.runtime == Runtime::Required {
            out.push((here.clone(), field));
        }
        walk_ty(&field.ty, here, out);
    }
}

fn walk_ty(ty: &'static Ty, at: String, out: &mut Vec<(String, &'static Field)>) {
    match ty {
        Ty::Object(o) => walk(o, at, out),
        Ty::Array { items, .. } => walk_ty(items, format!("{at}/*"), out),
        Ty::OneOf(alts) => alts.iter().for_each(|t| walk_ty(t, at.clone(), out)),
        Ty::Lenient(a, _) => walk_ty(a, at, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_required_field_has_an_example_in_json() {
        let required = runtime_required();
        assert!(required.len() > 40, "{}", required.len());
        for (at, field) in &required {
            let example = field
                .example
                .unwrap_or_else(|| panic!("{at} has no example"));
            serde_json::from_str::<serde_json::Value>(example)
                .unwrap_or_else(|e| panic!("{at}: example {example}: {e}"));
        }
    }

    #[test]
    fn the_trainer_column_covers_exactly_training_config() {
        fn all(obj: &'static Obj, at: &str) {
            for f in obj.fields {
                let trainer_setting = f.trainer != Trainer::NotASetting;
                assert_eq!(trainer_setting, at == "/training/config", "{at}/{}", f.name);
                match f.ty {
                    Ty::Object(o) => all(o, &format!("{at}/{}", f.name)),
                    Ty::Array {
                        items: Ty::Object(o),
                        ..
                    } => all(o, &format!("{at}/{}/*", f.name)),
                    _ => {}
                }
            }
        }
        all(&MANIFEST, "");
        assert_eq!(trainer_config_keys().len(), CONFIG.fields.len());
    }

    #[test]
    fn runtime_required_keys_of_issue_11_are_in_the_table() {
        let have: Vec<String> = runtime_required().into_iter().map(|(p, _)| p).collect();
        for want in [
            "/constraints",
            "/constraints/load_order",
            "/constraints/incompatible_with",
            "/constraints/requires",
            "/training/config/target_modules",
            "/base_models/*/adapters/*/target_modules",
            "/adapters/*/target_modules",
            "/training/config/epochs",
            "/training/config/gradient_accumulation_steps",
            "/training/config/warmup_steps",
            "/training/config/lr_scheduler",
            "/perf/vram_mb_overhead",
            "/perf/latency_ms_overhead",
            "/perf/supported_batch_sizes",
            "/evaluation/metrics",
            "/evaluation/test_set_size",
            "/integrity/publisher",
            "/integrity/signature_algorithm",
            "/integrity/files",
            "/name",
            "/version",
            "/description",
            "/capabilities",
            "/training",
            "/training/dataset",
            "/training/config/method",
            "/training/config/adapter_type",
            "/training/config/learning_rate",
            "/training/config/batch_size",
            "/base_models/*/rope_scaling/factor",
            "/routing/keywords",
            "/soft_prompts/*/tokens",
            "/repository/url",
            "/training/dataset/generation/count",
        ] {
            assert!(
                have.iter().any(|h| h == want),
                "{want} missing from {have:#?}"
            );
        }
    }

    #[test]
    fn no_field_name_is_too_long_for_a_suggestion() {
        fn all(obj: &'static Obj) {
            for f in obj.fields {
                assert!(f.name.len() <= 40, "{}", f.name);
                match f.ty {
                    Ty::Object(o) => all(o),
                    Ty::Array {
                        items: Ty::Object(o),
                        ..
                    } => all(o),
                    _ => {}
                }
            }
        }
        all(&MANIFEST);
    }
}
