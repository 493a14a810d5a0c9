//! Shared test helpers: the binary, fixtures, the shared corpus, and [`skip`]: a test that
//! cannot run says so, and fails instead when `CI` is set (a green CI means everything ran).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Called where a test cannot run because something it needs is missing: on a developer
/// machine it says so on stderr and the test passes; when `CI` is set it fails the test, so a
/// green CI run means every test really ran.
#[track_caller]
pub fn skip(reason: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("cannot run under CI: {reason} (scripts/test.sh installs what the tests need)");
    }
    eprintln!("skipped: {reason}");
}

/// `../shared/corpus` beside the checkout, or None after [`skip`] (which fails under `CI`).
pub fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip("../shared/corpus is not beside this checkout");
        None
    }
}

pub fn cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("expert-cli").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        // `verify` without --pubkey reads these: no test sees the user's own trust store.
        .env_remove("EXPERT_CLI_TRUSTED_KEYS")
        .env("XDG_CONFIG_HOME", "/nonexistent/expert-cli-tests/config");
    c
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `tests/fixtures/manifests/<name>`.
pub fn manifest_fixture(name: &str) -> String {
    String::from_utf8(read(&fixture(&format!("manifests/{name}")))).unwrap()
}

/// The v2 fixture with `from` replaced by `to` (exactly once).
pub fn v2_with(from: &str, to: &str) -> String {
    let text = manifest_fixture("valid-v2.json");
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in valid-v2.json"
    );
    text.replacen(from, to, 1)
}

/// The v1 fixture with `from` replaced by `to` (exactly once).
pub fn v1_with(from: &str, to: &str) -> String {
    let text = manifest_fixture("valid-v1.json");
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in valid-v1.json"
    );
    text.replacen(from, to, 1)
}

/// Deterministic weight-like bytes (not random: a repeating ramp with noise).
pub fn weight_bytes(n: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 2 == 0 {
                (x & 0x0f) as u8
            } else {
                0x3c | (x as u8 & 0x01)
            }
        })
        .collect()
}

/// The `adapter_config.json` peft would write for the adapter the manifest lists for the base
/// model with `slug` (the first such model; a plain LoRA config when there is none), so that it
/// matches the manifest as `package` and `validate` require.
pub fn adapter_config_for(manifest: &str, slug: &str) -> String {
    use serde_json::{json, Value};
    let m: Value =
        serde_json::from_str(manifest.trim_start_matches('\u{feff}')).unwrap_or(Value::Null);
    let models: Vec<(Value, Value)> = match m.get("base_models").and_then(Value::as_array) {
        Some(models) => models
            .iter()
            .map(|b| (b["name"].clone(), b["adapters"][0].clone()))
            .collect(),
        None => vec![(m["base_model"]["name"].clone(), m["adapters"][0].clone())],
    };
    let found = models
        .into_iter()
        .find(|(name, _)| name.as_str().map(expert_cli::names::slug).as_deref() == Some(slug));
    let Some((name, adapter)) = found else {
        return "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 8}\n".to_owned();
    };
    let kind = adapter["type"]
        .as_str()
        .unwrap_or("lora")
        .to_ascii_lowercase();
    let r = adapter.get("r").or_else(|| adapter.get("rank")).cloned();
    let alpha = adapter.get("alpha").cloned();
    let mut config = json!({
        "base_model_name_or_path": name,
        "target_modules": adapter["target_modules"],
        "task_type": "CAUSAL_LM",
    });
    let c = config.as_object_mut().unwrap();
    match kind.as_str() {
        "ia3" => {
            c.insert("peft_type".into(), json!("IA3"));
        }
        "lokr" => {
            c.insert("peft_type".into(), json!("LOKR"));
            c.insert("r".into(), r.unwrap_or(json!(8)));
            c.insert("alpha".into(), alpha.unwrap_or(json!(8)));
        }
        "adalora" => {
            c.insert("peft_type".into(), json!("ADALORA"));
            c.insert("init_r".into(), r.unwrap_or(json!(12)));
            c.insert("lora_alpha".into(), alpha.unwrap_or(json!(8)));
        }
        other => {
            let dora = other == "dora" || adapter["use_dora"] == json!(true);
            c.insert("peft_type".into(), json!("LORA"));
            c.insert("r".into(), r.unwrap_or(json!(8)));
            c.insert("lora_alpha".into(), alpha.unwrap_or(json!(8)));
            c.insert("use_dora".into(), json!(dora));
        }
    }
    serde_json::to_string_pretty(&config).unwrap() + "\n"
}

/// An expert folder: `manifest.json` with `manifest`, and for each slug an adapter in
/// `weights/<slug>/` whose `adapter_config.json` matches the manifest.
pub fn make_expert(dir: &Path, manifest: &str, slugs: &[&str]) {
    std::fs::write(dir.join("manifest.json"), manifest).unwrap();
    for (i, slug) in slugs.iter().enumerate() {
        let w = dir.join("weights").join(slug);
        std::fs::create_dir_all(&w).unwrap();
        std::fs::write(
            w.join("adapter_model.safetensors"),
            weight_bytes(200_000 + i * 1000, i as u8),
        )
        .unwrap();
        std::fs::write(
            w.join("adapter_config.json"),
            adapter_config_for(manifest, slug),
        )
        .unwrap();
        std::fs::write(
            w.join("tokenizer.json"),
            "{\"model\": {\"type\": \"BPE\"}}\n",
        )
        .unwrap();
        std::fs::write(w.join("training_args.bin"), b"\x80\x04pickle").unwrap();
    }
    std::fs::write(dir.join("README.md"), "# sample expert\n").unwrap();
    std::fs::write(dir.join("LICENSE"), "MIT\n").unwrap();
}

/// A temporary expert folder: the v1 fixture with its `qwen306b` adapter ([`make_expert`]).
pub fn v1_expert() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    make_expert(d.path(), &manifest_fixture("valid-v1.json"), &["qwen306b"]);
    d
}

/// Runs `tar -tzf` on a package and returns the member names.
pub fn tar_list(pkg: &Path) -> Vec<String> {
    let out = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(pkg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// One member of a package, via GNU tar.
pub fn tar_member(pkg: &Path, name: &str) -> Vec<u8> {
    let out = std::process::Command::new("tar")
        .arg("-xzOf")
        .arg(pkg)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Copies a folder tree (regular files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else if ft.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The project's Python environment (`.venv/bin/python`, made by scripts/python-env.sh), or
/// None after [`skip`] (which fails under `CI`).
pub fn venv_python() -> Option<PathBuf> {
    let py = root().join(".venv/bin/python");
    if py.is_file() {
        Some(py)
    } else {
        skip("no Python environment at .venv (run scripts/python-env.sh; scripts/test.sh does)");
        None
    }
}

/// A copy of the tiny expert (`fixtures/tiny-expert`: manifest and dataset) in `dir/expert/`,
/// so the adapter `train` writes lands there; returns its manifest.
pub fn tiny_expert(dir: &Path) -> PathBuf {
    let e = dir.join("expert");
    std::fs::create_dir_all(&e).unwrap();
    for f in ["manifest.json", "train.jsonl"] {
        std::fs::copy(fixture("tiny-expert").join(f), e.join(f)).unwrap();
    }
    e.join("manifest.json")
}
