//! `keygen`, `sign`, `verify` through the real binary: golden vectors, the round trip, the
//! tamper matrix with its four outcomes, keys, hostile packages.

use crate::common::*;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A packaged and signed copy of fixtures/expert-tiny in a temp dir, with a fixed time.
struct Signed {
    dir: tempfile::TempDir,
}

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
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        cmd()
            .current_dir(self.dir.path())
            .env("SOURCE_DATE_EPOCH", "1764072000")
            .args(args)
            .assert()
    }
    fn verify(&self, pkg: &str) -> assert_cmd::assert::Assert {
        self.run(&["verify", "--expert", pkg, "--pubkey", "keys/publisher.pub"])
    }
    /// Rewrites p.expert into `out` with Python's tarfile, applying `edit` (Python code that
    /// changes the dict `m` of member name → bytes, in order).
    fn tamper(&self, out: &str, edit: &str) {
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

#[test]
fn golden_package_signature() {
    // fixed key (seed 0..31) + fixed package + fixed time → exact statement and signature
    let d = tempfile::tempdir().unwrap();
    copy_dir(&fixture("expert-tiny"), d.path());
    let run = |args: &[&str]| {
        cmd()
            .current_dir(d.path())
            .env("SOURCE_DATE_EPOCH", "1764072000")
            .args(args)
            .assert()
    };
    run(&["package", "--output", "p.expert"]).code(0);
    run(&["sign", "--expert", "p.expert", "--key"]).code(2);
    let key = fixture("signing/seed0-31.pem");
    cmd()
        .current_dir(d.path())
        .env("SOURCE_DATE_EPOCH", "1764072000")
        .args([
            "sign",
            "--expert",
            "p.expert",
            "--publisher",
            "ACME CI",
            "--key",
        ])
        .arg(&key)
        .assert()
        .code(0);
    let sig = tar_member(&d.path().join("p.expert"), "signature.sig");
    let golden = read(&fixture("signing/expert-tiny.signature.sig"));
    assert_eq!(
        String::from_utf8(sig.clone()).unwrap(),
        String::from_utf8(golden).unwrap()
    );
    // independently: OpenSSL accepts it with the public key (the recipe of docs/SIGNING.md),
    // and every signed digest is the real member's
    std::fs::write(d.path().join("signature.sig"), &sig).unwrap();
    std::fs::copy(
        fixture("signing/seed0-31.pub"),
        d.path().join("publisher.pub"),
    )
    .unwrap();
    let recipe = "sed '$d' signature.sig > statement.txt && sed -n '$s/^signature: //p' signature.sig | openssl base64 -d -A > sig.bin && openssl pkeyutl -verify -pubin -inkey publisher.pub -rawin -in statement.txt -sigfile sig.bin";
    let out = std::process::Command::new("sh")
        .args(["-c", recipe])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"),
        "{out:?}"
    );
    for line in String::from_utf8(sig)
        .unwrap()
        .lines()
        .filter(|l| l.len() > 65 && l.as_bytes()[l.len() - 65] == b':')
    {
        let (path, digest) = line.rsplit_once(':').unwrap();
        assert_eq!(
            expert_cli::digest::sha256_hex(&tar_member(&d.path().join("p.expert"), path)),
            digest,
            "{path}"
        );
    }
}

