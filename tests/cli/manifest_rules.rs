//! Every rule and every edge case of upstream-manifest.md §6, with the outcome SPEC §3 asks for:
//! each test asserts the code, the JSON pointer and the line.

use crate::common::*;
use expert_cli::manifest::{check_bytes, Checked, Role, SchemaVersion, Severity};

fn check(text: &str) -> Checked {
    check_bytes(text.as_bytes(), Role::Authored)
}

/// Asserts that `text` has a diagnostic with `code` at `pointer` on `line`, and returns its message.
#[track_caller]
fn has(text: &str, code: &str, pointer: &str, line: usize) -> String {
    let c = check(text);
    let found = c
        .diagnostics
        .0
        .iter()
        .find(|d| d.code.as_str() == code && d.pointer == pointer);
    match found {
        Some(d) => {
            assert_eq!(
                d.line, line,
                "{code} {pointer}: wrong line in {:#?}",
                c.diagnostics
            );
            d.message.clone()
        }
        None => panic!("no {code} at {pointer}; found {:#?}", c.diagnostics.0),
    }
}

fn codes(text: &str, severity: Severity) -> Vec<String> {
    check(text)
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| format!("{} {}", d.code.as_str(), d.pointer))
        .collect()
}

#[test]
fn fixtures_are_valid() {
    for f in ["manifests/valid-v1.json", "manifests/valid-v2.json"] {
        let c = check(&String::from_utf8(read(&fixture(f))).unwrap());
        assert!(c.manifest.is_some(), "{f}: {:#?}", c.diagnostics);
        assert_eq!(
            codes(
                &String::from_utf8(read(&fixture(f))).unwrap(),
                Severity::Error
            ),
            Vec::<String>::new()
        );
    }
}

#[test]
fn v1_becomes_a_one_entry_base_models() {
    let c = check(&v1_with("\"r\": 8", "\"r\": 8"));
    let m = c.manifest.unwrap();
    assert_eq!(m.schema, SchemaVersion::V1);
    assert_eq!(m.base_models.len(), 1);
    assert_eq!(m.base_models[0].pointer, "/base_model");
    assert_eq!(m.base_models[0].slug, "qwen306b");
    assert_eq!(m.base_models[0].adapters[0].pointer, "/adapters/0");
    assert_eq!(m.base_models[0].adapters[0].kind, "lora");
}

#[test]
fn a_missing_schema_version_is_inferred_but_2_0_must_be_written() {
    // 1.0 shape: inferred with a note (the runtime's default is 1.0 too)
    let v1 = v1_with("  \"schema_version\": \"1.0\",\n", "");
    assert_eq!(
        check(&v1).manifest.map(|m| m.schema),
        Some(SchemaVersion::V1)
    );
    assert!(has(&v1, "N0101", "", 1).contains("read as 1.0"));
    // 2.0 shape: still checked as 2.0, but the runtime reads it as 1.0 and cannot load it
    let text = v2_with("  \"schema_version\": \"2.0\",\n", "");
    let c = check(&text);
    assert!(c.manifest.is_none());
    let msg = has(&text, "E0207", "/schema_version", 1);
    assert!(msg.contains("read as 2.0"), "{msg}");
    assert!(
        codes(&text, Severity::Error) == vec!["E0207 /schema_version"],
        "checked as 2.0: {:?}",
        codes(&text, Severity::Error)
    );
}

#[test]
fn schema_version_aliases_and_unknown_values() {
    // "2" means 2.0 to us, 1.0 to the runtime (only "2.0" is 2.0 there)
    let msg = has(
        &v2_with("\"schema_version\": \"2.0\"", "\"schema_version\": \"2\""),
        "E0101",
        "/schema_version",
        4,
    );
    assert!(msg.contains("runtime"), "{msg}");
    assert!(check(&v1_with(
        "\"schema_version\": \"1.0\"",
        "\"schema_version\": \"1\""
    ))
    .manifest
    .is_some());
    let msg = has(
        &v2_with("\"schema_version\": \"2.0\"", "\"schema_version\": \"3.0\""),
        "E0101",
        "/schema_version",
        4,
    );
    assert!(
        msg.contains("schema_version") && msg.contains("3.0"),
        "{msg}"
    );
    has(
        &v2_with(
            "\"schema_version\": \"2.0\"",
            "\"schema_version\": \"2.0.0\"",
        ),
        "E0101",
        "/schema_version",
        4,
    );
    // a number, null
    has(
        &v2_with("\"schema_version\": \"2.0\"", "\"schema_version\": 2.0"),
        "E0101",
        "/schema_version",
        4,
    );
    has(
        &v2_with("\"schema_version\": \"2.0\"", "\"schema_version\": null"),
        "E0101",
        "/schema_version",
        4,
    );
    // declared 1.0 but shaped 2.0: a targeted error, not upstream's "requires base_model"
    let msg = has(
        &v2_with("\"schema_version\": \"2.0\"", "\"schema_version\": \"1.0\""),
        "E0101",
        "/schema_version",
        4,
    );
    assert!(msg.contains("uses `base_models`"), "{msg}");
}

