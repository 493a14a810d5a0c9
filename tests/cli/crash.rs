//! Crash safety: `package` and `sign` killed with SIGKILL at pseudo-random moments leave the
//! output path holding nothing (a fresh package), or a complete file: the old one or the new
//! one, never a partial one. Stray `.NAME.XXXXXX.tmp` files may remain after SIGKILL (no
//! process is left to delete them; docs/ARCHIVE_FORMAT.md); they are counted, never the output.
//!
//! Each scenario runs ITERATIONS kills; the delays come from a PRNG seeded per iteration, so a
//! failure names a reproducible seed.
#![cfg(unix)]

use crate::common::{cmd, make_expert, v2_with, weight_bytes};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ITERATIONS: u64 = 10;

/// splitmix64: a tiny deterministic PRNG.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn sha(path: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(path).unwrap()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_expert-cli"))
}

/// An expert folder whose adapter is 24 MiB, so a run takes a moment (~0.9 s in a test build)
/// and the kills land in every phase: planning, streaming, commit, sidecar.
fn big_expert(dir: &Path) {
    make_expert(
        dir,
        &v2_with("\"name\": \"expert-sample\"", "\"name\": \"expert-big\""),
        &["qwen306b"],
    );
    std::fs::write(
        dir.join("weights/qwen306b/adapter_model.safetensors"),
        weight_bytes(24 << 20, 7),
    )
    .unwrap();
}

fn command(dir: &Path, args: &[&str], epoch: &str) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", epoch)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs to completion; returns how long it took.
fn run_ok(dir: &Path, args: &[&str], epoch: &str) -> Duration {
    let start = Instant::now();
    let status = command(dir, args, epoch).status().unwrap();
    assert!(status.success(), "{args:?}");
    start.elapsed()
}

/// Starts the command, kills it with SIGKILL after `delay`; true when it finished first.
fn kill_after(dir: &Path, args: &[&str], epoch: &str, delay: Duration) -> bool {
    let mut child = command(dir, args, epoch).spawn().unwrap();
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    if !finished {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    }
    child.wait().unwrap();
    finished
}

/// Temporary files AtomicFile left beside `out` (killed before it could delete them).
fn strays(dir: &Path, out: &str) -> Vec<PathBuf> {
    let prefix = format!(".{out}");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".tmp")
        })
        .map(|e| e.path())
        .collect()
}

/// When a sidecar exists it describes the file beside it.
fn check_sidecar(out: &Path) {
    let side = PathBuf::from(format!("{}.sha256", out.display()));
    if let Ok(text) = std::fs::read_to_string(&side) {
        let digest = text.split_whitespace().next().unwrap_or("");
        assert_eq!(
            digest,
            sha(out),
            "stale or partial sidecar `{}`",
            side.display()
        );
    }
}

fn validate_ok(out: &Path) {
    cmd().arg("validate").arg(out).assert().success();
}

const PACKAGE: &[&str] = &["package", "--model", "qwen306b", "--output", "out.expert"];

#[test]
fn killed_package_leaves_nothing_or_a_complete_package() {
    let d = tempfile::tempdir().unwrap();
    big_expert(d.path());
    let out = d.path().join("out.expert");
    let full = run_ok(d.path(), PACKAGE, "1700000000");
    eprintln!("package: a full run takes {full:?}");
    let want = sha(&out);
    let mut stray = 0;
    let mut finished = 0;
    for i in 0..ITERATIONS {
        std::fs::remove_file(&out).unwrap_or(());
        let _ = std::fs::remove_file(d.path().join("out.expert.sha256"));
        let mut rng = Rng(0xc0ffee ^ i);
        let delay = Duration::from_millis(rng.below(full.as_millis() as u64 * 6 / 5));
        finished += kill_after(d.path(), PACKAGE, "1700000000", delay) as u32;
        if out.exists() {
            assert_eq!(
                sha(&out),
                want,
                "seed {i}: a partial package at the output path"
            );
            check_sidecar(&out);
        }
        for s in strays(d.path(), "out.expert") {
            stray += 1;
            std::fs::remove_file(s).unwrap();
        }
    }
    eprintln!("package: {ITERATIONS} kills, {finished} finished first, {stray} stray temp files");
    if out.exists() {
        validate_ok(&out);
    }
}

