//! `keygen`, `sign`, `verify` through the real binary: what OpenSSL and the expert runtime's
//! install check make of a signed package, the tamper matrix with its four outcomes, trust
//! without flags, keys, files that are not packages, hostile packages.

use crate::common::*;
use expert_cli::archive::{self, ArchiveWriter, ContentKind, Limits, WriteOptions};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// The SOURCE_DATE_EPOCH of these tests: 2025-11-25T12:00:00Z.
const EPOCH: &str = "1764072000";

/// A packaged and signed copy of fixtures/expert-tiny in a temp dir, with a fixed time.
struct Signed {
    dir: tempfile::TempDir,
}

/// A package's members, in order, with their bytes.
type Members = Vec<(String, Vec<u8>)>;

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("expert-tiny"), dir.path());
        let s = Signed { dir };
        s.run(&["package", "--output", "p.expert"]).code(0);
        s.run(&[
            "keygen",
            "--name",
            "ACME CI",
            "--output",
            "keys/publisher.pem",
        ])
        .code(0);
        s.run(&["keygen", "--output", "other/mallory.pem"]).code(0);
        s.run(&[
            "sign",
            "--expert",
            "p.expert",
            "--key",
            "keys/publisher.pem",
        ])
        .code(0);
        s
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn cmd(&self) -> assert_cmd::Command {
        let mut c = cmd();
        c.current_dir(self.dir.path())
            .env("SOURCE_DATE_EPOCH", EPOCH);
        c
    }
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().args(args).assert()
    }
    fn verify(&self, pkg: &str) -> assert_cmd::assert::Assert {
        self.run(&["verify", pkg, "--pubkey", "keys/publisher.pub"])
    }
    /// Rewrites p.expert into `out` through our own (canonical) writer after `edit` changed its
    /// members, so each case tests the signature checks, not the archive's form.
    fn tamper(&self, out: &str, edit: impl FnOnce(&mut Members)) {
        let mut members = read_members(&self.path("p.expert"));
        edit(&mut members);
        write_members(&self.path(out), members);
    }
    /// The same with Python's tarfile, for what our writer refuses to write.
    fn tamper_py(&self, out: &str, edit: &str) {
        let script = format!(
            "import io, sys, tarfile\nsrc = tarfile.open(sys.argv[1])\nm = {{i.name: src.extractfile(i).read() for i in src.getmembers()}}\n{edit}\nwith tarfile.open(sys.argv[2], 'w:gz') as t:\n    for name, data in m.items():\n        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n"
        );
        let st = std::process::Command::new("python3")
            .args(["-c", &script])
            .arg(self.path("p.expert"))
            .arg(self.path(out))
            .status()
            .unwrap();
        assert!(st.success());
    }
}

fn read_members(pkg: &Path) -> Members {
    let file = std::fs::File::open(pkg).unwrap();
    let mut listing = archive::read_members_keeping(file, &Limits::default(), &|_| true).unwrap();
    listing
        .members
        .iter()
        .map(|m| (m.path.clone(), listing.kept.remove(&m.path).unwrap()))
        .collect()
}

fn write_members(out: &Path, mut members: Members) {
    members.sort_by(|a, b| {
        (a.0 != "manifest.json", a.0.as_bytes()).cmp(&(b.0 != "manifest.json", b.0.as_bytes()))
    });
    let opts = WriteOptions {
        mtime: EPOCH.parse().unwrap(),
        ..WriteOptions::default()
    };
    let mut w = ArchiveWriter::new(std::fs::File::create(out).unwrap(), opts).unwrap();
    for (path, data) in &members {
        w.append(
            path,
            data.len() as u64,
            &mut &data[..],
            ContentKind::for_path(path),
        )
        .unwrap();
    }
    w.finish().unwrap();
}

fn member<'a>(m: &'a mut Members, name: &str) -> &'a mut Vec<u8> {
    &mut m.iter_mut().find(|(p, _)| p == name).unwrap().1
}

fn replace(bytes: &mut Vec<u8>, from: &str, to: &str) {
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(from), "`{from}` not found");
    *bytes = text.replacen(from, to, 1).into_bytes();
}

