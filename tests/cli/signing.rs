//! Integration tests for `expert_cli::signing` as a library: golden vectors made by OpenSSL
//! (`fixtures/signing/make.sh`), the decision table of `verify_contents`, trust, key files.

use expert_cli::archive::MemberInfo;
use expert_cli::digest::sha256_hex;
use expert_cli::manifest::source::Source;
use expert_cli::signing::{
    check_members, message, read_public_key, read_public_key_file, read_secret_key,
    read_secret_key_file, sign_manifest, verify_contents, write_keypair, write_keypair_with,
    KeyError, Outcome, Reason, SecretKey, SigFileError, SignatureFile, SignedIntegrity,
    TrustedKeys, VerifyOptions, Warning,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/signing");

/// 2026-11-25T12:00:00Z, the signing time of the golden vectors.
const GOLDEN_TIME: u64 = 1_795_608_000;

fn fixture(name: &str) -> Vec<u8> {
    fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// Seed bytes 0, 1, …, 31.
fn golden_key() -> SecretKey {
    SecretKey::from_seed(&std::array::from_fn(|i| i as u8))
}

/// `integrity.files` of the unsigned fixture.
fn files() -> Vec<(String, String)> {
    let unsigned = Source::parse(&fixture("unsigned.manifest.json")).unwrap();
    let files = unsigned.root().pointer("/integrity/files").unwrap();
    files
        .as_object()
        .unwrap()
        .iter()
        .map(|m| (m.key.clone(), m.value.as_str().unwrap().to_owned()))
        .collect()
}

/// The golden package's members as the reader reports them: `manifest.json` (the given
/// bytes), every member of [`files`], and `signature.sig` when given.
fn members(manifest: &[u8], signature: Option<&[u8]>) -> Vec<MemberInfo> {
    let m = |path: &str, sha256: String| MemberInfo {
        path: path.to_owned(),
        size: 0,
        sha256,
    };
    let mut out = vec![m("manifest.json", sha256_hex(manifest))];
    out.extend(files().into_iter().map(|(p, d)| m(&p, d)));
    if let Some(sig) = signature {
        out.push(m("signature.sig", sha256_hex(sig)));
    }
    out
}

/// The unsigned fixture signed by `key` as "ACME CI" at [`GOLDEN_TIME`]: manifest and
/// `signature.sig` bytes.
fn sign_golden(key: &SecretKey) -> (Vec<u8>, Vec<u8>) {
    let unsigned = Source::parse(&fixture("unsigned.manifest.json")).unwrap();
    let signed = sign_manifest(&unsigned, &files(), key, "ACME CI", GOLDEN_TIME).unwrap();
    (signed.manifest, signed.signature.to_bytes())
}

fn trusted(keys: &[&SecretKey]) -> TrustedKeys {
    let mut t = TrustedKeys::new();
    for k in keys {
        t.add(k.public_key(), "test");
    }
    t
}

fn decide(manifest: &[u8], sig: Option<&[u8]>, trust: &TrustedKeys) -> Outcome {
    verify_contents(
        manifest,
        sig,
        &members(manifest, sig),
        trust,
        &VerifyOptions::default(),
    )
    .outcome
}

/// Signs `manifest` the way an attacker would: the right message, any key.
fn raw_sign(key: &SecretKey, manifest: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed_of(key));
    SignatureFile::from_bytes(dalek.sign(&message(manifest)).to_bytes()).to_bytes()
}

/// The 32-byte seed of a key (through its PKCS#8 DER: prefix of 16 bytes, then the seed).
fn seed_of(key: &SecretKey) -> [u8; 32] {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem = key.to_pkcs8_pem().unwrap();
    let start = pem.find("-----BEGIN").unwrap();
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem[start..])
        .unwrap()
        .to_bytes()
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
    assert_eq!(pem.as_bytes(), fixture("seed0-31.pem"));
    let public = key.public_key().to_spki_pem().unwrap();
    assert_eq!(public.as_bytes(), fixture("seed0-31.pub"));
}