#[test]
fn base_model_and_base_models_together_is_an_error() {
    let text = v2_with(
        "\"capabilities\"",
        "\"base_model\": {\"name\": \"x\"},\n  \"capabilities\"",
    );
    has(&text, "E0102", "/base_models", 8);
    // null base_model next to base_models is fine (null = absent)
    let ok = v2_with(
        "\"capabilities\"",
        "\"base_model\": null,\n  \"capabilities\"",
    );
    assert!(check(&ok).manifest.is_some());
}

#[test]
fn neither_base_model_nor_base_models() {
    let text = v1_with("\"base_model\"", "\"base_modelx\"");
    has(&text, "E0103", "/base_model", 1);
}

#[test]
fn duplicate_keys_name_both_lines() {
    let text = v2_with(
        "\"author\": \"expert-cli tests\",",
        "\"author\": \"a\",\n  \"author\": \"b\",",
    );
    let msg = has(&text, "E0002", "/author", 7);
    assert!(msg.contains("line 6"), "{msg}");
    // a duplicate `_comment` is only a warning (expert-sql 7a80739 has one)
    let text = v2_with(
        "\"_comment\": \"comments are kept\",",
        "\"_comment\": \"a\",\n  \"_comment\": \"b\",",
    );
    has(&text, "W0002", "/_comment", 8);
    assert!(check(&text).manifest.is_some());
}

#[test]
fn bom_and_crlf_are_accepted() {
    let text = format!(
        "\u{feff}{}",
        v2_with("\"r\": 8", "\"r\": 8").replace('\n', "\r\n")
    );
    let c = check(&text);
    assert!(c.manifest.is_some(), "{:#?}", c.diagnostics);
    let bad = format!(
        "\u{feff}{}",
        v2_with("\"r\": 8", "\"r\": 0").replace('\n', "\r\n")
    );
    has(&bad, "E0204", "/base_models/0/adapters/0/r", 18);
}

#[test]
fn syntax_errors() {
    for (text, line, col, what) in [
        ("", 1, 1, "empty"),
        ("[]", 1, 1, "must be a JSON object"),
        ("{\"name\": \"x\",}", 1, 13, "trailing comma"),
        ("{\n  // comment\n}", 2, 3, "expected a key"),
    ] {
        let c = check(text);
        let d = &c.diagnostics.0[0];
        assert_eq!((d.line, d.column), (line, col), "{text:?}: {d:#?}");
        assert!(d.message.contains(what), "{text:?}: {}", d.message);
    }
}

#[test]
fn name_and_version() {
    has(
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"\""),
        "E0301",
        "/name",
        2,
    );
    has(
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"../../etc\""),
        "E0301",
        "/name",
        2,
    );
    has(
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"  \""),
        "E0301",
        "/name",
        2,
    );
    has(
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"sample\""),
        "W0301",
        "/name",
        2,
    );
    has(
        &v2_with("\"version\": \"0.1.0\"", "\"version\": \"\""),
        "E0302",
        "/version",
        3,
    );
    has(
        &v2_with("\"version\": \"0.1.0\"", "\"version\": \"not-semver\""),
        "E0302",
        "/version",
        3,
    );
    assert!(check(&v2_with(
        "\"version\": \"0.1.0\"",
        "\"version\": \"1.0.0-alpha\""
    ))
    .manifest
    .is_some());
    assert!(check(&v2_with(
        "\"version\": \"0.1.0\"",
        "\"version\": \"2.0.0-beta.1\""
    ))
    .manifest
    .is_some());
    has(
        &v2_with(
            "\"description\": \"A small valid expert used by the tests.\",\n",
            "",
        ),
        "E0207",
        "/description",
        1,
    );
}