/// Runs `sh -c script` in `dir`, returning (success, stdout + stderr).
fn sh(dir: &Path, script: &str) -> (bool, String) {
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The OpenSSL recipe of docs/SIGNING.md: the `sh test` block that runs `openssl pkeyutl
/// -verify` (it reads `dist/sql.expert` and `keys/publisher.pub`).
fn documented_recipe() -> String {
    let doc = std::fs::read_to_string(root().join("docs/SIGNING.md")).unwrap();
    let blocks: Vec<&str> = doc.split("```").collect();
    blocks
        .iter()
        .skip(1)
        .step_by(2)
        .filter_map(|b| b.strip_prefix("sh test\n"))
        .find(|b| b.contains("openssl pkeyutl -verify"))
        .expect("docs/SIGNING.md has the OpenSSL recipe as a `sh test` block")
        .to_owned()
}

#[test]
fn signature_is_openssls_and_the_documented_recipe_checks_it() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&fixture("expert-tiny"), d.path());
    let run = |args: &[&str]| {
        cmd()
            .current_dir(d.path())
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args(args)
            .assert()
    };
    run(&["package", "--output", "dist/sql.expert"]).code(0);
    let key = fixture("signing/seed0-31.pem");
    let key = key.to_str().unwrap();
    run(&[
        "sign",
        "--expert",
        "dist/sql.expert",
        "--publisher",
        "ACME CI",
        "--key",
        key,
    ])
    .code(0);
    let pkg = d.path().join("dist/sql.expert");
    // Ed25519 is deterministic: OpenSSL signing the message gives signature.sig exactly.
    let manifest = tar_member(&pkg, "manifest.json");
    std::fs::write(
        d.path().join("message.txt"),
        format!(
            "manifest.json:{}",
            expert_cli::digest::sha256_hex(&manifest)
        ),
    )
    .unwrap();
    let (ok, out) = sh(
        d.path(),
        &format!("openssl pkeyutl -sign -rawin -inkey {key} -in message.txt -out sig.bin && xxd -p -c 128 sig.bin"),
    );
    assert!(ok, "{out}");
    assert_eq!(
        out,
        String::from_utf8(tar_member(&pkg, "signature.sig")).unwrap()
    );
    // The recipe of docs/SIGNING.md, verbatim, with the trusted key.
    std::fs::create_dir(d.path().join("keys")).unwrap();
    std::fs::copy(
        fixture("signing/seed0-31.pub"),
        d.path().join("keys/publisher.pub"),
    )
    .unwrap();
    let recipe = documented_recipe();
    let (ok, out) = sh(d.path(), &recipe);
    assert!(
        ok && out.contains("Signature Verified Successfully"),
        "{out}"
    );
    // A manifest changed by one byte fails the same recipe.
    let mut members = read_members(&pkg);
    replace(
        member(&mut members, "manifest.json"),
        "A schema",
        "a schema",
    );
    write_members(&pkg, members);
    let (ok, out) = sh(d.path(), &recipe);
    assert!(!ok, "{out}");
}

/// The expert runtime's install check (hivellm/expert `cli/src/commands/install.rs` at
/// 9cd24b1, as `reference/upstream-packaging.md` describes it), re-implemented: its loader
/// needs `integrity.publisher`, `signature_algorithm` and `files`; `signature.sig` is read as
/// UTF-8, trimmed and hex-decoded (64 bytes); `integrity.pubkey` is bare hex (32 bytes); the
/// message is `manifest.json:` + the SHA-256 hex of the packaged manifest; Ed25519 verifies.
/// Python's standard library does the reading, OpenSSL the Ed25519 check.
const RUNTIME_INSTALL_CHECK: &str = r#"
import binascii, hashlib, json, subprocess, sys
manifest = open("manifest.json", "rb").read()
integrity = json.loads(manifest)["integrity"]
assert isinstance(integrity["publisher"], str), "publisher"
assert isinstance(integrity["signature_algorithm"], str), "signature_algorithm"
assert all(isinstance(k, str) and isinstance(v, str) for k, v in integrity["files"].items()), "files"
for optional in ("created_at", "pubkey"):
    assert isinstance(integrity.get(optional, ""), str), optional
signature = binascii.unhexlify(open("signature.sig", "rb").read().decode("utf-8").strip())
assert len(signature) == 64, "Invalid signature length"
pubkey = binascii.unhexlify(integrity["pubkey"])
assert len(pubkey) == 32, "Invalid public key length"
message = b"manifest.json:" + hashlib.sha256(manifest).hexdigest().encode()
open("message.bin", "wb").write(message)
open("signature.bin", "wb").write(signature)
# SPKI DER of an Ed25519 key: a fixed 12-byte prefix, then the key (RFC 8410).
open("pubkey.der", "wb").write(bytes.fromhex("302a300506032b6570032100") + pubkey)
r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "pubkey.der",
                    "-rawin", "-in", "message.bin", "-sigfile", "signature.bin"], capture_output=True, text=True)
print(r.stdout + r.stderr)
sys.exit(0 if "Signature Verified Successfully" in r.stdout else "Signature verification failed! Package may be tampered.")
"#;

