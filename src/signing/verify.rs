//! Verifying a package: which key signed it, whether that key is trusted, and whether the
//! package is exactly what was signed. Four outcomes ([`Outcome`]); the binary maps them to
//! exit codes in one place.
//!
//! [`verify_package`] reads the package once (keeping `manifest.json` and `signature.sig`,
//! hashing every member) and [`verify_contents`] decides, first match wins:
//! 1. the archive is refused by the reader, `manifest.json` is not its first member, is not
//!    JSON or repeats a key → [`Outcome::Invalid`] (a file that is not a package at all is a
//!    [`VerifyError::NotAPackage`] instead);
//! 2. no `signature.sig` → [`Outcome::Unsigned`] (but [`Outcome::Invalid`] when the members
//!    contradict `integrity.files`: the package was damaged after packaging);
//! 3. `signature.sig` is not the form `sign` writes → [`Outcome::Invalid`];
//! 4. the signature verifies (`verify_strict`) under a trusted key → the packaged manifest is
//!    authentic: its `integrity` must be the signed shape naming that key, the members must be
//!    exactly `integrity.files` (same paths, same SHA-256) plus `manifest.json` and
//!    `signature.sig`, and name and version must meet `--expect-*` → [`Outcome::Verified`],
//!    else [`Outcome::Invalid`] naming the first difference;
//! 5. it verifies under no trusted key: when the package names a trusted key (by `pubkey` or
//!    `key_id`) → [`Outcome::Invalid`] (it claims a key we trust and was not signed by it);
//!    when it verifies under the key the package names → [`Outcome::Untrusted`]; otherwise
//!    → [`Outcome::Invalid`].
//!
//! `integrity.pubkey` is only ever a hint, for choosing the outcome and reporting: trust
//! comes from [`TrustedKeys`] alone.

use super::detached::{self, DetachedCheck, DetachedProblem, DetachedStatus, Prehashing};
use super::keys::PublicKey;
use super::sigfile::{SigFileError, SignatureFile};
use super::statement::{
    self, is_lower_hex, message, ExpertFacts, IntegrityProblem, SignedIntegrity,
};
use super::trust::TrustedKeys;
use crate::archive::{
    self, Limits, MemberInfo, NotPackage, ReadError, MANIFEST_NAME, SIGNATURE_MEMBER,
};
use crate::manifest::source::{Node, Source};
use crate::signing::display_name as shown;
use ed25519_dalek::Signature;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `verify` holds the package to besides its signature.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Bounds for reading the package.
    pub limits: Limits,
    /// `--expect-name`: the signed manifest's `name` must be this.
    pub expect_name: Option<String>,
    /// `--expect-version`: the signed manifest's `version` must be this.
    pub expect_version: Option<String>,
    /// `--full`: always the complete check (`signature.sig`, every member, the whole archive),
    /// even when `PACKAGE.minisig` could decide; the detached signature is then checked too,
    /// in the same pass, and reported.
    pub full: bool,
}

/// Why `verify` could not give an outcome at all.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The file could not be opened or read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an `.expert` package.
    #[error("`{}` is not an .expert package: {why}", path.display())]
    NotAPackage {
        /// The file.
        path: PathBuf,
        /// Why not.
        why: NotPackage,
    },
}

