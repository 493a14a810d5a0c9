//! Integration tests for `expert_cli::signing`: golden vectors, OpenSSL interop, tampering,
//! trust decisions and key files on disk.

use expert_cli::digest::sha256_hex;
use expert_cli::signing::{
    check_members, read_public_key, read_public_key_file, read_secret_key, read_secret_key_file,
    report, sign_statement, verify_signature_file, write_keypair, write_keypair_with, Invalid,
    KeyError, ManifestFacts, Outcome, SecretKey, SignatureFile, Statement, TrustedKeys,
    VerifyError,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/signing");

/// Seed bytes 0, 1, …, 31.
fn golden_key() -> SecretKey {
    SecretKey::from_seed(&std::array::from_fn(|i| i as u8))
}

/// The golden statement: fixed members whose digests are SHA-256 of fixed contents.
fn golden_statement(key: &SecretKey) -> Statement {
    let mut s = Statement {
        name: "expert-neo4j".into(),
        version: "0.0.1".into(),
        base_model: "F:/Node/hivellm/expert/models/Qwen3-0.6B".into(),
        signed_at: "2026-11-25T12:00:00Z".into(),
        publisher: "ACME CI".into(),
        key_id: key.key_id(),
        members: golden_members(),
    };
    s.sort_members();
    s
}

fn golden_members() -> Vec<(String, String)> {
    [
        ("manifest.json", &b"{\"name\":\"expert-neo4j\"}\n"[..]),
        ("adapter_model.safetensors", b"weights"),
        ("adapter_config.json", b"{\"r\":16}\n"),
    ]
    .iter()
    .map(|(p, c)| ((*p).to_owned(), sha256_hex(c)))
    .collect()
}

fn golden_facts() -> ManifestFacts {
    ManifestFacts {
        name: "expert-neo4j".into(),
        version: "0.0.1".into(),
        base_model: "F:/Node/hivellm/expert/models/Qwen3-0.6B".into(),
    }
}

fn trusted(keys: &[&SecretKey]) -> TrustedKeys {
    let mut t = TrustedKeys::new();
    for k in keys {
        t.add(k.public_key(), "test");
    }
    t
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---- golden vectors -------------------------------------------------------------------

#[test]
fn golden_key_id_and_key_files() {
    let key = golden_key();
    assert_eq!(key.key_id(), "56475aa75463474c");
    let pem = key.to_pkcs8_pem().unwrap();
    assert_eq!(
        *pem,
        fs::read_to_string(format!("{FIXTURES}/seed0-31.pem")).unwrap()
    );
    let public = key.public_key().to_spki_pem().unwrap();
    assert_eq!(
        public,
        fs::read_to_string(format!("{FIXTURES}/seed0-31.pub")).unwrap()
    );
}

#[test]
fn golden_statement_and_signature() {
    let key = golden_key();
    let statement = golden_statement(&key);
    let bytes = statement.to_bytes().unwrap();
    assert_eq!(
        bytes,
        fs::read(format!("{FIXTURES}/statement.txt")).unwrap()
    );
    let sig = sign_statement(&key, &statement).unwrap();
    assert_eq!(
        hex::encode(sig.signature()),
        "d65e07c4d6ebc68e55925e6647f196d073ccb32c3f87d4cf43dcd19dae4ee634\
         b06b1fc3ffb626a9d19af3ed9d7e5d424ab13976571176b1b261371db21ac206"
    );
    assert_eq!(
        hex::encode(sig.signature()) + "\n",
        fs::read_to_string(format!("{FIXTURES}/signature.hex")).unwrap()
    );
    assert_eq!(
        sig.to_bytes(),
        fs::read(format!("{FIXTURES}/signature.sig")).unwrap()
    );
    // The OpenSSL-made fixture verifies against the fixture public key file.
    let fixture = SignatureFile::parse(&fs::read(format!("{FIXTURES}/signature.sig")).unwrap());
    let mut trust = TrustedKeys::new();
    trust
        .add_file(Path::new(&format!("{FIXTURES}/seed0-31.pub")))
        .unwrap();
    assert!(verify_signature_file(&fixture.unwrap(), &trust).is_ok());
}

#[test]
fn round_trips() {
    let key = golden_key();
    let statement = golden_statement(&key);
    let bytes = statement.to_bytes().unwrap();
    assert_eq!(Statement::parse(&bytes).unwrap(), statement);
    let sig = sign_statement(&key, &statement).unwrap();
    let parsed = SignatureFile::parse(&sig.to_bytes()).unwrap();
    assert_eq!(parsed, sig);
    assert_eq!(parsed.to_bytes(), sig.to_bytes());
}

// ---- OpenSSL interop ------------------------------------------------------------------

#[test]
fn openssl_reads_keys_and_verifies_with_documented_recipe() {
    let dir = tempdir();
    let private = dir.path().join("publisher.pem");
    let info = write_keypair_with(&golden_key(), &private, Some("ACME CI"), false).unwrap();
    assert_eq!(info.public_path, dir.path().join("publisher.pub"));
    run(Command::new("openssl")
        .args(["pkey", "-noout", "-in"])
        .arg(&private));
    run(Command::new("openssl")
        .args(["pkey", "-noout", "-pubin", "-in"])
        .arg(&info.public_path));
    // OpenSSL derives the same public key from our private key file.
    let derived = run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private));
    assert_eq!(
        read_public_key(derived.as_bytes()).unwrap(),
        info.public_key
    );

    let sig = sign_statement(&golden_key(), &golden_statement(&golden_key())).unwrap();
    fs::write(dir.path().join("signature.sig"), sig.to_bytes()).unwrap();
    // The recipe of docs/SIGNING.md, verbatim.
    let recipe = "sed '$d' signature.sig > statement.txt && \
        sed -n '$s/^signature: //p' signature.sig | openssl base64 -d -A > sig.bin && \
        openssl pkeyutl -verify -pubin -inkey publisher.pub -rawin -in statement.txt -sigfile sig.bin";
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(recipe)
        .current_dir(dir.path()));
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    assert_eq!(
        fs::read(dir.path().join("statement.txt")).unwrap(),
        sig.statement_bytes()
    );

    // A tampered statement fails the same recipe.
    let tampered = String::from_utf8(sig.to_bytes())
        .unwrap()
        .replace("0.0.1", "0.0.2");
    fs::write(dir.path().join("signature.sig"), tampered).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(recipe)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!status.status.success());

    // Ed25519 is deterministic: OpenSSL signing the statement gives our exact signature.
    fs::write(dir.path().join("statement.txt"), sig.statement_bytes()).unwrap();
    let openssl_sig = dir.path().join("openssl.sig");
    run(Command::new("openssl")
        .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
        .arg(&private)
        .arg("-in")
        .arg(dir.path().join("statement.txt"))
        .arg("-out")
        .arg(&openssl_sig));
    let ours = sign_statement(&golden_key(), &golden_statement(&golden_key())).unwrap();
    assert_eq!(fs::read(&openssl_sig).unwrap(), ours.signature());
}