fn runtime_install_check(pkg: &Path) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(pkg)
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success(), "GNU tar unpacks it");
    let out = std::process::Command::new("python3")
        .args(["-c", RUNTIME_INSTALL_CHECK])
        .current_dir(dir.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_runtimes_install_check_passes_on_a_signed_package() {
    let s = Signed::new();
    let (ok, out) = runtime_install_check(&s.path("p.expert"));
    assert!(ok, "{out}");
    // ... and fails on a tampered one (so the check can fail at all).
    s.tamper("t.expert", |m| {
        replace(member(m, "manifest.json"), "0.1.0", "0.1.1");
    });
    let (ok, out) = runtime_install_check(&s.path("t.expert"));
    assert!(!ok && out.contains("tampered"), "{out}");
}

#[test]
fn round_trip_and_tamper_matrix() {
    let s = Signed::new();
    s.verify("p.expert").code(0).stdout(predicate::str::contains(
        "verified: `p.expert` is expert-sample-v1 v0.1.0 for Qwen/Qwen3-0.6B, signed by ACME CI with key ",
    ).and(predicate::str::contains("at 2025-11-25T12:00:00Z (trusted key `keys/publisher.pub`)")));
    // signing changed no other member's bytes and added one
    let members = tar_list(&s.path("p.expert"));
    assert_eq!(
        members,
        [
            "manifest.json",
            "README.md",
            "adapter_config.json",
            "adapter_model.safetensors",
            "signature.sig"
        ]
    );
    let st = std::process::Command::new("sha256sum")
        .args(["-c", "p.expert.sha256"])
        .current_dir(s.dir.path())
        .status()
        .unwrap();
    assert!(st.success(), "the sidecar was refreshed");

    type Edit = Box<dyn Fn(&mut Members)>;
    let edit_manifest = |from: &'static str, to: &'static str| -> Edit {
        Box::new(move |m| replace(member(m, "manifest.json"), from, to))
    };
    let bad_signature = "the signature does not verify under the trusted key";
    let cases: Vec<(&str, Edit, i32, &str)> = vec![
        (
            "byte-weights",
            Box::new(|m| *member(m, "adapter_model.safetensors").last_mut().unwrap() ^= 1),
            5,
            "member `adapter_model.safetensors` was modified",
        ),
        (
            "byte-config",
            Box::new(|m| replace(member(m, "adapter_config.json"), "16", "17")),
            5,
            "member `adapter_config.json` was modified",
        ),
        (
            "byte-readme",
            Box::new(|m| member(m, "README.md").push(b' ')),
            5,
            "member `README.md` was modified",
        ),
        (
            "added",
            Box::new(|m| m.push(("extra.txt".into(), b"hi".to_vec()))),
            5,
            "member `extra.txt` is in the package but not in `integrity.files`",
        ),
        (
            "removed",
            Box::new(|m| m.retain(|(p, _)| p != "README.md")),
            5,
            "member `README.md` is listed in `integrity.files` but missing",
        ),
        (
            "renamed",
            Box::new(|m| {
                let readme = m.iter_mut().find(|(p, _)| p == "README.md").unwrap();
                readme.0 = "READ.md".into();
            }),
            5,
            "member `README.md` was renamed to `READ.md`",
        ),
        (
            "version",
            edit_manifest("\"version\": \"0.1.0\"", "\"version\": \"0.1.1\""),
            5,
            bad_signature,
        ),
        (
            "outside-integrity",
            edit_manifest("A schema 1.0 expert.", "A schema 1.0 expert!"),
            5,
            bad_signature,
        ),
        (
            "integrity",
            edit_manifest("\"publisher\": \"ACME CI\"", "\"publisher\": \"EVIL CI\""),
            5,
            bad_signature,
        ),
        (
            "integrity-files",
            edit_manifest("\"README.md\": \"d4acdaab", "\"README.md\": \"e4acdaab"),
            5,
            bad_signature,
        ),
        (
            "signature",
            Box::new(|m| {
                let sig = member(m, "signature.sig");
                sig[0] = if sig[0] == b'a' { b'b' } else { b'a' };
            }),
            5,
            bad_signature,
        ),
        (
            "unsigned",
            Box::new(|m| m.retain(|(p, _)| p != "signature.sig")),
            4,
            "has no signature.sig",
        ),
    ];
    for (name, edit, code, says) in cases {
        let out = format!("{name}.expert");
        s.tamper(&out, edit);
        s.verify(&out)
            .code(code)
            .stdout(predicate::str::contains(says));
    }
    s.verify("unsigned.expert").stderr(predicate::str::contains(
        "the signature may have been removed",
    ));

    // re-signed by another key: untrusted, never verified
    std::fs::copy(s.path("p.expert"), s.path("resigned.expert")).unwrap();
    s.run(&[
        "sign",
        "--expert",
        "resigned.expert",
        "--key",
        "other/mallory.pem",
    ])
    .code(0);
    s.verify("resigned.expert").code(3).stdout(
        predicate::str::contains("untrusted: `resigned.expert` claims to be expert-sample-v1")
            .and(predicate::str::contains("that key is not trusted")),
    );
    // integrity.pubkey and key_id swapped for the attacker's, signed by the attacker with
    // OpenSSL: untrusted, never verified
    let mallory = expert_cli::signing::read_public_key_file(&s.path("other/mallory.pub")).unwrap();
    let ours = expert_cli::signing::read_public_key_file(&s.path("keys/publisher.pub")).unwrap();
    let mut members = read_members(&s.path("p.expert"));
    let manifest = member(&mut members, "manifest.json");
    replace(manifest, &ours.to_hex(), &mallory.to_hex());
    replace(manifest, &ours.key_id(), &mallory.key_id());
    std::fs::write(
        s.path("message.txt"),
        format!("manifest.json:{}", expert_cli::digest::sha256_hex(manifest)),
    )
    .unwrap();
    let (ok, hex) = sh(
        s.dir.path(),
        "openssl pkeyutl -sign -rawin -inkey other/mallory.pem -in message.txt -out sig.bin && xxd -p -c 128 sig.bin",
    );
    assert!(ok, "{hex}");
    *member(&mut members, "signature.sig") = hex.into_bytes();
    write_members(&s.path("swapped.expert"), members);
    s.verify("swapped.expert")
        .code(3)
        .stdout(predicate::str::contains(mallory.key_id()));
    assert!(
        runtime_install_check(&s.path("swapped.expert")).0,
        "the runtime, which trusts the package's own key, takes it"
    );
    // the right package with the wrong public key
    s.run(&["verify", "p.expert", "--pubkey", "other/mallory.pub"])
        .code(3);
    // both keys trusted through a folder: verified by mallory's key, and it says which
    std::fs::copy(s.path("other/mallory.pub"), s.path("keys/mallory.pub")).unwrap();
    s.run(&["verify", "resigned.expert", "--trusted-keys", "keys"])
        .code(0)
        .stdout(predicate::str::contains("(trusted key `keys/mallory.pub`)"));
}

#[test]
fn member_names_are_shown_escaped() {
    let s = Signed::new();
    // Our writer refuses bidirectional controls in names (issue #10, docs/ARCHIVE_FORMAT.md;
    // `tests/cli/differential.rs` has a package with one), but writes a zero-width space.
    s.tamper("zero-width.expert", |m| {
        m.push(("READ\u{200b}ME.md".into(), b"x".to_vec()));
    });
    s.verify("zero-width.expert")
        .code(5)
        .stdout(predicate::str::contains("member `READ\\u{200b}ME.md`"))
        .stdout(predicate::str::contains('\u{200b}').not());
}

#[test]
fn json_report_has_the_whole_story() {
    let s = Signed::new();
    let out = s
        .run(&[
            "--format",
            "json",
            "verify",
            "--expert",
            "p.expert",
            "--pubkey",
            "keys/publisher.pub",
        ])
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["outcome"], "verified");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["reason"], serde_json::Value::Null);
    assert_eq!(v["expert"]["name"], "expert-sample-v1");
    assert_eq!(v["expert"]["base_model"], "Qwen/Qwen3-0.6B");
    assert_eq!(v["signer"]["publisher"], "ACME CI");
    assert_eq!(v["signer"]["created_at"], "2025-11-25T12:00:00Z");
    assert_eq!(v["signer"]["signature_algorithm"], "ed25519");
    assert_eq!(v["members"].as_array().unwrap().len(), 5);
    assert_eq!(v["key_id"].as_str().unwrap().len(), 16);
    assert_eq!(v["trusted_key"], "keys/publisher.pub");
    assert_eq!(v["trust"]["origin"], "flags");
    assert_eq!(v["trust"]["keys"], 1);
}

