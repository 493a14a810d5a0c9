//! "The runtime can load it" is a rule of `validate` (issue #11.1, #11.2): every key the
//! upstream expert runtime's loader requires, and every integer it reads, is checked; the one
//! field table drives `validate`, `schema`, the check of packaged manifests and the trainer's
//! list of config keys.
//!
//! The cases are the ones issue #11 found by removing one field at a time from
//! `experts/expert-neo4j/manifest.json` (the runtime failed on each, `validate` said 0 errors),
//! plus the rest of the required keys of reference/upstream-manifest.md.

use crate::common::*;
use expert_cli::manifest::{check_bytes, shape, Checked, Role};
use serde_json::{json, Value};

fn neo4j() -> Value {
    serde_json::from_slice(&read(&root().join("experts/expert-neo4j/manifest.json"))).unwrap()
}

/// The parent object of `pointer` and the last key.
fn parent<'v>(v: &'v mut Value, pointer: &str) -> (&'v mut serde_json::Map<String, Value>, String) {
    let (head, last) = pointer.rsplit_once('/').unwrap();
    let obj = v
        .pointer_mut(head)
        .unwrap_or_else(|| panic!("no {head}"))
        .as_object_mut()
        .unwrap_or_else(|| panic!("{head} is not an object"));
    (obj, last.to_owned())
}