#[test]
fn reads_keys_made_by_openssl() {
    let dir = tempdir();
    let private = dir.path().join("o.pem");
    let public = dir.path().join("o.pub");
    run(Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private));
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public));
    let der = dir.path().join("o.der");
    run(Command::new("openssl")
        .args(["pkey", "-outform", "DER", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&der));
    let sk = read_secret_key_file(&private).unwrap();
    assert_eq!(
        read_secret_key_file(&der).unwrap().public_key(),
        sk.public_key()
    );
    assert_eq!(read_public_key_file(&public).unwrap(), sk.public_key());
}

// ---- tampering ------------------------------------------------------------------------

#[test]
fn every_single_bit_flip_is_detected() {
    let key = golden_key();
    let trust = trusted(&[&key]);
    let good = sign_statement(&key, &golden_statement(&key))
        .unwrap()
        .to_bytes();
    let members = golden_members();
    assert!(matches!(
        report(Some(&good), &members, &golden_facts(), &trust).outcome,
        Outcome::Verified { .. }
    ));
    // One bit per byte, cycling through the bit positions (every bit would be 8x slower
    // in debug builds and adds nothing: any change of a byte must be caught).
    for i in 0..good.len() {
        for bit in [i % 8, (i + 3) % 8] {
            let mut bad = good.clone();
            bad[i] ^= 1 << bit;
            let outcome = report(Some(&bad), &members, &golden_facts(), &trust).outcome;
            assert!(
                !matches!(outcome, Outcome::Verified { .. }),
                "flip of bit {bit} in byte {i} went unnoticed"
            );
        }
    }
}

