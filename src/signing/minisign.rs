//! minisign's file formats, byte for byte as jedisct1/minisign reads and writes them, so that
//! stock `minisign -V -p KEY.minisign.pub -m PACKAGE` checks the `PACKAGE.minisig` we write,
//! and we check what `minisign -S` writes. Only Ed25519 and only the prehashed mode.
//!
//! **Public key** (`*.minisign.pub`, two lines, LF):
//!
//! ```text
//! untrusted comment: minisign public key <KEY ID>
//! base64( "Ed" || keynum[8] || public key[32] )
//! ```
//!
//! **Signature** (`*.minisig`, four lines, LF):
//!
//! ```text
//! untrusted comment: <text>
//! base64( "ED" || keynum[8] || Ed25519(BLAKE2b-512(file))[64] )
//! trusted comment: <text>
//! base64( Ed25519(signature[64] || trusted comment bytes)[64] )
//! ```
//!
//! The key id minisign prints is the keynum read as a little-endian u64, in upper-case hex
//! without leading zeros (`PRIX64`). Keys made by `minisign -G` have a random keynum. Our keys have none of their own, so
//! it is **derived** from the public key ([`derived_keynum`]): the first 8 bytes of SHA-256 over
//! the 32 key bytes, stored so that minisign prints exactly our key id in upper case
//! (`56475aa75463474c` → `56475AA75463474C`). A PEM key, `--key-env` and the `*.minisign.pub`
//! that `keygen` wrote therefore always agree.
//!
//! **Signing** hashes the data with BLAKE2b-512 (unkeyed, 64-byte output, as libsodium's
//! `crypto_generichash` with `BYTES_MAX`) in a streaming loop with a fixed 64 KiB buffer, signs
//! the 64-byte digest with plain Ed25519, then signs the signature followed by the trusted
//! comment (the "global signature"): the trusted comment is authenticated, the untrusted one
//! visibly is not. The result is checked against the public key before it is returned.
//!
//! **Verification** reports the easiest failure first, as minisign does: a key-id mismatch
//! (both ids in hex), before any hashing or signature maths; then the file's signature, then
//! the trusted comment's. Both signatures are checked strictly (`verify_strict`: canonical
//! encodings, no small-order keys).
//!
//! **Legacy signatures are refused.** minisign's `Ed` mode (no prehash, `-l`) signs the whole
//! file, which needs it in memory; minisign has written the prehashed `ED` mode by default
//! since 0.8 and `minisign -V -H` refuses legacy too. [`Signature::parse`] reports
//! [`MinisignError::Legacy`] for them.
//!
//! **Parsing is strict**: UTF-8; exactly four lines (LF, or CRLF as a checkout on Windows may
//! leave them; the final line end is optional, since minisign does not need it); the fixed
//! prefixes; canonical padded base64 of exactly the right length (`base64ct`); comments within
//! minisign's own line buffers (untrusted at most [`MAX_UNTRUSTED_COMMENT_LEN`] bytes, trusted
//! at most [`MAX_TRUSTED_COMMENT_LEN`]) with no control character but TAB (minisign's default
//! trusted comment uses TABs), so a comment prints safely; nothing after the fourth line.
//!
//! This module never prints, exits or reads the environment; it reads only the `Read` it is
//! given.

use crate::signing::base64;
use crate::signing::keys::{KeyError, PublicKey, SecretKey};
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature as EdSignature, Signer};
use sha2::Sha256;
use std::fmt;
use std::io::{self, Read, Write};
use thiserror::Error;

