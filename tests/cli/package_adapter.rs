//! Where `package` finds an adapter (#11.4: `--weights DIR` as the seed uses it, each lookup
//! step, the `.safetensors` path form) and whether it matches the manifest (#11.5, SPEC §0
//! "package agrees with validate"): every refusal of `package` is also an error of
//! `validate DIR`, before anything is written.

use crate::common::*;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Files and folders under `dir` (relative), sorted: to prove nothing was written.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// An adapter folder at `dir` for the model with `slug` in `manifest` (its config matches).
fn adapter_at(dir: &Path, manifest: &str, slug: &str, seed: u8) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let weights = weight_bytes(4096 + usize::from(seed), seed);
    std::fs::write(dir.join("adapter_model.safetensors"), &weights).unwrap();
    std::fs::write(
        dir.join("adapter_config.json"),
        adapter_config_for(manifest, slug),
    )
    .unwrap();
    weights
}

/// `package --format json` in `dir` with `args`; the report, or the failed output.
fn package_json(dir: &Path, args: &[&str]) -> Result<Value, (i32, String)> {
    let out = cmd()
        .current_dir(dir)
        .args(["--format", "json", "package"])
        .args(args)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// A copy of experts/expert-neo4j (manifest, README, LICENSE) at `<dir>/experts/expert-neo4j`.
fn neo4j(dir: &Path) -> (PathBuf, String) {
    let src = root().join("experts/expert-neo4j");
    let dst = dir.join("experts/expert-neo4j");
    std::fs::create_dir_all(&dst).unwrap();
    for f in ["manifest.json", "README.md", "LICENSE"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    let text = String::from_utf8(read(&dst.join("manifest.json"))).unwrap();
    (dst, text)
}

#[test]
fn the_seeds_weights_command_packages_the_adapter_in_weights_slug() {
    // #11: `--weights DIR` is the folder that holds the adapters, as the seed's command has it.
    let d = tempfile::tempdir().unwrap();
    let (expert, text) = neo4j(d.path());
    let weights = adapter_at(&expert.join("weights/qwen306b"), &text, "qwen306b", 1);
    let seed = [
        "--manifest",
        "experts/expert-neo4j/manifest.json",
        "--weights",
        "experts/expert-neo4j/weights",
        "--model",
        "qwen3-0.6b",
    ];
    cmd()
        .current_dir(d.path())
        .arg("package")
        .args(seed)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "Adapter `experts/expert-neo4j/weights/qwen306b/adapter_model.safetensors` (--weights DIR + the adapter's path)",
        ));
    let pkg = d.path().join("expert-neo4j-qwen306b.v0.2.3.expert");
    assert_eq!(tar_member(&pkg, "adapter_model.safetensors"), weights);
    cmd().arg("validate").arg(&pkg).assert().code(0);
    // The adapter's path is `weights/qwen306b`: found as DIR/<path without weights/>. With the
    // path gone, DIR/<slug>/ finds the same folder.
    std::fs::write(
        expert.join("manifest.json"),
        text.replace("\"path\": \"weights/qwen306b\",", ""),
    )
    .unwrap();
    let mut args = seed.to_vec();
    args.extend(["--output", "again.expert"]);
    let report = package_json(d.path(), &args).unwrap();
    assert_eq!(report["adapter_found_by"], "weights_slug");
    assert_eq!(
        report["adapter_dir"],
        "experts/expert-neo4j/weights/qwen306b"
    );
}