#[test]
fn truncated_and_extended_signature_files_are_invalid() {
    let key = golden_key();
    let trust = trusted(&[&key]);
    let good = sign_statement(&key, &golden_statement(&key))
        .unwrap()
        .to_bytes();
    for n in 0..good.len() {
        let outcome = report(Some(&good[..n]), &golden_members(), &golden_facts(), &trust).outcome;
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "prefix of {n} bytes: {outcome:?}"
        );
    }
    let mut longer = good.clone();
    longer.extend_from_slice(b"x\n");
    let outcome = report(Some(&longer), &golden_members(), &golden_facts(), &trust).outcome;
    assert!(matches!(outcome, Outcome::Invalid { .. }));
}

#[test]
fn package_tampering_names_the_member() {
    let key = golden_key();
    let trust = trusted(&[&key]);
    let sig = sign_statement(&key, &golden_statement(&key))
        .unwrap()
        .to_bytes();
    let mut members = golden_members();
    members[1].1 = sha256_hex(b"other weights");
    let outcome = report(Some(&sig), &members, &golden_facts(), &trust).outcome;
    match outcome {
        Outcome::Invalid {
            reason: reason @ Invalid::DigestMismatch { .. },
        } => {
            assert!(reason
                .to_string()
                .contains("`adapter_model.safetensors` was modified"))
        }
        other => panic!("{other:?}"),
    }
    let facts = ManifestFacts {
        version: "0.0.2".into(),
        ..golden_facts()
    };
    let outcome = report(Some(&sig), &golden_members(), &facts, &trust).outcome;
    assert!(matches!(
        outcome,
        Outcome::Invalid {
            reason: Invalid::ManifestMismatch { .. }
        }
    ));
}

// ---- trust ----------------------------------------------------------------------------

#[test]
fn unsigned_untrusted_and_verified() {
    let key = golden_key();
    let other = SecretKey::from_seed(&[9; 32]);
    let sig = sign_statement(&key, &golden_statement(&key)).unwrap();
    let bytes = sig.to_bytes();
    let r = report(None, &golden_members(), &golden_facts(), &trusted(&[&key]));
    assert_eq!(r.outcome, Outcome::Unsigned);
    let r = report(
        Some(&bytes),
        &golden_members(),
        &golden_facts(),
        &trusted(&[&other]),
    );
    assert_eq!(
        r.outcome,
        Outcome::Untrusted {
            key_id: key.key_id()
        }
    );
    assert_eq!(
        verify_signature_file(&sig, &TrustedKeys::new()),
        Err(VerifyError::Untrusted {
            key_id: key.key_id()
        })
    );
    let r = report(
        Some(&bytes),
        &golden_members(),
        &golden_facts(),
        &trusted(&[&other, &key]),
    );
    assert!(matches!(r.outcome, Outcome::Verified { ref key_id, .. } if *key_id == key.key_id()));
    assert_eq!(r.outcome.kind(), "verified");
}

#[test]
fn key_id_naming_a_trusted_key_but_signed_by_another_is_invalid() {
    use ed25519_dalek::Signer;
    let trusted_key = golden_key();
    let attacker = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    // The attacker claims the trusted key's id (a forged or colliding id).
    let statement = golden_statement(&trusted_key);
    let bytes = statement.to_bytes().unwrap();
    let forged_sig = attacker.sign(&bytes).to_bytes();
    let mut file = bytes.clone();
    file.extend_from_slice(b"signature: ");
    let encoded = run(Command::new("sh").arg("-c").arg(format!(
        "printf '{}' | xxd -r -p | openssl base64 -A",
        hex::encode(forged_sig)
    )));
    file.extend_from_slice(encoded.trim().as_bytes());
    file.push(b'\n');
    let parsed = SignatureFile::parse(&file).unwrap();
    assert_eq!(
        verify_signature_file(&parsed, &trusted(&[&trusted_key])),
        Err(VerifyError::BadSignature {
            key_id: trusted_key.key_id()
        })
    );
    let r = report(
        Some(&file),
        &golden_members(),
        &golden_facts(),
        &trusted(&[&trusted_key]),
    );
    assert!(matches!(
        r.outcome,
        Outcome::Invalid {
            reason: Invalid::BadSignature { .. }
        }
    ));
}

