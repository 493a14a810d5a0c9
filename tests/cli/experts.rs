//! The bundled experts in `experts/*/`: each manifest validates with no errors (and no warnings;
//! as a folder, only the warning that no adapter is shipped)
//! through the real binary, carries no machine path, and ships a README, a LICENSE matching its
//! `license`, and a dataset sample whose lines are JSON objects with the mapped columns.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn experts() -> Vec<PathBuf> {
    let dir = root().join("experts");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    v.sort();
    v
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&read(&dir.join("manifest.json")))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn label(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn the_bundled_experts_are_there() {
    let names: Vec<String> = experts().iter().map(|d| label(d)).collect();
    for want in [
        "expert-json",
        "expert-neo4j",
        "expert-sql",
        "expert-typescript",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
}

#[test]
fn every_manifest_validates_without_errors_or_warnings() {
    // The manifests with --strict; the folders too, where the only warning allowed is W0702:
    // no adapter weights are shipped, so every base model's adapter is missing (#11).
    for dir in experts() {
        for (target, strict) in [(dir.join("manifest.json"), true), (dir.clone(), false)] {
            let mut args = vec!["--format", "json", "validate"];
            if strict {
                args.push("--strict");
            }
            let out = cmd().args(&args).arg(&target).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}: validate failed\n{stdout}\n{}",
                target.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let report: Value = serde_json::from_str(&stdout).unwrap();
            for file in report["files"].as_array().unwrap() {
                assert_eq!(file["errors"], 0, "{}: {stdout}", target.display());
                let models = manifest(&dir)["base_models"].as_array().unwrap().len();
                let warnings: Vec<&Value> = file["diagnostics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| d["severity"] == "warning")
                    .collect();
                if strict {
                    assert!(warnings.is_empty(), "{}: {stdout}", target.display());
                } else {
                    assert_eq!(warnings.len(), models, "{}: {stdout}", target.display());
                    assert!(
                        warnings.iter().all(|d| d["code"] == "W0702"),
                        "{}: {stdout}",
                        target.display()
                    );
                }
                assert_eq!(file["schema_version"], "2.0", "{}", target.display());
            }
        }
    }
}

/// Every string in the manifest, with its JSON pointer.
fn strings<'v>(v: &'v Value, at: String, out: &mut Vec<(String, &'v str)>) {
    match v {
        Value::String(s) => out.push((at, s)),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                strings(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn is_machine_path(s: &str) -> bool {
    let b = s.as_bytes();
    s.starts_with('/')
        || s.starts_with('\\')
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'/' | b'\\'))
}

#[test]
fn no_manifest_names_a_machine_path() {
    for dir in experts() {
        let text = String::from_utf8(read(&dir.join("manifest.json"))).unwrap();
        for needle in ["F:/", "C:\\", "C:/", "/home/", "/Users/"] {
            assert!(
                !text.contains(needle),
                "{}: contains {needle:?}",
                label(&dir)
            );
        }
        let m = manifest(&dir);
        let mut all = Vec::new();
        strings(&m, String::new(), &mut all);
        for (at, s) in all {
            assert!(
                !is_machine_path(s),
                "{} {at}: machine path {s:?}",
                label(&dir)
            );
        }
        for model in m["base_models"].as_array().unwrap() {
            let name = model["name"].as_str().unwrap();
            assert!(
                name.starts_with("Qwen/"),
                "{}: base model {name}",
                label(&dir)
            );
        }
        assert!(m.get("integrity").is_none(), "{}: integrity", label(&dir));
    }
}

#[test]
fn every_expert_has_a_readme_and_a_matching_license() {
    for dir in experts() {
        let readme = String::from_utf8(read(&dir.join("README.md"))).unwrap();
        assert!(
            readme.contains(&format!("# {}", label(&dir))),
            "{}: README title",
            label(&dir)
        );
        let license = manifest(&dir)["license"].as_str().unwrap().to_owned();
        let text = String::from_utf8(read(&dir.join("LICENSE"))).unwrap();
        let marker = match license.as_str() {
            "Apache-2.0" => "Apache License",
            "MIT" => "Permission is hereby granted, free of charge",
            "CC-BY-4.0" => "Creative Commons Attribution 4.0 International",
            other => panic!("{}: unexpected license {other}", label(&dir)),
        };
        assert!(
            text.contains(marker),
            "{}: LICENSE is not {license}",
            label(&dir)
        );
        assert!(
            readme.contains(&license),
            "{}: README names no license",
            label(&dir)
        );
    }
}

#[test]
fn every_dataset_sample_has_the_mapped_columns() {
    for dir in experts() {
        let m = manifest(&dir);
        let ds = &m["training"]["dataset"];
        let rel = ds["path"].as_str().expect("training.dataset.path");
        let columns: Vec<String> = ds["field_mapping"]
            .as_object()
            .expect("training.dataset.field_mapping")
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(_, v)| v.as_str().unwrap().to_owned())
            .collect();
        assert!(!columns.is_empty(), "{}: empty field_mapping", label(&dir));
        let bytes = read(&dir.join(rel));
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains('\r'), "{}: CRLF in {rel}", label(&dir));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            (20..=60).contains(&lines.len()),
            "{}: {rel} has {} lines",
            label(&dir),
            lines.len()
        );
        for (i, line) in lines.iter().enumerate() {
            let row: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{} {rel}:{}: {e}", label(&dir), i + 1));
            let obj = row
                .as_object()
                .unwrap_or_else(|| panic!("{} {rel}:{}: not an object", label(&dir), i + 1));
            for col in &columns {
                let v = obj.get(col).unwrap_or_else(|| {
                    panic!("{} {rel}:{}: no column `{col}`", label(&dir), i + 1)
                });
                assert!(v.is_string(), "{} {rel}:{}: `{col}`", label(&dir), i + 1);
            }
        }
    }
}
