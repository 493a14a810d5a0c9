//! Verification: the signature against the trusted keys, the members against the statement,
//! the statement against the packaged manifest, and the four outcomes.
//!
//! The command streams the archive, hashes every member and hands over `(path, sha256)`
//! pairs, the `signature.sig` bytes (if any) and the manifest's name, version and base
//! model; [`report`] decides. Precedence, first match wins:
//! 1. no `signature.sig` → [`Outcome::Unsigned`];
//! 2. a malformed `signature.sig` → [`Outcome::Invalid`];
//! 3. the key id names no trusted key → [`Outcome::Untrusted`] (nothing in the statement is
//!    authenticated then, so its member list decides nothing);
//! 4. a trusted key with that id exists but the signature does not verify under any such
//!    key (`verify_strict`) → [`Outcome::Invalid`]. This covers a key-id collision: a
//!    statement that claims a trusted key's id but was signed by another key is invalid,
//!    not merely untrusted;
//! 5. members or manifest facts differ from the statement → [`Outcome::Invalid`], naming
//!    the first bad member in byte order of the paths;
//! 6. otherwise [`Outcome::Verified`].

use crate::signing::keys::PublicKey;
use crate::signing::sigfile::{SigFileError, SignatureFile, SIGNATURE_MEMBER};
use crate::signing::statement::Statement;
use crate::signing::trust::{TrustedKey, TrustedKeys};
use ed25519_dalek::Signature;
use std::collections::BTreeMap;
use std::path::PathBuf;
use thiserror::Error;

/// A statement whose signature verified under a trusted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatement {
    /// The statement.
    pub statement: Statement,
    /// The trusted key that verified it.
    pub key: TrustedKey,
}

/// Why a signature file did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No trusted key has the statement's key id.
    #[error("the package is signed by key `{key_id}`, which is not a trusted key")]
    Untrusted {
        /// The key id named in the statement.
        key_id: String,
    },
    /// A trusted key has the key id, but the signature does not verify under it.
    #[error("the signature does not verify under the trusted key `{key_id}`")]
    BadSignature {
        /// The key id named in the statement.
        key_id: String,
    },
}

/// Checks `file`'s signature with the trusted keys whose id is the statement's key id,
/// using strict Ed25519 verification (no small-order keys, canonical signatures only).
///
/// # Errors
/// [`VerifyError::Untrusted`] when no trusted key has that id; [`VerifyError::BadSignature`]
/// when one does but the signature fails under every such key.
pub fn verify_signature_file(
    file: &SignatureFile,
    trusted: &TrustedKeys,
) -> Result<VerifiedStatement, VerifyError> {
    let key_id = file.key_id();
    let signature = Signature::from_bytes(file.signature());
    let mut candidates = trusted.matching(key_id).peekable();
    if candidates.peek().is_none() {
        return Err(VerifyError::Untrusted {
            key_id: key_id.to_owned(),
        });
    }
    for candidate in candidates {
        let key: &PublicKey = &candidate.key;
        if key
            .verifying_key()
            .verify_strict(file.statement_bytes(), &signature)
            .is_ok()
        {
            return Ok(VerifiedStatement {
                statement: file.statement().clone(),
                key: candidate.clone(),
            });
        }
    }
    Err(VerifyError::BadSignature {
        key_id: key_id.to_owned(),
    })
}

/// The packaged manifest's facts a statement must agree with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestFacts {
    /// The manifest's `name`.
    pub name: String,
    /// The manifest's `version`.
    pub version: String,
    /// The name of the (single) base model in the packaged manifest.
    pub base_model: String,
}