#[test]
fn resigning_replaces_the_signature() {
    let s = Signed::new();
    s.run(&[
        "sign",
        "--expert",
        "p.expert",
        "--key",
        "keys/publisher.pem",
        "--publisher",
        "Second",
    ])
    .code(0)
    .stderr(predicate::str::contains(
        "the earlier signature was replaced",
    ));
    assert_eq!(
        tar_list(&s.path("p.expert"))
            .iter()
            .filter(|n| *n == "signature.sig")
            .count(),
        1
    );
    let manifest = String::from_utf8(tar_member(&s.path("p.expert"), "manifest.json")).unwrap();
    assert_eq!(manifest.matches("\"integrity\"").count(), 1);
    assert!(!manifest.contains("ACME CI"));
    s.verify("p.expert")
        .code(0)
        .stdout(predicate::str::contains("signed by Second"));
}

#[test]
fn positional_package_and_expectations() {
    let s = Signed::new();
    s.run(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--expect-name",
        "expert-sample-v1",
        "--expect-version",
        "0.1.0",
    ])
    .code(0);
    s.run(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--expect-version",
        "0.2.0",
    ])
    .code(5)
    .stdout(predicate::str::contains(
        "the signed manifest says version `0.1.0`, but `0.2.0` was expected",
    ))
    .stderr(predicate::str::contains("older or substituted"));
    s.run(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--expect-name",
        "expert-sql",
    ])
    .code(5);
    s.run(&["verify", "p.expert", "--expert", "p.expert"])
        .code(2);
    s.run(&["verify"]).code(2);
}

#[test]
fn a_file_name_that_contradicts_the_signed_facts_is_a_warning() {
    let s = Signed::new();
    for (name, warns) in [
        ("expert-sample-v1-qwen306b.v0.1.0.expert", false),
        ("expert-sample-v1-qwen3-0-6b.v0.1.0.expert", false),
        ("release.expert", false),
        ("expert-sample-v1-qwen306b.v0.0.9.expert", true),
        ("expert-other-qwen306b.v0.1.0.expert", true),
    ] {
        std::fs::copy(s.path("p.expert"), s.path(name)).unwrap();
        let warning = predicate::str::contains(
            "does not match the signed expert-sample-v1 v0.1.0 for Qwen/Qwen3-0.6B",
        );
        let a = s.verify(name).code(0);
        if warns {
            a.stderr(warning);
        } else {
            a.stderr(warning.not());
        }
    }
}