#[test]
fn base_model_rules() {
    has(
        &v2_with("\"name\": \"Qwen/Qwen3-1.7B\"", "\"name\": \"\""),
        "E0205",
        "/base_models/1/name",
        27,
    );
    has(
        &v2_with("\"name\": \"Qwen/Qwen3-1.7B\"", "\"name\": \"   \""),
        "E0205",
        "/base_models/1/name",
        27,
    );
    let msg = has(
        &v2_with(
            "\"name\": \"Qwen/Qwen3-1.7B\"",
            "\"name\": \"Qwen/Qwen3-0.6B\"",
        ),
        "E0401",
        "/base_models/1/name",
        27,
    );
    assert!(msg.contains("/base_models/0"), "{msg}");
    has(
        &v2_with(
            "\"name\": \"Qwen/Qwen3-1.7B\"",
            "\"name\": \"local/qwen3_0.6b\"",
        ),
        "W0404",
        "/base_models/1/name",
        27,
    );
    has(
        &v2_with(
            "\"name\": \"Qwen/Qwen3-1.7B\"",
            "\"name\": \"F:/models/Qwen3-1.7B\"",
        ),
        "W0401",
        "/base_models/1/name",
        27,
    );
    has(
        &v2_with("\"quantization\": \"bf16\"", "\"quantization\": \"int3\""),
        "W0203",
        "/base_models/0/quantization",
        12,
    );
    let msg = has(
        &v2_with(
            "\"prompt_template\": \"qwen3\"",
            "\"prompt_template\": \"chatm\"",
        ),
        "E0203",
        "/base_models/0/prompt_template",
        13,
    );
    assert!(msg.contains("chatm"));
    assert!(check(&v2_with("\"sha256\": \"\",\n      \"quantization\"", "\"sha256\": \"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\",\n      \"quantization\"")).manifest.is_some());
    has(
        &v2_with(
            "\"sha256\": \"\",\n      \"quantization\"",
            "\"sha256\": \"not-hex!\",\n      \"quantization\"",
        ),
        "E0404",
        "/base_models/0/sha256",
        11,
    );
    // rope_scaling: a name, or the full object
    assert!(check(&v2_with(
        "\"quantization\": \"bf16\"",
        "\"quantization\": \"bf16\", \"rope_scaling\": \"yarn-128k\""
    ))
    .manifest
    .is_some());
    has(
        &v2_with(
            "\"quantization\": \"bf16\"",
            "\"quantization\": \"bf16\", \"rope_scaling\": {\"type\": \"yarn\"}",
        ),
        "E0207",
        "/base_models/0/rope_scaling/factor",
        12,
    );
    has(
        &v2_with(
            "\"quantization\": \"bf16\"",
            "\"quantization\": \"bf16\", \"rope_scaling\": 4",
        ),
        "E0202",
        "/base_models/0/rope_scaling",
        12,
    );
}