#[test]
fn weights_dir_lookup_steps_in_order_and_a_miss_lists_every_path() {
    let d = tempfile::tempdir().unwrap();
    let text = v1_with(
        "\"alpha\": 16\n    }",
        "\"alpha\": 16, \"path\": \"weights/run1/final\"\n    }",
    );
    make_expert(d.path(), &text, &[]);
    let w = d.path().join("W");
    std::fs::create_dir(&w).unwrap();
    // a miss names every file tried, in order; nothing under the expert folder is tried
    let (code, err) = package_json(d.path(), &["--weights", "W", "--list-contents"]).unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: no adapter for base model `Qwen/Qwen3-0.6B`: tried `W/weights/run1/final/adapter_model.safetensors`, `W/run1/final/adapter_model.safetensors`, `W/qwen306b/adapter_model.safetensors`, `W/adapter_model.safetensors`\n"),
        "{err}"
    );
    assert!(err.contains("hint: train it"), "{err}");
    // each step, from the last to the first: each new one wins over the ones after it
    for (place, found_by) in [
        ("W", "weights_dir"),
        ("W/qwen306b", "weights_slug"),
        ("W/run1/final", "weights_adapter_path"),
        ("W/weights/run1/final", "weights_adapter_path"),
    ] {
        let bytes = adapter_at(&d.path().join(place), &text, "qwen306b", place.len() as u8);
        let report = package_json(d.path(), &["--weights", "W", "--list-contents"]).unwrap();
        assert_eq!(report["adapter_found_by"], found_by, "{place}");
        assert_eq!(report["adapter_dir"], place, "{place}");
        let member = &report["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["path"] == "adapter_model.safetensors")
            .unwrap()["sha256"];
        assert_eq!(*member, expert_cli::digest::sha256_hex(&bytes), "{place}");
    }
}

#[test]
fn lookup_without_weights_and_the_expert_root_only_for_one_model() {
    let d = tempfile::tempdir().unwrap();
    let text = v1_with(
        "\"alpha\": 16\n    }",
        "\"alpha\": 16, \"path\": \"out/final\"\n    }",
    );
    make_expert(d.path(), &text, &[]);
    let (code, err) = package_json(d.path(), &["--list-contents"]).unwrap_err();
    assert_eq!(code, 1);
    assert!(err.contains("tried `./out/final/adapter_model.safetensors`, `./weights/qwen306b/adapter_model.safetensors`, `./qwen306b/adapter_model.safetensors`, `./adapter_model.safetensors`\n"), "{err}");
    for (place, found_by) in [
        (".", "expert_root"),
        ("qwen306b", "expert_slug"),
        ("weights/qwen306b", "expert_weights_slug"),
        ("out/final", "adapter_path"),
    ] {
        adapter_at(&d.path().join(place), &text, "qwen306b", 3);
        let report = package_json(d.path(), &["--list-contents"]).unwrap();
        assert_eq!(report["adapter_found_by"], found_by, "{place}");
    }

    // Several base models: the expert folder itself is never tried (#11: an adapter there
    // could be any model's).
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v2.json");
    make_expert(d.path(), &text, &[]);
    adapter_at(d.path(), &text, "qwen306b", 4);
    let (code, err) =
        package_json(d.path(), &["--model", "qwen306b", "--list-contents"]).unwrap_err();
    assert_eq!(code, 1);
    assert!(
        err.contains("tried `./weights/qwen306b/adapter_model.safetensors`, `./qwen306b/adapter_model.safetensors` (not the expert folder itself: the manifest lists 2 base models, so an adapter there could be any of them)"),
        "{err}"
    );
    // validate DIR says the same, as a warning shown by default
    cmd()
        .current_dir(d.path())
        .args(["validate", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "warning[W0702] /base_models/0: no adapter for base model `Qwen/Qwen3-0.6B`",
        ));
}

#[test]
fn an_adapter_path_naming_a_safetensors_file_is_packed_under_the_standard_name() {
    // Upstream fixtures point at the weights file itself: weights/qwen3-1.5b/adapter.safetensors.
    let d = tempfile::tempdir().unwrap();
    let text = v1_with(
        "\"alpha\": 16\n    }",
        "\"alpha\": 16, \"path\": \"weights/qwen3-1.5b/adapter.safetensors\"\n    }",
    );
    make_expert(d.path(), &text, &[]);
    let (code, err) = package_json(d.path(), &["--list-contents"]).unwrap_err();
    assert_eq!(code, 1);
    assert!(
        err.contains("tried `./weights/qwen3-1.5b/adapter.safetensors`, "),
        "the miss names the file the manifest points at: {err}"
    );
    let dir = d.path().join("weights/qwen3-1.5b");
    let weights = adapter_at(&dir, &text, "qwen306b", 5);
    std::fs::rename(
        dir.join("adapter_model.safetensors"),
        dir.join("adapter.safetensors"),
    )
    .unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(0);
    let pkg = d.path().join("p.expert");
    assert_eq!(
        tar_list(&pkg),
        [
            "manifest.json",
            "LICENSE",
            "README.md",
            "adapter_config.json",
            "adapter_model.safetensors"
        ]
    );
    assert_eq!(tar_member(&pkg, "adapter_model.safetensors"), weights);
    // --weights DIR with the same path: DIR/<path without weights/>
    let w = d.path().join("W/qwen3-1.5b");
    adapter_at(&w, &text, "qwen306b", 6);
    std::fs::rename(
        w.join("adapter_model.safetensors"),
        w.join("adapter.safetensors"),
    )
    .unwrap();
    let report = package_json(d.path(), &["--weights", "W", "--list-contents"]).unwrap();
    assert_eq!(
        report["adapter_weights"],
        "W/qwen3-1.5b/adapter.safetensors"
    );
}

