//! `package` through the real binary: model selection, naming, determinism, the packaged
//! manifest, refusals, `--list-contents`, and `validate` of the result.

use crate::common::*;
use predicates::prelude::*;
use std::path::Path;

fn sha(path: &Path) -> String {
    expert_cli::digest::sha256_hex(&read(path))
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir);
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        out.push(format!("{} {}", p.display(), e.metadata().unwrap().len()));
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        }
    }
    out
}

#[test]
fn one_model_is_selected_automatically_and_named_by_slug() {
    let d = v1_expert();
    cmd()
        .current_dir(d.path())
        .args(["package"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "expert-sample-v1-qwen306b.v0.1.0.expert",
        ));
    let pkg = d.path().join("expert-sample-v1-qwen306b.v0.1.0.expert");
    assert_eq!(
        tar_list(&pkg),
        [
            "manifest.json",
            "LICENSE",
            "README.md",
            "adapter_config.json",
            "adapter_model.safetensors",
            "tokenizer.json"
        ]
    );
}

#[test]
fn two_models_need_model_and_errors_list_the_choices() {
    let d = tempfile::tempdir().unwrap();
    make_expert(
        d.path(),
        &manifest_fixture("valid-v2.json"),
        &["qwen306b", "qwen317b"],
    );
    cmd().current_dir(d.path()).arg("package").assert().code(2).stderr(
        predicate::str::contains("error: `manifest.json` lists 2 base models and no --model was given")
            .and(predicate::str::contains("hint: pass --model with one of: qwen306b (Qwen/Qwen3-0.6B), qwen317b (Qwen/Qwen3-1.7B)")),
    );
    cmd()
        .current_dir(d.path())
        .args(["package", "--model", "llama"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no base model of `manifest.json` matches --model `llama`",
        ));
    assert!(!d
        .path()
        .join("expert-sample-qwen306b.v0.1.0.expert")
        .exists());
    for (wanted, slug) in [
        ("Qwen/Qwen3-1.7B", "qwen317b"),
        ("qwen3-1.7b", "qwen317b"),
        ("QWEN3-0.6B", "qwen306b"),
        ("qwen306b", "qwen306b"),
    ] {
        cmd()
            .current_dir(d.path())
            .args(["package", "--force", "--model", wanted])
            .assert()
            .code(0);
        let pkg = d.path().join(format!("expert-sample-{slug}.v0.1.0.expert"));
        let m: serde_json::Value =
            serde_json::from_slice(&tar_member(&pkg, "manifest.json")).unwrap();
        assert_eq!(m["base_models"].as_array().unwrap().len(), 1, "{wanted}");
        assert_eq!(
            names_slug(m["base_models"][0]["name"].as_str().unwrap()),
            slug
        );
    }
}

fn names_slug(s: &str) -> String {
    expert_cli::names::slug(s)
}

#[test]
fn ambiguous_model_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let text = v2_with(
        "\"name\": \"Qwen/Qwen3-1.7B\"",
        "\"name\": \"local/qwen3_0.6b\"",
    );
    make_expert(d.path(), &text, &["qwen306b"]);
    cmd()
        .current_dir(d.path())
        .args(["package", "--model", "qwen306b"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "matches 2 base models: Qwen/Qwen3-0.6B, local/qwen3_0.6b",
        ));
    // the full name still works
    cmd()
        .current_dir(d.path())
        .args([
            "package",
            "--model",
            "Qwen/Qwen3-0.6B",
            "--output",
            "x.expert",
        ])
        .assert()
        .code(0);
}