#[test]
fn adapter_rules() {
    has(
        &v2_with("\"r\": 16,", "\"r\": 0,"),
        "E0204",
        "/base_models/1/adapters/0/r",
        33,
    );
    // the runtime reads r as a u32: a fraction, a float, a negative or an overflow fails there
    for bad in ["16.5", "16.0", "1e1", "-1", "4294967296"] {
        has(
            &v2_with("\"r\": 16,", &format!("\"r\": {bad},")),
            "E0208",
            "/base_models/1/adapters/0/r",
            33,
        );
    }
    has(
        &v2_with("\"r\": 16,", "\"r\": 300,"),
        "E0204",
        "/base_models/1/adapters/0/r",
        33,
    );
    has(
        &v2_with("\"r\": 16,", ""),
        "E0403",
        "/base_models/1/adapters/0/r",
        30,
    );
    has(
        &v2_with("\"dropout\": 0.05,", "\"dropout\": 5.0,"),
        "E0204",
        "/base_models/0/adapters/0/dropout",
        20,
    );
    has(
        &v2_with("\"size_bytes\": 0,", "\"size_bytes\": -1,"),
        "E0208",
        "/base_models/0/adapters/0/size_bytes",
        21,
    );
    // u64: more than u32 holds is fine, more than u64 holds is not
    assert!(check(&v2_with(
        "\"size_bytes\": 0,",
        "\"size_bytes\": 5000000000,"
    ))
    .manifest
    .is_some());
    has(
        &v2_with(
            "\"size_bytes\": 0,",
            "\"size_bytes\": 18446744073709551616,",
        ),
        "E0208",
        "/base_models/0/adapters/0/size_bytes",
        21,
    );
    has(
        &v2_with(
            "\"target_modules\": [\"q_proj\", \"v_proj\"],\n          \"r\": 8",
            "\"target_modules\": [],\n          \"r\": 8",
        ),
        "E0205",
        "/base_models/0/adapters/0/target_modules",
        17,
    );
    let msg = has(&v2_with("\"type\": \"lora\",\n          \"target_modules\": [\"q_proj\", \"v_proj\"],\n          \"r\": 8", "\"type\": \"banana\",\n          \"target_modules\": [\"q_proj\", \"v_proj\"],\n          \"r\": 8"), "E0203", "/base_models/0/adapters/0/type", 16);
    assert!(msg.contains("banana"));
    // ia3 needs no rank, in any case
    let ia3 = v2_with("\"type\": \"lora\",\n          \"target_modules\": [\"q_proj\", \"v_proj\"],\n          \"r\": 16,\n          \"alpha\": 32", "\"type\": \"ia3\",\n          \"target_modules\": [\"q_proj\", \"v_proj\"]");
    assert!(
        codes(&ia3, Severity::Error).is_empty(),
        "{:?}",
        codes(&ia3, Severity::Error)
    );
    has(&ia3, "W0402", "/base_models/1/adapters/0/type", 31);
    // v2 model without adapters, with []
    has(
        &v2_with(
            "\"prompt_template\": \"chatml\",\n      \"adapters\": [",
            "\"prompt_template\": \"chatml\",\n      \"adapters\": [], \"_old\": [",
        ),
        "E0205",
        "/base_models/1/adapters",
        29,
    );
    // path safety
    has(
        &v2_with(
            "\"size_bytes\": 0,",
            "\"size_bytes\": 0, \"path\": \"../../etc\",",
        ),
        "E0501",
        "/base_models/0/adapters/0/path",
        21,
    );
    has(
        &v2_with(
            "\"size_bytes\": 0,",
            "\"size_bytes\": 0, \"path\": \"C:\\\\w\",",
        ),
        "E0501",
        "/base_models/0/adapters/0/path",
        21,
    );
}

#[test]
fn v1_adapter_rules() {
    has(
        &v1_with("\"adapters\": [", "\"adaptersx\": ["),
        "E0207",
        "/adapters",
        1,
    );
    assert!(check(&v1_with(
        "\"r\": 8,\n      \"alpha\": 16\n    }\n  ]",
        "\"r\": 8,\n      \"alpha\": 16\n    }\n  ], \"base_models\": null"
    ))
    .manifest
    .is_some());
    let text = v1_with(
        "\"r\": 8,\n      \"alpha\": 16\n    }",
        "\"r\": 0,\n      \"alpha\": 16\n    }",
    );
    has(&text, "E0204", "/adapters/0/r", 16);
}

#[test]
fn v2_root_adapters_are_a_warning() {
    has(
        &v2_with("\"capabilities\"", "\"adapters\": [],\n  \"capabilities\""),
        "W0403",
        "/adapters",
        39,
    );
}