/// Why a package is invalid. Messages name the member or field concerned.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The archive reader refused the package (corrupt, truncated, hostile).
    #[error("the package is refused: {0}")]
    Unreadable(String),
    /// The archive is not in the form `expert-cli package` writes.
    #[error("{0}")]
    NotCanonical(String),
    /// `manifest.json` cannot be read as one unambiguous JSON document.
    #[error("{0}")]
    Manifest(String),
    /// `signature.sig` is malformed or in the earlier format.
    #[error("{0}")]
    Signature(SigFileError),
    /// The `integrity` section is not the signed shape.
    #[error("{0}")]
    Integrity(IntegrityProblem),
    /// The package names a trusted key, but the signature does not verify under it.
    #[error("the signature does not verify under the trusted key `{key_id}` the package names; the manifest or signature was altered, or another key signed it")]
    BadSignature {
        /// The id of the trusted key the package names.
        key_id: String,
    },
    /// The signature verifies neither under a trusted key nor under the key the package names.
    #[error("the signature does not verify under the key the package names (`{key_id}`); the manifest or signature was altered")]
    NotByNamedKey {
        /// The key id the package names.
        key_id: String,
    },
    /// A trusted key signed a manifest that names another key.
    #[error(
        "the manifest was signed by the trusted key `{signed_by}` but names the key `{named}`"
    )]
    SignerMismatch {
        /// The trusted key that verified.
        signed_by: String,
        /// The key id in the manifest.
        named: String,
    },
    /// `integrity.files` lists a member it may not list.
    #[error("`integrity.files` lists `{}`, which it cannot cover", shown(path))]
    ListsReserved {
        /// `manifest.json` or `signature.sig`.
        path: String,
    },
    /// A listed member is absent.
    #[error(
        "member `{}` is listed in `integrity.files` but missing from the package",
        shown(path)
    )]
    MissingMember {
        /// The listed path.
        path: String,
    },
    /// A member is not listed.
    #[error(
        "member `{}` is in the package but not in `integrity.files`",
        shown(path)
    )]
    ExtraMember {
        /// The unlisted path.
        path: String,
    },
    /// A member's bytes differ from the listed digest.
    #[error(
        "member `{}` was modified: its SHA-256 is {actual} but `integrity.files` says {listed}",
        shown(path)
    )]
    DigestMismatch {
        /// The member.
        path: String,
        /// The listed digest.
        listed: String,
        /// The digest of the packaged bytes.
        actual: String,
    },
    /// A listed member now appears under another path (same digest).
    #[error("member `{}` was renamed to `{}`", shown(listed), shown(actual))]
    Renamed {
        /// The listed path.
        listed: String,
        /// The path in the package.
        actual: String,
    },
    /// `--expect-name` / `--expect-version` not met.
    #[error(
        "the signed manifest says {field} `{}`, but `{expected}` was expected",
        shown(found)
    )]
    Unexpected {
        /// `name` or `version`.
        field: &'static str,
        /// What `--expect-*` asked for.
        expected: String,
        /// What the manifest says (`(none)` when absent).
        found: String,
    },
}

impl Reason {
    /// A stable kebab-case code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Unreadable(_) => "unreadable",
            Reason::NotCanonical(_) => "not-canonical",
            Reason::Manifest(_) => "manifest",
            Reason::Signature(SigFileError::LegacyStatement) => "legacy-signature",
            Reason::Signature(_) => "malformed-signature",
            Reason::Integrity(_) => "integrity",
            Reason::BadSignature { .. } => "bad-signature",
            Reason::NotByNamedKey { .. } => "bad-signature",
            Reason::SignerMismatch { .. } => "signer-mismatch",
            Reason::ListsReserved { .. } => "integrity",
            Reason::MissingMember { .. } => "missing-member",
            Reason::ExtraMember { .. } => "extra-member",
            Reason::DigestMismatch { .. } => "modified-member",
            Reason::Renamed { .. } => "renamed-member",
            Reason::Unexpected { .. } => "unexpected",
        }
    }
}

/// The verdict on one package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Signed by a trusted key; the package is exactly what was signed.
    Verified {
        /// The signing key's id.
        key_id: String,
        /// Where the trusted key that matched came from.
        key_source: PathBuf,
    },
    /// A well-formed signature by a key that is not trusted (nothing in the package is
    /// authenticated then, so its members are not judged).
    Untrusted {
        /// The id of the key that made the signature.
        key_id: String,
    },
    /// No `signature.sig`.
    Unsigned,
    /// Signature material present but wrong, or the package differs from what was signed.
    Invalid(Reason),
}

impl Outcome {
    /// `verified`, `untrusted`, `unsigned` or `invalid`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Verified { .. } => "verified",
            Outcome::Untrusted { .. } => "untrusted",
            Outcome::Unsigned => "unsigned",
            Outcome::Invalid(_) => "invalid",
        }
    }
}

