//! The detached signature of a package, `PACKAGE.minisig` (#12.7): minisign's prehashed
//! format ([`super::minisign`]) over the whole package file, so that stock
//! `minisign -V -p KEY.minisign.pub -m PACKAGE` checks it, and `verify` can use it as a fast
//! path.
//!
//! **Trusted comment** (what `sign --minisig` writes; authenticated by the global signature):
//!
//! ```text
//! timestamp:<unix seconds>\tfile:<file name>\thashed\texpert:<name>\tversion:<version>\tbase_model:<base model>
//! ```
//!
//! The first three fields are minisign's own default (`minisign -S` writes exactly them); the
//! last three name the package. Values are written as they are, except that `%`, TAB and every
//! character [`is_forbidden_char`] refuses (controls, bidirectional and zero-width characters)
//! become `%XX` for each of their UTF-8 bytes, so a field never holds a TAB and the comment
//! prints safely. The timestamp is the signing time (`integrity.created_at`).
//!
//! **The fast path** ([`fast_path`]) decides `verified` from the detached signature alone,
//! reading the package file exactly once: its bytes go through BLAKE2b-512 as they are read,
//! and `manifest.json` (always the first member) is decompressed from those very bytes on the
//! way, so the signature can never vouch for other bytes than the manifest that is reported.
//! It concludes only when everything holds: a trusted key with the signature's key id, both
//! signatures valid over these bytes, a trusted comment in the form above naming the
//! manifest's expert, version and base model, a signed `integrity` section naming that same
//! key, and `--expect-*`. Anything else returns a [`DetachedCheck`] with its
//! [`DetachedProblem`], and the caller runs the full check instead: a `.minisig` can make
//! `verify` faster, never more lenient.
//!
//! This module never prints, exits or reads the environment.

use super::keys::PublicKey;
use super::minisign::{self, MinisignError, Prehasher, Signature, MAX_TRUSTED_COMMENT_LEN};
use super::statement::{is_forbidden_char, ExpertFacts, SignedIntegrity};
use super::trust::{TrustedKey, TrustedKeys};
use super::verify::{check_expectations, parse_manifest, Outcome, Signer, Verdict, VerifyOptions};
use crate::archive::{self, ReadMembersError, MANIFEST_NAME};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What minisign appends to a file name for its signature.
pub const SUFFIX: &str = minisign::SIGNATURE_SUFFIX;

/// The buffer the rest of the package is hashed with once `manifest.json` is read (measured:
/// larger buffers gain nothing once the file is in the page cache; see docs/PERFORMANCE.md).
const HASH_BUFFER_LEN: usize = 256 * 1024;

/// `PACKAGE.minisig`: `.minisig` appended to the full file name, as minisign names it.
pub fn minisig_path(package: &Path) -> PathBuf {
    let mut name: OsString = package.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// A trusted-comment value: `%`, TAB and the characters [`is_forbidden_char`] refuses become
/// `%XX` per UTF-8 byte; everything else is kept. Injective, so equal encodings mean equal
/// values.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '%' || c == '\t' || is_forbidden_char(c) {
            let mut bytes = [0u8; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                write!(out, "%{b:02X}").expect("writing to a String cannot fail");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a trusted comment cannot be written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("the trusted comment of the detached signature would be {len} bytes long; minisign reads at most {MAX_TRUSTED_COMMENT_LEN} (the file name, expert name, version or base model is too long)")]
pub struct CommentTooLong {
    /// Its length in bytes.
    pub len: usize,
}

/// The trusted comment `sign --minisig` writes (see the module documentation).
///
/// # Errors
/// [`CommentTooLong`] when it would not fit minisign's line buffer.
pub fn trusted_comment(
    timestamp: u64,
    file_name: &str,
    name: &str,
    version: &str,
    base_model: &str,
) -> Result<String, CommentTooLong> {
    let text = format!(
        "timestamp:{timestamp}\tfile:{}\thashed\texpert:{}\tversion:{}\tbase_model:{}",
        encode(file_name),
        encode(name),
        encode(version),
        encode(base_model)
    );
    if text.len() > MAX_TRUSTED_COMMENT_LEN {
        return Err(CommentTooLong { len: text.len() });
    }
    Ok(text)
}

/// The fields of a trusted comment in the form [`trusted_comment`] writes, as written
/// (values still `%`-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentFields<'a> {
    /// `timestamp`.
    pub timestamp: u64,
    /// `file`.
    pub file: &'a str,
    /// `expert`.
    pub expert: &'a str,
    /// `version`.
    pub version: &'a str,
    /// `base_model`.
    pub base_model: &'a str,
}