/// The first line's prefix, in key and signature files.
pub const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
/// The third line's prefix in signature files.
pub const TRUSTED_PREFIX: &str = "trusted comment: ";
/// What minisign appends to a file name for its signature.
pub const SIGNATURE_SUFFIX: &str = ".minisig";
/// The untrusted comment of signatures we write when the caller has no better one.
pub const DEFAULT_UNTRUSTED_COMMENT: &str = "signature from expert-cli secret key";
/// Longest untrusted comment: minisign reads the line into 1024 bytes, prefix and `\n`
/// included (`COMMENTMAXBYTES`).
pub const MAX_UNTRUSTED_COMMENT_LEN: usize = 1024 - 1 - UNTRUSTED_PREFIX.len() - 1;
/// Longest trusted comment: minisign reads the line into 8192 bytes, prefix and `\n`
/// included (`TRUSTEDCOMMENTMAXBYTES`); its signer refuses longer ones too.
pub const MAX_TRUSTED_COMMENT_LEN: usize = 8192 - 1 - TRUSTED_PREFIX.len() - 1;
/// Largest signature file read (the four longest lines with CRLF ends fit well within).
pub const MAX_SIGNATURE_FILE_LEN: usize = 16 * 1024;
/// The read buffer of [`prehash`] (minisign's own size).
pub const PREHASH_BUFFER_LEN: usize = 64 * 1024;

const ALG_LEGACY: [u8; 2] = *b"Ed";
const ALG_PREHASHED: [u8; 2] = *b"ED";
/// `"Ed" || keynum || public key`.
const PUBLIC_KEY_LEN: usize = 2 + 8 + 32;
/// `"ED" || keynum || signature`.
const SIGNATURE_LEN: usize = 2 + 8 + 64;

/// Why a minisign key or signature was refused, or verification failed.
#[derive(Debug, Error)]
pub enum MinisignError {
    /// The signature file is larger than [`MAX_SIGNATURE_FILE_LEN`].
    #[error("the signature file is larger than {MAX_SIGNATURE_FILE_LEN} bytes")]
    TooLarge,
    /// Not UTF-8.
    #[error("the {0} is not UTF-8 text")]
    NotText(&'static str),
    /// Not the right number of lines.
    #[error("the {what} has {found} line{}; minisign's has {expected} ({layout})", if *.found == 1 { "" } else { "s" })]
    LineCount {
        /// `signature file` or `public key file`.
        what: &'static str,
        /// Lines found.
        found: usize,
        /// Lines expected.
        expected: usize,
        /// What the lines are.
        layout: &'static str,
    },
    /// A line is not what its position requires.
    #[error("line {line} of the {what} {problem}")]
    Malformed {
        /// `signature file` or `public key file`.
        what: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong, as a phrase.
        problem: String,
    },
    /// A comment breaks the rules (on reading or signing).
    #[error("the {which} comment {problem}")]
    Comment {
        /// `trusted` or `untrusted`.
        which: &'static str,
        /// What is wrong.
        problem: CommentProblem,
    },
    /// An algorithm tag other than `Ed` (keys) or `ED` (signatures).
    #[error("the {what} uses the algorithm `{found}`, which minisign does not define (expected `{expected}`)")]
    UnsupportedAlgorithm {
        /// `signature` or `public key`.
        what: &'static str,
        /// The two tag bytes, escaped.
        found: String,
        /// The expected tag.
        expected: &'static str,
    },
    /// A legacy (`Ed`, not prehashed) signature.
    #[error("this is a legacy minisign signature (algorithm `Ed`, not prehashed), which expert-cli does not accept; sign again with minisign 0.8 or later without `-l`, or with `expert-cli sign --minisig`")]
    Legacy,
    /// No key was given to verify with.
    #[error("no public key was given to check the signature with")]
    NoKeys,
    /// The signature names a key id that no given key has.
    #[error("the signature's key id is {signature} but the key id of the public key is {}", trusted.join(", "))]
    KeyIdMismatch {
        /// The signature's key id (upper-case hex without leading zeros, as minisign prints it).
        signature: String,
        /// The given keys' ids.
        trusted: Vec<String>,
    },
    /// The data's signature does not verify.
    #[error("signature verification failed: the file is not the one key {key_id} signed")]
    BadSignature {
        /// The key id that was tried.
        key_id: String,
    },
    /// The trusted comment's signature does not verify.
    #[error("the trusted comment's signature does not verify under key {key_id}: the comment was altered")]
    BadTrustedComment {
        /// The key id that was tried.
        key_id: String,
    },
    /// The key bytes are not a usable Ed25519 key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Reading the data failed.
    #[error("cannot read the data to hash")]
    Read(#[source] io::Error),
    /// The self-check after signing failed (a bug or a broken key).
    #[error("the signature just made does not verify against the public key")]
    SelfCheck,
}

/// Why a comment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentProblem {
    /// Longer than minisign reads.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A line break, NUL or other control character (TAB is allowed).
    ControlCharacter {
        /// The character's code point.
        code: u32,
    },
}

impl fmt::Display for CommentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommentProblem::TooLong { len, max } => {
                write!(f, "is {len} bytes long; minisign reads at most {max}")
            }
            CommentProblem::ControlCharacter { code } => write!(
                f,
                "contains the control character U+{code:04X}; only TAB is allowed"
            ),
        }
    }
}