#[test]
fn trust_without_flags() {
    let s = Signed::new();
    let config = s.path("config");
    let verify = || {
        let mut c = s.cmd();
        c.env("XDG_CONFIG_HOME", &config)
            .args(["verify", "p.expert"]);
        c
    };
    // nothing configured: untrusted, with a hint how to configure trust
    verify()
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "hint: no trusted keys are configured: pass --pubkey KEY, set EXPERT_CLI_TRUSTED_KEYS",
        ))
        .stderr(predicate::str::contains("config/expert-cli/trusted"));
    // the store: $XDG_CONFIG_HOME/expert-cli/trusted/*.pub, and it says which key matched
    let store = config.join("expert-cli/trusted");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(s.path("other/mallory.pub"), store.join("mallory.pub")).unwrap();
    verify().assert().code(3);
    std::fs::copy(s.path("keys/publisher.pub"), store.join("acme.pub")).unwrap();
    verify()
        .assert()
        .code(0)
        .stdout(predicate::str::contains("expert-cli/trusted/acme.pub`)"));
    // without XDG_CONFIG_HOME: ~/.config/expert-cli/trusted
    let home = s.path("home");
    std::fs::create_dir_all(home.join(".config")).unwrap();
    s.cmd()
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home)
        .args(["verify", "p.expert"])
        .assert()
        .code(3);
    copy_dir(&config, &home.join(".config"));
    s.cmd()
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home)
        .args(["verify", "p.expert"])
        .assert()
        .code(0);
    // EXPERT_CLI_TRUSTED_KEYS: files and folders, before the store
    for list in [
        "keys/publisher.pub",
        "other:keys",
        "other/mallory.pub:keys/publisher.pub",
    ] {
        verify()
            .env("EXPERT_CLI_TRUSTED_KEYS", list)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(
                "(trusted key `keys/publisher.pub`)",
            ));
    }
    verify()
        .env("EXPERT_CLI_TRUSTED_KEYS", "other")
        .assert()
        .code(3);
    verify()
        .env("EXPERT_CLI_TRUSTED_KEYS", "nowhere.pub")
        .assert()
        .code(7)
        .stderr(predicate::str::contains("nowhere.pub"));
    // flags before both
    verify()
        .env("EXPERT_CLI_TRUSTED_KEYS", "keys")
        .args(["--pubkey", "other/mallory.pub"])
        .assert()
        .code(3);
    std::fs::create_dir(s.path("empty")).unwrap();
    verify()
        .args(["--trusted-keys", "empty"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "the keys given hold no public key",
        ));
    let out = verify()
        .env("EXPERT_CLI_TRUSTED_KEYS", "keys")
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trust"]["origin"], "environment");
}

