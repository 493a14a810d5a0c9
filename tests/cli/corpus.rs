//! The 42 real manifests of `../shared/corpus/manifests/public`: the judgement test.
//! Real expert manifests (expert-* repositories) must load in the upstream expert runtime with
//! no error from us; every file that gets an error gets it for the reason written here.
//!
//! This overrides the earlier rule that every real manifest gets warnings at most (SPEC §0,
//! issue #11): "valid" means "the runtime can load it", and the runtime itself (hivellm/expert
//! `cli/src/manifest.rs` at 9cd24b1) refuses two real `expert-tools` manifests, 39d3a3f and
//! 59d52a9: serde stops at "missing field `target_modules`". `validate` reports that error and
//! everything else the runtime would stumble over next (`num_epochs` where it reads `epochs`,
//! a missing `warmup_steps` or `lr_scheduler`, an `evaluation` without `test_set_size` and with
//! a list of metric names where it reads a map of numbers).

use crate::common::*;
use expert_cli::manifest::{check_bytes, edit, migrate, Role, Severity, Source};
use std::collections::BTreeMap;

fn files() -> Option<Vec<std::path::PathBuf>> {
    let dir = corpus()?.join("manifests/public");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert_eq!(v.len(), 42, "the corpus has 42 manifests");
    Some(v)
}

fn name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The two real manifests the runtime refuses, and what it (and we) find missing.
const RUNTIME_REFUSES: &[(&str, &[&str])] = &[
    (
        "expert-tools__39d3a3f__manifest.json",
        &[
            "E0202 /evaluation/metrics",
            "E0207 /evaluation/test_set_size",
            "E0207 /training/config/epochs",
            "E0207 /training/config/target_modules",
            "E0207 /training/config/warmup_steps",
        ],
    ),
    (
        "expert-tools__59d52a9__manifest.json",
        &[
            "E0202 /evaluation/metrics",
            "E0207 /evaluation/test_set_size",
            "E0207 /training/config/epochs",
            "E0207 /training/config/lr_scheduler",
            "E0207 /training/config/target_modules",
        ],
    ),
];

/// Why each file fails: the two runtime refusals above, and placeholders and drafts from docs
/// and fixtures. E0207 is a key the runtime requires (each of these files fails to load there
/// too, see reference/upstream-manifest.md §6).
fn expected_errors() -> BTreeMap<&'static str, (&'static [&'static str], &'static str)> {
    let mut m = BTreeMap::from([
        ("expert__4dbe664__experts-AGENTS.md-L119.json", (&["E0205 /base_models/0/adapters", "E0301 /name"][..], "a template: `expert-<name>` placeholder and `adapters: []`")),
        ("expert__754570e__experts-AGENTS.md-L119.json", (&["E0001 "][..], "not JSON: a `# Note` comment inside the object")),
        ("expert__ec36ebf__cli-tests-fixtures-manifest_v1.json", (&["E0404 /adapters/0/sha256", "E0404 /base_model/sha256"][..], "test fixture with placeholder hashes `test_hash_v1`")),
        ("expert__ec36ebf__cli-tests-fixtures-manifest_v2.json", (&["E0404 /base_models/0/adapters/0/sha256", "E0404 /base_models/0/sha256", "E0404 /base_models/1/adapters/0/sha256", "E0404 /base_models/1/sha256"][..], "test fixture with placeholder hashes")),
        ("expert__ec36ebf__docs-CLI.md-L189.json", (&["E0207 /base_models/0/adapters/0/target_modules", "E0207 /base_models/1/adapters/0/target_modules", "E0207 /capabilities", "E0207 /constraints", "E0207 /description", "E0207 /training", "E0404 /base_models/0/sha256", "E0404 /base_models/1/sha256"][..], "doc fragment: no description, capabilities, constraints, training or adapter target_modules; `abc123...` hashes")),
        ("expert__ec36ebf__docs-EXPERT_FORMAT.md-L55.json", (&["E0202 /training/dataset", "E0207 /constraints/load_order", "E0207 /soft_prompts/0/tokens", "E0207 /training/config", "E0404 /adapters/0/sha256", "E0404 /base_model/sha256", "E0404 /soft_prompts/0/sha256"][..], "old flat `training` with a string dataset, `length` for `tokens`, constraints without load_order, elided hashes")),
        ("expert__ec36ebf__docs-EXPERT_FORMAT.md-L628.json", (&["E0207 /constraints", "E0207 /integrity/signature_algorithm", "E0207 /training", "E0404 /adapters/0/sha256", "E0404 /base_model/sha256"][..], "doc fragment: no constraints or training, integrity without signature_algorithm, elided hashes")),
        ("expert__ec36ebf__docs-EXPERT_FORMAT.md-L668.json", (&["E0202 /training/dataset", "E0207 /constraints/load_order", "E0207 /soft_prompts/0/tokens", "E0207 /training/config", "E0404 /adapters/0/sha256", "E0404 /base_model/sha256", "E0404 /soft_prompts/0/sha256"][..], "old flat training, `length` for `tokens`, constraints without load_order, elided hashes")),
        ("expert__ec36ebf__docs-EXPERT_FORMAT.md-L771.json", (&["E0207 /capabilities", "E0207 /constraints", "E0207 /description", "E0207 /training", "E0404 /base_models/0/adapters/0/sha256", "E0404 /base_models/0/sha256", "E0404 /base_models/1/adapters/0/sha256", "E0404 /base_models/1/sha256"][..], "doc fragment of the multi-model shape")),
        ("expert__ec36ebf__docs-GIT_DISTRIBUTION.md-L139.json", (&["E0202 /training/dataset", "E0207 /constraints/incompatible_with", "E0207 /integrity/files", "E0207 /integrity/signature_algorithm", "E0207 /training/config", "E0404 /base_model/sha256"][..], "old flat training, partial constraints and integrity, elided hash")),
        ("expert__ec36ebf__experts-README.md-L63.json", (&["E0207 /adapters", "E0207 /constraints", "E0207 /training/config/gradient_accumulation_steps", "E0207 /training/config/lr_scheduler", "E0207 /training/config/target_modules", "E0207 /training/config/warmup_steps"][..], "a 1.0 manifest with no adapters, constraints or full training config")),
        ("expert__ec36ebf__openspec-changes-archive-2025-11-03-add-multi-model-support-README.md-L108.json", (&["E0207 /capabilities", "E0207 /constraints", "E0207 /training"][..], "design-note fragment: no capabilities, constraints or training")),
        ("expert__ec36ebf__schemas-example-expert-complete.json", (&["E0207 /evaluation/test_set_size", "E0207 /integrity/files", "E0207 /integrity/publisher", "E0207 /integrity/signature_algorithm", "E0404 /base_models/0/adapters/0/sha256", "E0404 /base_models/0/sha256"][..], "schema example: schema-style evaluation and integrity the runtime cannot read (it fails on `test_set_size`), `abc123...` hashes")),
    ]);
    for (file, codes) in RUNTIME_REFUSES {
        m.insert(
            file,
            (
                codes,
                "a real manifest the expert runtime refuses (see the module docs)",
            ),
        );
    }
    m
}

