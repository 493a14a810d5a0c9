//! `validate`, `migrate` and `schema` through the real binary: output formats, exit codes.

use crate::common::*;
use predicates::prelude::*;
use serde_json::Value;

fn write_tmp(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn valid_manifest_exits_zero_with_summary() {
    cmd()
        .args(["validate"])
        .arg(fixture("manifests/valid-v1.json"))
        .assert()
        .code(0)
        .stderr(
            predicate::str::contains("ok: ").and(predicate::str::contains(
                "(schema 1.0): 0 errors, 0 warnings",
            )),
        );
}

#[test]
fn text_output_names_file_line_column_code_pointer_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(
        &dir,
        "m.json",
        &v2_with(
            "\"learning_rate\": 5e-5,",
            "\"learning_rate\": 0, \"learnig_rate\": 1,",
        ),
    );
    let out = cmd()
        .arg("validate")
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let shown = p.display().to_string();
    assert!(text.contains(&format!("{shown}:58:24: error[E0204] /training/config/learning_rate: must be greater than 0 and at most 1, found `0`\n")), "{text}");
    assert!(text.contains(&format!("{shown}:58:27: warning[W0201] /training/config/learnig_rate: unknown key `learnig_rate`\n  hint: did you mean `learning_rate`?\n")), "{text}");
}

#[test]
fn strict_turns_warnings_into_failure() {
    let p = fixture("manifests/valid-v2.json"); // has one unknown key
    cmd().arg("validate").arg(&p).assert().code(0);
    cmd()
        .args(["validate", "--strict"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("FAILED"));
}

#[test]
fn several_paths_and_directories_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.json"),
        read(&fixture("manifests/valid-v1.json")),
    )
    .unwrap();
    let bad = write_tmp(&dir, "bad.json", "{\"name\": 1}");
    let out = cmd()
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .arg(fixture("manifests/valid-v2.json"))
        .arg(&bad)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["valid"], false);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["kind"], "directory");
    assert_eq!(files[0]["valid"], true);
    assert_eq!(files[1]["schema_version"], "2.0");
    assert_eq!(files[2]["valid"], false);
    let d = &files[2]["diagnostics"][0];
    for key in ["severity", "code", "pointer", "line", "column", "message"] {
        assert!(d.get(key).is_some(), "diagnostic lacks {key}: {d}");
    }
}

#[test]
fn sarif_is_2_1_0_with_rules_and_locations() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(&dir, "m.json", &v2_with("\"r\": 8,", "\"r\": 0,"));
    let out = cmd()
        .args(["validate", "--format", "sarif"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "expert-cli");
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "E0204")
        .unwrap();
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        18
    );
    let idx = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][idx]["id"], "E0204");
}

#[test]
fn github_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(&dir, "m.json", &v2_with("\"r\": 8,", "\"r\": 0,"));
    let out = cmd()
        .args(["validate", "--format", "github"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&format!("::error file={},line=18,col=16,title=E0204::/base_models/0/adapters/0/r: must be between 1 and 256, found 0\n", p.display())), "{text}");
    assert!(text.contains("::warning file="), "{text}");
}

#[test]
fn sarif_and_github_are_only_for_validate() {
    cmd()
        .args(["--format", "github", "schema"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only for `validate`"));
}

#[test]
fn missing_path_is_an_io_error_with_the_path() {
    cmd()
        .args(["validate", "/nonexistent/m.json"])
        .assert()
        .code(7)
        .stderr(predicate::str::contains(
            "error: cannot read `/nonexistent/m.json`: no such file or folder",
        ));
}

#[test]
fn usage_errors_exit_2() {
    cmd().arg("validate").assert().code(2);
    cmd().args(["validate", "--bogus", "x"]).assert().code(2);
}

#[test]
fn train_without_a_manifest_says_which_file_is_missing() {
    cmd()
        .args([
            "train",
            "--dry-run",
            "--manifest",
            "/nonexistent/manifest.json",
        ])
        .assert()
        .code(7)
        .stderr(predicate::str::contains(
            "cannot read `/nonexistent/manifest.json`",
        ));
}

#[test]
fn invalid_json_is_located_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(&dir, "m.json", "{\n  \"name\": \"x\",\n  # note\n}");
    cmd()
        .arg("validate")
        .arg(&p)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            ":3:3: error[E0001] invalid JSON: expected a key in double quotes, found `#`",
        ));
}