impl Serialize for Outcome {
    /// `{"outcome": kind, "key_id", "trusted_key", "reason": {"code", "message"}}`; the
    /// fields that do not apply are `null`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (key_id, source, reason) = match self {
            Outcome::Verified { key_id, key_source } => (Some(key_id), Some(key_source), None),
            Outcome::Untrusted { key_id } => (Some(key_id), None, None),
            Outcome::Unsigned => (None, None, None),
            Outcome::Invalid(r) => (None, None, Some(r)),
        };
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("outcome", self.kind())?;
        map.serialize_entry("key_id", &key_id)?;
        map.serialize_entry("trusted_key", &source.map(|p| p.display().to_string()))?;
        map.serialize_entry(
            "reason",
            &reason.map(|r| serde_json::json!({"code": r.code(), "message": r.to_string()})),
        )?;
        map.end()
    }
}

/// The signer's fields as the packaged manifest states them (authenticated only when the
/// outcome is verified).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// `integrity.publisher`.
    pub publisher: Option<String>,
    /// `integrity.created_at`.
    pub created_at: Option<String>,
    /// `integrity.key_id`.
    pub key_id: Option<String>,
    /// `integrity.pubkey`.
    pub pubkey: Option<String>,
    /// `integrity.signature_algorithm`.
    pub signature_algorithm: Option<String>,
}

impl Signer {
    pub(crate) fn read(root: &Node) -> Option<Signer> {
        let integrity = root.get_non_null("integrity")?;
        let field = |k: &str| integrity.get(k).and_then(Node::as_str).map(str::to_owned);
        Some(Signer {
            publisher: field("publisher"),
            created_at: field("created_at"),
            key_id: field("key_id"),
            pubkey: field("pubkey"),
            signature_algorithm: field("signature_algorithm"),
        })
    }
}

/// Something the user should see even when the outcome is verified.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The manifest says the package was signed, but it has no `signature.sig`.
    #[error("the manifest says the package was signed (`integrity.signature_algorithm` is `ed25519`), but it has no signature.sig: the signature may have been removed")]
    SignatureRemoved,
    /// The file name contradicts the signed name, version or base model.
    #[error(
        "the file name `{}` does not match the signed {}; a package of it would be named `{}`",
        shown(file),
        shown(signed),
        shown(expected)
    )]
    FileName {
        /// The package's file name.
        file: String,
        /// `name vVERSION for BASE MODEL`.
        signed: String,
        /// The default file name for the signed facts.
        expected: String,
    },
    /// `PACKAGE.minisig` did not vouch for the package (the outcome came from the full check).
    #[error(
        "the detached signature `{}` {}: {problem}{}",
        shown(path),
        minisig_verdict(problem),
        if *fell_back { "; the package was checked in full instead" } else { "" }
    )]
    Minisig {
        /// The signature file.
        path: String,
        /// What is wrong with it.
        problem: DetachedProblem,
        /// True when it was meant as the fast path and the full check ran instead.
        fell_back: bool,
    },
}

impl Warning {
    /// A stable kebab-case code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::SignatureRemoved => "signature-removed",
            Warning::FileName { .. } => "file-name",
            Warning::Minisig { problem, .. } => match problem.status() {
                DetachedStatus::Invalid => "minisig-invalid",
                DetachedStatus::NotUsed | DetachedStatus::Verified => "minisig-not-used",
            },
        }
    }
}

/// `was not used` / `does not hold for this package`, for [`Warning::Minisig`].
fn minisig_verdict(problem: &DetachedProblem) -> &'static str {
    match problem.status() {
        DetachedStatus::Invalid => "is not valid for this package",
        DetachedStatus::NotUsed | DetachedStatus::Verified => "was not used",
    }
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        map.end()
    }
}

/// The decision on a package's contents: [`verify_contents`]'s result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The outcome.
    pub outcome: Outcome,
    /// What the manifest says it is (when it parsed).
    pub expert: Option<ExpertFacts>,
    /// What the manifest says about its signer (when it has `integrity`).
    pub signer: Option<Signer>,
    /// Things to show besides the outcome.
    pub warnings: Vec<Warning>,
}

/// One member as read: name, size, SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberDigest {
    /// Name inside the archive.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// How the outcome was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// `signature.sig`, every member's digest and the whole archive were checked.
    Full,
    /// `PACKAGE.minisig` decided: one BLAKE2b-512 pass over the file and `manifest.json`.
    Detached,
}

