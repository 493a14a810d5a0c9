//! minisign interop (`expert_cli::signing::minisign`, `keygen`'s `*.minisign.pub`) and
//! passphrase-protected keys (`keygen --encrypt`), asked of the real consumers: the `minisign`
//! binary (Debian package `minisign`) verifies what we sign and signs what we verify; OpenSSL
//! reads our encrypted keys and we read OpenSSL's; a real pseudo-terminal answers the prompt.

use crate::common::{cmd, skip, weight_bytes};
use expert_cli::signing::minisign::{self, MinisignError, Signature};
use expert_cli::signing::{
    read_public_key, read_public_key_file, read_secret_key, read_secret_key_file,
    read_secret_key_with_passphrase, KeyError, PublicKey, SecretKey,
};
use predicates::prelude::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/signing");
const PASSPHRASE_VAR: &str = "EXPERT_CLI_KEY_PASSPHRASE";
const GOLDEN_TRUSTED: &str = "timestamp:1764072000\tfile:minisign-message.txt\thashed";
const GOLDEN_UNTRUSTED: &str = "signature from expert-cli secret key";

fn golden_key() -> SecretKey {
    SecretKey::from_seed(&std::array::from_fn(|i| i as u8))
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// `true` when the `minisign` binary runs; else [`skip`] (a failure under `CI`).
fn have_minisign() -> bool {
    let ok = Command::new("minisign")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("`minisign` is not installed (apt-get install minisign)");
    }
    ok
}