#[test]
fn key_from_environment_for_ci() {
    let s = Signed::new();
    let pem = std::fs::read_to_string(s.path("keys/publisher.pem")).unwrap();
    s.cmd()
        .env("SIGNING_KEY", &pem)
        .args(["sign", "--expert", "p.expert", "--key-env", "SIGNING_KEY"])
        .assert()
        .code(0);
    s.verify("p.expert").code(0);
    s.cmd()
        .env_remove("NOPE")
        .args(["sign", "--expert", "p.expert", "--key-env", "NOPE"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`NOPE` is not set"));
    s.cmd()
        .env("SIGNING_KEY", "not a key")
        .args(["sign", "--expert", "p.expert", "--key-env", "SIGNING_KEY"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unrecognised secret key"));
    s.run(&["sign", "--expert", "p.expert"]).code(2);
}

#[test]
fn key_file_errors_keep_their_reason() {
    let s = Signed::new();
    let before = read(&s.path("p.expert"));
    s.run(&[
        "sign",
        "--expert",
        "p.expert",
        "--key",
        "keys/publisher.pub",
    ])
    .code(1)
    .stderr(predicate::str::contains(
        "error: `keys/publisher.pub` is a public key; `sign` needs the secret key `keys/publisher.pem`",
    ));
    s.run(&["verify", "p.expert", "--pubkey", "keys/publisher.pem"])
        .code(1)
        .stderr(predicate::str::contains(
            "cannot use key file `keys/publisher.pem`: unrecognised public key (a private key; pass the `.pub` file written beside it)",
        ));
    std::fs::write(s.path("junk.pem"), "junk").unwrap();
    s.run(&["sign", "--expert", "p.expert", "--key", "junk.pem"])
        .code(1)
        .stderr(predicate::str::contains(
            "cannot use key file `junk.pem`: unrecognised secret key (4 bytes of text)",
        ));
    assert_eq!(read(&s.path("p.expert")), before, "nothing written");
}

#[test]
fn files_that_are_not_packages_say_so() {
    let s = Signed::new();
    let gz = |name: &str, data: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(s.path(name)).unwrap(),
            flate2::Compression::default(),
        );
        e.write_all(data).unwrap();
        e.finish().unwrap();
    };
    gz("json.expert", &read(&s.path("manifest.json")));
    write_members(
        &s.path("nomanifest.expert"),
        vec![("README.md".into(), b"hi".to_vec())],
    );
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(s.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    for (file, why) in [
        ("manifest.json", "it is not gzip-compressed"),
        (
            "json.expert",
            "it is gzip-compressed but holds no tar archive",
        ),
        ("nomanifest.expert", "it has no manifest.json"),
    ] {
        let says = format!("error: `{file}` is not an .expert package: {why}");
        s.verify(file)
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains(says.as_str()));
        s.run(&["sign", "--expert", file, "--key", "keys/publisher.pem"])
            .code(1)
            .stderr(predicate::str::contains(says.as_str()));
    }
    assert_eq!(listing(), before, "nothing written");
}

#[test]
fn keys_are_0600_openssl_readable_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let out = cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "nested/dir/k.pem"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let id = String::from_utf8(out).unwrap();
    assert_eq!(id.trim().len(), 16);
    let k = d.path().join("nested/dir/k.pem");
    assert_eq!(
        std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(d.path().join("nested/dir"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert!(std::process::Command::new("openssl")
        .args(["pkey", "-noout", "-in"])
        .arg(&k)
        .status()
        .unwrap()
        .success());
    assert!(std::process::Command::new("openssl")
        .args(["pkey", "-pubin", "-noout", "-in"])
        .arg(d.path().join("nested/dir/k.pub"))
        .status()
        .unwrap()
        .success());
    let before = read(&k);
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "nested/dir/k.pem"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(read(&k), before);
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "x.pub"])
        .assert()
        .code(1);
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--force", "--output", "nested/dir/k.pem"])
        .assert()
        .code(0);
    assert_ne!(read(&k), before);
}

#[test]
fn a_legacy_raw_key_signs() {
    let s = Signed::new();
    std::fs::write(s.path("legacy.pem"), [7u8; 32]).unwrap();
    s.run(&["sign", "--expert", "p.expert", "--key", "legacy.pem"])
        .code(0);
    // its public key in upstream's text form is trusted too
    let pk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    std::fs::write(
        s.path("legacy.pub"),
        format!("ed25519:{}", hex::encode(pk.as_bytes())),
    )
    .unwrap();
    s.run(&["verify", "--expert", "p.expert", "--pubkey", "legacy.pub"])
        .code(0);
}

#[test]
fn hostile_packages_are_refused_and_nothing_is_written() {
    let s = Signed::new();
    let cases = [
        ("traversal", "m['../evil'] = b'x'"),
        ("absolute", "m['/etc/evil'] = b'x'"),
    ];
    for (name, edit) in cases {
        s.tamper_py(&format!("{name}.expert"), edit);
    }
    // a symlink member and a truncated stream
    let script = "import io, sys, tarfile\nwith tarfile.open(sys.argv[1], 'w:gz') as t:\n    i = tarfile.TarInfo('manifest.json'); i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)\n";
    assert!(std::process::Command::new("python3")
        .args(["-c", script])
        .arg(s.path("link.expert"))
        .status()
        .unwrap()
        .success());
    let bytes = read(&s.path("p.expert"));
    std::fs::write(s.path("cut.expert"), &bytes[..bytes.len() - 100]).unwrap();
    let listing = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing(s.dir.path());
    for pkg in [
        "traversal.expert",
        "absolute.expert",
        "link.expert",
        "cut.expert",
    ] {
        s.verify(pkg)
            .code(5)
            .stdout(predicate::str::starts_with("invalid: "));
        s.run(&["sign", "--expert", pkg, "--key", "keys/publisher.pem"])
            .code(1);
    }
    assert_eq!(listing(s.dir.path()), before, "nothing written");
    assert!(!Path::new("/etc/evil").exists());
}

#[test]
fn a_signature_in_the_earlier_statement_format_is_refused_with_its_reason() {
    let s = Signed::new();
    s.tamper("legacy.expert", |m| {
        *member(m, "signature.sig") = read(&fixture("signing/legacy-statement.sig"));
    });
    s.verify("legacy.expert")
        .code(5)
        .stdout(predicate::str::contains(
            "is in the signed-statement format of earlier expert-cli versions",
        ))
        .stderr(predicate::str::contains("sign it again"));
    // re-signing repairs it
    s.run(&[
        "sign",
        "--expert",
        "legacy.expert",
        "--key",
        "keys/publisher.pem",
    ])
    .code(0);
    s.verify("legacy.expert").code(0);
}

// ---- the detached signature PACKAGE.minisig and verify's fast path (#12.7) ------------------

impl Signed {
    /// As [`Signed::new`], signed with `--minisig` too.
    fn with_minisig() -> Signed {
        let s = Signed::new();
        s.run(&[
            "sign",
            "p.expert",
            "--key",
            "keys/publisher.pem",
            "--minisig",
        ])
        .code(0);
        assert!(s.path("p.expert.minisig").exists());
        s
    }
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .cmd()
            .arg("--format")
            .arg("json")
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }
    /// A detached signature of `pkg`'s bytes by `key`, with the trusted comment `sign
    /// --minisig` would write for `version` (made through the library, so it can lie).
    fn minisig_by(&self, pkg: &str, key: &str, version: &str) -> String {
        let sk = expert_cli::signing::read_secret_key_file(&self.path(key)).unwrap();
        let comment = expert_cli::signing::detached::trusted_comment(
            1764072000,
            pkg,
            "expert-sample-v1",
            version,
            "Qwen/Qwen3-0.6B",
        )
        .unwrap();
        expert_cli::signing::minisign::sign_prehashed(
            &sk,
            std::fs::File::open(self.path(pkg)).unwrap(),
            &comment,
            "u",
        )
        .unwrap()
    }
}

const FAST: &str =
    "(trusted key `keys/publisher.pub`, by the detached signature `p.expert.minisig`)";

#[test]
fn fast_path_verifies_by_the_detached_signature() {
    let s = Signed::with_minisig();
    s.verify("p.expert")
        .code(0)
        .stdout(predicate::str::contains(
            "verified: `p.expert` is expert-sample-v1 v0.1.0 for Qwen/Qwen3-0.6B, signed by ACME CI with key ",
        ))
        .stdout(predicate::str::contains(FAST))
        .stderr("");
    let v = s.json(&["verify", "p.expert", "--pubkey", "keys/publisher.pub"]);
    assert_eq!(v["outcome"], "verified");
    assert_eq!(v["check"], "detached");
    assert_eq!(
        v["members"],
        serde_json::json!([]),
        "only manifest.json is read"
    );
    assert_eq!(v["minisig"]["status"], "verified");
    assert_eq!(v["minisig"]["path"], "p.expert.minisig");
    assert_eq!(v["minisig"]["trusted_key"], "keys/publisher.pub");
    assert_eq!(
        v["minisig"]["trusted_comment"],
        "timestamp:1764072000\tfile:p.expert\thashed\texpert:expert-sample-v1\tversion:0.1.0\tbase_model:Qwen/Qwen3-0.6B"
    );
    // the same number: minisign prints it in upper case without leading zeros
    let number = |id: &serde_json::Value| u64::from_str_radix(id.as_str().unwrap(), 16).unwrap();
    assert_eq!(number(&v["minisig"]["key_id"]), number(&v["key_id"]));
    assert_eq!(v["signer"]["publisher"], "ACME CI");
    // the minisign public key is a trusted key as well; so are the environment and the store
    s.run(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.minisign.pub",
    ])
    .code(0)
    .stdout(predicate::str::contains(
        "(trusted key `keys/publisher.minisign.pub`, by the detached signature",
    ));
    s.cmd()
        .env("EXPERT_CLI_TRUSTED_KEYS", "keys")
        .args(["verify", "p.expert"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(FAST));

    // --full: signature.sig, every member and the archive; the .minisig checked in the same pass
    s.run(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--full",
    ])
    .code(0)
    .stdout(predicate::str::contains(
        "(trusted key `keys/publisher.pub`; every member checked, and the detached signature `p.expert.minisig` verifies too)",
    ));
    let v = s.json(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--full",
    ]);
    assert_eq!(v["check"], "full");
    assert_eq!(v["members"].as_array().unwrap().len(), 5);
    assert_eq!(v["minisig"]["status"], "verified");
    // without a .minisig: the full check, and no minisig facts
    std::fs::remove_file(s.path("p.expert.minisig")).unwrap();
    let v = s.json(&["verify", "p.expert", "--pubkey", "keys/publisher.pub"]);
    assert_eq!(v["check"], "full");
    assert_eq!(v["minisig"], serde_json::Value::Null);
}