#[test]
fn round_trip_and_tamper_matrix() {
    let s = Signed::new();
    s.verify("p.expert")
        .code(0)
        .stdout(predicate::str::contains("verified: `p.expert` by ACME CI"));
    // signing changed no other member's bytes
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

    let cases: &[(&str, &str, i32, &str)] = &[
        ("byte-weights", "w = bytearray(m['adapter_model.safetensors']); w[-1] ^= 1; m['adapter_model.safetensors'] = bytes(w)", 5, "adapter_model.safetensors"),
        ("byte-config", "m['adapter_config.json'] = m['adapter_config.json'].replace(b'16', b'17')", 5, "adapter_config.json"),
        ("byte-readme", "m['README.md'] = m['README.md'] + b' '", 5, "README.md"),
        ("added", "m['extra.txt'] = b'hi'", 5, "extra.txt"),
        ("removed", "del m['README.md']", 5, "README.md"),
        ("renamed", "m['READ.md'] = m.pop('README.md')", 5, "READ.md"),
        ("version", "m['manifest.json'] = m['manifest.json'].replace(b'\"version\": \"0.1.0\"', b'\"version\": \"0.1.1\"')", 5, "manifest.json"),
        ("statement", "m['signature.sig'] = m['signature.sig'].replace(b'publisher: ACME CI', b'publisher: EVIL CI')", 5, "signature does not verify"),
        ("signature", "s = m['signature.sig'].decode(); i = s.index('signature: ') + 12; m['signature.sig'] = (s[:i] + ('A' if s[i] != 'A' else 'B') + s[i+1:]).encode()", 5, "signature does not verify"),
        ("unsigned", "del m['signature.sig']", 4, "no signature.sig"),
    ];
    for (name, edit, code, says) in cases {
        let out = format!("{name}.expert");
        s.tamper(&out, edit);
        s.verify(&out)
            .code(*code)
            .stdout(predicate::str::contains(*says));
    }
    // re-signed by another key: not trusted, never verified
    s.run(&["keygen", "--output", "keys/mallory.pem"]).code(0);
    std::fs::copy(s.path("p.expert"), s.path("resigned.expert")).unwrap();
    s.run(&[
        "sign",
        "--expert",
        "resigned.expert",
        "--key",
        "keys/mallory.pem",
    ])
    .code(0);
    s.verify("resigned.expert").code(3).stdout(
        predicate::str::contains("untrusted").and(predicate::str::contains("is signed by key")),
    );
    // the right package with the wrong public key
    s.run(&[
        "verify",
        "--expert",
        "p.expert",
        "--pubkey",
        "keys/mallory.pub",
    ])
    .code(3);
    // both keys trusted through a folder: verified by mallory's key
    s.run(&[
        "verify",
        "--expert",
        "resigned.expert",
        "--trusted-keys",
        "keys",
    ])
    .code(0);
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
    assert_eq!(v["statement"]["publisher"], "ACME CI");
    assert_eq!(v["statement"]["signed_at"], "2025-11-25T12:00:00Z");
    assert_eq!(v["statement"]["members"].as_array().unwrap().len(), 4);
    assert_eq!(v["key_id"].as_str().unwrap().len(), 16);
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
    .code(0);
    assert_eq!(
        tar_list(&s.path("p.expert"))
            .iter()
            .filter(|n| *n == "signature.sig")
            .count(),
        1
    );
    s.verify("p.expert")
        .code(0)
        .stdout(predicate::str::contains("by Second"));
}

#[test]
fn key_from_environment_for_ci() {
    let s = Signed::new();
    let pem = std::fs::read_to_string(s.path("keys/publisher.pem")).unwrap();
    cmd()
        .current_dir(s.dir.path())
        .env("SIGNING_KEY", &pem)
        .args(["sign", "--expert", "p.expert", "--key-env", "SIGNING_KEY"])
        .assert()
        .code(0);
    s.verify("p.expert").code(0);
    cmd()
        .current_dir(s.dir.path())
        .env_remove("NOPE")
        .args(["sign", "--expert", "p.expert", "--key-env", "NOPE"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`NOPE` is not set"));
    cmd()
        .current_dir(s.dir.path())
        .args(["sign", "--expert", "p.expert"])
        .assert()
        .code(2);
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
        s.tamper(&format!("{name}.expert"), edit);
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
            .stdout(predicate::str::contains("invalid"));
        s.run(&["sign", "--expert", pkg, "--key", "keys/publisher.pem"])
            .code(1);
    }
    assert_eq!(listing(s.dir.path()), before, "nothing written");
    assert!(!Path::new("/etc/evil").exists());
}

#[test]
fn verify_needs_trusted_keys() {
    let s = Signed::new();
    s.run(&["verify", "--expert", "p.expert"])
        .code(2)
        .stderr(predicate::str::contains(
            "keys inside a package are never trusted",
        ));
}