#[test]
fn golden_signed_manifest_message_and_signature() {
    // OpenSSL and sed made the expected files (fixtures/signing/make.sh); ours must be equal.
    let (manifest, sig) = sign_golden(&golden_key());
    assert_eq!(
        String::from_utf8(manifest.clone()).unwrap(),
        String::from_utf8(fixture("signed.manifest.json")).unwrap()
    );
    assert_eq!(message(&manifest), fixture("message.txt"));
    assert_eq!(sig, fixture("signature.sig"));
    assert_eq!(
        String::from_utf8(sig.clone()).unwrap(),
        "460238d88955be4fe90641d4024dc3fa762185ff4a91fb9e1048903a4cae0fb1\
         951e696a9aa298b286eb08b0adf306e981a933050bd86157dcd883bd5e709d0e\n"
    );
    // Only the value of `integrity` changed.
    let unsigned = String::from_utf8(fixture("unsigned.manifest.json")).unwrap();
    let signed = String::from_utf8(manifest.clone()).unwrap();
    let cut = |t: &str| t.split_once("\"integrity\": ").unwrap().0.to_owned();
    assert_eq!(cut(&unsigned), cut(&signed));
    // And it verifies with the fixture's public key file.
    let mut trust = TrustedKeys::new();
    trust
        .add_file(Path::new(&format!("{FIXTURES}/seed0-31.pub")))
        .unwrap();
    assert!(matches!(
        decide(&manifest, Some(&sig), &trust),
        Outcome::Verified { ref key_id, .. } if key_id == "56475aa75463474c"
    ));
}

#[test]
fn signing_is_deterministic_and_resigning_replaces_integrity() {
    let key = golden_key();
    let (once, sig) = sign_golden(&key);
    assert_eq!(sign_golden(&key), (once.clone(), sig));
    // Signing the signed manifest again (another key, another publisher) leaves one
    // integrity section, the new one.
    let other = SecretKey::from_seed(&[9; 32]);
    let source = Source::parse(&once).unwrap();
    let again = sign_manifest(&source, &files(), &other, "Second", GOLDEN_TIME).unwrap();
    let text = String::from_utf8(again.manifest.clone()).unwrap();
    assert_eq!(text.matches("\"integrity\"").count(), 1);
    let back = SignedIntegrity::read(Source::parse(&again.manifest).unwrap().root()).unwrap();
    assert_eq!(
        (back.publisher.as_str(), back.key_id.as_str()),
        ("Second", other.key_id().as_str())
    );
    let err = sign_manifest(&source, &files(), &other, "two\nlines", GOLDEN_TIME).unwrap_err();
    assert!(err.to_string().contains("publisher"), "{err}");
}

#[test]
fn openssl_signs_the_same_bytes() {
    // Ed25519 is deterministic: OpenSSL signing message.txt with the PEM key file gives our
    // signature.
    let dir = tempdir();
    fs::write(dir.path().join("message.txt"), fixture("message.txt")).unwrap();
    run(Command::new("openssl")
        .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
        .arg(format!("{FIXTURES}/seed0-31.pem"))
        .args(["-in", "message.txt", "-out", "sig.bin"])
        .current_dir(dir.path()));
    let (_, ours) = sign_golden(&golden_key());
    assert_eq!(
        hex::encode(fs::read(dir.path().join("sig.bin")).unwrap()) + "\n",
        String::from_utf8(ours).unwrap()
    );
}

// ---- the decision table ---------------------------------------------------------------