/// A verification report.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The package as given.
    pub package: String,
    /// The outcome (flattened into the JSON object).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Whether the full check or the detached signature decided.
    pub check: Check,
    /// What became of `PACKAGE.minisig` (`null` when there is none).
    pub minisig: Option<DetachedCheck>,
    /// What the manifest says it is.
    pub expert: Option<ExpertFacts>,
    /// What the manifest says about its signer.
    pub signer: Option<Signer>,
    /// Every member in archive order (empty when the archive was refused, and under the
    /// detached check, which reads only `manifest.json`).
    pub members: Vec<MemberDigest>,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

/// Checks `members` (every member of the package) against `files` (from `integrity.files`):
/// the members other than `manifest.json` and `signature.sig` must be exactly the listed paths
/// with the listed digests.
///
/// # Errors
/// The first difference in byte order of the paths: a listed member missing, an unlisted one
/// present (or the pair as a rename, when the digests agree), a modified one.
pub fn check_members(files: &[(String, String)], members: &[MemberInfo]) -> Result<(), Reason> {
    if let Some((path, _)) = files
        .iter()
        .find(|(p, _)| p == MANIFEST_NAME || p == SIGNATURE_MEMBER)
    {
        return Err(Reason::ListsReserved { path: path.clone() });
    }
    let listed: Digests<'_> = files
        .iter()
        .map(|(p, d)| (p.as_bytes(), (p.as_str(), d.as_str())))
        .collect();
    let packaged: Digests<'_> = members
        .iter()
        .filter(|m| m.path != MANIFEST_NAME && m.path != SIGNATURE_MEMBER)
        .map(|m| (m.path.as_bytes(), (m.path.as_str(), m.sha256.as_str())))
        .collect();
    let (listed_only, packaged_only) = (only(&listed, &packaged), only(&packaged, &listed));
    let mut all: Vec<&[u8]> = listed.keys().chain(packaged.keys()).copied().collect();
    all.sort();
    all.dedup();
    for key in all {
        match (listed.get(key), packaged.get(key)) {
            (Some((path, want)), Some((_, got))) if !want.eq_ignore_ascii_case(got) => {
                return Err(Reason::DigestMismatch {
                    path: (*path).to_owned(),
                    listed: (*want).to_owned(),
                    actual: (*got).to_owned(),
                });
            }
            (Some((path, want)), None) => {
                return Err(
                    match packaged_only
                        .iter()
                        .find(|(_, d)| d.eq_ignore_ascii_case(want))
                    {
                        Some((to, _)) => Reason::Renamed {
                            listed: (*path).to_owned(),
                            actual: (*to).to_owned(),
                        },
                        None => Reason::MissingMember {
                            path: (*path).to_owned(),
                        },
                    },
                );
            }
            (None, Some((path, got))) => {
                return Err(
                    match listed_only
                        .iter()
                        .find(|(_, d)| d.eq_ignore_ascii_case(got))
                    {
                        Some((from, _)) => Reason::Renamed {
                            listed: (*from).to_owned(),
                            actual: (*path).to_owned(),
                        },
                        None => Reason::ExtraMember {
                            path: (*path).to_owned(),
                        },
                    },
                );
            }
            _ => {}
        }
    }
    Ok(())
}

type Digests<'a> = BTreeMap<&'a [u8], (&'a str, &'a str)>;

/// The `(path, digest)` pairs of `a` whose path is not in `b`.
fn only<'a>(a: &Digests<'a>, b: &Digests<'_>) -> Vec<(&'a str, &'a str)> {
    a.iter()
        .filter(|(k, _)| !b.contains_key(*k))
        .map(|(_, v)| *v)
        .collect()
}

/// `integrity.files` of any packaged manifest (signed or not), when it has the right shape.
fn listed_files(root: &Node) -> Option<Vec<(String, String)>> {
    let files = root.pointer("/integrity/files")?.as_object()?;
    files
        .iter()
        .map(|m| {
            let d = m.value.as_str().filter(|d| is_lower_hex(d, 64))?;
            Some((m.key.clone(), d.to_owned()))
        })
        .collect()
}

