//! Signing a package: the signed `integrity` section spliced into `manifest.json`, the Ed25519
//! signature over [`message`], and the package rewritten once with both.
//!
//! [`sign_package`] reads the package twice and writes it once:
//! 1. checks it as `validate` does (a package `validate` refuses is not signed) and hashes
//!    every member;
//! 2. builds the new `manifest.json` ([`sign_manifest`]: only the value of `integrity` changes)
//!    and its signature (checked against the public key before use, as minisign does);
//! 3. copies every member byte for byte into `output` through the archive writer, replacing
//!    `manifest.json`, dropping an old `signature.sig` and inserting the new one in name order,
//!    with the package's own member mtime (canonical packages have one), so every copied
//!    member's header is the one it had. If any member's digest or the mtime differs from the
//!    first read, the result is refused.
//!
//! With [`SignOptions::minisig`], the bytes written in step 3 also go through BLAKE2b-512 as
//! they are written, and the result carries the detached signature `PACKAGE.minisig`
//! ([`super::detached`]) for the caller to write once the package is in place: no extra read of
//! the new package.
//!
//! The caller gives `output` (a temporary file it commits only on success) and the time, so
//! nothing here touches the clock, the environment or the final path.

use super::detached::{self, CommentTooLong, DetachedSignature};
use super::keys::SecretKey;
use super::minisign::{self, MinisignError, Prehasher};
use super::sigfile::SignatureFile;
use super::statement::{check_text_value, message, ExpertFacts, SignedIntegrity, ValueProblem};
use crate::archive::{
    self, validate, ArchiveWriter, ContentKind, Limits, Listing, MemberInfo, NotPackage, OpenError,
    ReadMembersError, WriteError, WriteOptions, MANIFEST_NAME, SIGNATURE_MEMBER,
};
use crate::digest::HashingWriter;
use crate::manifest::source::Source;
use crate::progress::Progress;
use ed25519_dalek::Signer;
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a package could not be signed.
#[derive(Debug, Error)]
pub enum SignError {
    /// The package could not be opened or read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The package.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an `.expert` package at all.
    #[error("`{}` is not an .expert package: {why}", path.display())]
    NotAPackage {
        /// The file.
        path: PathBuf,
        /// Why not.
        why: NotPackage,
    },
    /// `validate` refuses the package (or the archive reader does).
    #[error("`{}` cannot be signed: {problem}", path.display())]
    Refused {
        /// The package.
        path: PathBuf,
        /// The first problem, as `validate` words it.
        problem: String,
    },
    /// The publisher breaks the text value rules.
    #[error("the publisher {0}")]
    Publisher(ValueProblem),
    /// A member changed between the check and the rewrite.
    #[error("`{}` changed while it was being signed", path.display())]
    Changed {
        /// The package.
        path: PathBuf,
    },
    /// Writing the signed package failed.
    #[error("cannot write the signed package: {0}")]
    Write(#[from] WriteError),
    /// The fresh signature did not verify (not expected; a defensive self-check).
    #[error("the new signature does not verify against the signing key's public key")]
    SelfCheck,
    /// The detached signature's trusted comment would be too long for minisign.
    #[error(transparent)]
    DetachedComment(#[from] CommentTooLong),
    /// The detached signature could not be made (not expected: its self-check failed).
    #[error("cannot make the detached signature: {0}")]
    Detached(MinisignError),
}

/// A packaged manifest after signing.
#[derive(Clone, Debug)]
pub struct SignedManifest {
    /// The new `manifest.json` bytes.
    pub manifest: Vec<u8>,
    /// The `integrity` section written into it.
    pub integrity: SignedIntegrity,
    /// The signature over [`message`] of `manifest`.
    pub signature: SignatureFile,
}

/// Signs a packaged manifest: splices the signed `integrity` section (publisher, time, the
/// key, and `files`, the SHA-256 of every other member) into `source` and signs the result.
/// Ed25519 is deterministic: the same inputs always give the same bytes.
///
/// # Errors
/// [`SignError::Publisher`] for a publisher that breaks the value rules;
/// [`SignError::SelfCheck`] if the new signature does not verify.
pub fn sign_manifest(
    source: &Source,
    files: &[(String, String)],
    key: &SecretKey,
    publisher: &str,
    created_at: u64,
) -> Result<SignedManifest, SignError> {
    check_text_value(publisher).map_err(SignError::Publisher)?;
    let mut files = files.to_vec();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let integrity = SignedIntegrity {
        created_at: crate::clock::rfc3339_utc(created_at),
        publisher: publisher.to_owned(),
        pubkey: key.public_key().to_hex(),
        key_id: key.key_id(),
        files,
    };
    let manifest = integrity.splice(source).into_bytes();
    let msg = message(&manifest);
    let signature = key.signing_key().sign(&msg);
    key.signing_key()
        .verifying_key()
        .verify_strict(&msg, &signature)
        .map_err(|_| SignError::SelfCheck)?;
    Ok(SignedManifest {
        manifest,
        integrity,
        signature: SignatureFile::from_bytes(signature.to_bytes()),
    })
}

/// How to sign a package.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// `integrity.publisher`; default: the key's name, else its key id.
    pub publisher: Option<String>,
    /// `integrity.created_at`, seconds since the Unix epoch.
    pub created_at: u64,
    /// zlib level of the rewritten package's text members ([`WriteOptions::level`]). There is
    /// no mtime to choose: every member keeps the package's own, so re-signing changes no
    /// header byte of the members it copies.
    pub level: u32,
    /// Compression threads ([`WriteOptions::threads`]).
    pub threads: usize,
    /// Bounds for reading the package.
    pub limits: Limits,
    /// Also make the detached signature `PACKAGE.minisig` (`sign --minisig`).
    pub minisig: bool,
}

/// What [`sign_package`] did.
#[derive(Clone, Debug, Serialize)]
pub struct SignReport {
    /// The package that was signed.
    pub package: String,
    /// SHA-256 of the signed package file.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The expert's `name`.
    pub name: String,
    /// Its `version`.
    pub version: String,
    /// The packaged base model.
    pub base_model: String,
    /// `integrity.publisher`.
    pub publisher: String,
    /// The signing key's id.
    pub key_id: String,
    /// The signing key, 64 lowercase hex digits.
    pub pubkey: String,
    /// `integrity.created_at`.
    pub created_at: String,
    /// How many members the signed package holds (`manifest.json` and `signature.sig`
    /// included).
    pub members: usize,
    /// The signature, 128 lowercase hex digits (the content of `signature.sig`).
    pub signature: String,
    /// True when an earlier `signature.sig` was replaced.
    pub replaced_signature: bool,
    /// The detached signature of the signed package, with [`SignOptions::minisig`] (its text
    /// is for the caller to write to its `path`; JSON shows the path, key id and comment).
    pub minisig: Option<DetachedSignature>,
}

/// Passes bytes on to `inner` and, when asked, through BLAKE2b-512 too: the detached
/// signature's hash of exactly the bytes written.
struct Prehashed<'a> {
    inner: &'a mut dyn Write,
    hasher: Option<Prehasher>,
}