#[test]
fn real_expert_manifests_load_in_the_runtime_except_two_expert_tools_ones() {
    let Some(files) = files() else { return };
    let real: Vec<_> = files
        .iter()
        .filter(|p| name(p).starts_with("expert-"))
        .collect();
    assert_eq!(real.len(), 27);
    let mut clean = 0;
    for p in real {
        let c = check_bytes(&read(p), Role::Authored);
        let errors: Vec<String> = c
            .diagnostics
            .errors()
            .map(|d| format!("{} {}", d.code, d.pointer))
            .collect();
        match RUNTIME_REFUSES.iter().find(|(f, _)| *f == name(p)) {
            Some(_) => {
                // the error the runtime itself stops at
                assert!(
                    errors
                        .iter()
                        .any(|e| e == "E0207 /training/config/target_modules"),
                    "{}: {errors:#?}",
                    name(p)
                );
                let d = c
                    .diagnostics
                    .errors()
                    .find(|d| d.pointer == "/training/config/target_modules")
                    .unwrap();
                assert_eq!(
                    d.hint.as_deref(),
                    Some("add \"target_modules\": [\"q_proj\", \"v_proj\"] — the expert runtime cannot load a manifest without it")
                );
                assert!(c.manifest.is_none());
            }
            None => {
                assert!(errors.is_empty(), "{}: {errors:#?}", name(p));
                assert!(c.manifest.is_some());
                clean += 1;
            }
        }
    }
    assert_eq!(clean, 25);
}