fn minisign(dir: &Path, args: &[&str]) -> Output {
    Command::new("minisign")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A file large enough to take many rounds of the 64 KiB prehash buffer, with an odd tail.
fn write_data(path: &Path) -> Vec<u8> {
    let data = weight_bytes(3 * 1024 * 1024 + 12_345, 7);
    fs::write(path, &data).unwrap();
    data
}

fn flip_last_byte(path: &Path) {
    let mut data = fs::read(path).unwrap();
    *data.last_mut().unwrap() ^= 1;
    fs::write(path, data).unwrap();
}

// ---- golden vectors (fixtures/signing/make-minisign.sh, made by minisign itself) ---------

#[test]
fn golden_public_key_is_byte_identical_to_minisigns() {
    let pk = golden_key().public_key();
    assert_eq!(
        minisign::public_key_file(&pk).as_bytes(),
        fixture("seed0-31.minisign.pub")
    );
    // minisign prints our key id
    assert_eq!(minisign::key_id(&pk.minisign_keynum()), "56475AA75463474C");
    assert_eq!(pk.key_id(), "56475aa75463474c");
    let read =
        read_public_key_file(Path::new(&format!("{FIXTURES}/seed0-31.minisign.pub"))).unwrap();
    assert_eq!(read, pk);
}

#[test]
fn golden_signature_is_byte_identical_to_minisigns() {
    let message = fixture("minisign-message.txt");
    let ours = minisign::sign_prehashed(
        &golden_key(),
        &message[..],
        GOLDEN_TRUSTED,
        GOLDEN_UNTRUSTED,
    )
    .unwrap();
    assert_eq!(ours.as_bytes(), fixture("minisign-message.txt.minisig"));
    let v = minisign::verify(
        &[golden_key().public_key()],
        &message[..],
        &fixture("minisign-message.txt.minisig"),
    )
    .unwrap();
    assert_eq!(v.trusted_comment, GOLDEN_TRUSTED);
    assert_eq!(v.key_id, "56475AA75463474C");
}

// ---- our signatures, checked by minisign ------------------------------------------------

#[test]
fn minisign_verifies_what_we_sign_with_keygens_key() {
    if !have_minisign() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "k.pem"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "minisign -V -p k.minisign.pub -m PACKAGE.expert",
        ));
    let data_path = d.path().join("p.expert");
    let data = write_data(&data_path);
    // The key as `sign` reads it from a file and from `--key-env` (PEM text, or hex seed):
    // every form gives the keynum keygen wrote into k.minisign.pub.
    let from_file = read_secret_key_file(&d.path().join("k.pem")).unwrap();
    let pem_text = fs::read(d.path().join("k.pem")).unwrap();
    let from_env = read_secret_key(&pem_text).unwrap();
    let minisign_pub = read_public_key_file(&d.path().join("k.minisign.pub")).unwrap();
    assert_eq!(minisign_pub, from_file.public_key());
    for key in [&from_file, &from_env] {
        assert_eq!(
            key.public_key().minisign_keynum(),
            minisign_pub.minisign_keynum()
        );
    }
    let trusted = "timestamp:1764072000\tfile:p.expert\thashed\texpert:expert-x\tversion:1.0.0";
    let sig = minisign::sign_prehashed(&from_env, &data[..], trusted, "signature from expert-cli")
        .unwrap();
    fs::write(d.path().join("p.expert.minisig"), &sig).unwrap();

    let out = minisign(
        d.path(),
        &["-V", "-H", "-p", "k.minisign.pub", "-m", "p.expert"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Trusted comment: {trusted}")),
        "{}",
        text(&out)
    );
    // the bare base64 line works too (`-P`)
    let line = minisign::public_key_base64(&minisign_pub);
    let out = minisign(d.path(), &["-V", "-P", &line, "-m", "p.expert"]);
    assert!(out.status.success(), "{}", text(&out));

    // an edited trusted comment: both refuse
    let edited = sig.replace("version:1.0.0", "version:9.9.9");
    fs::write(d.path().join("edited.minisig"), &edited).unwrap();
    let out = minisign(
        d.path(),
        &[
            "-V",
            "-p",
            "k.minisign.pub",
            "-m",
            "p.expert",
            "-x",
            "edited.minisig",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Comment signature verification failed"),
        "{}",
        text(&out)
    );
    assert!(matches!(
        minisign::verify(
            std::slice::from_ref(&minisign_pub),
            &data[..],
            edited.as_bytes()
        ),
        Err(MinisignError::BadTrustedComment { .. })
    ));

    // a wrong key: both refuse, naming both key ids
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "other.pem"])
        .assert()
        .code(0);
    let out = minisign(
        d.path(),
        &["-V", "-p", "other.minisign.pub", "-m", "p.expert"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("key id"), "{}", text(&out));
    let other = read_public_key_file(&d.path().join("other.minisign.pub")).unwrap();
    let e = minisign::verify(std::slice::from_ref(&other), &data[..], sig.as_bytes()).unwrap_err();
    let (ours, theirs) = (
        minisign::key_id(&minisign_pub.minisign_keynum()),
        minisign::key_id(&other.minisign_keynum()),
    );
    assert!(matches!(e, MinisignError::KeyIdMismatch { .. }), "{e}");
    assert!(
        e.to_string().contains(&ours) && e.to_string().contains(&theirs),
        "{e}"
    );

    // a tampered file: both refuse
    flip_last_byte(&data_path);
    let out = minisign(d.path(), &["-V", "-p", "k.minisign.pub", "-m", "p.expert"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Signature verification failed"),
        "{}",
        text(&out)
    );
    let tampered = fs::read(&data_path).unwrap();
    assert!(matches!(
        minisign::verify(
            std::slice::from_ref(&minisign_pub),
            &tampered[..],
            sig.as_bytes()
        ),
        Err(MinisignError::BadSignature { .. })
    ));
}

// ---- minisign's signatures, checked by us -----------------------------------------------

#[test]
fn we_verify_what_minisign_signs() {
    if !have_minisign() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let out = minisign(d.path(), &["-G", "-W", "-p", "m.pub", "-s", "m.key"]);
    assert!(out.status.success(), "{}", text(&out));
    let data = write_data(&d.path().join("data.bin"));
    let out = minisign(
        d.path(),
        &[
            "-S",
            "-s",
            "m.key",
            "-m",
            "data.bin",
            "-t",
            "release 1.0\tby CI",
            "-c",
            "hi",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let sig = fs::read(d.path().join("data.bin.minisig")).unwrap();

    // the key file, and the bare base64 line, both read as trusted keys with their keynum
    let key_file = read_public_key_file(&d.path().join("m.pub")).unwrap();
    let line = String::from_utf8(fs::read(d.path().join("m.pub")).unwrap())
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let key_line = read_public_key(line.as_bytes()).unwrap();
    assert_eq!(key_line.minisign_keynum(), key_file.minisign_keynum());
    let printed_id = String::from_utf8(fs::read(d.path().join("m.pub")).unwrap())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(minisign::key_id(&key_file.minisign_keynum()), printed_id);

    let other = golden_key().public_key();
    let keys = [other.clone(), key_line.clone()];
    let v = minisign::verify(&keys, &data[..], &sig).unwrap();
    assert_eq!(v.key_index, 1);
    assert_eq!(v.trusted_comment, "release 1.0\tby CI");
    assert_eq!(v.untrusted_comment, "hi");
    assert_eq!(v.key_id, printed_id);
    // parse → write gives minisign's bytes back
    assert_eq!(
        Signature::parse(&sig).unwrap().to_text().as_bytes(),
        &sig[..]
    );

    // wrong key: key-id mismatch, reported before hashing (an unreadable reader is not read)
    struct Unreadable;
    impl std::io::Read for Unreadable {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            panic!("the data must not be read when no key has the signature's key id")
        }
    }
    let e = minisign::verify(std::slice::from_ref(&other), Unreadable, &sig).unwrap_err();
    assert!(matches!(e, MinisignError::KeyIdMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&printed_id), "{e}");

    // edited trusted comment: both refuse
    let edited = String::from_utf8(sig.clone())
        .unwrap()
        .replace("release 1.0", "release 2.0");
    fs::write(d.path().join("edited.minisig"), &edited).unwrap();
    let out = minisign(
        d.path(),
        &[
            "-V",
            "-p",
            "m.pub",
            "-m",
            "data.bin",
            "-x",
            "edited.minisig",
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(matches!(
        minisign::verify(
            std::slice::from_ref(&key_file),
            &data[..],
            edited.as_bytes()
        ),
        Err(MinisignError::BadTrustedComment { .. })
    ));

    // tampered file: both refuse
    flip_last_byte(&d.path().join("data.bin"));
    let out = minisign(d.path(), &["-V", "-p", "m.pub", "-m", "data.bin"]);
    assert!(!out.status.success(), "{}", text(&out));
    let tampered = fs::read(d.path().join("data.bin")).unwrap();
    assert!(matches!(
        minisign::verify(std::slice::from_ref(&key_file), &tampered[..], &sig),
        Err(MinisignError::BadSignature { .. })
    ));
}

#[test]
fn legacy_signatures_are_refused_with_a_reason() {
    if !have_minisign() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let out = minisign(d.path(), &["-G", "-W", "-p", "m.pub", "-s", "m.key"]);
    assert!(out.status.success(), "{}", text(&out));
    fs::write(d.path().join("f"), b"legacy").unwrap();
    let out = minisign(d.path(), &["-S", "-l", "-s", "m.key", "-m", "f"]);
    assert!(out.status.success(), "{}", text(&out));
    let key = read_public_key_file(&d.path().join("m.pub")).unwrap();
    let sig = fs::read(d.path().join("f.minisig")).unwrap();
    let e = minisign::verify(&[key], &b"legacy"[..], &sig).unwrap_err();
    assert!(matches!(e, MinisignError::Legacy), "{e}");
    assert!(e.to_string().contains("legacy"), "{e}");
}

#[test]
fn minisign_secret_keys_and_public_keys_are_not_signing_keys() {
    let pubkey = fixture("seed0-31.minisign.pub");
    let e = read_secret_key(&pubkey).unwrap_err();
    assert!(matches!(e, KeyError::PublicKeyGiven { .. }), "{e}");
    let e = read_secret_key(&fixture("minisign-message.txt.minisig")).unwrap_err();
    assert!(e.to_string().contains("minisign"), "{e}");
    // a signature given as a public key names the problem
    let e = read_public_key(&fixture("minisign-message.txt.minisig")).unwrap_err();
    assert!(e.to_string().contains("minisign public key"), "{e}");
}

// ---- keygen writes k.minisign.pub -------------------------------------------------------

#[test]
fn keygen_writes_the_minisign_public_key_and_never_overwrites_it() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let out = cmd()
        .current_dir(d.path())
        .args([
            "--format", "json", "keygen", "--output", "k.pem", "--name", "ACME",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["minisign_public_key"], "k.minisign.pub");
    assert_eq!(json["encrypted"], false);
    let pk: PublicKey = read_public_key_file(&d.path().join("k.pub")).unwrap();
    let written = fs::read_to_string(d.path().join("k.minisign.pub")).unwrap();
    assert_eq!(written, minisign::public_key_file(&pk));
    assert!(written.starts_with(&format!(
        "untrusted comment: minisign public key {}\n",
        minisign::key_id(&pk.minisign_keynum())
    )));
    assert_eq!(
        u64::from_str_radix(&minisign::key_id(&pk.minisign_keynum()), 16).unwrap(),
        u64::from_str_radix(&pk.key_id(), 16).unwrap(),
        "the minisign key id is our key id"
    );
    assert_eq!(
        fs::metadata(d.path().join("k.minisign.pub"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );

    // an existing minisign public key alone blocks, and nothing is written
    fs::write(d.path().join("n.minisign.pub"), "keep me").unwrap();
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--output", "n.pem"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("n.minisign.pub"));
    assert!(!d.path().join("n.pem").exists() && !d.path().join("n.pub").exists());
    assert_eq!(
        fs::read_to_string(d.path().join("n.minisign.pub")).unwrap(),
        "keep me"
    );
    cmd()
        .current_dir(d.path())
        .args(["keygen", "--force", "--output", "n.pem"])
        .assert()
        .code(0);
    let n = read_public_key_file(&d.path().join("n.pub")).unwrap();
    assert_eq!(
        read_public_key_file(&d.path().join("n.minisign.pub")).unwrap(),
        n
    );
}

// ---- keygen --encrypt -------------------------------------------------------------------

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("`openssl` is not installed");
    }
    ok
}

#[test]
fn encrypted_keys_are_read_by_openssl_and_openssls_by_us() {
    if !openssl_available() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    cmd()
        .current_dir(d.path())
        .env(PASSPHRASE_VAR, "correct horse battery")
        .args([
            "keygen",
            "--encrypt",
            "--name",
            "ACME CI",
            "--output",
            "k.pem",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("encrypted with your passphrase"));
    let pem = fs::read_to_string(d.path().join("k.pem")).unwrap();
    assert!(
        pem.starts_with("name: ACME CI\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{pem}"
    );
    let openssl = |args: &[&str], pass: &str| {
        Command::new("openssl")
            .current_dir(d.path())
            .env("PW", pass)
            .args(args)
            .output()
            .unwrap()
    };
    // OpenSSL reads it with the passphrase, and finds the same public key
    let out = openssl(
        &["pkey", "-in", "k.pem", "-passin", "env:PW", "-pubout"],
        "correct horse battery",
    );
    assert!(out.status.success(), "{}", text(&out));
    let pk = read_public_key(&out.stdout).unwrap();
    assert_eq!(pk, read_public_key_file(&d.path().join("k.pub")).unwrap());
    let out = openssl(
        &["pkey", "-in", "k.pem", "-passin", "env:PW", "-noout"],
        "wrong",
    );
    assert!(!out.status.success());
    // the parameters documented in docs/SIGNING.md
    let out = openssl(&["asn1parse", "-in", "k.pem"], "");
    let dump = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "PBES2",
        "PBKDF2",
        "hmacWithSHA256",
        "aes-256-cbc",
        "INTEGER           :0927C0",
    ] {
        assert!(dump.contains(needle), "{needle} missing in\n{dump}");
    }

    // we read what OpenSSL encrypts: PBKDF2 (its default) and scrypt at its default cost
    let out = openssl(
        &["genpkey", "-algorithm", "ed25519", "-out", "plain.pem"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let plain = read_secret_key_file(&d.path().join("plain.pem")).unwrap();
    for (file, extra) in [
        ("pbkdf2.pem", &["-v2", "aes-256-cbc"][..]),
        ("scrypt.pem", &["-scrypt"][..]),
    ] {
        let mut args = vec![
            "pkcs8",
            "-topk8",
            "-in",
            "plain.pem",
            "-passout",
            "env:PW",
            "-out",
            file,
        ];
        args.extend_from_slice(extra);
        let out = openssl(&args, "openssl pw");
        assert!(out.status.success(), "{}", text(&out));
        let bytes = fs::read(d.path().join(file)).unwrap();
        assert!(matches!(
            read_secret_key(&bytes),
            Err(KeyError::EncryptedSecretKey)
        ));
        let read = read_secret_key_with_passphrase(&bytes, b"openssl pw").unwrap();
        assert_eq!(read.public_key(), plain.public_key(), "{file}");
        assert!(matches!(
            read_secret_key_with_passphrase(&bytes, b"openssl pW"),
            Err(KeyError::WrongPassphrase)
        ));
    }
}

/// Runs the binary in a new session, so it has no controlling terminal (as in CI), even when
/// the tests themselves run in one.
fn without_terminal(dir: &Path, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(env!("CARGO_BIN_EXE_expert-cli"));
    c.current_dir(dir)
        .args(args)
        .env_remove(PASSPHRASE_VAR)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    c.output().unwrap()
}

#[test]
fn no_terminal_no_prompt() {
    let d = tempfile::tempdir().unwrap();
    let out = without_terminal(d.path(), &["keygen", "--encrypt", "--output", "k.pem"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the new key `k.pem` is to be encrypted and no passphrase was given: set EXPERT_CLI_KEY_PASSPHRASE"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(d.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // an empty variable is refused, not used
    cmd()
        .current_dir(d.path())
        .env(PASSPHRASE_VAR, "")
        .args(["keygen", "--encrypt", "--output", "k.pem"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is set but empty"));
    assert_eq!(
        fs::read_dir(d.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // an existing key is refused before any passphrase is asked for
    fs::write(d.path().join("k.pub"), "keep me").unwrap();
    let out = without_terminal(d.path(), &["keygen", "--encrypt", "--output", "k.pem"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`k.pub` already exists"));
}

/// Drives the binary on a real pseudo-terminal (python3's `pty`): answers each passphrase
/// prompt with the next of `answers`; returns everything the terminal showed and the exit code.
fn on_terminal(dir: &Path, args: &[&str], answers: &[&str]) -> Option<(String, i32)> {
    const DRIVER: &str = r#"
import os, pty, select, sys, termios, time
answers = os.environ.pop("PTY_ANSWERS").split("\x1f")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent = b"", 0
deadline = time.monotonic() + 300  # a hang guard only: a prompt that is never answered
while True:
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        sys.stdout.buffer.write(out + b"\n[pty driver: no progress]\n")
        sys.exit(99)
    ready, _, _ = select.select([fd], [], [], 1.0)
    if not ready:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    out += chunk
    if out.lower().count(b"passphrase") > sent and out.endswith(b": ") and sent < len(answers):
        # Type only once the program has turned echo off (pexpect's `waitnoecho`): the
        # prompt is written just before, and type-ahead would be echoed by the terminal.
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.monotonic() < deadline:
            time.sleep(0.01)
        os.write(fd, answers[sent].encode() + b"\r")
        sent += 1
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let ok = Command::new("python3")
        .args(["-c", "import pty"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("python3 with the `pty` module is not available to drive a terminal");
        return None;
    }
    let out = Command::new("python3")
        .current_dir(dir)
        .args(["-c", DRIVER, env!("CARGO_BIN_EXE_expert-cli")])
        .args(args)
        .env("PTY_ANSWERS", answers.join("\x1f"))
        .env_remove(PASSPHRASE_VAR)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert_ne!(code, 99, "{}", text(&out));
    Some((String::from_utf8_lossy(&out.stdout).into_owned(), code))
}

#[test]
fn keygen_asks_twice_on_a_terminal_with_echo_off() {
    let d = tempfile::tempdir().unwrap();
    let secret = "s3cret typed on a tty";
    let Some((screen, code)) = on_terminal(
        d.path(),
        &["keygen", "--encrypt", "--output", "k.pem"],
        &[secret, secret],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("New passphrase for the new key `k.pem`: "),
        "{screen}"
    );
    assert!(screen.contains("Same passphrase again: "), "{screen}");
    assert!(
        !screen.contains(secret),
        "the passphrase was echoed:\n{screen}"
    );
    let pem = fs::read(d.path().join("k.pem")).unwrap();
    let key = read_secret_key_with_passphrase(&pem, secret.as_bytes()).unwrap();
    assert_eq!(
        key.public_key(),
        read_public_key_file(&d.path().join("k.pub")).unwrap()
    );

    // two different answers: refused, nothing written
    let Some((screen, code)) = on_terminal(
        d.path(),
        &["keygen", "--encrypt", "--output", "other.pem"],
        &["one", "two"],
    ) else {
        return;
    };
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("the two passphrases differ"), "{screen}");
    assert!(!d.path().join("other.pem").exists());
}

/// `sign` with an encrypted key: the passphrase from `EXPERT_CLI_KEY_PASSPHRASE` signs (and
/// `verify` accepts the result); a wrong one is refused with the package untouched; without a
/// terminal and without the variable it names the variable instead of prompting.
#[test]
fn sign_decrypts_an_encrypted_key() {
    let d = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&crate::common::fixture("expert-tiny"), d.path());
    let run = |args: &[&str], pass: Option<&str>| {
        let mut c = cmd();
        c.current_dir(d.path()).args(args);
        match pass {
            Some(p) => c.env(PASSPHRASE_VAR, p),
            None => c.env_remove(PASSPHRASE_VAR),
        };
        c.assert()
    };
    run(&["package", "--output", "p.expert"], None).code(0);
    run(
        &["keygen", "--encrypt", "--output", "k.pem"],
        Some("correct horse"),
    )
    .code(0);
    let before = fs::read(d.path().join("p.expert")).unwrap();
    run(
        &["sign", "--expert", "p.expert", "--key", "k.pem"],
        Some("wrong horse"),
    )
    .code(1)
    .stderr(predicate::str::contains("passphrase"));
    assert_eq!(fs::read(d.path().join("p.expert")).unwrap(), before);
    let out = without_terminal(
        d.path(),
        &["sign", "--expert", "p.expert", "--key", "k.pem"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set EXPERT_CLI_KEY_PASSPHRASE"),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read(d.path().join("p.expert")).unwrap(), before);
    run(
        &["sign", "--expert", "p.expert", "--key", "k.pem"],
        Some("correct horse"),
    )
    .code(0);
    run(&["verify", "p.expert", "--pubkey", "k.pub"], None).code(0);
}

// ---- sign --minisig: PACKAGE.minisig, checked by stock minisign (#12.7) ----------------------

/// The trusted comment `sign --minisig` writes for fixtures/expert-tiny packaged as
/// `p.expert` and signed at SOURCE_DATE_EPOCH 1764072000.
const TINY_TRUSTED: &str = "timestamp:1764072000\tfile:p.expert\thashed\texpert:expert-sample-v1\tversion:0.1.0\tbase_model:Qwen/Qwen3-0.6B";

/// fixtures/expert-tiny packaged as `p.expert` in a fresh folder, with a key `k.pem`
/// (encrypted with `passphrase` when given).
fn tiny_package(passphrase: Option<&str>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&crate::common::fixture("expert-tiny"), d.path());
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .code(0);
    let mut keygen = cmd();
    keygen.current_dir(d.path());
    match passphrase {
        Some(p) => keygen
            .env(PASSPHRASE_VAR, p)
            .args(["keygen", "--encrypt", "--output", "k.pem"]),
        None => keygen.args(["keygen", "--output", "k.pem"]),
    };
    keygen.assert().code(0);
    d
}

/// `minisign -V` of `p.expert` with `k.minisign.pub` passes and shows our trusted comment.
fn stock_minisign_accepts(dir: &Path) {
    let out = minisign(dir, &["-V", "-p", "k.minisign.pub", "-m", "p.expert"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Trusted comment: {TINY_TRUSTED}\n")),
        "{}",
        text(&out)
    );
}

#[test]
fn sign_minisig_is_checked_by_stock_minisign_for_every_key_source() {
    if !have_minisign() {
        return;
    }
    // a key file, with the package given as PACKAGE and as --expert
    for args in [
        &["sign", "p.expert", "--key", "k.pem", "--minisig"][..],
        &[
            "sign",
            "--expert",
            "p.expert",
            "--key",
            "k.pem",
            "--minisig",
        ][..],
    ] {
        let d = tiny_package(None);
        cmd()
            .current_dir(d.path())
            .env("SOURCE_DATE_EPOCH", "1764072000")
            .args(args)
            .assert()
            .code(0)
            .stderr(predicate::str::contains(
                "Wrote `p.expert.minisig`, the detached signature (minisign key id ",
            ));
        stock_minisign_accepts(d.path());
        // the package and sidecar it signs are the final ones
        let st = Command::new("sha256sum")
            .args(["-c", "p.expert.sha256"])
            .current_dir(d.path())
            .status()
            .unwrap();
        assert!(st.success());
    }

    // --key-env, with the PEM text
    let d = tiny_package(None);
    let pem = fs::read_to_string(d.path().join("k.pem")).unwrap();
    cmd()
        .current_dir(d.path())
        .env("SOURCE_DATE_EPOCH", "1764072000")
        .env("SIGNING_KEY", pem)
        .args(["sign", "p.expert", "--key-env", "SIGNING_KEY", "--minisig"])
        .assert()
        .code(0);
    stock_minisign_accepts(d.path());

    // an encrypted key, its passphrase from the environment
    let d = tiny_package(Some("correct horse"));
    cmd()
        .current_dir(d.path())
        .env("SOURCE_DATE_EPOCH", "1764072000")
        .env(PASSPHRASE_VAR, "correct horse")
        .args(["sign", "p.expert", "--key", "k.pem", "--minisig"])
        .assert()
        .code(0);
    stock_minisign_accepts(d.path());
    cmd()
        .current_dir(d.path())
        .args(["verify", "p.expert", "--pubkey", "k.pub"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "by the detached signature `p.expert.minisig`",
        ));
}

#[test]
fn resigning_never_leaves_a_stale_minisig() {
    if !have_minisign() {
        return;
    }
    let d = tiny_package(None);
    let sign = |extra: &[&str]| {
        let mut c = cmd();
        c.current_dir(d.path())
            .env("SOURCE_DATE_EPOCH", "1764072000")
            .args(["sign", "p.expert", "--key", "k.pem"])
            .args(extra);
        c.assert().code(0)
    };
    sign(&["--minisig"]);
    stock_minisign_accepts(d.path());
    // without --minisig: the new bytes get no detached signature, and the old one is removed
    sign(&["--publisher", "Second"]).stderr(predicate::str::contains(
        "Removed `p.expert.minisig`: it signed the package as it was before",
    ));
    assert!(!d.path().join("p.expert.minisig").exists());
    // with --minisig: refreshed, for the new bytes
    sign(&["--minisig", "--publisher", "Third"]);
    stock_minisign_accepts(d.path());
    let json = cmd()
        .current_dir(d.path())
        .args(["--format", "json", "sign", "p.expert", "--key", "k.pem"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["minisig"], serde_json::Value::Null);
    assert_eq!(v["removed_stale_minisig"], true);
    assert!(!d.path().join("p.expert.minisig").exists());
}

/// A signature made by stock `minisign -S` with a key the verifier trusts proves that key
/// signed the bytes, but its trusted comment is not ours: it is not used, and the full check
/// decides (here: `signature.sig` is by a key that is not trusted).
#[test]
fn a_stock_minisign_signature_is_not_the_fast_path() {
    if !have_minisign() {
        return;
    }
    let d = tiny_package(None);
    cmd()
        .current_dir(d.path())
        .args(["sign", "p.expert", "--key", "k.pem"])
        .assert()
        .code(0);
    let out = minisign(d.path(), &["-G", "-W", "-p", "m.pub", "-s", "m.key"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = minisign(d.path(), &["-S", "-s", "m.key", "-m", "p.expert"]);
    assert!(out.status.success(), "{}", text(&out));
    cmd()
        .current_dir(d.path())
        .args(["verify", "p.expert", "--pubkey", "m.pub"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "the detached signature `p.expert.minisig` was not used: its trusted comment is not the one `expert-cli sign --minisig` writes",
        ));
    // with the package's own key trusted too: verified by the full check
    cmd()
        .current_dir(d.path())
        .args([
            "verify", "p.expert", "--pubkey", "m.pub", "--pubkey", "k.pub",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("(trusted key `k.pub`)"));
}