/// Reads a packaged `manifest.json` as one unambiguous JSON document.
///
/// # Errors
/// [`Reason::Manifest`] when it is not UTF-8, not JSON, or repeats a key.
pub(crate) fn parse_manifest(manifest: &[u8]) -> Result<Source, Reason> {
    let source = Source::parse(manifest).map_err(|e| {
        Reason::Manifest(match e {
            crate::manifest::source::ParseFailure::NotUtf8 { line, column, .. } => {
                format!("manifest.json is not UTF-8 (line {line}, column {column})")
            }
            crate::manifest::source::ParseFailure::Syntax {
                error,
                line,
                column,
            } => format!("manifest.json is not valid JSON: {line}:{column}: {error}"),
        })
    })?;
    if let Some(d) = source.duplicates().first() {
        return Err(Reason::Manifest(format!(
            "manifest.json has the key `{}` twice (lines {} and {}); JSON readers disagree on which one counts",
            shown(&d.key),
            source.locate(d.first.start).0,
            source.locate(d.second.start).0
        )));
    }
    Ok(source)
}

/// `--expect-name` / `--expect-version` against what the (authenticated) manifest says.
///
/// # Errors
/// [`Reason::Unexpected`] for the first expectation not met.
pub(crate) fn check_expectations(
    expert: Option<&ExpertFacts>,
    opts: &VerifyOptions,
) -> Result<(), Reason> {
    let (name, version) = expert.map_or((None, None), |e| (e.name.as_ref(), e.version.as_ref()));
    for (field, expected, found) in [
        ("name", &opts.expect_name, name),
        ("version", &opts.expect_version, version),
    ] {
        if let Some(expected) = expected {
            if found != Some(expected) {
                return Err(Reason::Unexpected {
                    field,
                    expected: expected.clone(),
                    found: found.cloned().unwrap_or_else(|| "(none)".to_owned()),
                });
            }
        }
    }
    Ok(())
}

/// Decides a package's outcome from its `manifest.json` bytes, its `signature.sig` bytes
/// (`None` when absent), every member as read, and the trusted keys. See the module
/// documentation for the order of the checks.
pub fn verify_contents(
    manifest: &[u8],
    signature: Option<&[u8]>,
    members: &[MemberInfo],
    trusted: &TrustedKeys,
    opts: &VerifyOptions,
) -> Verdict {
    let mut verdict = Verdict {
        outcome: Outcome::Unsigned,
        expert: None,
        signer: None,
        warnings: Vec::new(),
    };
    let invalid = |mut v: Verdict, r: Reason| {
        v.outcome = Outcome::Invalid(r);
        v
    };
    let source = match parse_manifest(manifest) {
        Ok(s) => s,
        Err(r) => return invalid(verdict, r),
    };
    let root = source.root();
    verdict.expert = Some(ExpertFacts::read(root));
    verdict.signer = Signer::read(root);

    let Some(sig_bytes) = signature else {
        if let Some(files) = listed_files(root) {
            if let Err(r) = check_members(&files, members) {
                return invalid(verdict, r);
            }
        }
        if verdict
            .signer
            .as_ref()
            .and_then(|s| s.signature_algorithm.as_deref())
            == Some(statement::ALGORITHM)
        {
            verdict.warnings.push(Warning::SignatureRemoved);
        }
        return verdict;
    };
    let sig = match SignatureFile::parse(sig_bytes) {
        Ok(s) => s,
        Err(e) => return invalid(verdict, Reason::Signature(e)),
    };
    let msg = message(manifest);
    let signature = Signature::from_bytes(sig.signature());
    let verifies = |key: &PublicKey| key.verifying_key().verify_strict(&msg, &signature).is_ok();

    let Some(trusted_key) = trusted.iter().find(|k| verifies(&k.key)) else {
        // Not by a trusted key: invalid if the package claims one, untrusted if it is a sound
        // signature by the key it names.
        let named = |field: &str| {
            root.pointer(&format!("/integrity/{field}"))
                .and_then(Node::as_str)
        };
        if let Some(k) = trusted.iter().find(|k| {
            named("pubkey") == Some(k.key.to_hex().as_str())
                || named("key_id") == Some(k.key.key_id().as_str())
        }) {
            return invalid(
                verdict,
                Reason::BadSignature {
                    key_id: k.key.key_id(),
                },
            );
        }
        let integrity = match SignedIntegrity::read(root) {
            Ok(i) => i,
            Err(p) => return invalid(verdict, Reason::Integrity(p)),
        };
        let mut raw = [0u8; 32];
        let key = hex::decode_to_slice(&integrity.pubkey, &mut raw)
            .ok()
            .and_then(|()| PublicKey::from_bytes(&raw).ok());
        return match key {
            None => invalid(
                verdict,
                Reason::Integrity(IntegrityProblem::Field {
                    field: "pubkey",
                    problem: "is not a usable Ed25519 public key",
                }),
            ),
            Some(k) if verifies(&k) => {
                verdict.outcome = Outcome::Untrusted {
                    key_id: integrity.key_id,
                };
                verdict
            }
            Some(_) => invalid(
                verdict,
                Reason::NotByNamedKey {
                    key_id: integrity.key_id,
                },
            ),
        };
    };

    // The manifest is authentic: hold the package to it.
    let integrity = match SignedIntegrity::read(root) {
        Ok(i) => i,
        Err(p) => return invalid(verdict, Reason::Integrity(p)),
    };
    if integrity.pubkey != trusted_key.key.to_hex() {
        return invalid(
            verdict,
            Reason::SignerMismatch {
                signed_by: trusted_key.key.key_id(),
                named: integrity.key_id,
            },
        );
    }
    if let Err(r) = check_members(&integrity.files, members) {
        return invalid(verdict, r);
    }
    if let Err(r) = check_expectations(verdict.expert.as_ref(), opts) {
        return invalid(verdict, r);
    }
    verdict.outcome = Outcome::Verified {
        key_id: integrity.key_id,
        key_source: trusted_key.source.clone(),
    };
    verdict
}