enum Edit {
    /// Remove the key.
    Remove(&'static str),
    /// Set the key (added when absent).
    Set(&'static str, Value),
}

fn apply(v: &mut Value, edits: &[Edit]) {
    for e in edits {
        match e {
            Edit::Remove(p) => {
                let (obj, key) = parent(v, p);
                assert!(
                    obj.shift_remove(&key).is_some(),
                    "{p} is not in the manifest"
                );
            }
            Edit::Set(p, x) => {
                let (obj, key) = parent(v, p);
                obj.insert(key, x.clone());
            }
        }
    }
}

fn check_value(v: &Value) -> Checked {
    check_bytes(
        serde_json::to_string_pretty(v).unwrap().as_bytes(),
        Role::Authored,
    )
}

fn errors(c: &Checked) -> Vec<String> {
    let mut v: Vec<String> = c
        .diagnostics
        .errors()
        .map(|d| format!("{} {}", d.code, d.pointer))
        .collect();
    v.sort();
    v
}

/// Sections the bundled expert does not have, with every key the runtime requires in them:
/// added first, so that removing one key of them is the only problem.
fn with_optional_sections() -> Value {
    let mut v = neo4j();
    apply(
        &mut v,
        &[
            Edit::Set(
                "/evaluation",
                json!({"test_set_size": 20, "metrics": {"exact_match": 0.9}}),
            ),
            Edit::Set(
                "/integrity",
                json!({"publisher": "ACME", "signature_algorithm": "none", "files": {}}),
            ),
            Edit::Set(
                "/repository",
                json!({"type": "git", "url": "https://example.org/x.git"}),
            ),
            Edit::Set(
                "/soft_prompts",
                json!([{"name": "style", "path": "sp/style.pt", "tokens": 8}]),
            ),
            Edit::Set(
                "/training/dataset/generation",
                json!({"domain": "cypher", "task": "text2cypher", "count": 100, "provider": "local",
                       "difficulty_distribution": {"easy": 0.3, "medium": 0.5, "hard": 0.2}}),
            ),
        ],
    );
    v
}

#[test]
fn the_bundled_neo4j_expert_loads_and_with_the_optional_sections_too() {
    assert_eq!(errors(&check_value(&neo4j())), Vec::<String>::new());
    assert_eq!(
        errors(&check_value(&with_optional_sections())),
        Vec::<String>::new()
    );
}

#[test]
fn each_key_the_runtime_requires_removed_or_mistyped_is_its_own_error() {
    use Edit::*;
    // (what is done, the one error it must give: "CODE pointer")
    let cases: Vec<(Vec<Edit>, &str)> = vec![
        // issue #11's list
        (vec![Remove("/constraints")], "E0207 /constraints"),
        (
            vec![Remove("/constraints/load_order")],
            "E0207 /constraints/load_order",
        ),
        (
            vec![Remove("/constraints/incompatible_with")],
            "E0207 /constraints/incompatible_with",
        ),
        (
            vec![Remove("/constraints/requires")],
            "E0207 /constraints/requires",
        ),
        (
            vec![Remove("/training/config/target_modules")],
            "E0207 /training/config/target_modules",
        ),
        (
            vec![Remove("/base_models/0/adapters/0/target_modules")],
            "E0207 /base_models/0/adapters/0/target_modules",
        ),
        (
            vec![Remove("/training/config/epochs")],
            "E0207 /training/config/epochs",
        ),
        (
            vec![
                Remove("/training/config/epochs"),
                Set("/training/config/num_epochs", json!(2)),
            ],
            "E0207 /training/config/epochs",
        ),
        (
            vec![
                Remove("/training/config/epochs"),
                Set("/training/config/max_steps", json!(500)),
            ],
            "E0207 /training/config/epochs",
        ),
        (
            vec![Remove("/training/config/gradient_accumulation_steps")],
            "E0207 /training/config/gradient_accumulation_steps",
        ),
        // the expert has warmup_ratio: removing warmup_steps is the "ratio only" case
        (
            vec![Remove("/training/config/warmup_steps")],
            "E0207 /training/config/warmup_steps",
        ),
        (
            vec![Remove("/training/config/lr_scheduler")],
            "E0207 /training/config/lr_scheduler",
        ),
        (
            vec![Remove("/perf/vram_mb_overhead")],
            "E0207 /perf/vram_mb_overhead",
        ),
        (
            vec![Remove("/perf/latency_ms_overhead")],
            "E0207 /perf/latency_ms_overhead",
        ),
        (
            vec![Remove("/perf/supported_batch_sizes")],
            "E0207 /perf/supported_batch_sizes",
        ),
        (
            vec![Remove("/evaluation/metrics")],
            "E0207 /evaluation/metrics",
        ),
        (
            vec![Remove("/evaluation/test_set_size")],
            "E0207 /evaluation/test_set_size",
        ),
        (
            vec![Remove("/integrity/publisher")],
            "E0207 /integrity/publisher",
        ),
        (
            vec![Remove("/integrity/signature_algorithm")],
            "E0207 /integrity/signature_algorithm",
        ),
        (vec![Remove("/integrity/files")], "E0207 /integrity/files"),
        (
            vec![Set("/base_models/0/adapters/0/alpha", json!(32.0))],
            "E0208 /base_models/0/adapters/0/alpha",
        ),
        // the other required keys of the table
        (vec![Remove("/name")], "E0207 /name"),
        (vec![Remove("/version")], "E0207 /version"),
        (vec![Remove("/description")], "E0207 /description"),
        (vec![Remove("/capabilities")], "E0207 /capabilities"),
        (
            vec![Set("/capabilities", Value::Null)],
            "E0207 /capabilities",
        ),
        (vec![Remove("/training")], "E0207 /training"),
        (vec![Remove("/training/dataset")], "E0207 /training/dataset"),
        (vec![Remove("/training/config")], "E0207 /training/config"),
        (
            vec![Remove("/training/config/method")],
            "E0207 /training/config/method",
        ),
        (
            vec![Remove("/training/config/adapter_type")],
            "E0207 /training/config/adapter_type",
        ),
        (
            vec![Remove("/training/config/learning_rate")],
            "E0207 /training/config/learning_rate",
        ),
        (
            vec![Remove("/training/config/batch_size")],
            "E0207 /training/config/batch_size",
        ),
        (
            vec![Remove("/base_models/1/name")],
            "E0207 /base_models/1/name",
        ),
        (
            vec![Remove("/base_models/0/adapters/0/type")],
            "E0207 /base_models/0/adapters/0/type",
        ),
        (
            vec![Remove("/base_models/0/rope_scaling/factor")],
            "E0207 /base_models/0/rope_scaling/factor",
        ),
        (
            vec![Remove("/base_models/0/rope_scaling/type")],
            "E0207 /base_models/0/rope_scaling/type",
        ),
        (
            vec![Remove(
                "/base_models/0/rope_scaling/max_position_embeddings",
            )],
            "E0207 /base_models/0/rope_scaling/max_position_embeddings",
        ),
        (
            vec![Remove(
                "/base_models/0/rope_scaling/original_max_position_embeddings",
            )],
            "E0207 /base_models/0/rope_scaling/original_max_position_embeddings",
        ),
        (
            vec![Remove("/base_models/0/rope_scaling/fine_grained")],
            "E0207 /base_models/0/rope_scaling/fine_grained",
        ),
        (vec![Remove("/routing/keywords")], "E0207 /routing/keywords"),
        (
            vec![Remove("/soft_prompts/0/name")],
            "E0207 /soft_prompts/0/name",
        ),
        (
            vec![Remove("/soft_prompts/0/path")],
            "E0207 /soft_prompts/0/path",
        ),
        (
            vec![Remove("/soft_prompts/0/tokens")],
            "E0207 /soft_prompts/0/tokens",
        ),
        (
            vec![Set("/soft_prompts", Value::Null)],
            "E0207 /soft_prompts",
        ),
        (vec![Remove("/repository/type")], "E0207 /repository/type"),
        (vec![Remove("/repository/url")], "E0207 /repository/url"),
        (
            vec![Remove("/training/dataset/generation/count")],
            "E0207 /training/dataset/generation/count",
        ),
        (
            vec![Remove("/training/dataset/generation/domain")],
            "E0207 /training/dataset/generation/domain",
        ),
        (
            vec![Remove(
                "/training/dataset/generation/difficulty_distribution/hard",
            )],
            "E0207 /training/dataset/generation/difficulty_distribution/hard",
        ),
        (vec![Remove("/schema_version")], "E0207 /schema_version"),
        // integers the runtime reads: a float, a negative, more than the type holds
        (
            vec![Set("/training/config/alpha", json!(32.0))],
            "E0208 /training/config/alpha",
        ),
        (
            vec![Set("/training/config/rank", json!(16.0))],
            "E0208 /training/config/rank",
        ),
        (
            vec![Set("/training/config/batch_size", json!(2.0))],
            "E0208 /training/config/batch_size",
        ),
        (
            vec![Set("/training/config/warmup_steps", json!(-1))],
            "E0208 /training/config/warmup_steps",
        ),
        (
            vec![Set(
                "/training/config/gradient_accumulation_steps",
                json!(4294967296u64),
            )],
            "E0208 /training/config/gradient_accumulation_steps",
        ),
        (
            vec![Set("/constraints/load_order", json!(-1))],
            "E0208 /constraints/load_order",
        ),
        (
            vec![Set("/perf/vram_mb_overhead", json!(25.5))],
            "E0208 /perf/vram_mb_overhead",
        ),
        (
            vec![Set("/perf/supported_batch_sizes", json!([1, 2.0]))],
            "E0208 /perf/supported_batch_sizes/1",
        ),
        (
            vec![Set("/evaluation/test_set_size", json!(1e3))],
            "E0208 /evaluation/test_set_size",
        ),
        (
            vec![Set("/soft_prompts/0/tokens", json!(8.0))],
            "E0208 /soft_prompts/0/tokens",
        ),
        (
            vec![Set("/base_models/0/adapters/0/size_bytes", json!(-1))],
            "E0208 /base_models/0/adapters/0/size_bytes",
        ),
        (
            vec![Set("/training/decoding/top_k", json!(20.0))],
            "E0208 /training/decoding/top_k",
        ),
        // a type the runtime cannot read
        (
            vec![Set("/evaluation/metrics", json!(["exact_match"]))],
            "E0202 /evaluation/metrics",
        ),
    ];
    for (edits, want) in cases {
        let mut v = with_optional_sections();
        apply(&mut v, &edits);
        let c = check_value(&v);
        assert_eq!(errors(&c), vec![want.to_owned()], "{want}");
        assert!(c.manifest.is_none(), "{want}: an error leaves no manifest");
        let d = c.diagnostics.errors().next().unwrap();
        assert!(d.line >= 1 && d.column >= 1, "{want}: {d:?}");
        if want.starts_with("E0202") {
            continue;
        }
        let hint = d
            .hint
            .as_deref()
            .unwrap_or_else(|| panic!("{want}: no hint"));
        if want.starts_with("E0207") && want != "E0207 /soft_prompts" {
            let key = want.rsplit('/').next().unwrap();
            assert!(
                hint.starts_with(&format!("add \"{key}\": ")),
                "{want}: {hint}"
            );
            assert!(
                hint.contains("— the expert runtime cannot load a manifest"),
                "{want}: {hint}"
            );
        }
    }
}

#[test]
fn the_hints_say_what_to_add() {
    let mut v = neo4j();
    apply(&mut v, &[Edit::Remove("/training/config/warmup_steps")]);
    let c = check_value(&v);
    let d = c.diagnostics.errors().next().unwrap();
    assert_eq!(
        d.hint.as_deref(),
        Some("add \"warmup_steps\": 0 — the expert runtime cannot load a manifest without it (with 0, `warmup_ratio` still decides the warm-up)")
    );
    let mut v = neo4j();
    apply(
        &mut v,
        &[
            Edit::Remove("/training/config/epochs"),
            Edit::Set("/training/config/num_epochs", json!(2.5)),
        ],
    );
    let d = check_value(&v).diagnostics.errors().next().unwrap().clone();
    assert_eq!(
        d.hint.as_deref(),
        Some("add \"epochs\": 2.5 — the expert runtime cannot load a manifest without it (it does not read `num_epochs`)")
    );
    let mut v = neo4j();
    apply(
        &mut v,
        &[Edit::Set("/base_models/0/adapters/0/alpha", json!(32.0))],
    );
    let d = check_value(&v).diagnostics.errors().next().unwrap().clone();
    assert_eq!(d.hint.as_deref(), Some("write 32"));
    assert!(d.message.contains("u32"), "{}", d.message);
}

#[test]
fn validate_names_file_line_column_pointer_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(read(&root().join("experts/expert-neo4j/manifest.json")))
        .unwrap()
        .replace("      \"warmup_steps\": 0,\n", "");
    let p = dir.path().join("manifest.json");
    std::fs::write(&p, &text).unwrap();
    let out = cmd()
        .arg("validate")
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    // the position is the `training.config` object that lacks the key
    let line = text[..text.find("\"config\": {").unwrap()].lines().count();
    assert!(
        out.contains(&format!(
            "{}:{line}:15: error[E0207] /training/config/warmup_steps: ",
            p.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("  hint: add \"warmup_steps\": 0 — the expert runtime"),
        "{out}"
    );
}

#[test]
fn the_example_and_the_experts_load_in_the_runtime() {
    let mut manifests = vec![
        root().join("examples/multi-model-expert/manifest.json"),
        root().join("examples/multi-model-expert/manifest.v1.json"),
        root().join("examples/multi-model-expert/manifest.v1-migrated.json"),
    ];
    for e in std::fs::read_dir(root().join("experts")).unwrap() {
        let p = e.unwrap().path().join("manifest.json");
        if p.is_file() {
            manifests.push(p);
        }
    }
    assert!(manifests.len() >= 9, "{manifests:?}");
    for p in &manifests {
        let c = check_bytes(&read(p), Role::Authored);
        assert_eq!(errors(&c), Vec::<String>::new(), "{}", p.display());
        // and each model's cut, as `package` writes it, with the integrity it adds
        let source = c.manifest.unwrap().source;
        if let Some(models) = source.root().get("base_models") {
            for i in 0..models.as_array().unwrap().len() {
                let mut edits =
                    vec![expert_cli::manifest::edit::keep_one(&source, models, i).unwrap()];
                let cut = source.splice(&mut edits);
                let mut v: Value = serde_json::from_str(&cut).unwrap();
                v["integrity"] = json!({"created_at": "2026-01-01T00:00:00Z", "publisher": "expert-cli",
                    "signature_algorithm": "none", "files": {"adapter_model.safetensors": "00"}});
                let c = check_bytes(v.to_string().as_bytes(), Role::Packaged);
                assert_eq!(
                    errors(&c),
                    Vec::<String>::new(),
                    "{} model {i}",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn every_packaged_manifest_of_the_example_loads_in_the_runtime() {
    // the real `package`, then the packaged manifest.json as GNU tar unpacks it; the install
    // step loads it with the runtime's loader before it checks the signature, so the signed one
    // must load too
    let dir = tempfile::tempdir().unwrap();
    let manifest = root().join("examples/multi-model-expert/manifest.json");
    let key = dir.path().join("k.pem");
    cmd()
        .args(["-q", "keygen", "--name", "CI", "--output"])
        .arg(&key)
        .assert()
        .code(0);
    for model in ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b"] {
        let pkg = dir.path().join(format!("{model}.expert"));
        cmd()
            .args(["-q", "package", "--manifest"])
            .arg(&manifest)
            .args(["--model", model, "--output"])
            .arg(&pkg)
            .assert()
            .code(0);
        let packaged = tar_member(&pkg, "manifest.json");
        let c = check_bytes(&packaged, Role::Packaged);
        assert_eq!(errors(&c), Vec::<String>::new(), "{model}");
        let loads =
            |bytes: &[u8]| crate::runtime_model::model::load(std::str::from_utf8(bytes).unwrap());
        assert_eq!(loads(&packaged), Ok(()), "{model} unsigned");
        cmd()
            .args(["-q", "sign"])
            .arg(&pkg)
            .arg("--key")
            .arg(&key)
            .assert()
            .code(0);
        let signed = tar_member(&pkg, "manifest.json");
        assert_ne!(signed, packaged);
        assert_eq!(loads(&signed), Ok(()), "{model} signed");
        for bytes in [&packaged, &signed] {
            let v: Value = serde_json::from_slice(bytes).unwrap();
            for key in ["publisher", "signature_algorithm", "files"] {
                assert!(
                    v["integrity"].get(key).is_some(),
                    "{model}: integrity.{key}"
                );
            }
        }
    }
}

#[test]
fn package_refuses_a_manifest_the_runtime_cannot_load_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("ex");
    copy_dir(&root().join("examples/multi-model-expert"), &ex);
    let text = String::from_utf8(read(&ex.join("manifest.json")))
        .unwrap()
        .replace("      \"warmup_steps\": 0,\n", "");
    std::fs::write(ex.join("manifest.json"), text).unwrap();
    let validate = cmd()
        .current_dir(dir.path())
        .args(["validate", "ex/manifest.json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let package = cmd()
        .current_dir(dir.path())
        .args([
            "package",
            "--manifest",
            "ex/manifest.json",
            "--model",
            "qwen3-0.6b",
            "--output",
        ])
        .arg(out.join("x.expert"))
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let validate = String::from_utf8(validate).unwrap();
    let package = String::from_utf8(package).unwrap();
    assert!(
        validate.contains("error[E0207] /training/config/warmup_steps"),
        "{validate}"
    );
    assert!(
        package.contains(&validate),
        "package says:\n{package}\nvalidate says:\n{validate}"
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn the_docs_list_every_key_the_runtime_requires() {
    let doc = String::from_utf8(read(&root().join("docs/EXPERT_FORMAT.md"))).unwrap();
    for (pointer, _) in shape::runtime_required() {
        let shown = pointer.replace("/base_model/rope_scaling", "/base_models/*/rope_scaling");
        assert!(
            doc.contains(&format!("`{shown}`")),
            "docs/EXPERT_FORMAT.md does not list `{pointer}`"
        );
    }
}

/// `n` and, recursively, every alternative of its `anyOf`.
fn alternatives(n: &Value) -> Vec<&Value> {
    let mut out = vec![n];
    if let Some(any) = n["anyOf"].as_array() {
        out.extend(any.iter().flat_map(alternatives));
    }
    out
}

#[test]
fn the_schema_requires_what_the_runtime_requires() {
    let schema = expert_cli::manifest::schema::json_schema();
    for (pointer, _) in shape::runtime_required() {
        // walk the schema along the pointer through properties, items and anyOf alternatives
        let mut nodes = vec![&schema];
        let mut parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let last = parts.pop().unwrap();
        for part in parts {
            nodes = nodes
                .into_iter()
                .flat_map(alternatives)
                .filter_map(|n| {
                    if part == "*" {
                        n.get("items")
                    } else {
                        n["properties"].get(part)
                    }
                })
                .collect();
        }
        assert!(
            nodes
                .into_iter()
                .flat_map(alternatives)
                .filter_map(|n| n["required"].as_array())
                .any(|r| r.iter().any(|k| k == last)),
            "the schema does not require {pointer}"
        );
    }
}

#[test]
fn the_trainer_reads_its_config_keys_from_the_table() {
    // plan.rs reports every config key the table marks unused, with the table's reason, and
    // no key the table marks used.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("experts/expert-neo4j"), dir.path());
    let path = dir.path().join("manifest.json");
    let mut v = neo4j();
    let keys = shape::trainer_config_keys();
    let config = v["training"]["config"].as_object_mut().unwrap();
    for (key, reason) in &keys {
        if reason.is_some() && !config.contains_key(*key) {
            let value = match *key {
                "pretokenized_cache" | "activation_checkpointing" => json!("cache"),
                "memory_clear_every" | "cuda_graph_warmup_steps" => json!(10),
                _ => json!(true),
            };
            config.insert((*key).to_owned(), value);
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (manifest, _) = expert_cli::manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let opts = expert_cli::train::plan::Options {
        model: Some("qwen3-0.6b".into()),
        dataset: None,
        output: None,
        epochs: None,
        max_steps: None,
        device: expert_cli::train::plan::Device::Cpu,
        resume: None,
        base_model: None,
        seed: None,
        train_on_prompt: false,
        allow_template_mismatch: false,
    };
    let plan = expert_cli::train::plan::plan(&manifest, &path, &opts).unwrap();
    let present: Vec<&str> = v["training"]["config"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with('_'))
        .collect();
    for key in present {
        let (_, reason) = keys
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("{key} is not in the table"));
        let reported = plan
            .unused
            .iter()
            .find(|u| u.pointer == format!("/training/config/{key}"));
        assert_eq!(reported.map(|u| u.reason.as_str()), *reason, "{key}");
    }
}
