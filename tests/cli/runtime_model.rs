//! A differential test of "`validate` says 0 errors ⇒ the expert runtime loads it" (issue #11.1,
//! SPEC §0 "Consumers decide").
//!
//! The runtime's loader is a serde struct tree plus a few struct-level rules, run on every load
//! (install, package, train, chat). This module models it from the facts in
//! `../shared/reference/upstream-manifest.md` (§0 parsing, §1 field reference, §2 version
//! detection, §3.1 struct validation; hivellm/expert `cli/src/manifest.rs` at 9cd24b1): field
//! names, which keys are required (not `Option`), and the integer widths. It is written here, not
//! derived from our field table, so the two can disagree.
//!
//! The test then mutates real manifests one node at a time — remove a key, set it to null, write
//! an integer as a float or negative, a string as a number, empty an array, add a `_comment` to
//! an object — and asserts that whenever the model refuses a mutant, `validate` reports at least
//! one error. (The other direction is not a rule: `validate` may refuse more, e.g. name patterns.)

use crate::common::*;
use expert_cli::manifest::{check_bytes, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------
// The model. Unknown keys are ignored at every level (no `deny_unknown_fields` upstream); an
// `Option` may be absent or null; anything else is required.

#[allow(dead_code)]
pub mod model {
    use super::*;

    fn v1() -> String {
        "1.0".into()
    }

    #[derive(Deserialize)]
    pub struct Manifest {
        pub name: String,
        pub version: String,
        #[serde(default = "v1")]
        pub schema_version: String,
        description: String,
        author: Option<String>,
        homepage: Option<String>,
        repository: Option<Repository>,
        pub base_model: Option<BaseModel>,
        pub base_models: Option<Vec<BaseModelV2>>,
        pub adapters: Option<Vec<Adapter>>,
        #[serde(default)]
        soft_prompts: Vec<SoftPrompt>,
        capabilities: Vec<String>,
        routing: Option<Routing>,
        constraints: Constraints,
        perf: Option<Perf>,
        runtime: Option<Runtime>,
        pub training: Training,
        evaluation: Option<Evaluation>,
        integrity: Option<Integrity>,
        license: Option<String>,
        tags: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    struct Repository {
        #[serde(rename = "type")]
        kind: String,
        url: String,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Rope {
        Name(String),
        Detailed {
            #[serde(rename = "type")]
            kind: String,
            factor: f64,
            max_position_embeddings: u64,
            original_max_position_embeddings: u64,
            fine_grained: bool,
        },
    }

    #[derive(Deserialize)]
    pub struct BaseModel {
        name: String,
        sha256: Option<String>,
        quantization: Option<String>,
        rope_scaling: Option<Rope>,
    }

    #[derive(Deserialize)]
    pub struct BaseModelV2 {
        pub name: String,
        sha256: Option<String>,
        quantization: Option<String>,
        rope_scaling: Option<Rope>,
        prompt_template: Option<String>,
        pub adapters: Vec<Adapter>,
    }

    #[derive(Deserialize)]
    pub struct Adapter {
        #[serde(rename = "type")]
        kind: String,
        target_modules: Vec<String>,
        r: Option<u32>,
        alpha: Option<u32>,
        scaling: Option<String>,
        dropout: Option<f32>,
        use_dora: Option<bool>,
        size_bytes: Option<u64>,
        sha256: Option<String>,
    }

    #[derive(Deserialize)]
    struct SoftPrompt {
        name: String,
        path: String,
        tokens: u32,
    }

    #[derive(Deserialize)]
    struct Routing {
        keywords: Vec<String>,
        exclude_keywords: Option<Vec<String>>,
        router_hint: Option<String>,
        priority: Option<f32>,
    }

    #[derive(Deserialize)]
    struct Constraints {
        max_chain: Option<u32>,
        load_order: u32,
        incompatible_with: Vec<String>,
        requires: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Perf {
        latency_ms_overhead: f32,
        vram_mb_overhead: u32,
        supported_batch_sizes: Vec<u32>,
    }

    #[derive(Deserialize)]
    struct Runtime {
        candle_compatible: Option<bool>,
        requires_kv_cache_persistence: Option<bool>,
        attention_kernel: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Training {
        dataset: Dataset,
        pub config: Config,
        decoding: Option<Decoding>,
        metadata: Option<Metadata>,
        packaging_checkpoint: Option<String>,
    }

    #[derive(Deserialize)]
    struct Dataset {
        path: Option<String>,
        validation_path: Option<String>,
        test_path: Option<String>,
        generation: Option<Generation>,
        #[serde(rename = "type")]
        kind: Option<String>,
        tasks: Option<Value>,
        field_mapping: Option<FieldMapping>,
        format: Option<String>,
        streaming: Option<bool>,
        max_in_memory_samples: Option<u32>,
        use_pretokenized: Option<bool>,
    }

    #[derive(Deserialize)]
    struct FieldMapping {
        instruction: Option<String>,
        input: Option<String>,
        response: Option<String>,
        text: Option<String>,
    }

    #[derive(Deserialize)]
    struct Generation {
        domain: String,
        task: String,
        count: u64,
        provider: String,
        temperature: Option<f32>,
        diversity_threshold: Option<f32>,
        difficulty_distribution: Option<Difficulty>,
    }

    #[derive(Deserialize)]
    struct Difficulty {
        easy: f32,
        medium: f32,
        hard: f32,
    }

    #[derive(Deserialize)]
    struct Decoding {
        use_grammar: Option<bool>,
        grammar_type: Option<String>,
        grammar_file: Option<String>,
        validation: Option<String>,
        validation_cmd: Option<String>,
        stop_sequences: Option<Vec<String>>,
        temperature: Option<f64>,
        top_p: Option<f64>,
        top_k: Option<u64>,
    }

    #[derive(Deserialize)]
    struct Metadata {
        trained_on: Option<String>,
        base_model_version: Option<String>,
        training_time_hours: Option<f32>,
        gpu: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Config {
        method: String,
        pub adapter_type: String,
        pub rank: Option<u32>,
        alpha: Option<u32>,
        pub target_modules: Vec<String>,
        feedforward_modules: Option<Vec<String>>,
        pub epochs: f32,
        pub learning_rate: f32,
        batch_size: u32,
        gradient_accumulation_steps: u32,
        warmup_steps: u32,
        lr_scheduler: String,
        use_unsloth: Option<bool>,
        max_seq_length: Option<u32>,
        dataloader_num_workers: Option<u32>,
        dataloader_pin_memory: Option<bool>,
        dataloader_prefetch_factor: Option<u32>,
        dataloader_persistent_workers: Option<bool>,
        fp16: Option<bool>,
        bf16: Option<bool>,
        use_tf32: Option<bool>,
        use_sdpa: Option<bool>,
        flash_attention_2: Option<bool>,
        memory_efficient_attention: Option<bool>,
        activation_checkpointing: Option<String>,
        packing: Option<bool>,
        torch_compile: Option<bool>,
        torch_compile_backend: Option<String>,
        torch_compile_mode: Option<String>,
        optim: Option<String>,
        group_by_length: Option<bool>,
        save_steps: Option<u32>,
        save_strategy: Option<String>,
        save_total_limit: Option<u32>,
        evaluation_strategy: Option<String>,
        eval_steps: Option<u32>,
        load_best_model_at_end: Option<bool>,
        metric_for_best_model: Option<String>,
        greater_is_better: Option<bool>,
        logging_steps: Option<u32>,
        gradient_checkpointing: Option<Value>,
        gradient_checkpointing_kwargs: Option<Value>,
        lr_scheduler_kwargs: Option<Value>,
        pretokenized_cache: Option<String>,
    }

    #[derive(Deserialize)]
    struct Evaluation {
        test_set_size: u32,
        metrics: HashMap<String, f32>,
    }

    #[derive(Deserialize)]
    struct Integrity {
        created_at: Option<String>,
        publisher: String,
        pubkey: Option<String>,
        signature_algorithm: String,
        signature: Option<String>,
        files: HashMap<String, String>,
    }

    /// Parse, then the struct-level rules of §3.1 in their order; the first failure aborts.
    pub fn load(text: &str) -> Result<(), String> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.name.is_empty() {
            return Err("name cannot be empty".into());
        }
        if m.version.is_empty() {
            return Err("version cannot be empty".into());
        }
        if m.base_model.is_some() && m.base_models.is_some() {
            return Err("both base_model and base_models".into());
        }
        if m.schema_version == "2.0" {
            let models = m.base_models.as_ref().ok_or("v2 requires base_models")?;
            if models.is_empty() {
                return Err("v2 requires at least one base model".into());
            }
            for (i, b) in models.iter().enumerate() {
                if b.name.is_empty() {
                    return Err(format!("base_models[{i}]: name cannot be empty"));
                }
                if b.adapters.is_empty() {
                    return Err(format!("base_models[{i}]: must have at least one adapter"));
                }
            }
        } else {
            if m.base_model.is_none() {
                return Err("v1 requires base_model".into());
            }
            if m.adapters.as_ref().is_none_or(|a| a.is_empty()) {
                return Err("v1 requires adapters".into());
            }
        }
        let c = &m.training.config;
        if c.epochs <= 0.0 {
            return Err("epochs must be > 0".into());
        }
        if c.learning_rate <= 0.0 {
            return Err("learning_rate must be > 0".into());
        }
        match c.rank {
            Some(0) => return Err("adapter rank must be > 0".into()),
            None if c.adapter_type != "ia3" => {
                return Err(format!(
                    "adapter type '{}' requires rank and alpha",
                    c.adapter_type
                ))
            }
            _ => {}
        }
        if c.target_modules.is_empty() {
            return Err("target_modules cannot be empty".into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The model against the facts it was written from (so that a wrong model fails here, not later).

#[test]
fn the_model_agrees_with_the_reference_edge_cases() {
    let base = neo4j();
    assert_eq!(model::load(&base.to_string()), Ok(()));
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        edit(&mut v);
        model::load(&v.to_string()).is_err()
    };
    // §6 of the reference: each of these fails upstream …
    assert!(refused(&|v| v["training"]["config"]["rank"] = json!(16.0)));
    assert!(refused(&|v| v["constraints"]["load_order"] = json!(-1)));
    assert!(refused(
        &|v| v["constraints"]["load_order"] = json!(5_000_000_000u64)
    ));
    assert!(refused(&|v| v["schema_version"] = Value::Null));
    assert!(refused(&|v| v["soft_prompts"] = Value::Null));
    assert!(refused(&|v| v["training"]["config"]["epochs"] = json!(0)));
    assert!(refused(&|v| v["training"]["config"]["epochs"] = json!("3")));
    assert!(refused(
        &|v| v["evaluation"] = json!({"test_set_size": 1, "metrics": {"f1": "high"}})
    ));
    assert!(refused(&|v| v["perf"] = json!({"latency_ms_overhead": 1})));
    assert!(refused(&|v| {
        v["training"]["config"]
            .as_object_mut()
            .unwrap()
            .remove("lr_scheduler");
    }));
    // … and each of these loads
    assert!(!refused(&|v| v["training"]["config"]["epochs"] = json!(2.5)));
    assert!(!refused(
        &|v| v["training"]["config"]["save_total_limit"] = Value::Null
    ));
    assert!(!refused(&|v| v["training"]["config"]
        ["gradient_checkpointing"] =
        json!("full")));
    assert!(!refused(&|v| v["routing"]["priority"] = json!(7.5)));
    assert!(!refused(&|v| v["version"] = json!("not-semver")));
    assert!(!refused(&|v| v["evaluation"] = Value::Null));
    assert!(!refused(&|v| v["unknown"] = json!({"anything": [1, 2]})));
}

#[test]
fn every_corpus_manifest_the_runtime_refuses_is_an_error_of_validate() {
    let Some(corpus) = corpus() else { return };
    let mut loads = 0;
    let mut report = Vec::new();
    for e in std::fs::read_dir(corpus.join("manifests/public")).unwrap() {
        let p = e.unwrap().path();
        let bytes = read(&p);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        match model::load(text) {
            Ok(()) => loads += 1,
            Err(why) => {
                if validate_errors(&bytes) == 0 {
                    report.push(format!("{}: runtime: {why}", p.display()));
                }
            }
        }
    }
    assert!(report.is_empty(), "validate says 0 errors:\n{report:#?}");
    // the reference: the runtime loads 25 of the 27 expert manifests, plus the two CLI fixtures
    assert!(
        loads >= 27,
        "only {loads} corpus manifests load in the model"
    );
}

// ---------------------------------------------------------------------------------------------
// Mutants.

fn neo4j() -> Value {
    serde_json::from_slice(&read(&root().join("experts/expert-neo4j/manifest.json"))).unwrap()
}

fn validate_errors(bytes: &[u8]) -> usize {
    check_bytes(bytes, Role::Authored)
        .diagnostics
        .errors()
        .count()
}

/// Every one-node change of `v`: (what was done, the changed manifest).
fn mutants(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut pointers = Vec::new();
    walk(v, String::new(), &mut pointers);
    for p in pointers {
        let node = v.pointer(&p).unwrap();
        let mut changes: Vec<(&str, Option<Value>)> = vec![("null", Some(Value::Null))];
        if !p.is_empty() && p.rsplit('/').next().unwrap().parse::<usize>().is_err() {
            changes.push(("removed", None));
        }
        match node {
            Value::Number(n) if n.is_u64() || n.is_i64() => {
                let i = n.as_f64().unwrap();
                changes.push(("as a float", Some(json!(i + 0.5))));
                changes.push(("written N.0", Some(json!(i))));
                changes.push(("negative", Some(json!(-1))));
                changes.push(("over u32", Some(json!(5_000_000_000u64))));
                changes.push(("as a string", Some(json!(n.to_string()))));
            }
            Value::Number(_) => {
                changes.push(("zero", Some(json!(0))));
                changes.push(("as a string", Some(json!("1"))));
            }
            Value::String(_) => {
                changes.push(("empty", Some(json!(""))));
                changes.push(("a number", Some(json!(7))));
            }
            Value::Bool(_) => changes.push(("a string", Some(json!("yes")))),
            Value::Array(_) => {
                changes.push(("emptied", Some(json!([]))));
                changes.push(("a number inside", Some(json!([1]))));
                changes.push(("an object", Some(json!({}))));
            }
            Value::Object(m) => {
                let mut with = m.clone();
                with.insert("_comment".into(), json!("a note"));
                changes.push(("with a _comment", Some(Value::Object(with))));
                changes.push(("an array", Some(json!([]))));
                changes.push(("emptied", Some(json!({}))));
            }
            Value::Null => {}
        }
        for (what, new) in changes {
            let mut m = v.clone();
            set(&mut m, &p, new);
            out.push((format!("{} {what}", if p.is_empty() { "/" } else { &p }), m));
        }
    }
    out
}

fn walk(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                walk(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        // the first two elements of an array stand for the rest
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(2) {
                walk(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Replace the node at `p` (None: remove it from its object).
fn set(v: &mut Value, p: &str, new: Option<Value>) {
    match new {
        Some(x) => *v.pointer_mut(p).unwrap() = x,
        None => {
            let (head, key) = p.rsplit_once('/').unwrap();
            let key = key.replace("~1", "/").replace("~0", "~");
            v.pointer_mut(head)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .shift_remove(&key);
        }
    }
}

fn sources() -> Vec<(String, Value)> {
    let mut out = vec![("experts/expert-neo4j".to_string(), neo4j())];
    for name in ["manifest.json", "manifest.v1.json"] {
        let p = root().join("examples/multi-model-expert").join(name);
        out.push((
            format!("examples/multi-model-expert/{name}"),
            serde_json::from_slice(&read(&p)).unwrap(),
        ));
    }
    // a full-size real manifest: every section production uses
    if let Some(corpus) = corpus() {
        let p = corpus.join("manifests/public/expert-sql__f4c1eaa__manifest.json");
        out.push((
            "corpus expert-sql f4c1eaa".into(),
            serde_json::from_slice(&read(&p)).unwrap(),
        ));
    }
    // the sections the bundled manifests do not have, with their required keys
    let mut full = neo4j();
    full["evaluation"] = json!({"test_set_size": 20, "metrics": {"exact_match": 0.9}});
    full["integrity"] = json!({"publisher": "p", "signature_algorithm": "none",
        "files": {"adapter_model.safetensors": "00"}});
    full["repository"] = json!({"type": "git", "url": "https://example.org/x.git"});
    full["soft_prompts"] = json!([{"name": "s", "path": "soft/s.pt", "tokens": 8}]);
    full["training"]["dataset"]["generation"] = json!({"domain": "d", "task": "t", "count": 10,
        "provider": "p", "difficulty_distribution": {"easy": 0.3, "medium": 0.4, "hard": 0.3}});
    full["training"]["metadata"] = json!({"gpu": "none", "training_time_hours": 1.5});
    full["base_models"][0]["rope_scaling"] = json!({"type": "yarn", "factor": 4.0,
        "max_position_embeddings": 131072, "original_max_position_embeddings": 32768,
        "fine_grained": false});
    out.push(("neo4j with every optional section".into(), full));
    out
}

#[test]
fn no_mutant_the_runtime_refuses_passes_validate() {
    let mut checked = 0;
    let mut refused_by_runtime = 0;
    let mut misses = Vec::new();
    for (name, v) in sources() {
        assert_eq!(model::load(&v.to_string()), Ok(()), "{name} must load");
        for (what, m) in mutants(&v) {
            checked += 1;
            let text = serde_json::to_string_pretty(&m).unwrap();
            if let Err(why) = model::load(&text) {
                refused_by_runtime += 1;
                if validate_errors(text.as_bytes()) == 0 {
                    misses.push(format!("{name}: {what}: runtime: {why}"));
                }
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {checked} mutants pass validate but the runtime refuses them:\n{}",
        misses.len(),
        misses.join("\n")
    );
    assert!(
        checked > 3_000 && refused_by_runtime > 500,
        "{checked} {refused_by_runtime}"
    );
}

#[test]
fn what_the_runtime_loads_still_loads_after_migrate() {
    // issue #11.6: `migrate` works on every manifest the runtime loads, and its output must load
    // too (as 2.0, so the runtime reads `base_models`)
    let Some(corpus) = corpus() else { return };
    let mut files: Vec<_> = std::fs::read_dir(corpus.join("manifests/public"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(root().join("examples/multi-model-expert/manifest.v1.json"));
    let mut migrated = 0;
    for p in files {
        let bytes = read(&p);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(m) = serde_json::from_str::<model::Manifest>(text) else {
            continue;
        };
        if model::load(text).is_err() || m.schema_version == "2.0" {
            continue;
        }
        let out = expert_cli::manifest::migrate::migrate(&bytes)
            .unwrap_or_else(|e| panic!("{}: migrate refused: {e}", p.display()));
        let v2: model::Manifest = serde_json::from_str(&out.text).unwrap();
        assert_eq!(v2.schema_version, "2.0", "{}", p.display());
        assert_eq!(
            model::load(&out.text),
            Ok(()),
            "{}:\n{}",
            p.display(),
            out.text
        );
        migrated += 1;
    }
    assert!(migrated >= 2, "migrated {migrated} loadable 1.0 manifests");
}

#[test]
fn comments_and_nulls_inside_the_maps_the_runtime_reads() {
    let codes = |v: &Value| -> Vec<String> {
        check_bytes(v.to_string().as_bytes(), Role::Authored)
            .diagnostics
            .0
            .iter()
            .map(|d| {
                format!(
                    "{} {} {} {}",
                    d.code.as_str(),
                    d.pointer,
                    d.message,
                    d.hint.as_deref().unwrap_or("")
                )
            })
            .collect()
    };
    // `evaluation.metrics` is name → f32 to the runtime: a `_comment` there is a bad metric
    let mut v = neo4j();
    v["evaluation"] = json!({"test_set_size": 1, "metrics": {"_comment": "from run 3", "f1": 0.5}});
    assert!(model::load(&v.to_string()).is_err());
    let found = codes(&v);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("E0202 /evaluation/metrics/_comment") && d.contains("`_` keys")),
        "{found:#?}"
    );
    // `field_mapping` is a struct of optional strings to the runtime: null is absent
    let mut v = neo4j();
    v["training"]["dataset"]["field_mapping"]["input"] = Value::Null;
    assert_eq!(model::load(&v.to_string()), Ok(()));
    assert_eq!(
        validate_errors(v.to_string().as_bytes()),
        0,
        "{:#?}",
        codes(&v)
    );
    // and a misspelt slot is named, with the slot meant
    let mut v = neo4j();
    v["training"]["dataset"]["field_mapping"]["instructions"] = json!("question");
    let found = codes(&v);
    assert!(
        found.iter().any(
            |d| d.starts_with("W0201 /training/dataset/field_mapping/instructions")
                && d.ends_with("did you mean `instruction`?")
        ),
        "{found:#?}"
    );
}