/// The warning for a file name that contradicts the signed facts: a name of the form
/// `STEM.vVERSION.expert` whose version differs, or whose stem is not `NAME-TOKEN` with
/// `TOKEN` a spelling of the base model's slug. Names of another form say nothing, so they
/// get no warning.
pub fn file_name_warning(path: &Path, expert: &ExpertFacts) -> Option<Warning> {
    let file = path.file_name()?.to_string_lossy().into_owned();
    let (Some(name), Some(version)) = (&expert.name, &expert.version) else {
        return None;
    };
    let (stem, v) = file.strip_suffix(".expert")?.rsplit_once(".v")?;
    let model_ok = |token: &str| match &expert.base_model {
        Some(model) => crate::names::slug(token) == crate::names::slug(model),
        None => true,
    };
    let stem_ok = stem
        .strip_prefix(name.as_str())
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(model_ok);
    if v == version && stem_ok {
        return None;
    }
    let model = expert.base_model.as_deref().unwrap_or("?");
    Some(Warning::FileName {
        expected: crate::names::package_file_name(name, model, version),
        signed: format!("{name} v{version} for {model}"),
        file,
    })
}

/// Verifies the package at `path` against `trusted`.
///
/// With `PACKAGE.minisig` beside it and without [`VerifyOptions::full`], the detached signature
/// is tried first ([`detached`]: one BLAKE2b-512 pass over the file and `manifest.json`); when
/// it decides, the report says [`Check::Detached`]. Otherwise (no `.minisig`, `--full`, or a
/// `.minisig` that does not vouch for the package, which adds a [`Warning::Minisig`]) the
/// package is read once and [`verify_contents`] decides; under `--full` a `.minisig` is checked
/// in that same pass and reported. A verified package whose file name contradicts its signed
/// name, version or base model gets a [`Warning::FileName`].
///
/// # Errors
/// [`VerifyError::Io`] when the file cannot be opened; [`VerifyError::NotAPackage`] when it is
/// not gzip, holds no tar archive or has no `manifest.json`. Everything else is an outcome.
pub fn verify_package(
    path: &Path,
    trusted: &TrustedKeys,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let open = || {
        archive::open_gzip(path).map_err(|e| match e {
            archive::OpenError::Io(source) => VerifyError::Io {
                path: path.to_owned(),
                source,
            },
            archive::OpenError::NotGzip => VerifyError::NotAPackage {
                path: path.to_owned(),
                why: NotPackage::NotGzip,
            },
        })
    };
    let (file, _) = open()?;
    let (mut report, minisig) = match detached::read_signature(path) {
        None => (full_check(path, file, trusted, opts)?.0, None),
        Some(Err(check)) => (full_check(path, file, trusted, opts)?.0, Some(check)),
        Some(Ok(sig)) if opts.full => {
            // The same single pass feeds the detached signature's hash.
            let mut hashed = Prehashing::new(file);
            let (report, read_whole) = full_check(path, &mut hashed, trusted, opts)?;
            let check = detached::DetachedCheck::new(&detached::minisig_path(path));
            let check = match (read_whole, hashed.finish()) {
                (false, _) => check.with(DetachedProblem::NotChecked),
                (true, Err(e)) => check.with(DetachedProblem::Unreadable(e.to_string())),
                (true, Ok(digest)) => {
                    let (check, _) = detached::check_digest(check, &sig, &digest, trusted);
                    detached::check_comment(check, report.expert.as_ref())
                }
            };
            (report, Some(check))
        }
        Some(Ok(sig)) => match detached::fast_path(path, file, &sig, trusted, opts) {
            detached::FastPath::Decided(verdict, check) => {
                let mut report = VerifyReport {
                    package: path.display().to_string(),
                    outcome: verdict.outcome,
                    check: Check::Detached,
                    minisig: Some(check),
                    expert: verdict.expert,
                    signer: verdict.signer,
                    members: Vec::new(),
                    warnings: verdict.warnings,
                };
                add_file_name_warning(path, &mut report);
                return Ok(report);
            }
            detached::FastPath::FallBack(check) => {
                let (file, _) = open()?;
                (full_check(path, file, trusted, opts)?.0, Some(check))
            }
        },
    };
    if let Some(check) = &minisig {
        // An untrusted outcome already says that the key is not trusted.
        let says_it = |p: &DetachedProblem| match (p, &report.outcome) {
            (DetachedProblem::UntrustedKey { key_id }, Outcome::Untrusted { key_id: ours }) => {
                super::minisign::same_key_id(key_id, ours)
            }
            _ => false,
        };
        if let Some(problem) = check.problem.as_ref().filter(|p| !says_it(p)) {
            report.warnings.push(Warning::Minisig {
                path: check.path.display().to_string(),
                problem: problem.clone(),
                fell_back: !opts.full,
            });
        }
    }
    report.minisig = minisig;
    add_file_name_warning(path, &mut report);
    Ok(report)
}

