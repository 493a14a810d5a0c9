//! Two `package` runs writing the same output at once. With --force both succeed and the
//! result is one complete package (both runs produce the same bytes, so the sidecar matches
//! whichever run wrote it last). Without --force exactly one wins and the other exits 6, found
//! either by the early check or by the no-clobber rename at commit; the loser leaves nothing
//! behind and does not touch the winner's sidecar. Each test runs ROUNDS races.

use crate::common::{cmd, make_expert, v2_with, weight_bytes};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::{Command, Stdio};

const ROUNDS: usize = 5;

fn sha(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn expert(dir: &Path) {
    make_expert(
        dir,
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"expert-race\""),
        &["qwen306b"],
    );
    std::fs::write(
        dir.join("weights/qwen306b/adapter_model.safetensors"),
        weight_bytes(4 << 20, 3),
    )
    .unwrap();
}

/// Starts both runs before waiting for either; returns their exit codes.
fn race(dir: &Path, args: &[&str]) -> [i32; 2] {
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_expert-cli"))
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{err}");
        if o.status.code() == Some(6) {
            assert!(err.contains("error: `out.expert` already exists"), "{err}");
        }
    }
    [a.status.code().unwrap(), b.status.code().unwrap()]
}

fn check_result(dir: &Path, want: &str) {
    let out = dir.join("out.expert");
    assert_eq!(sha(&out), want);
    let side = std::fs::read_to_string(dir.join("out.expert.sha256")).unwrap();
    assert_eq!(side, format!("{want}  out.expert\n"));
    cmd().arg("validate").arg(&out).assert().success();
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

const PACKAGE: &[&str] = &["package", "--model", "qwen306b", "--output", "out.expert"];

fn reference(dir: &Path) -> String {
    let status = Command::new(env!("CARGO_BIN_EXE_expert-cli"))
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(PACKAGE)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    sha(&dir.join("out.expert"))
}

#[test]
fn two_forced_packages_to_one_output_leave_one_complete_file() {
    let d = tempfile::tempdir().unwrap();
    expert(d.path());
    let want = reference(d.path());
    let mut args = PACKAGE.to_vec();
    args.push("--force");
    for _ in 0..ROUNDS {
        assert_eq!(race(d.path(), &args), [0, 0]);
        check_result(d.path(), &want);
    }
}

#[test]
fn two_packages_without_force_one_wins_the_other_is_refused() {
    let d = tempfile::tempdir().unwrap();
    expert(d.path());
    let want = reference(d.path());
    for _ in 0..ROUNDS {
        std::fs::remove_file(d.path().join("out.expert")).unwrap();
        std::fs::remove_file(d.path().join("out.expert.sha256")).unwrap();
        let codes = race(d.path(), PACKAGE);
        let mut sorted = codes;
        sorted.sort();
        assert_eq!(
            sorted,
            [0, 6],
            "exactly one run writes the output: {codes:?}"
        );
        check_result(d.path(), &want);
    }
}