#[test]
fn fast_path_untrusted_is_untrusted() {
    let s = Signed::with_minisig();
    s.run(&["verify", "p.expert", "--pubkey", "other/mallory.pub"])
        .code(3)
        .stdout(predicate::str::starts_with("untrusted: `p.expert`"))
        // the outcome already says the key is not trusted
        .stderr(predicate::str::contains("detached").not());
    let v = s.json(&["verify", "p.expert", "--pubkey", "other/mallory.pub"]);
    assert_eq!(v["check"], "full");
    assert_eq!(v["minisig"]["status"], "not-used");
    assert_eq!(v["minisig"]["reason"]["code"], "untrusted-key");
    // nothing trusted at all: the same
    let config = s.path("config");
    s.cmd()
        .env("XDG_CONFIG_HOME", &config)
        .args(["verify", "p.expert"])
        .assert()
        .code(3);
}

/// Think as an attacker: a package changed after signing, next to the `.minisig` of the
/// original, must never verify (the detached signature vouches for the original bytes only,
/// and the full check then finds the change).
#[test]
fn a_tampered_package_with_its_old_minisig_never_verifies() {
    let s = Signed::with_minisig();
    let old_minisig = std::fs::read(s.path("p.expert.minisig")).unwrap();
    let with_old_minisig = |pkg: &str| {
        std::fs::write(s.path(&format!("{pkg}.minisig")), &old_minisig).unwrap();
    };
    s.tamper("weights.expert", |m| {
        *member(m, "adapter_model.safetensors").last_mut().unwrap() ^= 1
    });
    s.tamper("version.expert", |m| {
        replace(
            member(m, "manifest.json"),
            "\"version\": \"0.1.0\"",
            "\"version\": \"0.1.1\"",
        )
    });
    let mut appended = read(&s.path("p.expert"));
    appended.push(0);
    std::fs::write(s.path("appended.expert"), appended).unwrap();
    std::fs::copy(s.path("p.expert"), s.path("resigned.expert")).unwrap();
    s.run(&["sign", "resigned.expert", "--key", "other/mallory.pem"])
        .code(0);
    for (pkg, code, says) in [
        (
            "weights.expert",
            5,
            "member `adapter_model.safetensors` was modified",
        ),
        (
            "version.expert",
            5,
            "the signature does not verify under the trusted key",
        ),
        ("appended.expert", 5, "the package is refused"),
        ("resigned.expert", 3, "untrusted: `resigned.expert`"),
    ] {
        with_old_minisig(pkg);
        let warning = format!(
            "warning: the detached signature `{pkg}.minisig` is not valid for this package: signature verification failed"
        );
        s.verify(pkg)
            .code(code)
            .stdout(predicate::str::contains(says))
            .stderr(predicate::str::contains(warning.as_str()));
        s.run(&["verify", pkg, "--pubkey", "keys/publisher.pub", "--full"])
            .code(code);
        let v = s.json(&["verify", pkg, "--pubkey", "keys/publisher.pub"]);
        assert_eq!(v["check"], "full", "{pkg}");
        assert_eq!(v["minisig"]["status"], "invalid", "{pkg}");
        assert_eq!(v["minisig"]["reason"]["code"], "bad-signature", "{pkg}");
    }
}