#[test]
fn killed_package_force_keeps_the_old_or_the_new_package() {
    let d = tempfile::tempdir().unwrap();
    big_expert(d.path());
    let out = d.path().join("out.expert");
    // The old package differs from the new one only by its member mtimes.
    run_ok(d.path(), PACKAGE, "1600000000");
    let old = sha(&out);
    std::fs::copy(&out, d.path().join("old.bak")).unwrap();
    let mut force = PACKAGE.to_vec();
    force.push("--force");
    let full = run_ok(d.path(), &force, "1700000000");
    let new = sha(&out);
    assert_ne!(old, new);
    let mut stray = 0;
    let mut saw_old = 0;
    for i in 0..ITERATIONS {
        std::fs::copy(d.path().join("old.bak"), &out).unwrap();
        archive_sidecar(&out);
        let mut rng = Rng(0xbadc0de ^ i);
        let delay = Duration::from_millis(rng.below(full.as_millis() as u64 * 6 / 5));
        kill_after(d.path(), &force, "1700000000", delay);
        let now = sha(&out);
        assert!(
            now == old || now == new,
            "seed {i}: the output is neither the old nor the new package"
        );
        saw_old += (now == old) as u32;
        check_sidecar(&out);
        for s in strays(d.path(), "out.expert") {
            stray += 1;
            std::fs::remove_file(s).unwrap();
        }
    }
    eprintln!(
        "package --force: {ITERATIONS} kills, old kept {saw_old} times, {stray} stray temp files"
    );
    validate_ok(&out);
}

/// Writes a correct sidecar for `out` (as a completed earlier run would have).
fn archive_sidecar(out: &Path) {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::write(
        format!("{}.sha256", out.display()),
        format!("{}  {name}\n", sha(out)),
    )
    .unwrap();
}

#[test]
fn killed_sign_keeps_the_original_or_the_signed_package() {
    let d = tempfile::tempdir().unwrap();
    big_expert(d.path());
    let out = d.path().join("out.expert");
    run_ok(d.path(), PACKAGE, "1700000000");
    let original = sha(&out);
    std::fs::copy(&out, d.path().join("orig.bak")).unwrap();
    run_ok(d.path(), &["keygen", "--output", "k.pem"], "1700000000");
    // SOURCE_DATE_EPOCH makes signing deterministic: one possible signed file.
    let sign: &[&str] = &["sign", "--expert", "out.expert", "--key", "k.pem"];
    let full = run_ok(d.path(), sign, "1700000000");
    eprintln!("sign: a full run takes {full:?}");
    let signed = sha(&out);
    assert_ne!(original, signed);
    let mut stray = 0;
    let mut saw_original = 0;
    for i in 0..ITERATIONS {
        std::fs::copy(d.path().join("orig.bak"), &out).unwrap();
        archive_sidecar(&out);
        let mut rng = Rng(0x5eed ^ (i << 8));
        let delay = Duration::from_millis(rng.below(full.as_millis() as u64 * 6 / 5));
        kill_after(d.path(), sign, "1700000000", delay);
        let now = sha(&out);
        assert!(
            now == original || now == signed,
            "seed {i}: the package is neither the original nor the signed one"
        );
        saw_original += (now == original) as u32;
        check_sidecar(&out);
        for s in strays(d.path(), "out.expert") {
            stray += 1;
            std::fs::remove_file(s).unwrap();
        }
    }
    eprintln!(
        "sign: {ITERATIONS} kills, original kept {saw_original} times, {stray} stray temp files"
    );
    cmd()
        .args(["verify", "--expert"])
        .arg(&out)
        .arg("--pubkey")
        .arg(d.path().join("k.pub"))
        .assert()
        .code(if sha(&out) == signed { 0 } else { 4 });
}
