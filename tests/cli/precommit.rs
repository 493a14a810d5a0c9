//! `.pre-commit-hooks.yaml` and docs/CI.md: the hook file parses, each hook's `entry` is a real
//! command of this binary and behaves as pre-commit runs it (entry, then the changed files), and
//! the YAML examples in docs/CI.md parse.

use crate::common::{cmd, fixture, root};
use std::collections::BTreeMap;

type Hook = BTreeMap<String, String>;

/// A minimal reader for the flat shape of `.pre-commit-hooks.yaml` (a list of maps of scalars,
/// `types: [file]` kept as text), so the check runs where PyYAML is absent.
fn parse_hooks(text: &str) -> Vec<Hook> {
    let mut hooks: Vec<Hook> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let item = if let Some(rest) = trimmed.strip_prefix("- ") {
            assert!(line.starts_with("- "), "list items start the line: {line}");
            hooks.push(Hook::new());
            rest
        } else {
            assert!(
                line.starts_with("  "),
                "keys are indented under an item: {line}"
            );
            trimmed
        };
        let (key, value) = item
            .split_once(": ")
            .unwrap_or_else(|| panic!("not `key: value`: {line}"));
        let hook = hooks.last_mut().expect("a key before the first item");
        assert!(
            hook.insert(key.to_owned(), value.trim().to_owned())
                .is_none(),
            "duplicate key `{key}`"
        );
    }
    hooks
}

fn python(code: &str, input: &str) -> Option<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(code)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    // Exit 3: the script found PyYAML missing; that is a skip, any other failure is not.
    if out.status.code() == Some(3) {
        return None;
    }
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

const YAML_TO_JSON: &str = "import sys, json\ntry:\n    import yaml\nexcept ImportError:\n    sys.exit(3)\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))";

#[test]
fn the_hook_file_parses_and_each_entry_is_a_command() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = parse_hooks(&text);
    assert!(!hooks.is_empty());
    // Where PyYAML is installed, a real YAML parser must read the same hooks.
    match python(YAML_TO_JSON, &text) {
        Some(json) => {
            let parsed: Vec<BTreeMap<String, serde_json::Value>> =
                serde_json::from_str(&json).unwrap();
            assert_eq!(parsed.len(), hooks.len());
            for (p, h) in parsed.iter().zip(&hooks) {
                assert_eq!(p.keys().collect::<Vec<_>>(), h.keys().collect::<Vec<_>>());
                assert_eq!(p["entry"], h["entry"].as_str());
                assert_eq!(p["files"], h["files"].as_str());
                assert_eq!(p["types"], serde_json::json!(["file"]));
            }
        }
        None => crate::common::skip("the PyYAML cross-check: python3 with yaml is not available"),
    }
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str()).collect();
    assert!(ids.contains(&"expert-cli-validate"), "{ids:?}");
    for hook in &hooks {
        for key in ["id", "name", "entry", "language", "files"] {
            assert!(hook.contains_key(key), "hook {hook:?} lacks `{key}`");
        }
        assert!(
            ["rust", "system"].contains(&hook["language"].as_str()),
            "{hook:?}"
        );
        assert_eq!(hook["files"], r"(^|/)manifest\.json$");
        // pre-commit runs `entry args… file…`: the entry must be this binary and a command of
        // its clap tree, which accepts several files.
        let words: Vec<&str> = hook["entry"].split_whitespace().collect();
        assert_eq!(words[0], "expert-cli", "{hook:?}");
        cmd().args(&words[1..]).arg("--help").assert().success();
        let good = fixture("manifests/valid-v2.json");
        let v1 = fixture("manifests/valid-v1.json");
        cmd().args(&words[1..]).arg(&good).arg(&v1).assert().code(0);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("manifest.json");
        std::fs::write(&bad, "{\"name\": 1}").unwrap();
        cmd()
            .args(&words[1..])
            .arg(&good)
            .arg(&bad)
            .assert()
            .code(1);
    }
}

#[test]
fn the_files_pattern_picks_manifests_only() {
    let cases = [
        ("manifest.json", true),
        ("experts/neo4j/manifest.json", true),
        ("manifest.json.bak", false),
        ("experts/neo4j/my-manifest.json", false),
        ("manifest_json", false),
    ];
    let input: String = cases.iter().map(|(p, _)| format!("{p}\n")).collect();
    let code = "import re, sys\nfor line in sys.stdin.read().splitlines():\n    print(bool(re.search(r'(^|/)manifest\\.json$', line)))";
    let Some(out) = python(code, &input) else {
        crate::common::skip("python3 is not available to run pre-commit's regex dialect");
        return;
    };
    let got: Vec<bool> = out.lines().map(|l| l == "True").collect();
    let want: Vec<bool> = cases.iter().map(|(_, w)| *w).collect();
    assert_eq!(got, want, "{cases:?}");
}

#[test]
fn the_yaml_examples_in_ci_md_parse() {
    let doc = std::fs::read_to_string(root().join("docs/CI.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "docs/CI.md has a pre-commit config and a workflow"
    );
    assert!(blocks[0].contains("id: expert-cli-validate"));
    assert!(blocks[1].contains("--format github validate"));
    assert!(blocks[1].contains("--key-env EXPERT_SIGNING_KEY"));
    for block in blocks {
        if python(YAML_TO_JSON, block).is_none() {
            crate::common::skip("parsing a YAML example: python3 with yaml is not available");
        }
    }
}

#[test]
fn the_rust_hook_builds_a_binary_without_libpython() {
    // pre-commit runs `cargo install --bins --root ENV --path .` in its clone of this repository
    // (pre_commit/languages/rust.py), with no feature flags: the build settings it gets are
    // `.cargo/config.toml`'s, which describe a static interpreter to PyO3 (docs/CLI.md#python).
    // `startup::` checks that a binary built with them needs no libpython.
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    assert!(
        config
            .contains("PYO3_CONFIG_FILE = { value = \".cargo/pyo3-static.cfg\", relative = true }"),
        "{config}"
    );
    let pyo3 = std::fs::read_to_string(root().join(".cargo/pyo3-static.cfg")).unwrap();
    for line in ["shared=false", "suppress_build_script_link_lines=true"] {
        assert!(pyo3.lines().any(|l| l == line), "{line} missing:\n{pyo3}");
    }
    let doc = std::fs::read_to_string(root().join("docs/CI.md")).unwrap();
    for install in doc.lines().filter(|l| l.contains("cargo install")) {
        if install.contains("--git") {
            assert!(install.contains("--no-default-features"), "{install}");
        }
    }
}