impl Write for Prehashed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Counts bytes read into a [`Progress`].
struct Counted<'a, R> {
    inner: R,
    progress: &'a mut dyn Progress,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Signs the package at `input` with `key`, writing the signed package to `output` (the
/// caller commits it over `input`, or elsewhere). Progress is reported in package bytes read,
/// under `checking` and then `signing`.
///
/// # Errors
/// [`SignError::Io`], [`SignError::NotAPackage`], [`SignError::Refused`] when `validate`
/// would refuse the package, [`SignError::Publisher`], [`SignError::Changed`],
/// [`SignError::Write`], [`SignError::SelfCheck`]; with [`SignOptions::minisig`] also
/// [`SignError::DetachedComment`] (before anything is written) and [`SignError::Detached`].
pub fn sign_package(
    input: &Path,
    output: &mut dyn Write,
    key: &SecretKey,
    opts: &SignOptions,
    progress: &mut dyn Progress,
) -> Result<SignReport, SignError> {
    let io = |source| SignError::Io {
        path: input.to_owned(),
        source,
    };
    let not_package = |why| SignError::NotAPackage {
        path: input.to_owned(),
        why,
    };
    let refused = |problem: String| SignError::Refused {
        path: input.to_owned(),
        problem,
    };
    let (file, len) = archive::open_gzip(input).map_err(|e| match e {
        OpenError::Io(e) => io(e),
        OpenError::NotGzip => not_package(NotPackage::NotGzip),
    })?;

    // 1. Check it as `validate` does, and hash every member.
    progress.start("checking", len);
    let counted = Counted {
        inner: file,
        progress: &mut *progress,
    };
    let checked = validate::validate_package(std::io::BufReader::new(counted), &opts.limits);
    progress.finish();
    if !checked.readable {
        if let Some(why) = archive::why_not_a_package(input, &opts.limits) {
            return Err(not_package(why));
        }
    }
    if checked.readable && !checked.members.iter().any(|m| m.path == MANIFEST_NAME) {
        return Err(not_package(NotPackage::NoManifest));
    }
    if let Some(d) = checked.diagnostics.errors().next() {
        return Err(refused(if d.pointer.is_empty() {
            d.message.clone()
        } else {
            format!("{}: {}", d.pointer, d.message)
        }));
    }
    let Some(manifest) = &checked.manifest else {
        return Err(refused("the packaged manifest is not valid".to_owned()));
    };
    if checked.members.first().map(|m| m.path.as_str()) != Some(MANIFEST_NAME) {
        return Err(refused(format!(
            "`{MANIFEST_NAME}` is not the first member, as in every package `expert-cli package` writes"
        )));
    }
    let facts = ExpertFacts::read(manifest.root());
    let (Some(name), Some(version), Some(base_model)) =
        (facts.name, facts.version, facts.base_model)
    else {
        return Err(refused(
            "the packaged manifest does not name one expert, version and base model".to_owned(),
        ));
    };

    // 2. The signed manifest and its signature.
    let files: Vec<(String, String)> = checked
        .members
        .iter()
        .filter(|m| m.path != MANIFEST_NAME && m.path != SIGNATURE_MEMBER)
        .map(|m| (m.path.clone(), m.sha256.clone()))
        .collect();
    let publisher = opts
        .publisher
        .clone()
        .or_else(|| key.name().map(str::to_owned))
        .unwrap_or_else(|| key.key_id());
    let signed = sign_manifest(&manifest.source, &files, key, &publisher, opts.created_at)?;
    let sig_bytes = signed.signature.to_bytes();
    let comment = if opts.minisig {
        let file_name = input
            .file_name()
            .expect("a path opened as a regular file names one")
            .to_string_lossy()
            .into_owned();
        Some(detached::trusted_comment(
            opts.created_at,
            &file_name,
            &name,
            &version,
            &base_model,
        )?)
    } else {
        None
    };

    // 3. The rewrite.
    let (file, len) = archive::open_gzip(input).map_err(|e| match e {
        OpenError::Io(e) => io(e),
        OpenError::NotGzip => SignError::Changed {
            path: input.to_owned(),
        },
    })?;
    progress.start("signing", len);
    let counted = Counted {
        inner: std::io::BufReader::new(file),
        progress: &mut *progress,
    };
    let mut output = Prehashed {
        inner: output,
        hasher: opts.minisig.then(Prehasher::new),
    };
    let mtime = checked
        .mtime
        .expect("a canonical package with a manifest.json has a member mtime");
    let write = WriteOptions {
        mtime,
        level: opts.level,
        threads: opts.threads,
    };
    let rewritten = rewrite(
        counted,
        &mut output,
        &signed.manifest,
        &sig_bytes,
        write,
        &opts.limits,
    );
    progress.finish();
    let (copied, sha256, size) = rewritten.map_err(|e| match e {
        RewriteError::Write(w) => SignError::Write(w),
        RewriteError::Read(archive::ReadError::Io(e)) => io(e),
        RewriteError::Read(_) => SignError::Changed {
            path: input.to_owned(),
        },
    })?;
    let unchanged = |m: &&MemberInfo| m.path != SIGNATURE_MEMBER;
    if copied.mtime != checked.mtime
        || !copied
            .members
            .iter()
            .filter(unchanged)
            .eq(checked.members.iter().filter(unchanged))
    {
        return Err(SignError::Changed {
            path: input.to_owned(),
        });
    }
    let minisig = match (output.hasher, comment) {
        (Some(hasher), Some(comment)) => {
            let sig = minisign::sign_digest(
                key,
                &hasher.finalize(),
                &comment,
                minisign::DEFAULT_UNTRUSTED_COMMENT,
            )
            .map_err(SignError::Detached)?;
            Some(DetachedSignature::new(input, &sig))
        }
        _ => None,
    };
    Ok(SignReport {
        package: input.display().to_string(),
        sha256,
        size,
        name,
        version,
        base_model,
        publisher,
        key_id: signed.integrity.key_id.clone(),
        pubkey: signed.integrity.pubkey.clone(),
        created_at: signed.integrity.created_at.clone(),
        members: files.len() + 2,
        signature: signed.signature.to_hex(),
        replaced_signature: checked.members.iter().any(|m| m.path == SIGNATURE_MEMBER),
        minisig,
    })
}