#[test]
fn every_other_error_has_a_written_reason() {
    let Some(files) = files() else { return };
    let expected = expected_errors();
    for p in &files {
        let c = check_bytes(&read(p), Role::Authored);
        let mut got: Vec<String> = c
            .diagnostics
            .errors()
            .map(|d| format!("{} {}", d.code, d.pointer))
            .collect();
        got.sort();
        got.dedup();
        let want: Vec<String> = expected
            .get(name(p).as_str())
            .map(|(codes, _why)| codes.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(got, want, "{}", name(p));
    }
}

#[test]
fn the_invalid_json_one_is_located() {
    let Some(dir) = corpus() else { return };
    let p = dir.join("manifests/public/expert__754570e__experts-AGENTS.md-L119.json");
    let c = check_bytes(&read(&p), Role::Authored);
    let d = &c.diagnostics.0[0];
    assert_eq!((d.line, d.column, d.severity), (22, 37, Severity::Error));
    assert!(
        d.message
            .contains("expected a key in double quotes, found `#`"),
        "{}",
        d.message
    );
}

#[test]
fn valid_json_round_trips_byte_for_byte() {
    let Some(files) = files() else { return };
    for p in &files {
        let bytes = read(p);
        let Ok(source) = Source::parse(&bytes) else {
            assert!(name(p).contains("754570e"), "{} should parse", name(p));
            continue;
        };
        assert_eq!(source.text().as_bytes(), &bytes[..], "{}", name(p));
        assert_eq!(source.splice(&mut []).as_bytes(), &bytes[..]);
        // cutting a one-model base_models to that model is the identity
        if let Some(arr) = source.root().get("base_models") {
            if arr.as_array().map(|a| a.len()) == Some(1) {
                let mut e = [edit::keep_one(&source, arr, 0).unwrap()];
                assert_eq!(source.splice(&mut e).as_bytes(), &bytes[..], "{}", name(p));
            }
        }
    }
}

#[test]
fn v1_manifests_migrate_losslessly() {
    let Some(files) = files() else { return };
    let mut migrated = 0;
    for p in &files {
        let bytes = read(p);
        let Ok(source) = Source::parse(&bytes) else {
            continue;
        };
        if source.root().get("base_model").is_none() || source.root().get("adapters").is_none() {
            continue;
        }
        let text = migrate::to_v2(&source, expert_cli::manifest::SchemaVersion::V1).unwrap();
        let out =
            Source::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", name(p)));
        // every key of the original is still there, comments included
        let keys = |s: &Source| {
            let mut v = Vec::new();
            collect_keys(s.root(), &mut v);
            v.sort();
            v
        };
        let mut before = keys(&source);
        before.retain(|k| k != "base_model");
        before.push("base_models".into());
        before.push("schema_version".into());
        let mut after = keys(&out);
        after.dedup();
        before.sort();
        before.dedup();
        assert_eq!(after, before, "{}", name(p));
        migrated += 1;
    }
    assert!(migrated >= 4, "migrated {migrated} v1 manifests");
}

fn collect_keys(n: &expert_cli::manifest::Node, out: &mut Vec<String>) {
    if let Some(members) = n.as_object() {
        for m in members {
            out.push(m.key.clone());
            collect_keys(&m.value, out);
        }
    } else if let Some(items) = n.as_array() {
        for i in items {
            collect_keys(i, out);
        }
    }
}

#[test]
fn migrate_writes_every_v1_manifest_that_is_json_whatever_validate_says() {
    // issue #11.6: the runtime loads the fixture manifest_v1.json with its placeholder adapter
    // `sha256` values, so `migrate` must not refuse it; diagnostics are reported, not fatal.
    let Some(files) = files() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut migrated = 0;
    for p in &files {
        let Ok(source) = Source::parse(&read(p)) else {
            // not JSON: refused, nothing written
            let out = dir.path().join("not-json.json");
            cmd()
                .args(["migrate", "--manifest"])
                .arg(p)
                .arg("--output")
                .arg(&out)
                .assert()
                .code(1);
            assert!(!out.exists());
            continue;
        };
        if source.root().get("base_model").is_none() {
            continue;
        }
        let out = dir.path().join(format!("{migrated}.json"));
        let json = cmd()
            .args(["--format", "json", "migrate", "--manifest"])
            .arg(p)
            .arg("--output")
            .arg(&out)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let report: serde_json::Value = serde_json::from_slice(&json)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", name(p), String::from_utf8_lossy(&json)));
        assert_eq!(report["output"], out.display().to_string());
        assert_eq!(report["written"], true);
        let written = check_bytes(&read(&out), Role::Authored);
        assert_eq!(
            report["errors"],
            written.diagnostics.count(Severity::Error),
            "{}",
            name(p)
        );
        let v2 = Source::parse(&read(&out)).unwrap();
        assert_eq!(
            v2.root().get("schema_version").and_then(|n| n.as_str()),
            Some("2.0"),
            "{}",
            name(p)
        );
        if name(p).ends_with("fixtures-manifest_v1.json") {
            // placeholder hashes: errors, reported and written all the same
            assert!(report["errors"].as_u64().unwrap() > 0);
        }
        migrated += 1;
    }
    assert!(migrated >= 6, "migrated {migrated} v1 manifests");
}