#[test]
fn verified_untrusted_unsigned() {
    let key = golden_key();
    let other = SecretKey::from_seed(&[9; 32]);
    let (manifest, sig) = sign_golden(&key);
    assert!(matches!(
        decide(&manifest, Some(&sig), &trusted(&[&other, &key])),
        Outcome::Verified { ref key_id, .. } if *key_id == key.key_id()
    ));
    assert_eq!(
        decide(&manifest, Some(&sig), &trusted(&[&other])),
        Outcome::Untrusted {
            key_id: key.key_id()
        }
    );
    assert_eq!(
        decide(&manifest, Some(&sig), &TrustedKeys::new()),
        Outcome::Untrusted {
            key_id: key.key_id()
        }
    );
    // signature.sig removed: unsigned, with a warning that it was signed
    let verdict = verify_contents(
        &manifest,
        None,
        &members(&manifest, None),
        &trusted(&[&key]),
        &VerifyOptions::default(),
    );
    assert_eq!(verdict.outcome, Outcome::Unsigned);
    assert_eq!(verdict.warnings, [Warning::SignatureRemoved]);
    // an unsigned package as `package` writes it: no warning
    let unsigned = fixture("unsigned.manifest.json");
    let verdict = verify_contents(
        &unsigned,
        None,
        &members(&unsigned, None),
        &trusted(&[&key]),
        &VerifyOptions::default(),
    );
    assert_eq!(
        (verdict.outcome, verdict.warnings),
        (Outcome::Unsigned, vec![])
    );
}

#[test]
fn every_bit_flip_of_manifest_or_signature_is_caught() {
    let key = golden_key();
    let trust = trusted(&[&key]);
    let (manifest, sig) = sign_golden(&key);
    // One bit per byte, cycling through the bit positions.
    for i in 0..manifest.len() {
        let mut bad = manifest.clone();
        bad[i] ^= 1 << (i % 8);
        let outcome = decide(&bad, Some(&sig), &trust);
        assert!(
            matches!(outcome, Outcome::Invalid(_)),
            "manifest byte {i}: {outcome:?}"
        );
    }
    for i in 0..sig.len() {
        for bit in [i % 8, (i + 3) % 8] {
            let mut bad = sig.clone();
            bad[i] ^= 1 << bit;
            let outcome = decide(&manifest, Some(&bad), &trust);
            assert!(
                matches!(outcome, Outcome::Invalid(_)),
                "signature byte {i} bit {bit}: {outcome:?}"
            );
        }
    }
    for n in 0..sig.len() {
        assert!(matches!(
            decide(&manifest, Some(&sig[..n]), &trust),
            Outcome::Invalid(Reason::Signature(_))
        ));
    }
}