/// Why a signed package is invalid. Messages name the first bad member or field.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// `signature.sig` is malformed.
    #[error("{0}")]
    Malformed(SigFileError),
    /// The signature fails under the trusted key with the statement's key id.
    #[error("the signature does not verify under the trusted key `{key_id}`; the statement or signature was altered, or another key signed it")]
    BadSignature {
        /// The key id named in the statement.
        key_id: String,
    },
    /// A package member appears twice.
    #[error("member `{}` appears more than once in the package", path.escape_debug())]
    DuplicateMember {
        /// The repeated path.
        path: String,
    },
    /// A signed member is absent.
    #[error("signed member `{}` is missing from the package", path.escape_debug())]
    MissingMember {
        /// The signed path.
        path: String,
    },
    /// A member is not in the statement.
    #[error("member `{}` is in the package but not in the signed statement", path.escape_debug())]
    ExtraMember {
        /// The unsigned path.
        path: String,
    },
    /// A signed member's bytes changed.
    #[error("member `{}` was modified: its SHA-256 is {actual} but the signed statement says {signed}", path.escape_debug())]
    DigestMismatch {
        /// The member path.
        path: String,
        /// The signed digest.
        signed: String,
        /// The digest of the packaged bytes.
        actual: String,
    },
    /// A signed member now appears under another path (same digest).
    #[error("signed member `{}` was renamed to `{}`", signed.escape_debug(), actual.escape_debug())]
    Renamed {
        /// The signed path.
        signed: String,
        /// The path in the package.
        actual: String,
    },
    /// The statement disagrees with the packaged manifest.
    #[error("the signed statement says {field} `{}` but the packaged manifest says `{}`", signed.escape_debug(), packaged.escape_debug())]
    ManifestMismatch {
        /// `name`, `version` or `base model`.
        field: &'static str,
        /// The signed value.
        signed: String,
        /// The manifest's value.
        packaged: String,
    },
}

/// Checks the package against a statement: the members (ignoring `signature.sig`) must be
/// exactly the signed list with the same digests, and name, version and base model must
/// equal the packaged manifest's. Digests compare case-insensitively.
///
/// # Errors
/// The first problem, members first in byte order of their paths (a duplicate, then a
/// missing, extra, renamed or modified member), then name, version, base model.
pub fn check_members(
    statement: &Statement,
    actual: &[(String, String)],
    facts: &ManifestFacts,
) -> Result<(), Invalid> {
    let mut packaged: BTreeMap<&[u8], (&str, &str)> = BTreeMap::new();
    let mut duplicates: Vec<&str> = Vec::new();
    for (path, digest) in actual.iter().filter(|(p, _)| p != SIGNATURE_MEMBER) {
        if packaged
            .insert(path.as_bytes(), (path.as_str(), digest.as_str()))
            .is_some()
        {
            duplicates.push(path);
        }
    }
    if let Some(path) = duplicates
        .iter()
        .min_by(|a, b| a.as_bytes().cmp(b.as_bytes()))
    {
        return Err(Invalid::DuplicateMember {
            path: (*path).to_owned(),
        });
    }
    let signed: BTreeMap<&[u8], (&str, &str)> = statement
        .members
        .iter()
        .map(|(p, d)| (p.as_bytes(), (p.as_str(), d.as_str())))
        .collect();
    let signed_only: Vec<(&str, &str)> = signed
        .iter()
        .filter(|(k, _)| !packaged.contains_key(*k))
        .map(|(_, v)| *v)
        .collect();
    let packaged_only: Vec<(&str, &str)> = packaged
        .iter()
        .filter(|(k, _)| !signed.contains_key(*k))
        .map(|(_, v)| *v)
        .collect();
    let mut all: Vec<&[u8]> = signed.keys().chain(packaged.keys()).copied().collect();
    all.sort();
    all.dedup();
    for key in all {
        match (signed.get(key), packaged.get(key)) {
            (Some((path, s)), Some((_, a))) => {
                if !s.eq_ignore_ascii_case(a) {
                    return Err(Invalid::DigestMismatch {
                        path: (*path).to_owned(),
                        signed: (*s).to_owned(),
                        actual: a.to_ascii_lowercase(),
                    });
                }
            }
            (Some((path, s)), None) => {
                return Err(
                    match packaged_only
                        .iter()
                        .find(|(_, d)| d.eq_ignore_ascii_case(s))
                    {
                        Some((to, _)) => Invalid::Renamed {
                            signed: (*path).to_owned(),
                            actual: (*to).to_owned(),
                        },
                        None => Invalid::MissingMember {
                            path: (*path).to_owned(),
                        },
                    },
                );
            }
            (None, Some((path, a))) => {
                return Err(
                    match signed_only.iter().find(|(_, d)| d.eq_ignore_ascii_case(a)) {
                        Some((from, _)) => Invalid::Renamed {
                            signed: (*from).to_owned(),
                            actual: (*path).to_owned(),
                        },
                        None => Invalid::ExtraMember {
                            path: (*path).to_owned(),
                        },
                    },
                );
            }
            (None, None) => {}
        }
    }
    let pairs = [
        ("name", &statement.name, &facts.name),
        ("version", &statement.version, &facts.version),
        ("base model", &statement.base_model, &facts.base_model),
    ];
    for (field, signed, packaged) in pairs {
        if signed != packaged {
            return Err(Invalid::ManifestMismatch {
                field,
                signed: signed.clone(),
                packaged: packaged.clone(),
            });
        }
    }
    Ok(())
}