#[test]
fn a_real_corpus_manifest_packages_with_every_key_and_comment_kept() {
    let Some(corpus) = corpus() else { return };
    let src = corpus.join("manifests/public/expert-sql__35d754c__manifest.json");
    let original = String::from_utf8(read(&src)).unwrap();
    let d = tempfile::tempdir().unwrap();
    make_expert(d.path(), &original, &["qwen306b"]);
    let version = serde_json::from_str::<serde_json::Value>(&original).unwrap()["version"]
        .as_str()
        .unwrap()
        .to_owned();
    // the seed's example: --model qwen3-0.6b selects F:/Node/hivellm/expert/models/Qwen3-0.6B
    cmd()
        .current_dir(d.path())
        .args(["package", "--model", "qwen3-0.6b"])
        .assert()
        .code(0);
    let pkg = d
        .path()
        .join(format!("expert-sql-qwen306b.v{version}.expert"));
    let packaged = String::from_utf8(tar_member(&pkg, "manifest.json")).unwrap();
    // the author's bytes up to the last member are a prefix: nothing reformatted, nothing lost
    let cut = original.trim_end().strip_suffix('}').unwrap().trim_end();
    assert!(
        packaged.starts_with(cut),
        "the packaged manifest changed the author's text"
    );
    assert!(
        packaged.contains("\r\n  \"integrity\": {\r\n"),
        "integrity follows the author's CRLF and indent"
    );
    let v: serde_json::Value = serde_json::from_str(&packaged).unwrap();
    let files = v["integrity"]["files"].as_object().unwrap();
    assert_eq!(
        files["adapter_model.safetensors"],
        sha(&d.path().join("weights/qwen306b/adapter_model.safetensors"))
    );
    assert!(!files.contains_key("manifest.json"));
    cmd().arg("validate").arg(&pkg).assert().code(0);
}

#[test]
fn identical_inputs_give_identical_bytes_whatever_the_mtimes_and_umask() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let text = manifest_fixture("valid-v1.json");
    make_expert(a.path(), &text, &["qwen306b"]);
    make_expert(b.path(), &text, &["qwen306b"]);
    // other mtimes and modes in b
    let f = b.path().join("weights/qwen306b/adapter_model.safetensors");
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = |dir: &Path, umask: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" package --output out.expert",
            ))
            .arg(assert_cmd::cargo::cargo_bin("expert-cli"))
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sha(&dir.join("out.expert"))
    };
    assert_eq!(run(a.path(), "022"), run(b.path(), "077"));
    // SOURCE_DATE_EPOCH changes the mtimes and created_at, deterministically
    cmd()
        .current_dir(a.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["package", "--output", "sde.expert"])
        .assert()
        .code(0);
    let m = String::from_utf8(tar_member(&a.path().join("sde.expert"), "manifest.json")).unwrap();
    assert!(
        m.contains("\"created_at\": \"2023-11-14T22:13:20Z\""),
        "{m}"
    );
}

#[test]
fn sidecar_checks_with_sha256sum_and_gnu_tar_and_python_extract() {
    let d = v1_expert();
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(0);
    let st = std::process::Command::new("sha256sum")
        .args(["-c", "p.expert.sha256"])
        .current_dir(d.path())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        read(&d.path().join("p.expert.sha256")),
        format!("{}  p.expert\n", sha(&d.path().join("p.expert"))).into_bytes()
    );
    let x = d.path().join("gnu");
    std::fs::create_dir(&x).unwrap();
    assert!(std::process::Command::new("tar")
        .arg("-xzf")
        .arg(d.path().join("p.expert"))
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap()
        .success());
    assert_eq!(
        read(&x.join("adapter_model.safetensors")),
        read(&d.path().join("weights/qwen306b/adapter_model.safetensors"))
    );
    let py = "import sys, tarfile\nt = tarfile.open(sys.argv[1])\nprint(' '.join(t.getnames()))\nt.extractall(sys.argv[2], filter='data')";
    let out = std::process::Command::new("python3")
        .args(["-c", py])
        .arg(d.path().join("p.expert"))
        .arg(d.path().join("py"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "manifest.json LICENSE README.md adapter_config.json adapter_model.safetensors tokenizer.json");
    assert_eq!(read(&d.path().join("py/README.md")), b"# sample expert\n");
}