fn check_comment(which: &'static str, text: &str, max: usize) -> Result<(), MinisignError> {
    let problem = if text.len() > max {
        Some(CommentProblem::TooLong {
            len: text.len(),
            max,
        })
    } else {
        text.chars()
            .find(|&c| c != '\t' && c.is_control())
            .map(|c| CommentProblem::ControlCharacter { code: u32::from(c) })
    };
    match problem {
        Some(problem) => Err(MinisignError::Comment { which, problem }),
        None => Ok(()),
    }
}

// ---- key numbers ------------------------------------------------------------------------

/// The keynum of one of our keys: the first 8 bytes of SHA-256 over the 32 public key bytes,
/// stored little-endian so that minisign prints the same 16 hex digits as our key id.
pub fn derived_keynum(key: &PublicKey) -> [u8; 8] {
    let digest = Sha256::digest(key.to_bytes());
    let first: [u8; 8] = digest[..8]
        .try_into()
        .expect("a SHA-256 digest has more than 8 bytes");
    u64::from_be_bytes(first).to_le_bytes()
}

/// A keynum as minisign prints it: the little-endian u64 in upper-case hex, without leading
/// zeros (minisign formats it with `PRIX64`: a keynum of 0x07… prints 15 digits).
pub fn key_id(keynum: &[u8; 8]) -> String {
    format!("{:X}", u64::from_le_bytes(*keynum))
}

/// Whether a key id as minisign prints it ([`key_id`]: upper case, no leading zeros) names the
/// same key as one of ours (16 lower-case digits): the same number, not the same text.
pub fn same_key_id(minisign: &str, ours: &str) -> bool {
    let number = |id: &str| u64::from_str_radix(id, 16).ok();
    number(minisign).is_some_and(|n| Some(n) == number(ours))
}

// ---- public keys ------------------------------------------------------------------------

/// The base64 line of `key`'s minisign public key (what `minisign -P` takes), with its
/// keynum ([`PublicKey::minisign_keynum`]).
pub fn public_key_base64(key: &PublicKey) -> String {
    let mut raw = Vec::with_capacity(PUBLIC_KEY_LEN);
    raw.extend_from_slice(&ALG_LEGACY);
    raw.extend_from_slice(&key.minisign_keynum());
    raw.extend_from_slice(&key.to_bytes());
    base64::encode(&raw)
}

/// The text of `key`'s minisign public key file, exactly as `minisign -G` writes it.
pub fn public_key_file(key: &PublicKey) -> String {
    format!(
        "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
        key_id(&key.minisign_keynum()),
        public_key_base64(key)
    )
}

/// Whether `text` is shaped like a minisign public key (file or bare base64 line), so that
/// [`parse_public_key`] is the reader to ask (and its error the one to report).
pub fn looks_like_public_key(text: &str) -> bool {
    let t = text.trim();
    t.starts_with(UNTRUSTED_PREFIX)
        || t.len() == PUBLIC_KEY_LEN.div_ceil(3) * 4 && t.starts_with("RW")
}