#[test]
fn migrate_to_stdout_and_file() {
    let v1 = fixture("manifests/valid-v1.json");
    let out = cmd()
        .args(["migrate", "--manifest"])
        .arg(&v1)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, manifest_fixture("valid-v1.migrated.json"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("v2.json");
    cmd()
        .args(["migrate", "--manifest"])
        .arg(&v1)
        .arg("--output")
        .arg(&dest)
        .assert()
        .code(0);
    cmd()
        .arg("validate")
        .arg(&dest)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "(schema 2.0): 0 errors, 0 warnings",
        ));
    // an existing output is kept unless --force
    cmd()
        .args(["migrate", "--manifest"])
        .arg(&v1)
        .arg("--output")
        .arg(&dest)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("already exists"));
    cmd()
        .args(["migrate", "--force", "--manifest"])
        .arg(&v1)
        .arg("--output")
        .arg(&dest)
        .assert()
        .code(0);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    // a 2.0 manifest has nothing to migrate
    cmd()
        .args(["migrate", "--manifest"])
        .arg(fixture("manifests/valid-v2.json"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already schema 2.0"));
}

#[test]
fn schema_matches_the_committed_copy() {
    let out = cmd()
        .arg("schema")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let committed = read(&root().join("docs/expert-manifest.schema.json"));
    assert!(out == committed, "docs/expert-manifest.schema.json is stale: run `expert-cli schema > docs/expert-manifest.schema.json`");
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc = String::from_utf8(read(&root().join("docs/EXPERT_FORMAT.md"))).unwrap();
    for code in expert_cli::manifest::Code::ALL {
        assert!(
            doc.contains(&format!("| `{}` | {} |", code.as_str(), code.severity())),
            "docs/EXPERT_FORMAT.md lacks {}",
            code.as_str()
        );
    }
}

#[test]
fn generated_schema_accepts_every_real_manifest_the_runtime_loads() {
    // Python's jsonschema is an independent implementation of draft-07. The schema requires
    // what the expert runtime requires, so it rejects the two real expert-tools manifests the
    // runtime cannot load (no `training.config.target_modules`, tests/cli/corpus.rs) and
    // accepts the other 25.
    let Some(corpus) = corpus() else { return };
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        crate::common::skip("python3 with jsonschema is not available");
        return;
    }
    let script = r#"
import glob, json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft7Validator(schema)
files = sorted(glob.glob(sys.argv[2] + '/expert-*.json'))
assert len(files) == 27, files
bad = [f.split('/')[-1] for f in files if list(v.iter_errors(json.load(open(f, encoding='utf-8'))))]
want = ['expert-tools__39d3a3f__manifest.json', 'expert-tools__59d52a9__manifest.json']
print(bad); sys.exit(0 if bad == want else 1)
"#;
    let st = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(root().join("docs/expert-manifest.schema.json"))
        .arg(corpus.join("manifests/public"))
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn no_color_and_broken_pipe() {
    // NO_COLOR is set by cmd(); --color always overrides it.
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(&dir, "m.json", "{}");
    let out = cmd()
        .args(["--color", "always", "validate"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    // anstyle's bold red: bold, then the colour.
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("\x1b[1m\x1b[31merror["));
    let out = cmd()
        .args(["validate"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8(out).unwrap().contains('\x1b'));
}

#[test]
fn migrate_writes_despite_diagnostics_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    // a 1.0 manifest with a placeholder sha256 (E0404): the runtime loads it, so it migrates
    let v1 = write_tmp(
        &dir,
        "v1.json",
        &v1_with(
            "\"alpha\": 16\n",
            "\"alpha\": 16, \"sha256\": \"placeholder\"\n",
        ),
    );
    let dest = dir.path().join("v2.json");
    let out = cmd()
        .args(["--format", "json", "migrate", "--manifest"])
        .arg(&v1)
        .arg("--output")
        .arg(&dest)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["output"], dest.display().to_string());
    assert_eq!(v["schema_version"], "2.0");
    assert_eq!(v["written"], true);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["diagnostics"][0]["code"], "E0404");
    assert_eq!(
        v["diagnostics"][0]["pointer"],
        "/base_models/0/adapters/0/sha256"
    );
    assert!(dest.is_file());
    // text: the diagnostics on stderr, with the output's path, and the file written
    let dest2 = dir.path().join("v2-text.json");
    cmd()
        .args(["migrate", "--manifest"])
        .arg(&v1)
        .arg("--output")
        .arg(&dest2)
        .assert()
        .code(0)
        .stderr(
            predicate::str::contains(format!(
                "{}:17:34: error[E0404] /base_models/0/adapters/0/sha256",
                dest2.display()
            ))
            .and(predicate::str::contains("error[E0404]"))
            .and(predicate::str::contains("written all the same")),
        );
    assert_eq!(read(&dest), read(&dest2));
    // not JSON: refused with the position, nothing written
    let bad = write_tmp(&dir, "bad.json", "{\"base_model\": {\"name\": \"x\"},}");
    let dest3 = dir.path().join("v2-bad.json");
    cmd()
        .args(["migrate", "--manifest"])
        .arg(&bad)
        .arg("--output")
        .arg(&dest3)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("error[E0001]").and(predicate::str::contains(
                "is not valid JSON; nothing was migrated",
            )),
        );
    assert!(!dest3.exists());
}