/// Runs `package` and `validate .` in `dir`: both must fail with `code` (package: before
/// writing anything), and both must name `needle`.
fn both_refuse(dir: &Path, args: &[&str], code: &str, needle: &str) {
    let before = tree(dir);
    let out = cmd()
        .current_dir(dir)
        .arg("package")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{code}: {err}");
    assert!(
        err.contains(&format!("error[{code}]")) && err.contains(needle),
        "package should say {code} {needle}:\n{err}"
    );
    assert!(
        err.contains("hint: package the adapter made for this base model, or correct the manifest; `expert-cli validate .` reports the same"),
        "{err}"
    );
    assert_eq!(tree(dir), before, "{code}: package wrote something");
    let out = cmd()
        .current_dir(dir)
        .args(["validate", "."])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{code}: {text}");
    assert!(
        text.contains(&format!("error[{code}]")) && text.contains(needle),
        "validate should say {code} {needle}:\n{text}"
    );
}

#[test]
fn size_and_digest_mismatches_are_refused_by_package_and_validate_alike() {
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v1.json");
    make_expert(d.path(), &text, &["qwen306b"]);
    let real = std::fs::metadata(d.path().join("weights/qwen306b/adapter_model.safetensors"))
        .unwrap()
        .len();
    for (edit, needle) in [
        (
            "\"alpha\": 16, \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\"".to_owned(),
            "/adapters/0/sha256: adapter_model.safetensors has SHA-256".to_owned(),
        ),
        (
            "\"alpha\": 16, \"size_bytes\": 12345".to_owned(),
            format!("/adapters/0/size_bytes: adapter_model.safetensors is {real} bytes, the manifest says 12345"),
        ),
    ] {
        std::fs::write(
            d.path().join("manifest.json"),
            v1_with("\"alpha\": 16\n    }", &format!("{edit}\n    }}")),
        )
        .unwrap();
        both_refuse(d.path(), &[], "E0702", &needle);
        both_refuse(d.path(), &["--list-contents"], "E0702", &needle);
    }
}