/// Splits `text` into lines: LF or CRLF ends, the last one optional.
fn lines(text: &str) -> Vec<&str> {
    let body = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// Reads a minisign public key: the file `minisign -G` writes (an `untrusted comment:` line,
/// then the base64 line), or the bare base64 line (as `minisign -P` takes it). Surrounding
/// whitespace of the bare line is ignored. The returned key remembers its keynum.
///
/// # Errors
/// [`MinisignError::LineCount`] / [`MinisignError::Malformed`] for anything else,
/// [`MinisignError::UnsupportedAlgorithm`] for a tag other than `Ed`, and
/// [`MinisignError::Key`] for an invalid or weak point.
pub fn parse_public_key(text: &str) -> Result<PublicKey, MinisignError> {
    const WHAT: &str = "public key file";
    let trimmed = text.trim();
    let (line_no, encoded) = if trimmed.starts_with(UNTRUSTED_PREFIX) {
        let lines = lines(trimmed);
        if lines.len() != 2 {
            return Err(MinisignError::LineCount {
                what: WHAT,
                found: lines.len(),
                expected: 2,
                layout: "an untrusted comment, then the key in base64",
            });
        }
        let comment = lines[0]
            .strip_prefix(UNTRUSTED_PREFIX)
            .expect("the trimmed text starts with the prefix");
        check_comment("untrusted", comment, MAX_UNTRUSTED_COMMENT_LEN)?;
        (2, lines[1])
    } else {
        (1, trimmed)
    };
    let raw: [u8; PUBLIC_KEY_LEN] =
        base64::decode_array(encoded).ok_or_else(|| MinisignError::Malformed {
            what: WHAT,
            line: line_no,
            problem: format!(
                "is not the canonical base64 of {PUBLIC_KEY_LEN} bytes (a minisign public key is 56 characters starting with `RW`)"
            ),
        })?;
    if raw[..2] != ALG_LEGACY {
        return Err(MinisignError::UnsupportedAlgorithm {
            what: "public key",
            found: String::from_utf8_lossy(&raw[..2])
                .escape_debug()
                .to_string(),
            expected: "Ed",
        });
    }
    let keynum: [u8; 8] = raw[2..10].try_into().expect("8 bytes");
    let key: [u8; 32] = raw[10..].try_into().expect("32 bytes");
    Ok(PublicKey::from_minisign(keynum, &key)?)
}

// ---- signature files --------------------------------------------------------------------

/// A parsed prehashed minisign signature file.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    untrusted_comment: String,
    keynum: [u8; 8],
    signature: [u8; 64],
    trusted_comment: String,
    global_signature: [u8; 64],
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("key_id", &self.key_id())
            .field("trusted_comment", &self.trusted_comment)
            .field("untrusted_comment", &self.untrusted_comment)
            .finish_non_exhaustive()
    }
}

impl Signature {
    /// Parses a signature file (see the module documentation for the rules).
    ///
    /// # Errors
    /// [`MinisignError::TooLarge`], [`MinisignError::NotText`], [`MinisignError::LineCount`],
    /// [`MinisignError::Malformed`], [`MinisignError::Comment`], [`MinisignError::Legacy`] or
    /// [`MinisignError::UnsupportedAlgorithm`].
    pub fn parse(bytes: &[u8]) -> Result<Signature, MinisignError> {
        const WHAT: &str = "signature file";
        if bytes.len() > MAX_SIGNATURE_FILE_LEN {
            return Err(MinisignError::TooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| MinisignError::NotText(WHAT))?;
        let lines = lines(text);
        if lines.len() != 4 {
            return Err(MinisignError::LineCount {
                what: WHAT,
                found: lines.len(),
                expected: 4,
                layout: "untrusted comment, signature, trusted comment, global signature",
            });
        }
        let prefixed = |line: usize, prefix: &'static str| {
            lines[line - 1]
                .strip_prefix(prefix)
                .ok_or_else(|| MinisignError::Malformed {
                    what: WHAT,
                    line,
                    problem: format!("does not start with `{prefix}`"),
                })
        };
        let not_base64 = |line: usize, len: usize| MinisignError::Malformed {
            what: WHAT,
            line,
            problem: format!("is not the canonical base64 of {len} bytes"),
        };
        let untrusted_comment = prefixed(1, UNTRUSTED_PREFIX)?;
        check_comment("untrusted", untrusted_comment, MAX_UNTRUSTED_COMMENT_LEN)?;
        let raw: [u8; SIGNATURE_LEN] =
            base64::decode_array(lines[1]).ok_or_else(|| not_base64(2, SIGNATURE_LEN))?;
        match [raw[0], raw[1]] {
            ALG_PREHASHED => {}
            ALG_LEGACY => return Err(MinisignError::Legacy),
            other => {
                return Err(MinisignError::UnsupportedAlgorithm {
                    what: "signature",
                    found: String::from_utf8_lossy(&other).escape_debug().to_string(),
                    expected: "ED",
                })
            }
        }
        let trusted_comment = prefixed(3, TRUSTED_PREFIX)?;
        check_comment("trusted", trusted_comment, MAX_TRUSTED_COMMENT_LEN)?;
        let global_signature: [u8; 64] =
            base64::decode_array(lines[3]).ok_or_else(|| not_base64(4, 64))?;
        Ok(Signature {
            untrusted_comment: untrusted_comment.to_owned(),
            keynum: raw[2..10].try_into().expect("8 bytes"),
            signature: raw[10..].try_into().expect("64 bytes"),
            trusted_comment: trusted_comment.to_owned(),
            global_signature,
        })
    }