#[test]
fn trusted_keys_directory() {
    let dir = tempdir();
    let a = SecretKey::from_seed(&[1; 32]);
    let b = SecretKey::from_seed(&[2; 32]);
    let c = SecretKey::from_seed(&[3; 32]);
    fs::write(
        dir.path().join("a.pub"),
        a.public_key().to_spki_pem().unwrap(),
    )
    .unwrap();
    fs::write(
        dir.path().join("b.pub"),
        format!("ed25519:{}", b.public_key().to_hex()),
    )
    .unwrap();
    fs::write(dir.path().join("README"), "not a key").unwrap();
    let outside = tempdir();
    fs::write(outside.path().join("c.pub"), c.public_key().to_hex()).unwrap();
    std::os::unix::fs::symlink(outside.path().join("c.pub"), dir.path().join("c.pub")).unwrap();
    let mut keys = TrustedKeys::new();
    let skipped = keys.add_path(dir.path()).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].path, dir.path().join("c.pub"));
    assert!(skipped[0].to_string().contains("symbolic link"));
    assert_eq!(keys.matching(&a.key_id()).count(), 1);
    assert_eq!(keys.matching(&c.key_id()).count(), 0);
    // The same key twice is kept once.
    keys.add_file(&dir.path().join("a.pub")).unwrap();
    assert_eq!(keys.len(), 2);
    // A broken .pub is an error naming it.
    fs::write(dir.path().join("z.pub"), "garbage").unwrap();
    let err = TrustedKeys::new().add_dir(dir.path()).unwrap_err();
    let chain = format!(
        "{err} / {}",
        std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(chain.contains("z.pub"), "{chain}");
}

// ---- legacy keys ----------------------------------------------------------------------

#[test]
fn legacy_raw_key_signs_and_upstream_public_key_verifies() {
    let dir = tempdir();
    let seed: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
    let legacy = dir.path().join("publisher.pem");
    fs::write(&legacy, seed).unwrap();
    let pubkey = SecretKey::from_seed(&seed).public_key();
    fs::write(
        dir.path().join("publisher.pub"),
        format!("ed25519:{}", pubkey.to_hex()),
    )
    .unwrap();
    let key = read_secret_key_file(&legacy).unwrap();
    let sig = sign_statement(&key, &golden_statement(&key)).unwrap();
    let mut trust = TrustedKeys::new();
    trust.add_file(&dir.path().join("publisher.pub")).unwrap();
    assert!(verify_signature_file(&sig, &trust).is_ok());
    // Hex text with a trailing newline, as an environment variable would hold it.
    let hex_text = format!("{}\n", hex::encode(seed));
    assert_eq!(
        read_secret_key(hex_text.as_bytes()).unwrap().public_key(),
        pubkey
    );
}

#[test]
fn statement_with_another_key_id_is_not_signed() {
    let key = golden_key();
    let mut statement = golden_statement(&key);
    statement.key_id = "0000000000000000".into();
    let err = sign_statement(&key, &statement).unwrap_err();
    assert!(err.to_string().contains("0000000000000000"), "{err}");
}

#[test]
fn check_members_requires_exact_set() {
    let key = golden_key();
    let statement = golden_statement(&key);
    let mut members = golden_members();
    members.push(("signature.sig".into(), sha256_hex(b"x")));
    assert_eq!(check_members(&statement, &members, &golden_facts()), Ok(()));
    members.push(("README.md".into(), sha256_hex(b"readme")));
    assert_eq!(
        check_members(&statement, &members, &golden_facts()),
        Err(Invalid::ExtraMember {
            path: "README.md".into()
        })
    );
}