#[test]
fn every_path_is_checked_in_every_format_and_the_worst_decides() {
    // issue #12.2: `validate good/ wip/ tc.json`, where wip/ has no manifest, reported only
    // wip/ and never tc.json's trailing comma.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("good")).unwrap();
    std::fs::copy(
        fixture("manifests/valid-v2.json"),
        dir.path().join("good/manifest.json"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("wip")).unwrap();
    std::fs::write(dir.path().join("tc.json"), "{\"name\": \"x\",}").unwrap();
    let run = |format: &str, paths: &[&str]| {
        let out = cmd()
            .current_dir(dir.path())
            .args(["--format", format, "validate"])
            .args(paths)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let paths = ["good", "wip", "tc.json"];
    // text: the folder's problem on stderr (like any file error), the comma on stdout
    let (code, out, err) = run("text", &paths);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("error: `wip` has no manifest.json\nhint: "),
        "{err}"
    );
    assert!(
        out.contains("tc.json:1:13: error[E0001] invalid JSON: trailing comma before `}`"),
        "{out}"
    );
    assert!(err.contains("ok: good/manifest.json"), "{err}");
    assert!(err.contains("FAILED: wip: 1 error"), "{err}");
    assert!(err.contains("FAILED: tc.json: 1 error"), "{err}");
    // json
    let (code, out, _) = run("json", &paths);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let files = v["files"].as_array().unwrap();
    let summary: Vec<(String, Value, Value)> = files
        .iter()
        .map(|f| {
            let first_error = f["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["severity"] == "error")
                .map(|d| d["code"].clone())
                .unwrap_or(Value::Null);
            (
                f["path"].as_str().unwrap().to_owned(),
                f["valid"].clone(),
                first_error,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "good/manifest.json".to_owned(),
                Value::from(true),
                Value::Null
            ),
            ("wip".to_owned(), Value::from(false), Value::from("E0004")),
            (
                "tc.json".to_owned(),
                Value::from(false),
                Value::from("E0001")
            ),
        ]
    );
    // sarif
    let (code, out, _) = run("sarif", &paths);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let results: Vec<(String, String)> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("E0004".to_owned(), "wip".to_owned()),
            ("E0001".to_owned(), "tc.json".to_owned())
        ]
    );
    // github annotations
    let (code, out, _) = run("github", &paths);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(
            "::error file=wip,line=1,col=1,title=E0004::`wip` has no manifest.json (hint: "
        ),
        "{out}"
    );
    assert!(
        out.contains("::error file=tc.json,line=1,col=13,title=E0001::invalid JSON: trailing comma before `}`"),
        "{out}"
    );
    // a path that cannot be read is the worst: exit 7, and the others are still checked
    for format in ["text", "json", "sarif", "github"] {
        let (code, out, err) = run(format, &["missing.json", "tc.json"]);
        assert_eq!(code, Some(7), "{format}: {out}{err}");
        assert!(out.contains("tc.json"), "{format}: {out}");
        assert!(
            out.contains("cannot read `missing.json`: no such file or folder")
                || err.contains("error: cannot read `missing.json`: no such file or folder"),
            "{format}: {out}{err}"
        );
    }
}