impl<'a> CommentFields<'a> {
    /// Reads a trusted comment of exactly the form [`trusted_comment`] writes; `None` for any
    /// other (e.g. minisign's default comment).
    pub fn parse(text: &'a str) -> Option<CommentFields<'a>> {
        let fields: Vec<&str> = text.split('\t').collect();
        let [timestamp, file, hashed, expert, version, base_model] = fields[..] else {
            return None;
        };
        let timestamp = timestamp.strip_prefix("timestamp:")?;
        if hashed != "hashed"
            || timestamp.is_empty()
            || !timestamp.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(CommentFields {
            timestamp: timestamp.parse().ok()?,
            file: file.strip_prefix("file:")?,
            expert: expert.strip_prefix("expert:")?,
            version: version.strip_prefix("version:")?,
            base_model: base_model.strip_prefix("base_model:")?,
        })
    }

    /// Checks that the comment names the expert, version and base model of `facts`.
    ///
    /// # Errors
    /// [`DetachedProblem::CommentMismatch`] for the first field that differs.
    pub fn check(&self, facts: &ExpertFacts) -> Result<(), DetachedProblem> {
        for (field, comment, manifest) in [
            ("expert", self.expert, &facts.name),
            ("version", self.version, &facts.version),
            ("base_model", self.base_model, &facts.base_model),
        ] {
            let manifest = manifest.as_deref().map(encode);
            if manifest.as_deref() != Some(comment) {
                return Err(DetachedProblem::CommentMismatch {
                    field,
                    comment: comment.to_owned(),
                    manifest: manifest.unwrap_or_else(|| "(none)".to_owned()),
                });
            }
        }
        Ok(())
    }
}

/// A detached signature made by `sign --minisig`, ready to be written beside the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DetachedSignature {
    /// Where it belongs: `PACKAGE.minisig`.
    pub path: String,
    /// The signing key's id as minisign prints it (upper-case hex, as minisign prints it: no leading zeros).
    pub key_id: String,
    /// Its trusted comment.
    pub trusted_comment: String,
    /// The file's text (four lines).
    #[serde(skip)]
    pub text: String,
}

impl DetachedSignature {
    /// Wraps a signature made for the package at `package`.
    pub fn new(package: &Path, signature: &Signature) -> DetachedSignature {
        DetachedSignature {
            path: minisig_path(package).display().to_string(),
            key_id: signature.key_id(),
            trusted_comment: signature.trusted_comment().to_owned(),
            text: signature.to_text(),
        }
    }
}

// ---- verification --------------------------------------------------------------------------

/// Whether a detached signature vouched for the package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetachedStatus {
    /// Both signatures verify over the package's bytes under a trusted key, and its trusted
    /// comment names the packaged expert, version and base model.
    Verified,
    /// It could not be used (no trusted key has its key id, it is unreadable, its comment is
    /// not expert-cli's, or the package itself needs the full check to explain it); the full
    /// check decided.
    NotUsed,
    /// It is wrong for this package: malformed, or it does not verify over these bytes, or its
    /// trusted comment names another expert. Stock `minisign -V` refuses the first two too.
    Invalid,
}

impl DetachedStatus {
    /// `verified`, `not-used` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetachedStatus::Verified => "verified",
            DetachedStatus::NotUsed => "not-used",
            DetachedStatus::Invalid => "invalid",
        }
    }
}