#[test]
fn a_symlink_in_the_weights_is_refused_and_nothing_is_written() {
    let d = v1_expert();
    let cfg = d.path().join("weights/qwen306b/adapter_config.json");
    std::fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &cfg).unwrap();
    let before = listing(d.path());
    cmd()
        .current_dir(d.path())
        .arg("package")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is a symbolic link"));
    assert_eq!(listing(d.path()), before, "nothing written");
    // a linked folder on the way is refused too
    std::fs::remove_file(&cfg).unwrap();
    std::fs::write(&cfg, "{}").unwrap();
    std::fs::rename(d.path().join("weights"), d.path().join("real")).unwrap();
    std::os::unix::fs::symlink(d.path().join("real"), d.path().join("weights")).unwrap();
    cmd()
        .current_dir(d.path())
        .arg("package")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("symbolic link"));
    // a linked LICENSE is refused, not silently skipped
    std::fs::remove_file(d.path().join("weights")).unwrap();
    std::fs::rename(d.path().join("real"), d.path().join("weights")).unwrap();
    std::fs::remove_file(d.path().join("LICENSE")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.path().join("LICENSE")).unwrap();
    cmd()
        .current_dir(d.path())
        .arg("package")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("LICENSE` is a symbolic link"));
}

#[test]
fn existing_output_needs_force_and_list_contents_writes_nothing() {
    let d = v1_expert();
    std::fs::write(d.path().join("p.expert"), "old").unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(read(&d.path().join("p.expert")), b"old");
    let before = listing(d.path());
    let out = cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents", "--output", "p.expert"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(listing(d.path()), before);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[0].ends_with(" manifest.json"));
    let weights = sha(&d.path().join("weights/qwen306b/adapter_model.safetensors"));
    assert!(
        text.contains(&format!(
            "{weights}        200000  adapter_model.safetensors"
        )),
        "{text}"
    );
    // --format json lists the same
    let out = cmd()
        .current_dir(d.path())
        .args(["--format", "json", "package", "--list-contents"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 6);
    cmd()
        .current_dir(d.path())
        .args(["package", "--force", "--output", "p.expert"])
        .assert()
        .code(0);
    assert_eq!(tar_list(&d.path().join("p.expert")).len(), 6);
}

#[test]
fn json_result_and_pickles_only_when_asked() {
    let d = v1_expert();
    let out = cmd()
        .current_dir(d.path())
        .args([
            "--format",
            "json",
            "package",
            "--include-pickle",
            "--output",
            "p.expert",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["sha256"], sha(&d.path().join("p.expert")));
    assert_eq!(
        v["size"],
        std::fs::metadata(d.path().join("p.expert")).unwrap().len()
    );
    assert!(v["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["path"] == "training_args.bin"));
}

#[test]
fn missing_adapter_names_every_place_tried() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("manifest.json"),
        read(&fixture("manifests/valid-v1.json")),
    )
    .unwrap();
    cmd().current_dir(d.path()).arg("package").assert().code(1).stderr(predicate::str::contains(
        "no adapter for base model `Qwen/Qwen3-0.6B`: tried `./weights/qwen306b/adapter_model.safetensors`, `./qwen306b/adapter_model.safetensors`, `./adapter_model.safetensors`",
    ));
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn weights_flag_and_adapter_path_and_named_files() {
    let d = tempfile::tempdir().unwrap();
    let text = v1_with("\"r\": 8,\n      \"alpha\": 16", "\"r\": 8,\n      \"alpha\": 16, \"path\": \"out/final\"")
        .replace("\"license\": \"MIT\"", "\"license\": \"MIT\", \"soft_prompts\": [{\"name\": \"s\", \"path\": \"soft/intro.pt\", \"tokens\": 8}]");
    make_expert(d.path(), &text, &[]);
    let w = d.path().join("out/final");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(w.join("adapter_model.safetensors"), weight_bytes(1000, 1)).unwrap();
    std::fs::write(
        w.join("adapter_config.json"),
        adapter_config_for(&text, "qwen306b"),
    )
    .unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--list-contents"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "soft prompt named by the manifest `./soft/intro.pt` does not exist",
        ));
    std::fs::create_dir(d.path().join("soft")).unwrap();
    std::fs::write(d.path().join("soft/intro.pt"), "x").unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(0);
    assert!(tar_list(&d.path().join("p.expert")).contains(&"soft/intro.pt".to_owned()));
    // --weights wins over the adapter's path
    let other = d.path().join("elsewhere");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("adapter_model.safetensors"), "W").unwrap();
    std::fs::write(
        other.join("adapter_config.json"),
        adapter_config_for(&text, "qwen306b"),
    )
    .unwrap();
    cmd()
        .current_dir(d.path())
        .args(["package", "--weights", "elsewhere", "--output", "q.expert"])
        .assert()
        .code(0);
    assert_eq!(
        tar_member(&d.path().join("q.expert"), "adapter_model.safetensors"),
        b"W"
    );
}