/// A [`Warning::FileName`] for a verified package whose name contradicts its signed facts.
fn add_file_name_warning(path: &Path, report: &mut VerifyReport) {
    if matches!(report.outcome, Outcome::Verified { .. }) {
        if let Some(w) = report
            .expert
            .as_ref()
            .and_then(|e| file_name_warning(path, e))
        {
            report.warnings.push(w);
        }
    }
}

/// The full check: reads the package from `input` once, through the hardened reader, and
/// decides with [`verify_contents`]. Also returns whether the archive was read to its end
/// (false when the reader refused it).
fn full_check(
    path: &Path,
    input: impl std::io::Read,
    trusted: &TrustedKeys,
    opts: &VerifyOptions,
) -> Result<(VerifyReport, bool), VerifyError> {
    let not_package = |why| VerifyError::NotAPackage {
        path: path.to_owned(),
        why,
    };
    let keep = |p: &str| p == MANIFEST_NAME || p == SIGNATURE_MEMBER;
    let mut report = VerifyReport {
        package: path.display().to_string(),
        outcome: Outcome::Unsigned,
        check: Check::Full,
        minisig: None,
        expert: None,
        signer: None,
        members: Vec::new(),
        warnings: Vec::new(),
    };
    let mut listing =
        match archive::read_members_keeping(std::io::BufReader::new(input), &opts.limits, &keep) {
            Ok(s) => s,
            Err(ReadError::Io(source)) => {
                return Err(VerifyError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
            Err(e) => {
                if let Some(why) = archive::why_not_a_package(path, &opts.limits) {
                    return Err(not_package(why));
                }
                report.outcome = Outcome::Invalid(match e {
                    // Not what our writer produces (issue #10): says itself what differs.
                    ReadError::NonCanonical(_) => Reason::NotCanonical(e.to_string()),
                    e => Reason::Unreadable(e.to_string()),
                });
                return Ok((report, false));
            }
        };
    report.members = listing
        .members
        .iter()
        .map(|m| MemberDigest {
            path: m.path.clone(),
            size: m.size,
            sha256: m.sha256.clone(),
        })
        .collect();
    let Some(manifest) = listing.kept.remove(MANIFEST_NAME) else {
        return Err(not_package(NotPackage::NoManifest));
    };
    if listing.members.first().map(|m| m.path.as_str()) != Some(MANIFEST_NAME) {
        report.outcome = Outcome::Invalid(Reason::NotCanonical(format!(
            "`{MANIFEST_NAME}` is not the first member, as in every package `expert-cli package` writes"
        )));
        return Ok((report, true));
    }
    let signature = listing.kept.remove(SIGNATURE_MEMBER);
    let verdict = verify_contents(
        &manifest,
        signature.as_deref(),
        &listing.members,
        trusted,
        opts,
    );
    report.outcome = verdict.outcome;
    report.expert = verdict.expert;
    report.signer = verdict.signer;
    report.warnings = verdict.warnings;
    Ok((report, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn member(path: &str, sha256: String) -> MemberInfo {
        MemberInfo {
            path: path.to_owned(),
            size: 1,
            sha256,
        }
    }

    fn files() -> Vec<(String, String)> {
        vec![("a.json".into(), d('a')), ("b.bin".into(), d('b'))]
    }

    fn check(actual: &[(&str, String)]) -> Result<(), Reason> {
        let mut members = vec![member("manifest.json", d('c'))];
        members.extend(actual.iter().map(|(p, h)| member(p, h.clone())));
        check_members(&files(), &members)
    }

    #[test]
    fn exact_set_passes_and_reserved_members_are_ignored() {
        assert_eq!(check(&[("a.json", d('A')), ("b.bin", d('b'))]), Ok(()));
        assert_eq!(
            check(&[
                ("a.json", d('a')),
                ("b.bin", d('b')),
                ("signature.sig", d('f'))
            ]),
            Ok(())
        );
    }

    #[test]
    fn names_the_first_difference() {
        let e = check(&[("a.json", d('a')), ("b.bin", d('0'))]);
        assert!(matches!(e, Err(Reason::DigestMismatch { path, .. }) if path == "b.bin"));
        let e = check(&[("a.json", d('a'))]);
        assert!(matches!(e, Err(Reason::MissingMember { path }) if path == "b.bin"));
        let e = check(&[("a.json", d('a')), ("b.bin", d('b')), ("c", d('9'))]);
        assert!(matches!(e, Err(Reason::ExtraMember { path }) if path == "c"));
        let e = check(&[("a.json", d('a')), ("B.bin", d('b'))]);
        assert!(
            matches!(&e, Err(Reason::Renamed { listed, actual }) if listed == "b.bin" && actual == "B.bin"),
            "{e:?}"
        );
        let mut listed = files();
        listed.push(("signature.sig".into(), d('f')));
        assert!(matches!(
            check_members(&listed, &[]),
            Err(Reason::ListsReserved { .. })
        ));
    }

    #[test]
    fn file_names() {
        let facts = ExpertFacts {
            name: Some("expert-sql".into()),
            version: Some("1.2.0".into()),
            base_model: Some("Qwen/Qwen3-0.6B".into()),
        };
        let w = |f: &str| file_name_warning(Path::new(f), &facts);
        for ok in [
            "dist/expert-sql-qwen306b.v1.2.0.expert",
            "expert-sql-qwen3-0-6b.v1.2.0.expert",
            "p.expert",
            "expert-sql.expert",
        ] {
            assert_eq!(w(ok), None, "{ok}");
        }
        for bad in [
            "expert-sql-qwen306b.v1.1.0.expert",
            "expert-neo4j-qwen306b.v1.2.0.expert",
            "expert-sql-qwen317b.v1.2.0.expert",
        ] {
            let warning = w(bad).unwrap_or_else(|| panic!("{bad}"));
            assert!(
                warning
                    .to_string()
                    .contains("expert-sql-qwen306b.v1.2.0.expert"),
                "{warning}"
            );
        }
    }
}