/// Why a detached signature did not vouch for the package.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DetachedProblem {
    /// The file could not be read.
    #[error("it cannot be read: {0}")]
    Unreadable(String),
    /// Not a minisign signature we accept.
    #[error("{0}")]
    Malformed(String),
    /// No trusted key has its key id.
    #[error("it was made by the key with minisign key id {key_id}, which no trusted key has")]
    UntrustedKey {
        /// The signature's key id (upper-case hex, as minisign prints it).
        key_id: String,
    },
    /// A signature does not verify over these bytes (or its comment was altered).
    #[error("{0}")]
    DoesNotVerify(String),
    /// The trusted comment is not the one `sign --minisig` writes.
    #[error("its trusted comment is not the one `expert-cli sign --minisig` writes (it does not name the expert, version and base model)")]
    ForeignComment,
    /// The trusted comment names another expert, version or base model.
    #[error(
        "its trusted comment says {field} `{comment}`, but the packaged manifest says `{manifest}`"
    )]
    CommentMismatch {
        /// `expert`, `version` or `base_model`.
        field: &'static str,
        /// What the comment says (as written).
        comment: String,
        /// What the manifest says (encoded as the comment would be).
        manifest: String,
    },
    /// The package's signature names another key than the one that made the `.minisig`.
    #[error("it was made by the trusted key {minisig_key}, but the package's integrity section names the key {package_key}")]
    SignerMismatch {
        /// Our key id of the key that made the `.minisig`.
        minisig_key: String,
        /// `integrity.key_id`, or `(none)`.
        package_key: String,
    },
    /// Something in the package needs the full check to be explained.
    #[error("{0}")]
    Package(String),
    /// `--full` was given and the package was refused before it was read to its end.
    #[error("the package was refused before it was read to its end")]
    NotChecked,
}

impl DetachedProblem {
    /// Whether this makes the signature not used, or invalid for the package.
    pub fn status(&self) -> DetachedStatus {
        match self {
            DetachedProblem::Malformed(_)
            | DetachedProblem::DoesNotVerify(_)
            | DetachedProblem::CommentMismatch { .. } => DetachedStatus::Invalid,
            DetachedProblem::Unreadable(_)
            | DetachedProblem::UntrustedKey { .. }
            | DetachedProblem::ForeignComment
            | DetachedProblem::SignerMismatch { .. }
            | DetachedProblem::Package(_)
            | DetachedProblem::NotChecked => DetachedStatus::NotUsed,
        }
    }

    /// A stable kebab-case code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            DetachedProblem::Unreadable(_) => "unreadable",
            DetachedProblem::Malformed(_) => "malformed",
            DetachedProblem::UntrustedKey { .. } => "untrusted-key",
            DetachedProblem::DoesNotVerify(_) => "bad-signature",
            DetachedProblem::ForeignComment => "foreign-comment",
            DetachedProblem::CommentMismatch { .. } => "comment-mismatch",
            DetachedProblem::SignerMismatch { .. } => "signer-mismatch",
            DetachedProblem::Package(_) => "package",
            DetachedProblem::NotChecked => "not-checked",
        }
    }
}

/// What became of `PACKAGE.minisig` in one verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetachedCheck {
    /// The signature file.
    pub path: PathBuf,
    /// The key id it names (minisign's form), when it parsed.
    pub key_id: Option<String>,
    /// The trusted key that verified both its signatures, when one did.
    pub trusted_key: Option<PathBuf>,
    /// Its trusted comment, once authenticated (both signatures verified).
    pub trusted_comment: Option<String>,
    /// Why it did not vouch for the package; `None` when it did.
    pub problem: Option<DetachedProblem>,
}

impl DetachedCheck {
    /// Nothing known yet about the signature at `path`.
    pub(crate) fn new(path: &Path) -> DetachedCheck {
        DetachedCheck {
            path: path.to_owned(),
            key_id: None,
            trusted_key: None,
            trusted_comment: None,
            problem: None,
        }
    }

    /// The check with `problem` as its outcome.
    pub(crate) fn with(mut self, problem: DetachedProblem) -> DetachedCheck {
        self.problem = Some(problem);
        self
    }

    /// Verified, not used or invalid.
    pub fn status(&self) -> DetachedStatus {
        self.problem
            .as_ref()
            .map_or(DetachedStatus::Verified, DetachedProblem::status)
    }
}