/// The result of verifying one package. The command maps it to an exit code
/// (`docs/SIGNING.md`: 0 verified, 3 untrusted, 4 unsigned, 5 invalid).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Signed by a trusted key; members and manifest match the statement.
    Verified {
        /// The signing key's id.
        key_id: String,
        /// The trusted key file that matched.
        key_source: PathBuf,
    },
    /// Signed, but the key id names no trusted key.
    Untrusted {
        /// The key id named in the statement.
        key_id: String,
    },
    /// No `signature.sig` member.
    Unsigned,
    /// Signature material present but wrong, or the package differs from what was signed.
    Invalid {
        /// The first problem found.
        reason: Invalid,
    },
}

impl Outcome {
    /// A stable lower-case name for JSON output: `verified`, `untrusted`, `unsigned`, `invalid`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Verified { .. } => "verified",
            Outcome::Untrusted { .. } => "untrusted",
            Outcome::Unsigned => "unsigned",
            Outcome::Invalid { .. } => "invalid",
        }
    }
}

/// A verification report: the outcome and, when `signature.sig` parsed, its statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The verdict.
    pub outcome: Outcome,
    /// The statement, when one could be parsed (authenticated only if `Verified`).
    pub statement: Option<Statement>,
}

/// Decides a package's [`Outcome`] from its `signature.sig` bytes (`None` when the member
/// is absent), its `(path, sha256)` members (any `signature.sig` entry is ignored), the
/// packaged manifest's facts and the trusted keys. See the module docs for the precedence.
pub fn report(
    signature_sig: Option<&[u8]>,
    members: &[(String, String)],
    facts: &ManifestFacts,
    trusted: &TrustedKeys,
) -> Report {
    let Some(bytes) = signature_sig else {
        return Report {
            outcome: Outcome::Unsigned,
            statement: None,
        };
    };
    let file = match SignatureFile::parse(bytes) {
        Ok(file) => file,
        Err(e) => {
            return Report {
                outcome: Outcome::Invalid {
                    reason: Invalid::Malformed(e),
                },
                statement: None,
            }
        }
    };
    let statement = Some(file.statement().clone());
    let outcome = match verify_signature_file(&file, trusted) {
        Err(VerifyError::Untrusted { key_id }) => Outcome::Untrusted { key_id },
        Err(VerifyError::BadSignature { key_id }) => Outcome::Invalid {
            reason: Invalid::BadSignature { key_id },
        },
        Ok(verified) => match check_members(&verified.statement, members, facts) {
            Err(reason) => Outcome::Invalid { reason },
            Ok(()) => Outcome::Verified {
                key_id: verified.statement.key_id.clone(),
                key_source: verified.key.source,
            },
        },
    };
    Report { outcome, statement }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn statement() -> Statement {
        Statement {
            name: "expert-x".into(),
            version: "1.0.0".into(),
            base_model: "Qwen3-0.6B".into(),
            signed_at: "2026-01-01T00:00:00Z".into(),
            publisher: "me".into(),
            key_id: "00112233445566ff".into(),
            members: vec![
                ("a.json".into(), d('a')),
                ("b.bin".into(), d('b')),
                ("manifest.json".into(), d('c')),
            ],
        }
    }

    fn facts() -> ManifestFacts {
        ManifestFacts {
            name: "expert-x".into(),
            version: "1.0.0".into(),
            base_model: "Qwen3-0.6B".into(),
        }
    }

    fn check(actual: &[(&str, String)]) -> Result<(), Invalid> {
        let actual: Vec<(String, String)> = actual
            .iter()
            .map(|(p, h)| ((*p).to_owned(), h.clone()))
            .collect();
        check_members(&statement(), &actual, &facts())
    }

    #[test]
    fn exact_set_passes_and_signature_member_is_ignored() {
        let ok = [
            ("manifest.json", d('c')),
            ("a.json", d('A')),
            ("b.bin", d('b')),
        ];
        assert_eq!(check(&ok), Ok(()));
        let with_sig = [
            ("a.json", d('a')),
            ("b.bin", d('b')),
            ("manifest.json", d('c')),
            ("signature.sig", d('f')),
        ];
        assert_eq!(check(&with_sig), Ok(()));
    }

    #[test]
    fn names_first_bad_member() {
        let e = check(&[
            ("a.json", d('a')),
            ("b.bin", d('0')),
            ("manifest.json", d('0')),
        ]);
        assert!(matches!(e, Err(Invalid::DigestMismatch { path, .. }) if path == "b.bin"));
        let e = check(&[("a.json", d('a')), ("manifest.json", d('c'))]);
        assert!(matches!(e, Err(Invalid::MissingMember { path }) if path == "b.bin"));
        let e = check(&[
            ("a.json", d('a')),
            ("b.bin", d('b')),
            ("c", d('9')),
            ("manifest.json", d('c')),
        ]);
        assert!(matches!(e, Err(Invalid::ExtraMember { path }) if path == "c"));
        let e = check(&[
            ("a.json", d('a')),
            ("B.bin", d('b')),
            ("manifest.json", d('c')),
        ]);
        assert!(
            matches!(&e, Err(Invalid::Renamed { signed, actual }) if signed == "b.bin" && actual == "B.bin"),
            "{e:?}"
        );
        let e = check(&[
            ("a.json", d('a')),
            ("a.json", d('a')),
            ("b.bin", d('b')),
            ("manifest.json", d('c')),
        ]);
        assert!(matches!(e, Err(Invalid::DuplicateMember { path }) if path == "a.json"));
    }

    #[test]
    fn manifest_facts_must_match() {
        let actual: Vec<(String, String)> = statement().members.clone();
        for (field, f) in [
            (
                "name",
                ManifestFacts {
                    name: "expert-y".into(),
                    ..facts()
                },
            ),
            (
                "version",
                ManifestFacts {
                    version: "1.0.1".into(),
                    ..facts()
                },
            ),
            (
                "base model",
                ManifestFacts {
                    base_model: "Other".into(),
                    ..facts()
                },
            ),
        ] {
            let e = check_members(&statement(), &actual, &f).unwrap_err();
            assert!(
                matches!(&e, Invalid::ManifestMismatch { field: got, .. } if *got == field),
                "{e}"
            );
        }
    }

    #[test]
    fn unsigned_and_malformed() {
        let r = report(None, &[], &facts(), &TrustedKeys::new());
        assert_eq!(r.outcome, Outcome::Unsigned);
        assert_eq!(r.outcome.kind(), "unsigned");
        let r = report(Some(b"junk"), &[], &facts(), &TrustedKeys::new());
        assert!(matches!(
            r.outcome,
            Outcome::Invalid {
                reason: Invalid::Malformed(_)
            }
        ));
    }
}