/// A `.minisig` that does not vouch for a good package never makes `verify` weaker or
/// silent: the full check decides, and a warning names what is wrong with the `.minisig`.
#[test]
fn a_minisig_that_does_not_vouch_for_a_good_package_is_a_warning() {
    let s = Signed::with_minisig();
    let good = std::fs::read_to_string(s.path("p.expert.minisig")).unwrap();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "garbage",
            "hello\n".to_owned(),
            "is not valid for this package: the signature file has 1 line",
            "malformed",
        ),
        (
            "edited-comment",
            good.replace("version:0.1.0", "version:0.2.0"),
            "is not valid for this package: the trusted comment's signature does not verify",
            "bad-signature",
        ),
        (
            "other-version",
            s.minisig_by("p.expert", "keys/publisher.pem", "0.2.0"),
            "is not valid for this package: its trusted comment says version `0.2.0`, but the packaged manifest says `0.1.0`",
            "comment-mismatch",
        ),
        (
            "by-mallory",
            s.minisig_by("p.expert", "other/mallory.pem", "0.1.0"),
            "was not used: it was made by the key with minisign key id ",
            "untrusted-key",
        ),
    ];
    for (name, minisig, says, code) in cases {
        let pkg = format!("{name}.expert");
        std::fs::copy(s.path("p.expert"), s.path(&pkg)).unwrap();
        std::fs::write(s.path(&format!("{pkg}.minisig")), minisig).unwrap();
        s.verify(&pkg)
            .code(0)
            .stdout(predicate::str::contains(
                "(trusted key `keys/publisher.pub`)",
            ))
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains(
                "; the package was checked in full instead",
            ));
        let v = s.json(&["verify", &pkg, "--pubkey", "keys/publisher.pub"]);
        assert_eq!(v["check"], "full", "{name}");
        assert_eq!(v["minisig"]["reason"]["code"], code, "{name}");
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["code"].as_str().unwrap().starts_with("minisig-")),
            "{name}: {v}"
        );
        // --full says the same, without falling back from anything
        s.run(&["verify", &pkg, "--pubkey", "keys/publisher.pub", "--full"])
            .code(0)
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("checked in full instead").not());
    }
    // a .minisig from another key that is trusted too, over these very bytes: that key vouches
    // for them, but the package's signature names the publisher's key; the full check decides
    s.run(&[
        "verify",
        "by-mallory.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--pubkey",
        "other/mallory.pub",
    ])
    .code(0)
    .stdout(predicate::str::contains(
        "(trusted key `keys/publisher.pub`)",
    ))
    .stderr(predicate::str::contains(
        "was not used: it was made by the trusted key ",
    ));
    // a .minisig that is a folder: not used
    std::fs::copy(s.path("p.expert"), s.path("dir.expert")).unwrap();
    std::fs::create_dir(s.path("dir.expert.minisig")).unwrap();
    s.verify("dir.expert")
        .code(0)
        .stderr(predicate::str::contains(
            "the detached signature `dir.expert.minisig` was not used: it cannot be read",
        ));
}

#[test]
fn expectations_under_the_fast_path() {
    let s = Signed::with_minisig();
    let verify = |extra: &[&str]| {
        let mut c = s.cmd();
        c.args(["verify", "p.expert", "--pubkey", "keys/publisher.pub"])
            .args(extra);
        c.assert()
    };
    verify(&[
        "--expect-name",
        "expert-sample-v1",
        "--expect-version",
        "0.1.0",
    ])
    .code(0)
    .stdout(predicate::str::contains(FAST));
    verify(&["--expect-version", "0.2.0"])
        .code(5)
        .stdout(predicate::str::contains(
            "the signed manifest says version `0.1.0`, but `0.2.0` was expected",
        ))
        .stderr(predicate::str::contains("older or substituted"));
    verify(&["--expect-name", "expert-sql"]).code(5);
    let v = s.json(&[
        "verify",
        "p.expert",
        "--pubkey",
        "keys/publisher.pub",
        "--expect-version",
        "0.2.0",
    ]);
    assert_eq!(v["check"], "detached");
    assert_eq!(v["reason"]["code"], "unexpected");
    assert_eq!(v["exit_code"], 5);
    // a renamed package keeps verifying by its .minisig, with the file-name warning
    std::fs::copy(
        s.path("p.expert"),
        s.path("expert-sample-v1-qwen306b.v0.0.9.expert"),
    )
    .unwrap();
    std::fs::copy(
        s.path("p.expert.minisig"),
        s.path("expert-sample-v1-qwen306b.v0.0.9.expert.minisig"),
    )
    .unwrap();
    s.verify("expert-sample-v1-qwen306b.v0.0.9.expert")
        .code(0)
        .stdout(predicate::str::contains("by the detached signature"))
        .stderr(predicate::str::contains(
            "does not match the signed expert-sample-v1 v0.1.0",
        ));
}

#[test]
fn sign_takes_the_package_as_an_argument_too() {
    let s = Signed::new();
    s.run(&["sign", "p.expert", "--key", "keys/publisher.pem"])
        .code(0)
        .stdout(predicate::str::ends_with("  p.expert\n"));
    s.verify("p.expert").code(0);
    s.run(&[
        "sign",
        "p.expert",
        "--expert",
        "p.expert",
        "--key",
        "keys/publisher.pem",
    ])
    .code(2);
    s.run(&["sign", "--key", "keys/publisher.pem"]).code(2);
}
