//! Prompt templates, field mapping and dataset shapes of `train` (#15, #13.5): every template
//! renders exactly what its model family's own chat template renders (asked of transformers in
//! the venv), the trainer's tokenizer check passes, refuses or is overridden, trained tokens
//! decode to exactly the answers and their end markers, columns come from every row, and every
//! dataset shape of the corpus trains or is refused with a reason.

use crate::common::{cmd, corpus, fixture, root, venv_python};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The tiny tokenizer of `fixtures/tiny-model/make.py` (Qwen3's chat template), in `dir`.
fn tiny_tokenizer(python: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("tiny-tokenizer");
    let made = std::process::Command::new(python)
        .arg(fixture("tiny-model/make.py"))
        .arg(&out)
        .arg("--tokenizer-only")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    out
}

/// Runs a Python script with `python/` importable; returns stdout parsed as JSON.
fn python_json(python: &Path, script: &str, args: &[&Path]) -> Value {
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env("PYTHONPATH", root().join("python"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// An expert folder in `dir` with one base model, `template` (or none) and the JSONL `rows`.
fn expert(
    dir: &Path,
    model: &str,
    template: Option<&str>,
    mapping: Value,
    rows: &[Value],
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut base = json!({
        "name": model,
        "adapters": [{"type": "lora", "target_modules": ["q_proj", "v_proj"], "r": 4, "alpha": 8}]
    });
    if let Some(t) = template {
        base["prompt_template"] = json!(t);
    }
    let mut dataset = json!({"path": "train.jsonl", "format": "jsonl"});
    if mapping.as_object().is_some_and(|m| !m.is_empty()) {
        dataset["field_mapping"] = mapping;
    }
    let manifest = json!({
        "name": "expert-templates",
        "version": "0.1.0",
        "schema_version": "2.0",
        "description": "Template tests.",
        "base_models": [base],
        "capabilities": ["test"],
        "constraints": {"load_order": 5, "incompatible_with": [], "requires": []},
        "training": {"dataset": dataset, "config": {"method": "sft", "adapter_type": "lora", "rank": 4, "alpha": 8,
                     "target_modules": ["q_proj", "v_proj"], "epochs": 1, "learning_rate": 0.001, "batch_size": 1,
                     "gradient_accumulation_steps": 1, "warmup_steps": 0, "lr_scheduler": "linear"}},
        "license": "MIT",
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
    std::fs::write(dir.join("train.jsonl"), lines.join("\n") + "\n").unwrap();
    dir.join("manifest.json")
}

/// `train --dry-run --format json` on `manifest` (plus `extra` arguments): (exit code, JSON or
/// null, stderr).
fn dry_run(manifest: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = cmd()
        .args([
            "--format",
            "json",
            "train",
            "--dry-run",
            "--show",
            "20",
            "--manifest",
        ])
        .arg(manifest)
        .args(extra)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn msg(role: &str, content: &str) -> Value {
    json!({"role": role, "content": content})
}

/// Conversations: single turn, with a system message, multi-turn, white space around every
/// message, and non-ASCII text (character offsets).
fn conversations() -> Vec<Value> {
    vec![
        json!([msg("user", "What is 2+2?"), msg("assistant", "4")]),
        json!([
            msg("system", "You answer in Cypher."),
            msg("user", "Find Ann."),
            msg("assistant", "MATCH (n {name: 'Ann'}) RETURN n")
        ]),
        json!([
            msg("system", "Be brief."),
            msg("user", "Hi"),
            msg("assistant", "Hello."),
            msg("user", "Bye"),
            msg("assistant", "Goodbye.")
        ]),
        json!([
            msg("system", "  S \n"),
            msg("user", "\n U \n"),
            msg("assistant", "\n\n A  \n"),
            msg("user", " U2"),
            msg("assistant", "A2 ")
        ]),
        json!([
            msg("user", "Größe von 中文?"),
            msg("assistant", "Très grand — 大.")
        ]),
    ]
}

const TEMPLATES: &[&str] = &[
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

/// The family's BOS/EOS tokens from the plan's template (empty = the tokenizer's own).
fn specials(plan: &Value) -> Value {
    let parts = &plan["template"]["parts"];
    let mut s = json!({});
    for (key, field) in [("bos_token", "bos"), ("eos_token", "eos")] {
        if let Some(t) = parts[field].as_str().filter(|t| !t.is_empty()) {
            s[key] = json!(t);
        }
    }
    s
}

const RENDER_WITH_TRANSFORMERS: &str = r#"
import json, sys, transformers
from transformers import AutoTokenizer
transformers.logging.set_verbosity_error()
cases = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
for c in cases:
    tok = AutoTokenizer.from_pretrained(sys.argv[2])
    if c["specials"]:
        tok.add_special_tokens(c["specials"])
    tok.chat_template = open(c["jinja"], encoding="utf-8").read()
    theirs = tok.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=False, **c["kwargs"])
    ours = c["text"]
    for p in sorted(c["eos_at"], reverse=True):
        ours = ours[:p] + tok.eos_token + ours[p:]
    out.append({"template": c["template"], "line": c["line"], "ours": ours, "theirs": theirs})
print(json.dumps(out))
"#;

#[test]
fn every_template_renders_exactly_its_familys_chat_template() {
    let Some(python) = venv_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = tiny_tokenizer(&python, dir.path());
    let rows: Vec<Value> = conversations()
        .into_iter()
        .map(|m| json!({"messages": m}))
        .collect();
    let mut cases = Vec::new();
    for &name in TEMPLATES {
        let m = expert(
            &dir.path().join(name),
            "org/model",
            Some(name),
            json!({}),
            &rows,
        );
        let (code, v, stderr) = dry_run(&m, &[]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let examples = v["examples"].as_array().unwrap();
        assert_eq!(examples.len(), rows.len(), "{name}");
        for (ex, conv) in examples.iter().zip(conversations()) {
            cases.push(json!({
                "template": name,
                "line": ex["line"],
                "jinja": fixture(&format!("chat-templates/{name}.jinja")),
                "specials": specials(&v["plan"]),
                "kwargs": v["plan"]["template"]["check"]["kwargs"],
                "messages": conv,
                "text": ex["text"],
                "eos_at": ex.get("tokenizer_eos_at").cloned().unwrap_or(json!([])),
            }));
        }
    }
    let input = dir.path().join("cases.json");
    std::fs::write(&input, serde_json::to_vec(&cases).unwrap()).unwrap();
    let results = python_json(&python, RENDER_WITH_TRANSFORMERS, &[&input, &tokenizer]);
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), TEMPLATES.len() * rows.len());
    let mismatches: Vec<String> = results
        .iter()
        .filter(|r| r["ours"] != r["theirs"])
        .map(|r| {
            format!(
                "{} line {}:\n  ours:   {}\n  theirs: {}",
                r["template"], r["line"], r["ours"], r["theirs"]
            )
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_tokenizer_check_passes_refuses_with_the_difference_or_is_allowed() {
    let Some(python) = venv_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = tiny_tokenizer(&python, dir.path());
    let rows: Vec<Value> = conversations()
        .into_iter()
        .map(|m| json!({"messages": m}))
        .collect();
    // detected from the name: qwen3, as the stand-in's own template
    let m = expert(
        &dir.path().join("e"),
        "Qwen/Qwen3-0.6B",
        None,
        json!({}),
        &rows,
    );
    let venv = root().join(".venv");
    let base = ["--python-env", venv.to_str().unwrap(), "--base-model"];
    let with = |tok: &Path, more: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.push(tok.to_str().unwrap());
        args.extend(more);
        dry_run(&m, &args)
    };

    let (code, v, stderr) = with(&tokenizer, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["template_check"]["status"], "match", "{v}");
    assert_eq!(v["template_check"]["examples"], rows.len(), "{v}");

    // the same tokenizer with generic ChatML, which writes no think block
    let other = dir.path().join("chatml-tokenizer");
    std::fs::create_dir_all(&other).unwrap();
    for f in std::fs::read_dir(&tokenizer).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, other.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        fixture("chat-templates/chatml.jinja"),
        other.join("chat_template.jinja"),
    )
    .unwrap();
    let (code, _, stderr) = with(&other, &[]);
    assert_eq!(code, 8, "{stderr}");
    for part in [
        "error: training failed: the prompt template `qwen3` does not match the chat template of the base model",
        "line 1 of `",
        "differs at character 62: prompt template `qwen3` writes 'im_start|>assistant\\n<think>\\n\\n</think>\\n\\n4<|im_end|>'",
        "tokenizer` writes 'im_start|>assistant\\n4<|im_end|>\\n'",
        "hint: set base_models[].prompt_template to the template of this model's family",
        "--allow-template-mismatch",
    ] {
        assert!(stderr.contains(part), "missing {part:?} in:\n{stderr}");
    }

    let (code, v, stderr) = with(&other, &["--allow-template-mismatch"]);
    assert_eq!(code, 0, "{stderr}");
    let check = &v["template_check"];
    assert_eq!(check["status"], "mismatch", "{v}");
    assert_eq!(check["allowed"], true);
    assert_eq!(check["line"], 1);
    assert!(v["plan"]["template"]["check"]["allow_mismatch"] == true);
}

const DECODE_TRAINED: &str = r#"
import json, sys, transformers
from transformers import AutoTokenizer
from expert_trainer.trainer import assemble, tokenize_records, _uses_bos
transformers.logging.set_verbosity_error()
cases = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
for c in cases:
    tok = AutoTokenizer.from_pretrained(sys.argv[2])
    if c["specials"]:
        tok.add_special_tokens(c["specials"])
    records = [json.loads(l) for l in open(c["rendered"], encoding="utf-8") if l.strip()]
    examples, truncated, empty = tokenize_records(tok, records, 100000)
    assert truncated == 0 and empty == 0
    for rec, ex in zip(records, examples):
        text, spans = assemble(rec, tok, _uses_bos(tok))
        # trained tokens, run by run, decoded
        runs, cur = [], []
        for i, l in zip(ex["input_ids"], ex["labels"]):
            if l == -100:
                if cur:
                    runs.append(cur)
                    cur = []
            else:
                assert l == i
                cur.append(i)
        if cur:
            runs.append(cur)
        out.append({
            "name": c["name"], "line": rec["line"],
            "decoded": [tok.decode(r) for r in runs],
            "expected": [text[a:b] for a, b in spans],
            "all": tok.decode(ex["input_ids"]) == text,
        })
print(json.dumps(out))
"#;

#[test]
fn trained_tokens_decode_to_exactly_the_answers_and_their_end_markers() {
    let Some(python) = venv_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = tiny_tokenizer(&python, dir.path());
    let messages: Vec<Value> = conversations()
        .into_iter()
        .map(|m| json!({"messages": m}))
        .collect();
    let instruction = vec![
        json!({"instruction": "Find the person named Ann.", "input": "(:Person {name})", "output": "MATCH (n:Person {name: 'Ann'}) RETURN n", "system": "Cypher only."}),
        json!({"instruction": "How old is Bob?", "output": "MATCH (n:Person {name: 'Bob'}) RETURN n.age"}),
    ];
    let chatml_text = vec![
        json!({"text": "<|im_start|>system\nDialect: sql<|im_end|>\n<|im_start|>user\nList users.<|im_end|>\n<|im_start|>assistant\nSELECT * FROM users;<|im_end|>\n"}),
    ];
    let tagged_text = vec![
        json!({"text": "<|system|>\nDialect: elastic\n<|end|>\n<|user|>\nAll logs.\n<|end|>\n<|assistant|>\n{\"query\":{\"match_all\":{}}}\n<|end|>"}),
    ];
    let shapes: Vec<(&str, &str, &Vec<Value>)> = vec![
        ("messages-qwen3", "qwen3", &messages),
        ("messages-llama", "llama", &messages),
        ("messages-deepseek", "deepseek", &messages),
        ("messages-gemma", "gemma", &messages),
        ("instruction-chatml", "chatml", &instruction),
        ("instruction-alpaca", "alpaca", &instruction),
        ("instruction-mistral", "mistral", &instruction),
        ("text-chatml-qwen3", "qwen3", &chatml_text),
        ("text-tags-phi", "phi", &tagged_text),
    ];
    let mut cases = Vec::new();
    for (name, template, rows) in &shapes {
        let e = dir.path().join(name);
        let m = expert(&e, "org/model", Some(template), json!({}), rows);
        let plan_file = e.join("run/plan.json");
        let out = cmd()
            .args(["--format", "json", "train", "--manifest"])
            .arg(&m)
            .arg("--emit-plan")
            .arg(&plan_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: Value = serde_json::from_slice(&std::fs::read(&plan_file).unwrap()).unwrap();
        assert_eq!(plan["plan_version"], 2);
        cases.push(json!({
            "name": name,
            "specials": specials(&plan),
            "rendered": plan["dataset"]["rendered_train"],
        }));
    }
    let input = dir.path().join("cases.json");
    std::fs::write(&input, serde_json::to_vec(&cases).unwrap()).unwrap();
    let results = python_json(&python, DECODE_TRAINED, &[&input, &tokenizer]);
    let results = results.as_array().unwrap();
    assert!(results.len() >= 20, "{}", results.len());
    for r in results {
        assert_eq!(r["decoded"], r["expected"], "{}", r);
        assert_eq!(r["all"], true, "the whole text does not round-trip: {r}");
        let expected: Vec<&str> = r["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(!expected.is_empty(), "{r}");
    }
    // the answers and their end markers, nothing of the prompt
    let first = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["expected"].clone())
            .unwrap()
    };
    assert_eq!(first("messages-qwen3"), json!(["4<|im_end|>"]));
    assert_eq!(first("messages-llama"), json!([" 4 </s>"]));
    assert_eq!(
        first("instruction-alpaca"),
        json!(["MATCH (n:Person {name: 'Ann'}) RETURN n<|im_end|>"])
    );
    assert_eq!(
        first("text-chatml-qwen3"),
        json!(["SELECT * FROM users;<|im_end|>"])
    );
    assert_eq!(
        first("text-tags-phi"),
        json!(["{\"query\":{\"match_all\":{}}}<|end|>"])
    );
    let multi = results
        .iter()
        .find(|r| r["name"] == "messages-gemma" && r["line"] == 3)
        .unwrap();
    assert_eq!(
        multi["expected"],
        json!(["Hello.<end_of_turn>", "Goodbye.<end_of_turn>"])
    );
}

#[test]
fn a_column_only_a_later_row_has_is_used_in_that_row() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![
        json!({"instruction": "I1", "output": "O1"}),
        json!({"instruction": "I2", "output": "O2", "system": "S2"}),
        json!({"instruction": "I3", "output": "O3", "input": "X3"}),
    ];
    for mapping in [
        json!({}),
        json!({"instruction": "instruction", "response": "output"}),
    ] {
        let m = expert(
            dir.path(),
            "org/model",
            Some("chatml"),
            mapping.clone(),
            &rows,
        );
        let (code, v, stderr) = dry_run(&m, &[]);
        assert_eq!(code, 0, "{stderr}");
        let texts: Vec<&str> = v["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts[0],
            "<|im_start|>user\nI1<|im_end|>\n<|im_start|>assistant\nO1<|im_end|>\n"
        );
        assert_eq!(
            texts[1],
            "<|im_start|>system\nS2<|im_end|>\n<|im_start|>user\nI2<|im_end|>\n<|im_start|>assistant\nO2<|im_end|>\n",
            "{mapping}"
        );
        assert_eq!(
            texts[2],
            "<|im_start|>user\nI3\n\nInput:\nX3<|im_end|>\n<|im_start|>assistant\nO3<|im_end|>\n",
            "{mapping}"
        );
        let columns = &v["plan"]["dataset"]["field_map"]["columns"];
        assert!(
            columns
                .as_array()
                .unwrap()
                .contains(&json!({"slot": "system", "column": "system", "rows": 1})),
            "{columns}"
        );
        assert!(
            columns
                .as_array()
                .unwrap()
                .contains(&json!({"slot": "input", "column": "input", "rows": 1})),
            "{columns}"
        );
        assert_eq!(
            v["plan"]["dataset"]["field_map"]["unused_columns"],
            json!([])
        );
    }
}

#[test]
fn data_warnings_name_unused_columns_and_dropped_system_texts() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![json!({"task": "t", "instruction": "I", "output": "O", "system": "S"})];
    let m = expert(
        dir.path(),
        "mistralai/Mistral-7B-Instruct-v0.3",
        None,
        json!({}),
        &rows,
    );
    let out = cmd()
        .args(["train", "--dry-run", "--manifest"])
        .arg(&m)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("template     mistral (detected; the Mistral chat template)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: dataset column `task` (1 row) is not used by the field mapping"),
        "{stdout}"
    );
    assert!(stdout.contains("warning: 1 example of"), "{stdout}");
    assert!(
        stdout.contains("has a system text that template `mistral` leaves out"),
        "{stdout}"
    );
    assert!(stdout.contains("<s>[INST] I[/INST]« O</s>»"), "{stdout}");
}

#[test]
fn validate_warns_when_a_model_gets_another_familys_template() {
    let dir = tempfile::tempdir().unwrap();
    let check = |model: &str, template: &str| -> Vec<Value> {
        let m = expert(
            &dir.path().join(template),
            model,
            Some(template),
            json!({}),
            &[json!({"instruction": "I", "output": "O"})],
        );
        let out = cmd()
            .args(["--format", "json", "validate"])
            .arg(&m)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "W0405")
            .cloned()
            .collect()
    };
    let w = check("Qwen/Qwen3-0.6B", "chatml");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["pointer"], "/base_models/0/prompt_template");
    assert_eq!(w[0]["hint"], "set \"prompt_template\": \"qwen3\"");
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("is a Qwen3 model"),
        "{w:?}"
    );
    let w = check("meta-llama/Meta-Llama-3-8B-Instruct", "llama");
    assert_eq!(w[0]["hint"], "set \"prompt_template\": \"llama3\"");
    assert!(check("meta-llama/Meta-Llama-3-8B-Instruct", "llama3").is_empty());
    assert!(
        check("Qwen/Qwen3-0.6B", "alpaca").is_empty(),
        "alpaca is no family's template"
    );
    assert!(
        check("my-org/custom-model", "gemma").is_empty(),
        "unknown family"
    );
}

/// Every `training.dataset` shape of the corpus: the real manifests' dataset sections (through
/// `train --dry-run` with a small file at their path) and the real dataset samples.
#[test]
fn every_dataset_shape_of_the_corpus_trains_or_is_refused_with_a_reason() {
    let Some(corpus) = corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(corpus.join("manifests/public"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    manifests.sort();
    for (i, path) in manifests.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let e = dir.path().join(format!("m{i}"));
        std::fs::create_dir_all(&e).unwrap();
        let m = e.join("manifest.json");
        std::fs::write(&m, &bytes).unwrap();
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let training = parsed
            .as_ref()
            .map(|v| v["training"].clone())
            .unwrap_or(Value::Null);
        let dataset = &training["dataset"];
        let rel = dataset["path"].as_str().or(dataset.as_str());
        let mapping = &dataset["field_mapping"];
        if let Some(rel) = rel.filter(|p| p.ends_with(".jsonl")) {
            let row = if let Some(col) = mapping["text"].as_str() {
                json!({col: "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"})
            } else {
                let col = |k: &str, d: &str| mapping[k].as_str().unwrap_or(d).to_owned();
                json!({col("instruction", "instruction"): "Q", col("input", "input"): "C", col("response", "output"): "A"})
            };
            let paths = [Some(rel), dataset["validation_path"].as_str()];
            for rel in paths.into_iter().flatten() {
                let file = e.join(rel);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, format!("{row}\n")).unwrap();
            }
        }
        let models = parsed
            .as_ref()
            .and_then(|v| v["base_models"].as_array().cloned())
            .unwrap_or_default();
        let mut extra: Vec<String> = Vec::new();
        if models.len() > 1 {
            extra = vec![
                "--model".into(),
                models[0]["name"].as_str().unwrap_or("").into(),
            ];
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (code, v, stderr) = dry_run(&m, &extra);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match code {
            0 => {
                assert_eq!(v["train"]["bad_total"], 0, "{name}: {v}");
                let ex = &v["examples"][0];
                assert!(
                    ex["train"].as_array().is_some_and(|t| !t.is_empty()),
                    "{name}: {v}"
                );
                let trained: String = ex["segments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["trained"] == true)
                    .map(|s| s["text"].as_str().unwrap())
                    .collect();
                assert!(
                    trained.starts_with('A') || trained.starts_with(" A"),
                    "{name}: only the answer is trained: {trained:?}"
                );
                outcomes.push(format!(
                    "{name}: trains ({})",
                    v["plan"]["dataset"]["field_map"]["rows"]
                ));
            }
            1 | 2 => {
                assert!(
                    stderr.contains("error: ") && stderr.contains("hint: "),
                    "{name}: {stderr}"
                );
                outcomes.push(format!(
                    "{name}: refused: {}",
                    stderr.lines().next().unwrap_or("")
                ));
            }
            other => panic!("{name}: exit {other}: {stderr}"),
        }
    }
    let joined = outcomes.join("\n");
    // the shapes that matter, as they come out
    assert!(joined.contains("expert-sql__47dc4dc__manifest.json: refused: error: dataset format `huggingface` is not supported"), "{joined}");
    assert!(
        joined
            .contains("expert-neo4j__cf7a7f3__manifest.json: trains ({\"text: chatml markup\":1})"),
        "{joined}"
    );
    assert!(
        joined.contains("expert-sql__f159d53__manifest.json: trains ({\"instruction\":1})"),
        "{joined}"
    );
    // the documentation's examples fail validation before their dataset is read
    assert!(
        joined.contains("expert__ec36ebf__docs-GIT_DISTRIBUTION.md-L139.json: refused: "),
        "{joined}"
    );

    // The real samples.
    let samples = corpus.join("datasets");
    let sample = |file: &str, template: &str, mapping: Value| {
        let e = dir.path().join(file);
        let m = expert(&e, "Qwen/Qwen3-0.6B", Some(template), mapping, &[]);
        std::fs::copy(samples.join(file), e.join("train.jsonl")).unwrap();
        dry_run(&m, &[])
    };
    // text with legacy <|system|>/<|user|>/<|assistant|> tags → Qwen3's chat format, answers trained
    let (code, v, stderr) = sample(
        "expert-elastic__89ea153__datasets-train.head200.jsonl",
        "qwen3",
        json!({"text": "text"}),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["train"]["examples"], 200);
    assert_eq!(
        v["plan"]["dataset"]["field_map"]["rows"],
        json!({"text: tags markup": 200})
    );
    let ex = &v["examples"][0];
    assert!(ex["text"].as_str().unwrap().starts_with("<|im_start|>system\nDialect: elastic\nTask: mapping_create\nDomain: ecs:base<|im_end|>\n<|im_start|>user\nGenerate a mapping for base including tags, labels.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n{\"index_patterns\""), "{ex}");
    // flat instruction/output with extra columns → instruction rows; the extra columns reported
    let (code, v, stderr) = sample(
        "expert-elastic__89ea153__datasets-raw-dsl_examples-dsl_examples.head200.jsonl",
        "qwen3",
        json!({}),
    );
    assert_eq!(code, 0, "{stderr}");
    let warnings = v["plan"]["warnings"].to_string();
    assert!(warnings.contains("dataset columns `domain` (200 rows), `source` (200 rows), `task` (200 rows) are not used"), "{warnings}");
    // nested multi-task rows: refused with the mapping that works, which then trains
    let (code, _, stderr) = sample(
        "expert-json__c65358f__datasets-json_repair_enhanced-train.head200.jsonl",
        "qwen3",
        json!({}),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "its `input` is an object with an `instruction` (upstream's multi-task shape)"
        ),
        "{stderr}"
    );
    let (code, v, stderr) = sample(
        "expert-json__c65358f__datasets-json_repair_enhanced-train.head200.jsonl",
        "qwen3",
        json!({"instruction": "/input/instruction", "input": "/input/broken_json", "response": "output", "input_label": "JSON"}),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["train"]["examples"], 57);
    assert!(
        v["examples"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\n\nJSON:\n{\"email\""),
        "{v}"
    );
    // a bare string (schema 1.0 documents write one) is refused by validation, with the reason
    let e = dir.path().join("bare");
    let m = expert(
        &e,
        "Qwen/Qwen3-0.6B",
        None,
        json!({}),
        &[json!({"instruction": "Q", "output": "A"})],
    );
    let mut v: Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    v["training"]["dataset"] = json!("train.jsonl");
    std::fs::write(&m, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let (code, _, stderr) = dry_run(&m, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("/training/dataset: must be an object, found string"),
        "{stderr}"
    );
    // multi-task manifests are refused at plan time
    let e = dir.path().join("multi");
    let m = expert(&e, "Qwen/Qwen3-0.6B", None, json!({}), &[]);
    let text = std::fs::read_to_string(&m).unwrap().replace(
        "\"format\": \"jsonl\"",
        "\"format\": \"jsonl\", \"type\": \"multi_task\"",
    );
    std::fs::write(&m, text).unwrap();
    let (code, _, stderr) = dry_run(&m, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("multi-task datasets is not supported")
            && stderr.contains("hint: merge the tasks"),
        "{stderr}"
    );
}