impl Serialize for DetachedCheck {
    /// `{"path", "status", "key_id", "trusted_key", "trusted_comment", "reason": {"code",
    /// "message"} | null}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(6))?;
        map.serialize_entry("path", &self.path.display().to_string())?;
        map.serialize_entry("status", self.status().as_str())?;
        map.serialize_entry("key_id", &self.key_id)?;
        map.serialize_entry(
            "trusted_key",
            &self.trusted_key.as_ref().map(|p| p.display().to_string()),
        )?;
        map.serialize_entry("trusted_comment", &self.trusted_comment)?;
        map.serialize_entry(
            "reason",
            &self
                .problem
                .as_ref()
                .map(|r| serde_json::json!({"code": r.code(), "message": r.to_string()})),
        )?;
        map.end()
    }
}

/// Reads `PACKAGE.minisig` beside `package`: `None` when there is none; else the parsed
/// signature, or the check that says why it cannot be used.
pub(crate) fn read_signature(package: &Path) -> Option<Result<Signature, DetachedCheck>> {
    let path = minisig_path(package);
    let check = DetachedCheck::new(&path);
    let file = match archive::open_package(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(check.with(DetachedProblem::Unreadable(e.to_string())))),
        Ok(f) => f,
    };
    let mut bytes = Vec::new();
    let limit = minisign::MAX_SIGNATURE_FILE_LEN as u64 + 1;
    if let Err(e) = file.take(limit).read_to_end(&mut bytes) {
        return Some(Err(check.with(DetachedProblem::Unreadable(e.to_string()))));
    }
    Some(
        Signature::parse(&bytes).map_err(|e| check.with(DetachedProblem::Malformed(e.to_string()))),
    )
}

/// A reader that feeds every byte it reads into BLAKE2b-512: the one pass over the package
/// that both the detached signature and the reader of `manifest.json` see.
pub(crate) struct Prehashing<R> {
    inner: R,
    hasher: Prehasher,
}

impl<R: Read> Prehashing<R> {
    pub(crate) fn new(inner: R) -> Prehashing<R> {
        Prehashing {
            inner,
            hasher: Prehasher::new(),
        }
    }