#[test]
fn members_are_held_to_integrity_files() {
    let key = golden_key();
    let (manifest, sig) = sign_golden(&key);
    let trust = trusted(&[&key]);
    let opts = VerifyOptions::default();
    let mut changed = members(&manifest, Some(&sig));
    changed[2].sha256 = sha256_hex(b"other config");
    let outcome = verify_contents(&manifest, Some(&sig), &changed, &trust, &opts).outcome;
    match outcome {
        Outcome::Invalid(r @ Reason::DigestMismatch { .. }) => {
            assert!(
                r.to_string().contains("`adapter_config.json` was modified"),
                "{r}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut extra = members(&manifest, Some(&sig));
    extra.push(MemberInfo {
        path: "extra.txt".into(),
        size: 2,
        sha256: sha256_hex(b"hi"),
    });
    assert_eq!(
        verify_contents(&manifest, Some(&sig), &extra, &trust, &opts).outcome,
        Outcome::Invalid(Reason::ExtraMember {
            path: "extra.txt".into()
        })
    );
    assert_eq!(
        check_members(&files(), &members(&manifest, None)[..2]),
        Err(Reason::MissingMember {
            path: "adapter_config.json".into()
        })
    );
}

#[test]
fn expectations_turn_a_verified_package_invalid() {
    let key = golden_key();
    let (manifest, sig) = sign_golden(&key);
    let run = |name: Option<&str>, version: Option<&str>| {
        let opts = VerifyOptions {
            expect_name: name.map(str::to_owned),
            expect_version: version.map(str::to_owned),
            ..VerifyOptions::default()
        };
        verify_contents(
            &manifest,
            Some(&sig),
            &members(&manifest, Some(&sig)),
            &trusted(&[&key]),
            &opts,
        )
        .outcome
    };
    assert!(matches!(
        run(Some("expert-sample-v1"), Some("0.1.0")),
        Outcome::Verified { .. }
    ));
    assert!(matches!(
        run(Some("expert-other"), None),
        Outcome::Invalid(Reason::Unexpected { field: "name", .. })
    ));
    assert!(matches!(
        run(None, Some("0.0.9")),
        Outcome::Invalid(Reason::Unexpected {
            field: "version",
            ..
        })
    ));
}

#[test]
fn an_attackers_key_is_never_trusted() {
    let key = golden_key();
    let attacker = SecretKey::from_seed(&[7; 32]);
    let trust = trusted(&[&key]);
    let (manifest, _) = sign_golden(&key);
    let text = String::from_utf8(manifest).unwrap();
    let swap = |text: &str, pubkey: &SecretKey, key_id: &SecretKey| {
        text.replace(&key.public_key().to_hex(), &pubkey.public_key().to_hex())
            .replace(&key.key_id(), &key_id.key_id())
            .into_bytes()
    };
    // integrity.pubkey and key_id swapped for the attacker's, validly signed by the attacker:
    // untrusted, never verified
    let forged = swap(&text, &attacker, &attacker);
    let sig = raw_sign(&attacker, &forged);
    assert_eq!(
        decide(&forged, Some(&sig), &trust),
        Outcome::Untrusted {
            key_id: attacker.key_id()
        }
    );
    // the trusted key still named, signed by the attacker: invalid
    let sig = raw_sign(&attacker, text.as_bytes());
    assert_eq!(
        decide(text.as_bytes(), Some(&sig), &trust),
        Outcome::Invalid(Reason::BadSignature {
            key_id: key.key_id()
        })
    );
    // the attacker's pubkey with the trusted key id: invalid
    let forged = swap(&text, &attacker, &key);
    let sig = raw_sign(&attacker, &forged);
    assert!(matches!(
        decide(&forged, Some(&sig), &trust),
        Outcome::Invalid(Reason::BadSignature { .. })
    ));
    // an untrusted key named, signature by yet another key: invalid, not untrusted
    let forged = swap(&text, &attacker, &attacker);
    let sig = raw_sign(&SecretKey::from_seed(&[8; 32]), &forged);
    assert!(matches!(
        decide(&forged, Some(&sig), &trust),
        Outcome::Invalid(Reason::NotByNamedKey { .. })
    ));
}

#[test]
fn a_trusted_key_signing_a_manifest_that_names_another_is_invalid() {
    let key = golden_key();
    let other = SecretKey::from_seed(&[9; 32]);
    let (manifest, _) = sign_golden(&other);
    let sig = raw_sign(&key, &manifest);
    assert!(matches!(
        decide(&manifest, Some(&sig), &trusted(&[&key])),
        Outcome::Invalid(Reason::SignerMismatch { .. })
    ));
}

#[test]
fn the_earlier_statement_format_is_refused_with_its_reason() {
    let (manifest, _) = sign_golden(&golden_key());
    let legacy = fixture("legacy-statement.sig");
    let outcome = decide(&manifest, Some(&legacy), &trusted(&[&golden_key()]));
    assert_eq!(
        outcome,
        Outcome::Invalid(Reason::Signature(SigFileError::LegacyStatement))
    );
    if let Outcome::Invalid(r) = outcome {
        assert!(r.to_string().contains("signed-statement format"), "{r}");
    }
}

#[test]
fn ambiguous_manifests_are_invalid() {
    let key = golden_key();
    let (manifest, _) = sign_golden(&key);
    let text = String::from_utf8(manifest).unwrap();
    // a second `name` key: signed or not, readers would disagree
    let twice = text.replacen("{\n", "{\n  \"name\": \"expert-evil\",\n", 1);
    let sig = raw_sign(&key, twice.as_bytes());
    let outcome = decide(twice.as_bytes(), Some(&sig), &trusted(&[&key]));
    assert!(
        matches!(&outcome, Outcome::Invalid(Reason::Manifest(m)) if m.contains("`name` twice")),
        "{outcome:?}"
    );
    assert!(matches!(
        decide(b"{not json", None, &TrustedKeys::new()),
        Outcome::Invalid(Reason::Manifest(_))
    ));
}

// ---- the library operations ----------------------------------------------------------

/// Records what a library operation reports to its [`Progress`].
#[derive(Default)]
struct Recorder {
    phases: Vec<(String, u64, u64)>,
}

impl expert_cli::progress::Progress for Recorder {
    fn start(&mut self, label: &str, total: u64) {
        self.phases.push((label.to_owned(), total, 0));
    }
    fn advance(&mut self, n: u64) {
        self.phases.last_mut().expect("advance after start").2 += n;
    }
    fn finish(&mut self) {}
}

/// fixtures/expert-tiny packaged by our writer, with the unsigned fixture as its manifest.
fn golden_package(path: &Path) {
    golden_package_at(path, expert_cli::archive::DEFAULT_MTIME);
}

/// [`golden_package`] with every member's mtime `mtime`.
fn golden_package_at(path: &Path, mtime: u64) {
    use expert_cli::archive::{ArchiveWriter, ContentKind, WriteOptions};
    let tiny = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/expert-tiny");
    let members: Vec<(&str, Vec<u8>)> = vec![
        ("manifest.json", fixture("unsigned.manifest.json")),
        ("README.md", fs::read(format!("{tiny}/README.md")).unwrap()),
        (
            "adapter_config.json",
            fs::read(format!("{tiny}/weights/qwen306b/adapter_config.json")).unwrap(),
        ),
        (
            "adapter_model.safetensors",
            fs::read(format!("{tiny}/weights/qwen306b/adapter_model.safetensors")).unwrap(),
        ),
    ];
    let opts = WriteOptions {
        mtime,
        ..WriteOptions::default()
    };
    let mut w = ArchiveWriter::new(fs::File::create(path).unwrap(), opts).unwrap();
    for (name, data) in &members {
        w.append(
            name,
            data.len() as u64,
            &mut &data[..],
            ContentKind::for_path(name),
        )
        .unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn sign_package_reports_progress_and_verify_package_agrees() {
    use expert_cli::archive::{Limits, WriteOptions};
    use expert_cli::signing::{sign_package, verify_package, SignOptions};
    let dir = tempdir();
    let input = dir.path().join("expert-sample-v1-qwen306b.v0.1.0.expert");
    golden_package(&input);
    let len = fs::metadata(&input).unwrap().len();
    let opts = SignOptions {
        publisher: Some("ACME CI".into()),
        created_at: GOLDEN_TIME,
        level: WriteOptions::default().level,
        threads: WriteOptions::default().threads,
        limits: Limits::default(),
        minisig: false,
    };
    let mut progress = Recorder::default();
    let mut out = Vec::new();
    let report = sign_package(&input, &mut out, &golden_key(), &opts, &mut progress).unwrap();
    assert_eq!(
        progress.phases,
        [
            ("checking".to_owned(), len, len),
            ("signing".to_owned(), len, len)
        ]
    );
    assert_eq!(report.sha256, sha256_hex(&out));
    assert_eq!(report.size, out.len() as u64);
    assert_eq!(
        (
            report.name.as_str(),
            report.version.as_str(),
            report.base_model.as_str()
        ),
        ("expert-sample-v1", "0.1.0", "Qwen/Qwen3-0.6B")
    );
    assert_eq!((report.members, report.replaced_signature), (5, false));
    assert_eq!(
        report.signature + "\n",
        String::from_utf8(fixture("signature.sig")).unwrap()
    );
    // deterministic
    let mut again = Vec::new();
    sign_package(
        &input,
        &mut again,
        &golden_key(),
        &opts,
        &mut Recorder::default(),
    )
    .unwrap();
    assert_eq!(out, again);
    // the signed package verifies, with nothing to warn about in its name
    fs::write(&input, &out).unwrap();
    let mut trust = TrustedKeys::new();
    trust.add(golden_key().public_key(), "golden");
    let verified = verify_package(&input, &trust, &VerifyOptions::default()).unwrap();
    assert!(matches!(verified.outcome, Outcome::Verified { .. }));
    assert!(verified.warnings.is_empty(), "{:?}", verified.warnings);
    assert_eq!(verified.members.len(), 5);
}

/// Every member's tar header in a package, by name.
fn tar_headers(package: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            (name, e.header().as_bytes().to_vec())
        })
        .collect()
}

/// Re-signing changes `manifest.json` and `signature.sig` and no other member's header: `sign`
/// writes with the package's own member mtime (here not the default), whatever the signing
/// time, the key or `SOURCE_DATE_EPOCH` (#14).
#[test]
fn resigning_keeps_every_other_member_header() {
    use expert_cli::archive::{Limits, WriteOptions, DEFAULT_MTIME};
    use expert_cli::signing::{sign_package, SignOptions};
    const MTIME: u64 = 1_600_000_000;
    let dir = tempdir();
    let input = dir.path().join("expert-sample-v1-qwen306b.v0.1.0.expert");
    golden_package_at(&input, MTIME);
    let original = fs::read(&input).unwrap();
    let opts = SignOptions {
        publisher: Some("ACME CI".into()),
        created_at: GOLDEN_TIME,
        level: WriteOptions::default().level,
        threads: 1,
        limits: Limits::default(),
        minisig: false,
    };
    let mut once = Vec::new();
    sign_package(
        &input,
        &mut once,
        &golden_key(),
        &opts,
        &mut Recorder::default(),
    )
    .unwrap();
    fs::write(&input, &once).unwrap();
    let other = SecretKey::from_seed(&[9; 32]);
    let later = SignOptions {
        created_at: GOLDEN_TIME + 86_400,
        ..opts
    };
    let mut twice = Vec::new();
    sign_package(&input, &mut twice, &other, &later, &mut Recorder::default()).unwrap();

    let (original, once, twice) = (
        tar_headers(&original),
        tar_headers(&once),
        tar_headers(&twice),
    );
    assert_eq!(original.len(), 4);
    for (name, header) in &original {
        if name != "manifest.json" {
            assert_eq!(&once[name], header, "`{name}` changed when signed");
            assert_eq!(&twice[name], header, "`{name}` changed when signed again");
        }
    }
    // The new members get the package's mtime too: a re-signed signature.sig has the same
    // header (same size, same mtime), and no header anywhere has the default.
    assert_eq!(once["signature.sig"], twice["signature.sig"]);
    for headers in [&once, &twice] {
        for (name, h) in headers.iter() {
            let mtime = tar::Header::from_byte_slice(h).mtime().unwrap();
            assert_eq!(mtime, MTIME, "`{name}`");
            assert_ne!(mtime, DEFAULT_MTIME);
        }
    }
}

/// `SignOptions::minisig`: the detached signature is of exactly the bytes written (hashed while
/// they were written), in minisign's format with the documented trusted comment; the library's
/// fast path then decides from it, and refuses it for other bytes.
#[test]
fn sign_package_makes_the_detached_signature_of_the_bytes_it_writes() {
    use expert_cli::archive::{Limits, WriteOptions};
    use expert_cli::signing::minisign;
    use expert_cli::signing::{sign_package, verify_package, Check, DetachedStatus, SignOptions};
    let dir = tempdir();
    let input = dir.path().join("expert-sample-v1-qwen306b.v0.1.0.expert");
    golden_package(&input);
    let opts = SignOptions {
        publisher: Some("ACME CI".into()),
        created_at: GOLDEN_TIME,
        level: WriteOptions::default().level,
        threads: WriteOptions::default().threads,
        limits: Limits::default(),
        minisig: true,
    };
    let mut out = Vec::new();
    let report = sign_package(
        &input,
        &mut out,
        &golden_key(),
        &opts,
        &mut Recorder::default(),
    )
    .unwrap();
    let m = report.minisig.clone().expect("asked for");
    assert_eq!(
        m.trusted_comment,
        "timestamp:1795608000\tfile:expert-sample-v1-qwen306b.v0.1.0.expert\thashed\texpert:expert-sample-v1\tversion:0.1.0\tbase_model:Qwen/Qwen3-0.6B"
    );
    assert_eq!(m.key_id, "56475AA75463474C");
    assert_eq!(m.path, format!("{}.minisig", input.display()));
    let v = minisign::verify(&[golden_key().public_key()], &out[..], m.text.as_bytes()).unwrap();
    assert_eq!(v.trusted_comment, m.trusted_comment);
    // the same package bytes as without --minisig
    let mut plain = Vec::new();
    let without = SignOptions {
        minisig: false,
        ..opts.clone()
    };
    let r = sign_package(
        &input,
        &mut plain,
        &golden_key(),
        &without,
        &mut Recorder::default(),
    )
    .unwrap();
    assert_eq!(plain, out);
    assert!(r.minisig.is_none());

    fs::write(&input, &out).unwrap();
    fs::write(&m.path, &m.text).unwrap();
    let mut trust = TrustedKeys::new();
    trust.add(golden_key().public_key(), "golden");
    let fast = verify_package(&input, &trust, &VerifyOptions::default()).unwrap();
    assert!(matches!(fast.outcome, Outcome::Verified { .. }));
    assert_eq!(fast.check, Check::Detached);
    assert!(fast.members.is_empty() && fast.warnings.is_empty());
    let full = VerifyOptions {
        full: true,
        ..VerifyOptions::default()
    };
    let full = verify_package(&input, &trust, &full).unwrap();
    assert_eq!(full.check, Check::Full);
    assert_eq!(full.members.len(), 5);
    assert_eq!(
        full.minisig.as_ref().map(|c| c.status()),
        Some(DetachedStatus::Verified)
    );
    // one changed byte: the detached signature does not hold, the full check decides
    let mut changed = out.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    fs::write(&input, &changed).unwrap();
    let r = verify_package(&input, &trust, &VerifyOptions::default()).unwrap();
    assert!(matches!(r.outcome, Outcome::Invalid(_)));
    assert_eq!(r.check, Check::Full);
    assert_eq!(
        r.minisig.as_ref().map(|c| c.status()),
        Some(DetachedStatus::Invalid)
    );
}

// ---- keys and trust -------------------------------------------------------------------

#[test]
fn openssl_reads_our_key_files() {
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
    let (manifest, sig) = sign_golden(&key);
    let mut trust = TrustedKeys::new();
    trust.add_file(&dir.path().join("publisher.pub")).unwrap();
    assert!(matches!(
        decide(&manifest, Some(&sig), &trust),
        Outcome::Verified { .. }
    ));
    // Hex text with a trailing newline, as an environment variable would hold it.
    let hex_text = format!("{}\n", hex::encode(seed));
    assert_eq!(
        read_secret_key(hex_text.as_bytes()).unwrap().public_key(),
        pubkey
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
    let (manifest, sig) = sign_golden(&golden_key());
    let bases = [
        sig.clone(),
        manifest.clone(),
        fixture("seed0-31.pem"),
        fixture("seed0-31.pub"),
        fixture("legacy-statement.sig"),
    ];
    let trust = trusted(&[&golden_key()]);
    for round in 0..1000 {
        let mut input = bases[round % bases.len()].clone();
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
        let _ = SignatureFile::parse(&input);
        if let Ok(source) = Source::parse(&input) {
            let _ = SignedIntegrity::read(source.root());
        }
        let _ = read_secret_key(&input);
        let _ = read_public_key(&input);
        let _ = decide(&input, Some(&sig), &trust);
        let _ = decide(&manifest, Some(&input), &trust);
    }
}