#[test]
fn an_adapter_config_contradicting_the_manifest_is_refused_field_by_field() {
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v1.json");
    make_expert(d.path(), &text, &["qwen306b"]);
    let config_path = d.path().join("weights/qwen306b/adapter_config.json");
    let good: Value = serde_json::from_str(&adapter_config_for(&text, "qwen306b")).unwrap();
    let cfg = "`./weights/qwen306b/adapter_config.json`";
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "/adapters/0/type",
            serde_json::json!({"peft_type": "IA3"}),
            format!("{cfg} has \"peft_type\": \"IA3\" (ia3), the manifest's adapter says \"type\": \"lora\""),
        ),
        (
            "/adapters/0/type",
            serde_json::json!({"use_dora": true}),
            format!("{cfg} has \"peft_type\": \"LORA\" with \"use_dora\": true (dora), the manifest's adapter says \"type\": \"lora\""),
        ),
        (
            "/adapters/0/r",
            serde_json::json!({"r": 16}),
            format!("{cfg} has \"r\": 16, the manifest's adapter says \"r\": 8"),
        ),
        (
            "/adapters/0/alpha",
            serde_json::json!({"lora_alpha": 32}),
            format!("{cfg} has \"lora_alpha\": 32, the manifest's adapter says \"alpha\": 16"),
        ),
        (
            "/adapters/0/alpha",
            serde_json::json!({"lora_alpha": null}),
            format!("{cfg} has no \"lora_alpha\" (peft's default: 8), the manifest's adapter says \"alpha\": 16"),
        ),
        (
            "/adapters/0/target_modules",
            serde_json::json!({"target_modules": ["q_proj", "k_proj", "v_proj"]}),
            format!("{cfg} has \"target_modules\": [k_proj, q_proj, v_proj], the manifest's adapter says [q_proj, v_proj]"),
        ),
        (
            "/base_model/name",
            serde_json::json!({"base_model_name_or_path": "Qwen/Qwen3-1.7B"}),
            format!("{cfg} was made for base model \"Qwen/Qwen3-1.7B\" (slug `qwen317b`), but this adapter is listed under \"Qwen/Qwen3-0.6B\" (slug `qwen306b`)"),
        ),
        (
            "/base_model",
            serde_json::json!({"peft_type": null}),
            format!("{cfg} has no \"peft_type\"; it is not a PEFT adapter config"),
        ),
    ];
    for (pointer, change, message) in cases {
        let mut config = good.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                config.as_object_mut().unwrap().remove(k);
            } else {
                config[k] = v.clone();
            }
        }
        std::fs::write(&config_path, config.to_string()).unwrap();
        both_refuse(d.path(), &[], "E0704", &format!("{pointer}: {message}"));
    }
    // What is left out is not a difference: target modules and base model unrecorded, rank
    // and alpha at peft's defaults where the manifest says the same.
    std::fs::write(
        &config_path,
        r#"{"peft_type": "LORA", "lora_alpha": 16, "base_model_name_or_path": null}"#,
    )
    .unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents"])
        .assert()
        .code(0);
    // A local copy of the base model is the same model: compared by slug.
    let mut config = good.clone();
    config["base_model_name_or_path"] = "/models/Qwen3-0.6B".into();
    std::fs::write(&config_path, config.to_string()).unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents"])
        .assert()
        .code(0);
}

