//! Snapshot tests: exit codes and whole outputs (stdout and stderr) of JSON results, compared
//! with golden files in `tests/snapshots/`. Volatile parts are masked: the scratch folder is
//! `[TMP]`, the checkout is `[ROOT]`. Inputs are fixed (fixtures, SOURCE_DATE_EPOCH, the
//! fixed-seed key in fixtures/signing), so digests, signatures and times are stable and kept.
//!
//! After an intended change of an output, regenerate and review the diff:
//!
//!     UPDATE_SNAPSHOTS=1 cargo test --test cli snapshots::
//!     git diff tests/snapshots/

use crate::common::{cmd, copy_dir, fixture, root};
use std::path::{Path, PathBuf};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = cmd()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn mask(text: &str, tmp: &Path) -> String {
    // Longest first: the scratch folder may lie inside the checkout (CARGO_TARGET_TMPDIR).
    let tmp = tmp.display().to_string();
    let root = root().display().to_string();
    let mut pairs = [(tmp, "[TMP]"), (root, "[ROOT]")];
    pairs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut out = text.to_owned();
    for (from, to) in pairs {
        out = out.replace(&from, to);
    }
    out
}

/// Compares `run` with `tests/snapshots/<name>.snap`, or writes it under UPDATE_SNAPSHOTS=1.
fn assert_snapshot(name: &str, tmp: &Path, run: &Run) {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code,
        mask(&run.stdout, tmp),
        mask(&run.stderr, tmp)
    );
    let path = root().join("tests/snapshots").join(format!("{name}.snap"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot `{}`; run `UPDATE_SNAPSHOTS=1 cargo test --test cli snapshots::` and review it",
            path.display()
        )
    });
    if want != text {
        let diff: Vec<String> = want
            .lines()
            .zip(text.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| format!("line {}:\n  want: {a}\n  got:  {b}", i + 1))
            .collect();
        panic!(
            "snapshot `{name}` differs ({} vs {} lines):\n{}\n--- whole output\n{text}",
            want.lines().count(),
            text.lines().count(),
            diff.join("\n")
        );
    }
}

/// A scratch copy of fixtures/expert-tiny, packaged as `tiny.expert`.
fn tiny(dir: &Path) -> PathBuf {
    let src = fixture("expert-tiny");
    let dst = dir.join("expert");
    copy_dir(&src, &dst);
    let r = run(
        dir,
        &[
            "package",
            "--manifest",
            "expert/manifest.json",
            "--output",
            "tiny.expert",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    dir.join("tiny.expert")
}

#[test]
fn validate_json() {
    let d = tempfile::tempdir().unwrap();
    let ok = fixture("manifests/valid-v2.json");
    let bad = fixture("hostile/manifests/duplicate-keys.json");
    let r = run(
        d.path(),
        &["--format", "json", "validate", ok.to_str().unwrap()],
    );
    assert_snapshot("validate-json-valid", d.path(), &r);
    let r = run(
        d.path(),
        &["--format", "json", "validate", bad.to_str().unwrap()],
    );
    assert_snapshot("validate-json-invalid", d.path(), &r);
}

#[test]
fn package_json() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    let m = ["--manifest", "expert/manifest.json"];
    let mut args = vec!["--format", "json", "package", "--list-contents"];
    args.extend(m);
    assert_snapshot(
        "package-json-list-contents",
        d.path(),
        &run(d.path(), &args),
    );
    let mut args = vec!["--format", "json", "package", "--output", "again.expert"];
    args.extend(m);
    assert_snapshot("package-json", d.path(), &run(d.path(), &args));
    // The error form: the output exists (exit 6).
    assert_snapshot("package-json-exists", d.path(), &run(d.path(), &args));
}

#[test]
fn package_text() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    let m = ["--manifest", "expert/manifest.json"];
    let mut args = vec!["package", "--list-contents"];
    args.extend(m);
    assert_snapshot(
        "package-text-list-contents",
        d.path(),
        &run(d.path(), &args),
    );
    let mut args = vec!["package", "--output", "again.expert"];
    args.extend(m);
    assert_snapshot("package-text", d.path(), &run(d.path(), &args));
    // An adapter that contradicts the manifest (#11): the diagnostics, then the refusal.
    let config = d.path().join("expert/weights/qwen306b/adapter_config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"r\": 8", "\"r\": 16")).unwrap();
    let mut args = vec!["package", "--output", "third.expert"];
    args.extend(m);
    assert_snapshot(
        "package-text-adapter-mismatch",
        d.path(),
        &run(d.path(), &args),
    );
    let mut args = vec!["--format", "json", "package", "--output", "third.expert"];
    args.extend(m);
    assert_snapshot(
        "package-json-adapter-mismatch",
        d.path(),
        &run(d.path(), &args),
    );
}

#[test]
fn verify_json_for_each_outcome() {
    let d = tempfile::tempdir().unwrap();
    let pkg = tiny(d.path());
    let key = fixture("signing/seed0-31.pem");
    let trusted = fixture("signing/seed0-31.pub");
    let verify = |name: &str, pubkey: &Path| {
        let r = run(
            d.path(),
            &[
                "--format",
                "json",
                "verify",
                "--expert",
                "tiny.expert",
                "--pubkey",
                pubkey.to_str().unwrap(),
            ],
        );
        assert_snapshot(name, d.path(), &r);
    };
    verify("verify-json-unsigned", &trusted);
    let r = run(
        d.path(),
        &[
            "--format",
            "json",
            "sign",
            "--expert",
            "tiny.expert",
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_snapshot("sign-json", d.path(), &r);
    verify("verify-json-verified", &trusted);
    // A key that did not sign it: untrusted.
    let other = run(d.path(), &["keygen", "--output", "other.pem"]);
    assert_eq!(other.code, 0);
    let r = run(
        d.path(),
        &[
            "--format",
            "json",
            "verify",
            "--expert",
            "tiny.expert",
            "--pubkey",
            "other.pub",
        ],
    );
    // The other key is random: only its path appears in the output, and it is masked.
    assert_snapshot("verify-json-untrusted", d.path(), &r);
    // Invalid: a hostile package.
    std::fs::copy(fixture("hostile/archives/traversal.expert"), &pkg).unwrap();
    verify("verify-json-invalid", &trusted);
}

/// `sign --minisig` and `verify` by the detached signature, and `verify --full` beside it.
#[test]
fn minisig_json() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    let key = fixture("signing/seed0-31.pem");
    let trusted = fixture("signing/seed0-31.pub");
    let r = run(
        d.path(),
        &[
            "--format",
            "json",
            "sign",
            "tiny.expert",
            "--key",
            key.to_str().unwrap(),
            "--minisig",
        ],
    );
    assert_snapshot("sign-json-minisig", d.path(), &r);
    let verify = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "--format",
            "json",
            "verify",
            "tiny.expert",
            "--pubkey",
            trusted.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        assert_snapshot(name, d.path(), &run(d.path(), &args));
    };
    verify("verify-json-detached", &[]);
    verify("verify-json-full-with-minisig", &["--full"]);
}

#[test]
fn error_json_for_a_missing_manifest() {
    let d = tempfile::tempdir().unwrap();
    let r = run(d.path(), &["--format", "json", "package"]);
    assert_snapshot("package-json-missing-manifest", d.path(), &r);
}