#[test]
fn validate_checks_packages_and_folders() {
    let d = v1_expert();
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(0);
    cmd()
        .current_dir(d.path())
        .args(["validate", "p.expert", "."])
        .assert()
        .code(0);
    // a member changed after packaging: integrity says so
    let x = d.path().join("x");
    std::fs::create_dir(&x).unwrap();
    assert!(std::process::Command::new("tar")
        .arg("-xzf")
        .arg(d.path().join("p.expert"))
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap()
        .success());
    std::fs::write(x.join("README.md"), "changed\n").unwrap();
    let st = std::process::Command::new("sh").arg("-c").arg("tar -czf ../t.expert manifest.json LICENSE README.md adapter_config.json adapter_model.safetensors tokenizer.json").current_dir(&x).status().unwrap();
    assert!(st.success());
    cmd()
        .current_dir(d.path())
        .args(["validate", "t.expert"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error[E0703] /integrity/files/README.md: member `README.md` has SHA-256",
        ));
    // a package without the adapter config
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg("tar -czf ../u.expert manifest.json adapter_model.safetensors")
        .current_dir(&x)
        .status()
        .unwrap();
    assert!(st.success());
    cmd()
        .current_dir(d.path())
        .args(["validate", "u.expert"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "the package has no adapter_config.json",
        ));
    // a truncated package
    let bytes = read(&d.path().join("p.expert"));
    std::fs::write(d.path().join("v.expert"), &bytes[..bytes.len() / 2]).unwrap();
    cmd()
        .current_dir(d.path())
        .args(["validate", "v.expert"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[E0700]"));
    // a folder whose adapter does not match the manifest's sha256
    let text = v1_with("\"alpha\": 16\n    }", "\"alpha\": 16, \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\"\n    }");
    std::fs::write(d.path().join("manifest.json"), text).unwrap();
    cmd()
        .current_dir(d.path())
        .args(["validate", "."])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[E0702] /adapters/0/sha256"));
}

#[test]
fn the_example_packages_for_every_model_with_only_that_model() {
    let d = tempfile::tempdir().unwrap();
    let manifest = root().join("examples/multi-model-expert/manifest.json");
    for (wanted, slug, name) in [
        ("qwen3-0.6b", "qwen306b", "Qwen/Qwen3-0.6B"),
        ("qwen3-1.7b", "qwen317b", "Qwen/Qwen3-1.7B"),
        ("qwen3-4b", "qwen34b", "Qwen/Qwen3-4B"),
    ] {
        cmd()
            .current_dir(d.path())
            .args(["package", "--model", wanted, "--manifest"])
            .arg(&manifest)
            .assert()
            .code(0);
        let pkg = d
            .path()
            .join(format!("expert-sql-multi-{slug}.v0.1.0.expert"));
        let m: serde_json::Value =
            serde_json::from_slice(&tar_member(&pkg, "manifest.json")).unwrap();
        let models = m["base_models"].as_array().unwrap();
        assert_eq!(models.len(), 1);
        assert_eq!(models[0]["name"], name);
        let adapter = read(&root().join(format!(
            "examples/multi-model-expert/weights/{slug}/adapter_model.safetensors"
        )));
        assert_eq!(tar_member(&pkg, "adapter_model.safetensors"), adapter);
    }
}