enum RewriteError {
    Read(archive::ReadError),
    Write(WriteError),
}

/// Copies the package read from `input` into `out` with `manifest` in place of its
/// `manifest.json`, without any old `signature.sig`, and with `sig` as `signature.sig` before
/// the first member that sorts after it ([`archive::member_order`]), written with `write`.
/// Returns what was read (members with their digests, the mtime), and the SHA-256 and size of
/// the output.
fn rewrite(
    input: impl Read,
    out: &mut dyn Write,
    manifest: &[u8],
    sig: &[u8],
    write: WriteOptions,
    limits: &Limits,
) -> Result<(Listing, String, u64), RewriteError> {
    let mut writer =
        ArchiveWriter::new(HashingWriter::new(out), write).map_err(RewriteError::Write)?;
    let append_sig = |w: &mut ArchiveWriter<HashingWriter<&mut dyn Write>>| {
        w.append(
            SIGNATURE_MEMBER,
            sig.len() as u64,
            &mut &sig[..],
            ContentKind::Text,
        )
        .map(|_| ())
    };
    let mut inserted = false;
    let copied = archive::read_members(input, limits, &mut |head, data| {
        if head.path == SIGNATURE_MEMBER {
            return Ok(());
        }
        if head.path == MANIFEST_NAME {
            return writer
                .append(
                    MANIFEST_NAME,
                    manifest.len() as u64,
                    &mut &manifest[..],
                    ContentKind::Text,
                )
                .map(|_| ());
        }
        if !inserted && archive::member_order(SIGNATURE_MEMBER, &head.path).is_lt() {
            append_sig(&mut writer)?;
            inserted = true;
        }
        writer
            .append(
                &head.path,
                head.size,
                data,
                ContentKind::for_path(&head.path),
            )
            .map(|_| ())
    })
    .map_err(|e| match e {
        ReadMembersError::Read(r) => RewriteError::Read(r),
        ReadMembersError::Member { source, .. } => RewriteError::Write(source),
    })?;
    if !inserted {
        append_sig(&mut writer).map_err(RewriteError::Write)?;
    }
    let (_, sha256, size) = writer.finish().map_err(RewriteError::Write)?.finish();
    Ok((copied, sha256, size))
}