    /// The file text, exactly as minisign writes it (four lines, LF ends).
    pub fn to_text(&self) -> String {
        let mut raw = Vec::with_capacity(SIGNATURE_LEN);
        raw.extend_from_slice(&ALG_PREHASHED);
        raw.extend_from_slice(&self.keynum);
        raw.extend_from_slice(&self.signature);
        format!(
            "{UNTRUSTED_PREFIX}{}\n{}\n{TRUSTED_PREFIX}{}\n{}\n",
            self.untrusted_comment,
            base64::encode(&raw),
            self.trusted_comment,
            base64::encode(&self.global_signature)
        )
    }

    /// The signing key's keynum.
    pub fn keynum(&self) -> [u8; 8] {
        self.keynum
    }

    /// The signing key's id as minisign prints it.
    pub fn key_id(&self) -> String {
        key_id(&self.keynum)
    }

    /// The trusted comment (authenticated only once [`verify_digest`] succeeded).
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }

    /// The untrusted comment (never authenticated).
    pub fn untrusted_comment(&self) -> &str {
        &self.untrusted_comment
    }

    /// `signature || trusted comment`: what the global signature covers.
    fn global_message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(64 + self.trusted_comment.len());
        m.extend_from_slice(&self.signature);
        m.extend_from_slice(self.trusted_comment.as_bytes());
        m
    }
}

// ---- prehash ----------------------------------------------------------------------------

/// BLAKE2b-512 of a stream, fed as it goes (e.g. while a package is written or read), for
/// [`sign_digest`] and [`verify_digest`].
#[derive(Clone, Default)]
pub struct Prehasher {
    hasher: Blake2b512,
}

impl Prehasher {
    /// An empty hash.
    pub fn new() -> Prehasher {
        Prehasher::default()
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// The 64-byte digest.
    pub fn finalize(self) -> [u8; 64] {
        self.hasher.finalize().into()
    }
}

impl Write for Prehasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// BLAKE2b-512 of everything `reader` yields, read with a fixed [`PREHASH_BUFFER_LEN`] buffer
/// (memory stays flat whatever the size).
///
/// # Errors
/// [`MinisignError::Read`] when reading fails.
pub fn prehash<R: Read>(mut reader: R) -> Result<[u8; 64], MinisignError> {
    let mut hasher = Prehasher::new();
    let mut buf = vec![0u8; PREHASH_BUFFER_LEN];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher.finalize()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(MinisignError::Read(e)),
        }
    }
}

// ---- signing ----------------------------------------------------------------------------