#[test]
fn the_wrong_adapter_of_issue_11_is_refused() {
    // #11: with weights/qwen306b/ removed and the 1.7B adapter's files copied into the expert
    // folder, `package --model qwen306b` packed them with exit 0.
    let d = tempfile::tempdir().unwrap();
    let text = String::from_utf8(read(
        &root().join("examples/multi-model-expert/manifest.json"),
    ))
    .unwrap();
    let expert = d.path().join("e");
    std::fs::create_dir(&expert).unwrap();
    std::fs::write(expert.join("manifest.json"), &text).unwrap();
    std::fs::create_dir_all(expert.join("datasets")).unwrap();
    std::fs::copy(
        root().join("examples/multi-model-expert/datasets/train.jsonl"),
        expert.join("datasets/train.jsonl"),
    )
    .unwrap();
    let big = root().join("examples/multi-model-expert/weights/qwen317b");
    for f in ["adapter_model.safetensors", "adapter_config.json"] {
        std::fs::copy(big.join(f), expert.join(f)).unwrap();
    }
    let before = tree(d.path());
    cmd()
        .current_dir(d.path())
        .args([
            "package",
            "--manifest",
            "e/manifest.json",
            "--model",
            "qwen306b",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "not the expert folder itself: the manifest lists 3 base models",
        ));
    assert_eq!(tree(d.path()), before);
    // Put where the 0.6B adapter belongs, the 1.7B one is named for what it is.
    std::fs::create_dir_all(expert.join("weights")).unwrap();
    std::fs::create_dir(expert.join("weights/qwen306b")).unwrap();
    for f in ["adapter_model.safetensors", "adapter_config.json"] {
        std::fs::rename(expert.join(f), expert.join("weights/qwen306b").join(f)).unwrap();
    }
    let before = tree(d.path());
    let out = cmd()
        .current_dir(d.path())
        .args([
            "package",
            "--manifest",
            "e/manifest.json",
            "--model",
            "qwen306b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    for want in [
        "error[E0704] /base_models/0/name: `e/weights/qwen306b/adapter_config.json` was made for base model \"Qwen/Qwen3-1.7B\" (slug `qwen317b`), but this adapter is listed under \"Qwen/Qwen3-0.6B\" (slug `qwen306b`)",
        "error[E0704] /base_models/0/adapters/0/r: `e/weights/qwen306b/adapter_config.json` has \"r\": 16, the manifest's adapter says \"r\": 8",
        "error[E0704] /base_models/0/adapters/0/alpha:",
        "error[E0704] /base_models/0/adapters/0/target_modules:",
        "error: the adapter in `e/weights/qwen306b` does not match `e/manifest.json` (4 errors)",
    ] {
        assert!(err.contains(want), "{want}\n---\n{err}");
    }
    assert_eq!(tree(d.path()), before);
}

#[test]
fn shared_slugs_warn_and_make_model_by_slug_ambiguous() {
    let d = tempfile::tempdir().unwrap();
    let text = v2_with(
        "\"name\": \"Qwen/Qwen3-1.7B\"",
        "\"name\": \"unsloth/Qwen3-0.6B\"",
    );
    make_expert(d.path(), &text, &["qwen306b"]);
    cmd()
        .current_dir(d.path())
        .args(["validate", "manifest.json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "warning[W0404] /base_models/1/name: base model \"unsloth/Qwen3-0.6B\" has the same slug `qwen306b` as \"Qwen/Qwen3-0.6B\"",
        ));
    for wanted in ["qwen306b", "qwen3-0.6b"] {
        cmd()
            .current_dir(d.path())
            .args(["package", "--list-contents", "--model", wanted])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "matches 2 base models: Qwen/Qwen3-0.6B, unsloth/Qwen3-0.6B",
            ));
    }
    // Both share weights/qwen306b/; the config names Qwen/Qwen3-0.6B exactly, so it is that
    // model's adapter and not the other's, although the slugs agree.
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents", "--model", "Qwen/Qwen3-0.6B"])
        .assert()
        .code(0);
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents", "--model", "unsloth/Qwen3-0.6B"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error[E0704] /base_models/1/name: `./weights/qwen306b/adapter_config.json` was made for base model \"Qwen/Qwen3-0.6B\"",
        ));
}

#[test]
fn a_missing_adapter_is_a_warning_validate_shows_by_default() {
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v1.json");
    make_expert(d.path(), &text, &[]);
    cmd()
        .current_dir(d.path())
        .args(["validate", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "./manifest.json:7:17: warning[W0702] /base_model: no adapter for base model `Qwen/Qwen3-0.6B`: tried `./weights/qwen306b/adapter_model.safetensors`, `./qwen306b/adapter_model.safetensors`, `./adapter_model.safetensors`",
        ).and(predicate::str::contains("hint: train it with `expert-cli train --model qwen306b`")));
    cmd()
        .current_dir(d.path())
        .args(["validate", "--strict", "."])
        .assert()
        .code(1);
}

#[test]
fn list_contents_says_nothing_about_packaging() {
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v1.json");
    make_expert(d.path(), &text, &["qwen306b"]);
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("Packaging").not());
}

#[test]
fn the_library_operation_reports_what_the_command_prints() {
    // #14: the command is parse -> archive::package -> render; the report is the JSON result.
    let d = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v2.json");
    make_expert(d.path(), &text, &["qwen306b", "qwen317b"]);
    let manifest = d.path().join("manifest.json");
    let opts = expert_cli::archive::PackageOptions {
        model: Some("qwen317b".to_owned()),
        list_contents: true,
        ..Default::default()
    };
    let report =
        expert_cli::archive::package(&manifest, &opts, &mut expert_cli::progress::NoProgress)
            .unwrap();
    assert!(report.written.is_none());
    assert_eq!(report.base_model, "Qwen/Qwen3-1.7B");
    let cli = cmd()
        .args([
            "--format",
            "json",
            "package",
            "--list-contents",
            "--model",
            "qwen317b",
        ])
        .arg("--manifest")
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(cli.status.success());
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap(), cli);
    assert!(
        d.path().read_dir().unwrap().count() == 4,
        "a dry run wrote something"
    );
}