    /// Hashes whatever has not been read yet, to the end, and returns the digest of all of it.
    pub(crate) fn finish(mut self) -> io::Result<[u8; 64]> {
        let mut buf = vec![0u8; HASH_BUFFER_LEN];
        loop {
            match self.inner.read(&mut buf) {
                Ok(0) => return Ok(self.hasher.finalize()),
                Ok(n) => self.hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for Prehashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The trusted keys as minisign sees them (in the same order as `trusted.iter()`).
fn keys_of(trusted: &TrustedKeys) -> Vec<PublicKey> {
    trusted.iter().map(|k| k.key.clone()).collect()
}

/// Checks `sig` against the BLAKE2b-512 `digest` of the package with the trusted keys: the
/// key id first, then both signatures. Fills in the key id, and on success the trusted key
/// and the authenticated comment; also returns that key.
pub(crate) fn check_digest<'t>(
    mut check: DetachedCheck,
    sig: &Signature,
    digest: &[u8; 64],
    trusted: &'t TrustedKeys,
) -> (DetachedCheck, Option<&'t TrustedKey>) {
    check.key_id = Some(sig.key_id());
    match minisign::verify_digest(&keys_of(trusted), sig, digest) {
        Ok(v) => {
            let key = trusted
                .iter()
                .nth(v.key_index)
                .expect("the index is into the trusted keys' own order");
            check.trusted_key = Some(key.source.clone());
            check.trusted_comment = Some(v.trusted_comment);
            (check, Some(key))
        }
        Err(MinisignError::NoKeys | MinisignError::KeyIdMismatch { .. }) => (
            check.with(DetachedProblem::UntrustedKey {
                key_id: sig.key_id(),
            }),
            None,
        ),
        Err(e) => (
            check.with(DetachedProblem::DoesNotVerify(e.to_string())),
            None,
        ),
    }
}

/// Once both signatures verified: checks that the authenticated trusted comment is the one
/// `sign --minisig` writes and names the expert, version and base model of `expert`.
pub(crate) fn check_comment(check: DetachedCheck, expert: Option<&ExpertFacts>) -> DetachedCheck {
    if check.problem.is_some() {
        return check;
    }
    let Some(comment) = check.trusted_comment.as_deref() else {
        return check;
    };
    let problem = match CommentFields::parse(comment) {
        None => Some(DetachedProblem::ForeignComment),
        Some(fields) => {
            let none = ExpertFacts {
                name: None,
                version: None,
                base_model: None,
            };
            fields.check(expert.unwrap_or(&none)).err()
        }
    };
    match problem {
        Some(p) => check.with(p),
        None => check,
    }
}

/// The error that ends the walk after the first member.
#[derive(Debug, Error)]
enum FirstMember {
    #[error("read")]
    Read,
    #[error("`{MANIFEST_NAME}` is not the first member, as in every package `expert-cli package` writes")]
    NotManifest,
    #[error("`{MANIFEST_NAME}` is {0} bytes, more than the {1} bytes read into memory")]
    TooLarge(u64, u64),
    #[error("reading `{MANIFEST_NAME}` failed: {0}")]
    Io(io::Error),
}

/// What the fast path came to.
pub(crate) enum FastPath {
    /// It decided (`verified`, or `invalid` for an expectation not met).
    Decided(Box<Verdict>, DetachedCheck),
    /// It could not decide, for the reason in the check: the caller runs the full check.
    FallBack(DetachedCheck),
}

/// The fast path: decides the package at `path` (open as `file`) from its detached signature
/// `sig` (see the module documentation).
pub(crate) fn fast_path(
    path: &Path,
    file: std::fs::File,
    sig: &Signature,
    trusted: &TrustedKeys,
    opts: &VerifyOptions,
) -> FastPath {
    let mut check = DetachedCheck::new(&minisig_path(path));
    check.key_id = Some(sig.key_id());
    // The easiest failure first, before reading anything (as minisign does).
    if minisign::matching_keys(&keys_of(trusted), sig).is_err() {
        return FastPath::FallBack(check.with(DetachedProblem::UntrustedKey {
            key_id: sig.key_id(),
        }));
    }

    // One pass: `manifest.json` from the hashed bytes, then the rest of the file.
    let mut hashed = Prehashing::new(file);
    let mut manifest = None;
    let first = archive::read_members(
        io::BufReader::with_capacity(HASH_BUFFER_LEN, &mut hashed),
        &opts.limits,
        &mut |head, data| {
            if head.path != MANIFEST_NAME {
                return Err(FirstMember::NotManifest);
            }
            if head.size > opts.limits.max_kept_size {
                return Err(FirstMember::TooLarge(head.size, opts.limits.max_kept_size));
            }
            let mut bytes = Vec::with_capacity(head.size as usize);
            data.read_to_end(&mut bytes).map_err(FirstMember::Io)?;
            manifest = Some(bytes);
            Err(FirstMember::Read)
        },
    );
    let manifest = match (first, manifest) {
        (
            Err(ReadMembersError::Member {
                source: FirstMember::Read,
                ..
            }),
            Some(m),
        ) => m,
        (Err(ReadMembersError::Member { source, .. }), _) => {
            return FastPath::FallBack(check.with(DetachedProblem::Package(source.to_string())))
        }
        (Err(ReadMembersError::Read(e)), _) => {
            return FastPath::FallBack(check.with(DetachedProblem::Package(format!(
                "the package is refused: {e}"
            ))))
        }
        (Ok(_), _) => {
            return FastPath::FallBack(check.with(DetachedProblem::Package(format!(
                "the package has no `{MANIFEST_NAME}`"
            ))))
        }
    };
    let digest = match hashed.finish() {
        Ok(d) => d,
        Err(e) => {
            return FastPath::FallBack(check.with(DetachedProblem::Unreadable(e.to_string())))
        }
    };
    let (check, key) = check_digest(check, sig, &digest, trusted);
    let Some(key) = key else {
        return FastPath::FallBack(check);
    };

    // The bytes are the ones a trusted key signed: now what they say.
    let source = match parse_manifest(&manifest) {
        Ok(s) => s,
        Err(r) => return FastPath::FallBack(check.with(DetachedProblem::Package(r.to_string()))),
    };
    let root = source.root();
    let expert = ExpertFacts::read(root);
    let check = check_comment(check, Some(&expert));
    if check.problem.is_some() {
        return FastPath::FallBack(check);
    }
    let integrity = match SignedIntegrity::read(root) {
        Ok(i) => i,
        Err(p) => return FastPath::FallBack(check.with(DetachedProblem::Package(p.to_string()))),
    };
    if integrity.pubkey != key.key.to_hex() {
        return FastPath::FallBack(check.with(DetachedProblem::SignerMismatch {
            minisig_key: key.key.key_id(),
            package_key: integrity.key_id,
        }));
    }
    let mut verdict = Verdict {
        outcome: Outcome::Verified {
            key_id: integrity.key_id,
            key_source: key.source.clone(),
        },
        expert: Some(expert),
        signer: Signer::read(root),
        warnings: Vec::new(),
    };
    if let Err(r) = check_expectations(verdict.expert.as_ref(), opts) {
        verdict.outcome = Outcome::Invalid(r);
    }
    FastPath::Decided(Box::new(verdict), check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_round_trip_and_limits() {
        let c = trusted_comment(1, "p.expert", "expert-sql", "0.1.0", "Qwen/Qwen3-0.6B").unwrap();
        assert_eq!(
            c,
            "timestamp:1\tfile:p.expert\thashed\texpert:expert-sql\tversion:0.1.0\tbase_model:Qwen/Qwen3-0.6B"
        );
        let f = CommentFields::parse(&c).unwrap();
        assert_eq!(
            (f.timestamp, f.file, f.expert),
            (1, "p.expert", "expert-sql")
        );
        let facts = |v: &str| ExpertFacts {
            name: Some("expert-sql".into()),
            version: Some(v.into()),
            base_model: Some("Qwen/Qwen3-0.6B".into()),
        };
        assert_eq!(f.check(&facts("0.1.0")), Ok(()));
        assert!(matches!(
            f.check(&facts("0.2.0")),
            Err(DetachedProblem::CommentMismatch {
                field: "version",
                ..
            })
        ));
        // minisign's default comment is not ours
        assert_eq!(
            CommentFields::parse("timestamp:1\tfile:p.expert\thashed"),
            None
        );
        assert_eq!(CommentFields::parse(&c.replace("hashed", "hashes")), None);
        assert_eq!(
            CommentFields::parse(&c.replace("timestamp:1", "timestamp:x")),
            None
        );
        // too long for minisign
        let long = "m".repeat(MAX_TRUSTED_COMMENT_LEN);
        assert!(trusted_comment(1, "p", "n", "v", &long).is_err());
    }

    #[test]
    fn values_are_escaped_so_fields_stay_fields() {
        let c = trusted_comment(7, "a\tb%.expert", "n", "1\u{202e}0", "F:/m\\Qwen\u{7}").unwrap();
        assert_eq!(
            c,
            "timestamp:7\tfile:a%09b%25.expert\thashed\texpert:n\tversion:1%E2%80%AE0\tbase_model:F:/m\\Qwen%07"
        );
        assert!(!c.chars().any(|ch| ch != '\t' && ch.is_control()));
        let f = CommentFields::parse(&c).unwrap();
        let facts = ExpertFacts {
            name: Some("n".into()),
            version: Some("1\u{202e}0".into()),
            base_model: Some("F:/m\\Qwen\u{7}".into()),
        };
        assert_eq!(f.check(&facts), Ok(()));
        // a value that merely looks encoded is not the same value
        let facts = ExpertFacts {
            version: Some("1%E2%80%AE0".into()),
            ..facts
        };
        assert!(f.check(&facts).is_err());
    }

    #[test]
    fn minisig_path_appends() {
        assert_eq!(
            minisig_path(Path::new("dist/p.expert")),
            PathBuf::from("dist/p.expert.minisig")
        );
    }
}