/// Signs a BLAKE2b-512 `digest` (from [`prehash`] or a [`Prehasher`]) with `secret`, in
/// minisign's prehashed mode, and checks the result against the public key.
///
/// # Errors
/// [`MinisignError::Comment`] when a comment is too long or holds a control character
/// other than TAB; [`MinisignError::SelfCheck`] if the result does not verify (not expected).
pub fn sign_digest(
    secret: &SecretKey,
    digest: &[u8; 64],
    trusted_comment: &str,
    untrusted_comment: &str,
) -> Result<Signature, MinisignError> {
    check_comment("untrusted", untrusted_comment, MAX_UNTRUSTED_COMMENT_LEN)?;
    check_comment("trusted", trusted_comment, MAX_TRUSTED_COMMENT_LEN)?;
    let public = secret.public_key();
    let key = secret.signing_key();
    let mut sig = Signature {
        untrusted_comment: untrusted_comment.to_owned(),
        keynum: public.minisign_keynum(),
        signature: key.sign(digest).to_bytes(),
        trusted_comment: trusted_comment.to_owned(),
        global_signature: [0; 64],
    };
    sig.global_signature = key.sign(&sig.global_message()).to_bytes();
    // As minisign does: never hand out a signature the public key would refuse.
    verify_digest(std::slice::from_ref(&public), &sig, digest)
        .map_err(|_| MinisignError::SelfCheck)?;
    Ok(sig)
}

/// Hashes `data` ([`prehash`]) and signs it ([`sign_digest`]); returns the signature file text.
///
/// # Errors
/// As [`prehash`] and [`sign_digest`].
pub fn sign_prehashed<R: Read>(
    secret: &SecretKey,
    data: R,
    trusted_comment: &str,
    untrusted_comment: &str,
) -> Result<String, MinisignError> {
    let digest = prehash(data)?;
    sign_digest(secret, &digest, trusted_comment, untrusted_comment).map(|s| s.to_text())
}

// ---- verification -----------------------------------------------------------------------

/// A verified signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Which of the given keys verified it (index into the slice).
    pub key_index: usize,
    /// Its key id as minisign prints it (upper-case hex, as minisign prints it: no leading zeros).
    pub key_id: String,
    /// The trusted comment, now authenticated.
    pub trusted_comment: String,
    /// The untrusted comment (not authenticated; for display only).
    pub untrusted_comment: String,
}

/// The indices of the `keys` whose keynum is the signature's: the check to run before
/// hashing anything.
///
/// # Errors
/// [`MinisignError::NoKeys`]; [`MinisignError::KeyIdMismatch`] with both ids when no key
/// has the signature's keynum.
pub fn matching_keys(keys: &[PublicKey], sig: &Signature) -> Result<Vec<usize>, MinisignError> {
    if keys.is_empty() {
        return Err(MinisignError::NoKeys);
    }
    let found: Vec<usize> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.minisign_keynum() == sig.keynum)
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        let mut trusted: Vec<String> = keys.iter().map(|k| key_id(&k.minisign_keynum())).collect();
        trusted.dedup();
        return Err(MinisignError::KeyIdMismatch {
            signature: sig.key_id(),
            trusted,
        });
    }
    Ok(found)
}

/// Checks `sig` against the BLAKE2b-512 `digest` of the data, with the first of `keys` that
/// has its keynum and verifies it: key id first, then the data's signature, then the trusted
/// comment's. Strict Ed25519 throughout.
///
/// # Errors
/// As [`matching_keys`]; [`MinisignError::BadSignature`] or
/// [`MinisignError::BadTrustedComment`].
pub fn verify_digest(
    keys: &[PublicKey],
    sig: &Signature,
    digest: &[u8; 64],
) -> Result<Verified, MinisignError> {
    let candidates = matching_keys(keys, sig)?;
    let signature = EdSignature::from_bytes(&sig.signature);
    let Some(&index) = candidates.iter().find(|&&i| {
        keys[i]
            .verifying_key()
            .verify_strict(digest, &signature)
            .is_ok()
    }) else {
        return Err(MinisignError::BadSignature {
            key_id: sig.key_id(),
        });
    };
    keys[index]
        .verifying_key()
        .verify_strict(
            &sig.global_message(),
            &EdSignature::from_bytes(&sig.global_signature),
        )
        .map_err(|_| MinisignError::BadTrustedComment {
            key_id: sig.key_id(),
        })?;
    Ok(Verified {
        key_index: index,
        key_id: sig.key_id(),
        trusted_comment: sig.trusted_comment.clone(),
        untrusted_comment: sig.untrusted_comment.clone(),
    })
}