#[test]
fn training_config_rules() {
    has(
        &v2_with("\"epochs\": 1.5,", "\"epochs\": 0,"),
        "E0204",
        "/training/config/epochs",
        57,
    );
    has(
        &v2_with("\"epochs\": 1.5,", "\"epochs\": -1,"),
        "E0204",
        "/training/config/epochs",
        57,
    );
    has(
        &v2_with("\"epochs\": 1.5,", "\"epochs\": \"3\","),
        "E0202",
        "/training/config/epochs",
        57,
    );
    assert!(check(&v2_with("\"epochs\": 1.5,", "\"epochs\": 2.5,"))
        .manifest
        .is_some());
    has(
        &v2_with("\"epochs\": 1.5,", ""),
        "E0207",
        "/training/config/epochs",
        51,
    );
    // the trainer reads num_epochs, the runtime only epochs
    let c = check(&v2_with("\"epochs\": 1.5,", "\"num_epochs\": 2.5,"));
    let d = c
        .diagnostics
        .errors()
        .find(|d| d.pointer == "/training/config/epochs")
        .unwrap();
    assert_eq!(d.hint.as_deref(), Some("add \"epochs\": 2.5 — the expert runtime cannot load a manifest without it (it does not read `num_epochs`)"));
    has(
        &v2_with("\"learning_rate\": 5e-5,", "\"learning_rate\": 0,"),
        "E0204",
        "/training/config/learning_rate",
        58,
    );
    has(
        &v2_with("\"rank\": 8,", "\"rank\": 0,"),
        "E0204",
        "/training/config/rank",
        54,
    );
    has(
        &v2_with("\"rank\": 8,", ""),
        "E0403",
        "/training/config/rank",
        51,
    );
    has(
        &v2_with("\"rank\": 8,", "\"rank\": 16.0,"),
        "E0208",
        "/training/config/rank",
        54,
    );
    // an integer field the runtime does not read keeps the format's own rule
    has(
        &v2_with(
            "\"lr_scheduler\": \"cosine\"",
            "\"lr_scheduler\": \"cosine\", \"max_steps\": 10.0",
        ),
        "E0202",
        "/training/config/max_steps",
        62,
    );
    has(
        &v2_with(
            "\"target_modules\": [\"q_proj\", \"v_proj\"],\n      \"epochs\"",
            "\"target_modules\": [],\n      \"epochs\"",
        ),
        "E0205",
        "/training/config/target_modules",
        56,
    );
    has(
        &v2_with("\"batch_size\": 2,", "\"batch_size\": 0,"),
        "E0204",
        "/training/config/batch_size",
        59,
    );
    has(
        &v2_with(
            "\"lr_scheduler\": \"cosine\"",
            "\"lr_scheduler\": \"cosine\", \"gradient_checkpointing\": \"full\"",
        ),
        "W0202",
        "/training/config/gradient_checkpointing",
        62,
    );
    has(
        &v2_with(
            "\"lr_scheduler\": \"cosine\"",
            "\"lr_scheduler\": \"cosine\", \"warmup_ratio\": 1.5",
        ),
        "E0204",
        "/training/config/warmup_ratio",
        62,
    );
}

#[test]
fn training_config_null_optional_is_fine() {
    let c = check(&v2_with(
        "\"lr_scheduler\": \"cosine\"",
        "\"lr_scheduler\": \"cosine\", \"save_total_limit\": null",
    ));
    assert!(c.manifest.is_some(), "{:#?}", c.diagnostics);
}

#[test]
fn unknown_keys_warn_with_did_you_mean() {
    let text = v2_with(
        "\"learning_rate\": 5e-5,",
        "\"learning_rate\": 5e-5, \"learnig_rate\": 1,",
    );
    let c = check(&text);
    let d = c
        .diagnostics
        .0
        .iter()
        .find(|d| d.code.as_str() == "W0201" && d.pointer == "/training/config/learnig_rate")
        .unwrap();
    assert_eq!(d.line, 58);
    assert_eq!(d.hint.as_deref(), Some("did you mean `learning_rate`?"));
    assert!(c.manifest.is_some(), "warnings do not fail");
    assert!(c.diagnostics.fails(true), "--strict makes them fail");
}

#[test]
fn dataset_rules() {
    has(
        &v2_with("\"path\": \"datasets/train.jsonl\",", ""),
        "E0601",
        "/training/dataset",
        46,
    );
    has(
        &v2_with(
            "\"path\": \"datasets/train.jsonl\",",
            "\"path\": \"/data/train.jsonl\",",
        ),
        "E0501",
        "/training/dataset/path",
        47,
    );
    let hub = v2_with(
        "\"path\": \"datasets/train.jsonl\",\n      \"format\": \"jsonl\",",
        "\"path\": \"b-mc2/sql-create-context\",\n      \"format\": \"huggingface\",",
    );
    assert!(check(&hub).manifest.is_some());
    has(
        &v2_with("\"dataset\": {", "\"dataset\": \"x\", \"datasetx\": {"),
        "E0202",
        "/training/dataset",
        46,
    );
}