// ---- key files on disk ----------------------------------------------------------------

#[test]
fn keygen_modes_and_parent_dirs() {
    let dir = tempdir();
    let private = dir.path().join("new/keys/publisher.pem");
    let info = write_keypair(&private, None, false).unwrap();
    assert_eq!(mode(&private), 0o600);
    assert_eq!(mode(&info.public_path), 0o644);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    assert_eq!(mode(&dir.path().join("new/keys")), 0o700);
    assert_eq!(
        read_secret_key_file(&private).unwrap().public_key(),
        info.public_key
    );
    assert_eq!(
        read_public_key_file(&info.public_path).unwrap(),
        info.public_key
    );
    assert_eq!(info.key_id, info.public_key.key_id());
    // Only the three key files (PEM pair and minisign public key): no temporary file left.
    let names: Vec<PathBuf> = fs::read_dir(dir.path().join("new/keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(mode(&info.minisign_public_path), 0o644);
}

#[test]
fn keygen_refuses_overwrite_unless_forced() {
    let dir = tempdir();
    let private = dir.path().join("k.pem");
    let first = write_keypair(&private, Some("first"), false).unwrap();
    let err = write_keypair(&private, None, false).unwrap_err();
    assert!(matches!(err, KeyError::Exists { .. }), "{err}");
    assert_eq!(
        read_public_key_file(&first.public_path).unwrap(),
        first.public_key
    );
    // An existing public key alone also blocks.
    let other = dir.path().join("other.pem");
    fs::write(dir.path().join("other.pub"), "keep me").unwrap();
    assert!(matches!(
        write_keypair(&other, None, false),
        Err(KeyError::Exists { .. })
    ));
    assert!(!other.exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("other.pub")).unwrap(),
        "keep me"
    );
    // --force replaces both, keeping 0600.
    let second = write_keypair(&private, None, true).unwrap();
    assert_ne!(second.public_key, first.public_key);
    assert_eq!(
        read_secret_key_file(&private).unwrap().public_key(),
        second.public_key
    );
    assert_eq!(mode(&private), 0o600);
    assert_eq!(read_secret_key_file(&private).unwrap().name(), None);
}

#[test]
fn keygen_refuses_pub_output() {
    let dir = tempdir();
    let err = write_keypair(&dir.path().join("k.pub"), None, false).unwrap_err();
    assert!(matches!(err, KeyError::SamePath { .. }));
    assert!(err.to_string().contains("k.pub"));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn keygen_stores_the_name() {
    let dir = tempdir();
    let private = dir.path().join("named");
    let info = write_keypair(&private, Some("ACME CI"), false).unwrap();
    assert_eq!(info.public_path, dir.path().join("named.pub"));
    assert_eq!(
        read_secret_key_file(&private).unwrap().name(),
        Some("ACME CI")
    );
    assert_eq!(
        read_public_key_file(&info.public_path).unwrap().name(),
        Some("ACME CI")
    );
    assert!(matches!(
        write_keypair(&dir.path().join("x.pem"), Some("bad\nname"), false),
        Err(KeyError::InvalidName(_))
    ));
}

// ---- robustness -----------------------------------------------------------------------

#[test]
fn parsers_never_panic_on_garbage() {
    // A small xorshift generator: deterministic, no extra dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let good_sig = fs::read(format!("{FIXTURES}/signature.sig")).unwrap();
    let good_pem = fs::read(format!("{FIXTURES}/seed0-31.pem")).unwrap();
    let good_pub = fs::read(format!("{FIXTURES}/seed0-31.pub")).unwrap();
    for round in 0..2000 {
        let base = [&good_sig, &good_pem, &good_pub][round % 3];
        let mut input = base.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % input.len();
            match next() % 3 {
                0 => input[i] = next() as u8,
                1 => input.truncate(i),
                _ => input.insert(i, next() as u8),
            }
            if input.is_empty() {
                break;
            }
        }
        let _ = Statement::parse(&input);
        let _ = SignatureFile::parse(&input);
        let _ = read_secret_key(&input);
        let _ = read_public_key(&input);
    }
}