/// Parses `signature_text`, checks its key id against `keys`, then hashes `data` and checks
/// both signatures ([`verify_digest`]). A key-id mismatch is reported without reading `data`.
///
/// # Errors
/// As [`Signature::parse`], [`matching_keys`], [`prehash`] and [`verify_digest`].
pub fn verify<R: Read>(
    keys: &[PublicKey],
    data: R,
    signature_text: &[u8],
) -> Result<Verified, MinisignError> {
    let sig = Signature::parse(signature_text)?;
    matching_keys(keys, &sig)?;
    let digest = prehash(data)?;
    verify_digest(keys, &sig, &digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_key() -> SecretKey {
        SecretKey::from_seed(&std::array::from_fn(|i| i as u8))
    }

    #[test]
    fn keynum_prints_as_our_key_id() {
        let pk = seed_key().public_key();
        assert_eq!(key_id(&derived_keynum(&pk)), pk.key_id().to_uppercase());
        assert_eq!(pk.key_id(), "56475aa75463474c");
        // minisign stores the u64 little-endian: the last printed byte comes first.
        assert_eq!(derived_keynum(&pk)[0], 0x4c);
        assert!(same_key_id(&key_id(&derived_keynum(&pk)), &pk.key_id()));
        // A keynum whose top byte is zero prints 15 digits; it is still the same key.
        let keynum = [1, 2, 3, 4, 5, 6, 7, 0];
        assert_eq!(key_id(&keynum), "7060504030201");
        assert!(same_key_id(&key_id(&keynum), "0007060504030201"));
        assert!(!same_key_id("7060504030201", "0007060504030202"));
        assert!(!same_key_id("", "0"));
    }

    #[test]
    fn public_key_round_trip_and_bare_line() {
        let pk = seed_key().public_key();
        let file = public_key_file(&pk);
        assert!(file.starts_with("untrusted comment: minisign public key 56475AA75463474C\nRW"));
        assert!(looks_like_public_key(&file));
        let back = parse_public_key(&file).unwrap();
        assert_eq!(back, pk);
        assert_eq!(back.minisign_keynum(), derived_keynum(&pk));
        let line = public_key_base64(&pk);
        assert_eq!(line.len(), 56);
        assert_eq!(parse_public_key(&format!(" {line}\r\n")).unwrap(), pk);
        assert_eq!(parse_public_key(&file.replace('\n', "\r\n")).unwrap(), pk);
        // no trailing data, no missing line, nothing non-canonical
        assert!(parse_public_key(&format!("{file}extra\n")).is_err());
        assert!(parse_public_key("untrusted comment: x\n").is_err());
        // found by fuzz/run.sh: surrounding whitespace around a key file
        assert!(parse_public_key(" untrusted comment: \n").is_err());
        assert_eq!(parse_public_key(&format!("\n {file}\n\n")).unwrap(), pk);
        assert!(parse_public_key(&line.replacen('R', "-", 1)).is_err());
        assert!(parse_public_key(&format!("{line}=")).is_err());
        // a key file whose algorithm tag is not `Ed`
        let mut raw = base64::decode(&line).unwrap();
        raw[1] = b'D';
        assert!(matches!(
            parse_public_key(&base64::encode(&raw)),
            Err(MinisignError::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn sign_then_verify_and_refusals() {
        let sk = seed_key();
        let pk = sk.public_key();
        let text = sign_prehashed(&sk, &b"hello"[..], "timestamp:1\tfile:x", "u").unwrap();
        let v = verify(std::slice::from_ref(&pk), &b"hello"[..], text.as_bytes()).unwrap();
        assert_eq!(v.trusted_comment, "timestamp:1\tfile:x");
        assert_eq!(v.key_index, 0);
        assert!(matches!(
            verify(std::slice::from_ref(&pk), &b"hellO"[..], text.as_bytes()),
            Err(MinisignError::BadSignature { .. })
        ));
        let edited = text.replace("timestamp:1", "timestamp:2");
        assert!(matches!(
            verify(std::slice::from_ref(&pk), &b"hello"[..], edited.as_bytes()),
            Err(MinisignError::BadTrustedComment { .. })
        ));
        let other = SecretKey::from_seed(&[9; 32]).public_key();
        let e = verify(std::slice::from_ref(&other), &b"hello"[..], text.as_bytes()).unwrap_err();
        assert!(matches!(e, MinisignError::KeyIdMismatch { .. }), "{e}");
        assert!(e.to_string().contains("56475AA75463474C"), "{e}");
        assert!(matches!(
            verify(&[], &b"hello"[..], text.as_bytes()),
            Err(MinisignError::NoKeys)
        ));
        // same keynum claimed by another key: the signature does not verify
        let impostor = PublicKey::from_minisign(derived_keynum(&pk), &other.to_bytes()).unwrap();
        assert!(matches!(
            verify(&[impostor, pk.clone()], &b"hello"[..], text.as_bytes()),
            Ok(Verified { key_index: 1, .. })
        ));
    }

    #[test]
    fn parse_is_strict() {
        let sk = seed_key();
        let text = sign_prehashed(&sk, &b"x"[..], "t", "u").unwrap();
        let sig = Signature::parse(text.as_bytes()).unwrap();
        assert_eq!(sig.to_text(), text);
        assert_eq!(
            Signature::parse(text.replace('\n', "\r\n").as_bytes()).unwrap(),
            sig
        );
        assert_eq!(Signature::parse(text.trim_end().as_bytes()).unwrap(), sig);
        for bad in [
            format!("{text}\n"),
            text.replacen("untrusted comment: ", "untrusted comment:", 1),
            text.replacen("trusted comment: t", "trusted comment: t\u{1b}", 1),
            text.replacen("trusted comment: ", "Trusted comment: ", 1),
            text.replacen("==\n", "=\n", 1),
        ] {
            assert!(Signature::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        // legacy `Ed` signatures are refused with their own error
        let lines: Vec<&str> = text.lines().collect();
        let mut raw = base64::decode(lines[1]).unwrap();
        raw[1] = b'd';
        let legacy = format!(
            "{}\n{}\n{}\n{}\n",
            lines[0],
            base64::encode(&raw),
            lines[2],
            lines[3]
        );
        assert!(matches!(
            Signature::parse(legacy.as_bytes()),
            Err(MinisignError::Legacy)
        ));
        assert!(matches!(
            Signature::parse(&vec![b'a'; MAX_SIGNATURE_FILE_LEN + 1]),
            Err(MinisignError::TooLarge)
        ));
    }

    #[test]
    fn comment_limits_are_minisigns() {
        let sk = seed_key();
        let long = "a".repeat(MAX_TRUSTED_COMMENT_LEN);
        let text = sign_prehashed(&sk, &b""[..], &long, "u").unwrap();
        // the whole trusted-comment line with its `\n` fits minisign's 8192-byte buffer
        assert_eq!(text.lines().nth(2).unwrap().len() + 1, 8191);
        assert!(Signature::parse(text.as_bytes()).is_ok());
        assert!(matches!(
            sign_prehashed(&sk, &b""[..], &format!("{long}a"), "u"),
            Err(MinisignError::Comment {
                which: "trusted",
                ..
            })
        ));
        assert!(sign_prehashed(&sk, &b""[..], "a\nb", "u").is_err());
        assert!(sign_prehashed(&sk, &b""[..], "t", &"u".repeat(1004)).is_err());
    }

    #[test]
    fn prehash_is_blake2b_512() {
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        let d = prehash(&b"abc"[..]).unwrap();
        assert_eq!(
            hex::encode(d),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
             7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        );
        let mut p = Prehasher::new();
        p.write_all(b"a").unwrap();
        p.update(b"bc");
        assert_eq!(p.finalize(), d);
    }
}