#[test]
fn soft_prompts_and_grammar_paths() {
    let sp = v2_with("\"capabilities\"", "\"soft_prompts\": [{\"name\": \"a\", \"path\": \"../../../etc/passwd\", \"tokens\": 0}],\n  \"capabilities\"");
    has(&sp, "E0501", "/soft_prompts/0/path", 39);
    has(&sp, "E0204", "/soft_prompts/0/tokens", 39);
    // absent is fine; null is not (a serde default covers only absence)
    has(
        &v2_with(
            "\"capabilities\"",
            "\"soft_prompts\": null,\n  \"capabilities\"",
        ),
        "E0207",
        "/soft_prompts",
        1,
    );
    let len = v2_with("\"capabilities\"", "\"soft_prompts\": [{\"name\": \"a\", \"path\": \"a.pt\", \"length\": 20}],\n  \"capabilities\"");
    let c = check(&len);
    let d = c
        .diagnostics
        .0
        .iter()
        .find(|d| d.pointer == "/soft_prompts/0/length")
        .unwrap();
    assert_eq!(d.hint.as_deref(), Some("did you mean `tokens`?"));
    has(&v2_with("\"lr_scheduler\": \"cosine\"\n    }", "\"lr_scheduler\": \"cosine\"\n    },\n    \"decoding\": {\"grammar_file\": \"/etc/x.gbnf\", \"top_p\": 9}"), "E0501", "/training/decoding/grammar_file", 64);
}

#[test]
fn capabilities_constraints_routing() {
    has(
        &v2_with("\"capabilities\": [\"tech:sample\"],\n", ""),
        "E0207",
        "/capabilities",
        1,
    );
    assert!(check(&v2_with(
        "\"capabilities\": [\"tech:sample\"]",
        "\"capabilities\": []"
    ))
    .manifest
    .is_some());
    has(
        &v2_with("\"load_order\": 5,", "\"load_order\": -1,"),
        "E0208",
        "/constraints/load_order",
        41,
    );
    has(
        &v2_with(
            "\"capabilities\"",
            "\"routing\": {\"priority\": 7.5},\n  \"capabilities\"",
        ),
        "E0207",
        "/routing/keywords",
        39,
    );
    has(
        &v2_with(
            "\"capabilities\"",
            "\"routing\": {\"keywords\": [], \"priority\": 7.5},\n  \"capabilities\"",
        ),
        "E0204",
        "/routing/priority",
        39,
    );
    has(
        &v2_with(
            "\"capabilities\"",
            "\"perf\": {\"latency_ms_overhead\": 1},\n  \"capabilities\"",
        ),
        "E0207",
        "/perf/vram_mb_overhead",
        39,
    );
}

#[test]
fn integrity_in_an_authored_manifest_is_a_warning() {
    let text = v2_with(
        "\"license\": \"MIT\",",
        "\"license\": \"MIT\",\n  \"integrity\": {\"publisher\": \"x\", \"files\": {}},",
    );
    has(&text, "W0601", "/integrity", 66);
    let packaged = check_bytes(text.as_bytes(), Role::Packaged);
    assert!(!packaged
        .diagnostics
        .0
        .iter()
        .any(|d| d.code.as_str() == "W0601"));
}

#[test]
fn every_error_is_reported_in_one_pass() {
    let text = v2_with("\"version\": \"0.1.0\"", "\"version\": \"x\"")
        .replace("\"r\": 8,", "\"r\": 0,")
        .replace("\"batch_size\": 2,", "\"batch_size\": 0,");
    let errors = codes(&text, Severity::Error);
    assert_eq!(
        errors,
        vec![
            "E0302 /version",
            "E0204 /base_models/0/adapters/0/r",
            "E0204 /training/config/batch_size"
        ]
    );
}

#[test]
fn hostile_manifests_do_not_panic() {
    for text in [
        "[".repeat(200_000),
        "{\"a\":".repeat(10_000),
        "\"\\u0000\"".to_owned(),
        "{\"name\": \"\u{0}\"}".to_owned(),
        "{\"a\": 1e400}".to_owned(),
    ] {
        let c = check(&text);
        assert!(c.diagnostics.fails(false));
    }
    let c = check_bytes(b"{\"name\": \"\xff\xfe\"}", Role::Authored);
    assert!(c.diagnostics.0[0].message.contains("UTF-8"));
}
