//! Ed25519 keys: generation, key ids, key files and the formats accepted on input.
//!
//! Written by `keygen`: the private key as PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`,
//! the form `openssl genpkey -algorithm ed25519` writes), mode 0600; the public key as SPKI
//! PEM (`-----BEGIN PUBLIC KEY-----`), mode 0644. An optional key name is stored as one
//! `name: <name>` line *before* the PEM block in both files: RFC 7468 §2 lets explanatory
//! text precede the encapsulation boundary and OpenSSL skips it (tested).
//!
//! Read: secret keys as PKCS#8 PEM or DER, upstream's raw 32-byte seed, or 64 hex digits;
//! public keys as SPKI PEM or DER, upstream's `ed25519:<hex>`, or 64 hex digits (any case).
//!
//! The key id is the first 16 hex digits (8 bytes) of the SHA-256 of the 32 raw public key
//! bytes: short enough to read aloud, and only a hint; trust always compares full keys.

use crate::digest::sha256_hex;
use crate::signing::statement::{check_text_value, ValueProblem};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;

/// Largest key file the readers accept, in bytes.
pub const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

const NAME_PREFIX: &str = "name: ";

/// An Ed25519 signing key. Its `Debug` output shows only the key id.
#[derive(Clone)]
pub struct SecretKey {
    inner: SigningKey,
    name: Option<String>,
}

/// An Ed25519 public key, checked to be a valid point of large order.
///
/// Equality compares the 32 key bytes only, never the name.
#[derive(Clone)]
pub struct PublicKey {
    inner: VerifyingKey,
    name: Option<String>,
}

/// What `keygen` wrote.
#[derive(Clone, Debug)]
pub struct KeyPairInfo {
    /// Where the private key went.
    pub private_path: PathBuf,
    /// Where the public key went.
    pub public_path: PathBuf,
    /// The key id (see [`key_id`]).
    pub key_id: String,
    /// The public key.
    pub public_key: PublicKey,
}

/// Why a key could not be read, written or used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// None of the accepted secret key formats matched.
    #[error("unrecognised secret key ({found}); expected a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), PKCS#8 DER, a raw 32-byte Ed25519 seed (upstream keygen) or 64 hex digits")]
    UnrecognizedSecretKey {
        /// A short description of what was found.
        found: String,
    },
    /// None of the accepted public key formats matched.
    #[error("unrecognised public key ({found}); expected an SPKI PEM file (`-----BEGIN PUBLIC KEY-----`), `ed25519:` followed by 64 hex digits (upstream keygen) or 64 hex digits")]
    UnrecognizedPublicKey {
        /// A short description of what was found.
        found: String,
    },
    /// An encrypted PKCS#8 key.
    #[error("encrypted private keys are not supported; decrypt it first with `openssl pkey -in KEY -out plain.pem`")]
    EncryptedSecretKey,
    /// The PEM block exists but its content is not a valid Ed25519 key.
    #[error("the {kind} is not a valid Ed25519 key: {detail}")]
    Malformed {
        /// `PKCS#8 private key` or `SPKI public key`.
        kind: &'static str,
        /// The decoder's explanation.
        detail: String,
    },
    /// 32 bytes that are not a curve point.
    #[error("the public key bytes are not a valid Ed25519 point")]
    InvalidPoint,
    /// A small-order public key, for which signatures prove nothing.
    #[error("the public key is a weak (small-order) Ed25519 key and cannot be used")]
    WeakPublicKey,
    /// The key name breaks the value rules.
    #[error("the key name {0}")]
    InvalidName(ValueProblem),
    /// Writing a key file failed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done (`create directory`, `write`, …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A key file was refused; the reason is the source.
    #[error("cannot use key file `{}`", path.display())]
    File {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<KeyError>,
    },
    /// A key file larger than [`MAX_KEY_FILE_LEN`].
    #[error("the key file is larger than {MAX_KEY_FILE_LEN} bytes")]
    TooLarge,
    /// The output exists and overwriting was not allowed.
    #[error("`{}` already exists and overwriting was not allowed", path.display())]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The private and public key would share one path.
    #[error("the private key path `{}` ends in `.pub`, which is where its public key goes; choose another name such as `publisher.pem`", path.display())]
    SamePath {
        /// The requested private key path.
        path: PathBuf,
    },
    /// The output path does not name a file.
    #[error("`{}` does not name a file", path.display())]
    NoFileName {
        /// The requested path.
        path: PathBuf,
    },
    /// Encoding a key failed (not expected with valid keys).
    #[error("cannot encode the key: {0}")]
    Encode(String),
}

/// The key id of `key`: the first 16 lowercase hex digits of SHA-256 over its 32 raw bytes.
pub fn key_id(key: &PublicKey) -> String {
    let mut id = sha256_hex(key.inner.as_bytes());
    id.truncate(16);
    id
}

fn check_name(name: &str) -> Result<(), KeyError> {
    check_text_value(name).map_err(KeyError::InvalidName)
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> SecretKey {
        SecretKey {
            inner: SigningKey::generate(&mut rand_core::OsRng),
            name: None,
        }
    }

    /// The key for a 32-byte Ed25519 seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            inner: SigningKey::from_bytes(seed),
            name: None,
        }
    }

    /// Attaches a name (stored before the PEM block when written).
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] when the name breaks the statement value rules.
    pub fn with_name(mut self, name: &str) -> Result<SecretKey, KeyError> {
        check_name(name)?;
        self.name = Some(name.to_owned());
        Ok(self)
    }

    /// The name read from the key file, if it had one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The matching public key (with the same name).
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: self.inner.verifying_key(),
            name: self.name.clone(),
        }
    }

    /// The key id of the public key.
    pub fn key_id(&self) -> String {
        key_id(&self.public_key())
    }

    /// The private key file text: optional `name:` line, then PKCS#8 v1 PEM with LF ends.
    ///
    /// # Errors
    /// [`KeyError::Encode`] if the encoder fails (not expected).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        // v1 (no embedded public key): the exact shape `openssl genpkey` writes.
        let bytes = KeypairBytes {
            secret_key: self.inner.to_bytes(),
            public_key: None,
        };
        let pem = bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        let mut out = Zeroizing::new(String::with_capacity(pem.len() + 64));
        if let Some(name) = &self.name {
            out.push_str(NAME_PREFIX);
            out.push_str(name);
            out.push('\n');
        }
        out.push_str(&pem);
        Ok(out)
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.inner
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.key_id())
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The key for 32 raw bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidPoint`] or [`KeyError::WeakPublicKey`].
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let inner = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
        PublicKey::checked(inner)
    }

    fn checked(inner: VerifyingKey) -> Result<PublicKey, KeyError> {
        if inner.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(PublicKey { inner, name: None })
    }

    /// The 32 raw key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The 64 lowercase hex digits of the raw key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.inner.as_bytes())
    }

    /// The key id (see [`key_id`]).
    pub fn key_id(&self) -> String {
        key_id(self)
    }

    /// The name read from the key file, if it had one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The public key file text: optional `name:` line, then SPKI PEM with LF ends.
    ///
    /// # Errors
    /// [`KeyError::Encode`] if the encoder fails (not expected).
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        let pem = self
            .inner
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(match &self.name {
            Some(name) => format!("{NAME_PREFIX}{name}\n{pem}"),
            None => pem,
        })
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.inner
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.inner == other.inner
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_id", &self.key_id())
            .field("hex", &self.to_hex())
            .field("name", &self.name)
            .finish()
    }
}

/// A PEM file split into its label, its normalised block text and the optional name line.
struct Pem<'a> {
    label: &'a str,
    block: String,
    name: Option<String>,
}

fn split_pem(text: &str) -> Result<Option<Pem<'_>>, KeyError> {
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let mut name = None;
    for line in text[..start].lines() {
        if let Some(value) = line.trim_end_matches('\r').strip_prefix(NAME_PREFIX) {
            check_name(value)?;
            name = Some(value.to_owned());
        }
    }
    let rest = &text[start + "-----BEGIN ".len()..];
    let label = rest.split_once("-----").map_or("", |(l, _)| l);
    // The strict RFC 7468 decoder wants LF or CRLF consistently and one final newline.
    let mut block: String = text[start..].trim_end().replace("\r\n", "\n");
    block.push('\n');
    Ok(Some(Pem { label, block, name }))
}

fn describe(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(t) if t.trim().is_empty() => "the input is empty".to_owned(),
        Ok(t) => format!("{} bytes of text", t.len()),
        Err(_) => format!("{} bytes of binary data", bytes.len()),
    }
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Reads a secret key from the bytes of a key file or of an environment variable.
///
/// Accepted, in this order: exactly 32 bytes (upstream's raw seed); text holding a PKCS#8
/// PEM block, optionally preceded by a `name:` line; text holding 64 hex digits (any
/// case); PKCS#8 DER (starts with a DER SEQUENCE). Surrounding whitespace in text is
/// ignored.
///
/// # Errors
/// [`KeyError::UnrecognizedSecretKey`] (listing the accepted formats),
/// [`KeyError::EncryptedSecretKey`], or [`KeyError::Malformed`] for a broken PKCS#8 key.
pub fn read_secret_key(bytes: &[u8]) -> Result<SecretKey, KeyError> {
    if let Ok(seed) = <[u8; 32]>::try_from(bytes) {
        return Ok(SecretKey::from_seed(&seed));
    }
    let malformed = |e: ed25519_dalek::pkcs8::Error| KeyError::Malformed {
        kind: "PKCS#8 private key",
        detail: e.to_string(),
    };
    // Text first: 64 hex digits start with `0` (0x30) as often as DER does.
    let text = std::str::from_utf8(bytes).unwrap_or("");
    if let Some(pem) = split_pem(text)? {
        return match pem.label {
            "PRIVATE KEY" => {
                let inner = SigningKey::from_pkcs8_pem(&pem.block).map_err(malformed)?;
                Ok(SecretKey {
                    inner,
                    name: pem.name,
                })
            }
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::EncryptedSecretKey),
            other => Err(KeyError::UnrecognizedSecretKey {
                found: format!("a PEM block labelled `{}`", other.escape_debug()),
            }),
        };
    }
    let trimmed = text.trim();
    if let Some(seed) = decode_hex32(trimmed) {
        return Ok(SecretKey::from_seed(&seed));
    }
    if bytes.first() == Some(&0x30) {
        let inner = SigningKey::from_pkcs8_der(bytes).map_err(malformed)?;
        return Ok(SecretKey { inner, name: None });
    }
    let found = if trimmed.starts_with("ed25519:") {
        "an upstream public key, not a secret key".to_owned()
    } else {
        describe(bytes)
    };
    Err(KeyError::UnrecognizedSecretKey { found })
}

/// Reads a public key from the bytes of a key file.
///
/// Accepted: text holding an SPKI PEM block, optionally preceded by a `name:` line;
/// `ed25519:` followed by 64 hex digits (upstream); 64 hex digits; SPKI DER (starts with
/// a DER SEQUENCE). Hex may be upper or lower case; surrounding whitespace is ignored.
///
/// # Errors
/// [`KeyError::UnrecognizedPublicKey`] (listing the accepted formats), [`KeyError::Malformed`],
/// [`KeyError::InvalidPoint`] or [`KeyError::WeakPublicKey`].
pub fn read_public_key(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    let malformed = |e: ed25519_dalek::pkcs8::spki::Error| KeyError::Malformed {
        kind: "SPKI public key",
        detail: e.to_string(),
    };
    // Text first: 64 hex digits start with `0` (0x30) as often as DER does.
    let text = std::str::from_utf8(bytes).unwrap_or("");
    if let Some(pem) = split_pem(text)? {
        return match pem.label {
            "PUBLIC KEY" => {
                let inner = VerifyingKey::from_public_key_pem(&pem.block).map_err(malformed)?;
                let mut key = PublicKey::checked(inner)?;
                key.name = pem.name;
                Ok(key)
            }
            "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => Err(KeyError::UnrecognizedPublicKey {
                found: "a private key; pass the `.pub` file written beside it".to_owned(),
            }),
            other => Err(KeyError::UnrecognizedPublicKey {
                found: format!("a PEM block labelled `{}`", other.escape_debug()),
            }),
        };
    }
    let trimmed = text.trim();
    let hex_part = trimmed.strip_prefix("ed25519:").unwrap_or(trimmed);
    if let Some(raw) = decode_hex32(hex_part) {
        return PublicKey::from_bytes(&raw);
    }
    if bytes.first() == Some(&0x30) {
        let inner = VerifyingKey::from_public_key_der(bytes).map_err(malformed)?;
        return PublicKey::checked(inner);
    }
    Err(KeyError::UnrecognizedPublicKey {
        found: describe(bytes),
    })
}

fn read_bounded(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let io = |source| KeyError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    // A FIFO or device would block `open` or never end: only regular files (or links to them)
    // are keys. (The signing module has no libc, so this is a check before opening.)
    let meta = fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "it is a directory"
        } else {
            "it is not a regular file"
        };
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            what,
        )));
    }
    let file = fs::File::open(path).map_err(io)?;
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(KeyError::File {
            path: path.to_owned(),
            source: Box::new(KeyError::TooLarge),
        });
    }
    Ok(buf)
}

fn in_file<T>(path: &Path, r: Result<T, KeyError>) -> Result<T, KeyError> {
    r.map_err(|e| KeyError::File {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

/// Reads a secret key file (at most [`MAX_KEY_FILE_LEN`] bytes) with [`read_secret_key`].
///
/// # Errors
/// [`KeyError::Io`] when it cannot be read; [`KeyError::File`] naming the path otherwise.
pub fn read_secret_key_file(path: &Path) -> Result<SecretKey, KeyError> {
    let bytes = read_bounded(path)?;
    in_file(path, read_secret_key(&bytes))
}

/// Reads a public key file (at most [`MAX_KEY_FILE_LEN`] bytes) with [`read_public_key`].
///
/// # Errors
/// [`KeyError::Io`] when it cannot be read; [`KeyError::File`] naming the path otherwise.
pub fn read_public_key_file(path: &Path) -> Result<PublicKey, KeyError> {
    let bytes = read_bounded(path)?;
    in_file(path, read_public_key(&bytes))
}

/// The public key path for a private key path: its last extension replaced by `pub`
/// (`publisher.pem` → `publisher.pub`, `a.b.pem` → `a.b.pub`, `key` → `key.pub`).
///
/// # Errors
/// [`KeyError::NoFileName`] when `private` names no file; [`KeyError::SamePath`] when it
/// already ends in `.pub` (any case), so both keys would share one path.
pub fn public_key_path(private: &Path) -> Result<PathBuf, KeyError> {
    if private.file_name().is_none() || private.as_os_str().is_empty() {
        return Err(KeyError::NoFileName {
            path: private.to_owned(),
        });
    }
    let ends_in_pub = private
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pub"));
    let public = private.with_extension("pub");
    if ends_in_pub || public == private {
        return Err(KeyError::SamePath {
            path: private.to_owned(),
        });
    }
    Ok(public)
}

/// Generates a key pair and writes it: see [`write_keypair_with`].
///
/// # Errors
/// As [`write_keypair_with`].
pub fn write_keypair(
    private_path: &Path,
    name: Option<&str>,
    force: bool,
) -> Result<KeyPairInfo, KeyError> {
    write_keypair_with(&SecretKey::generate(), private_path, name, force)
}

fn create_parent_dirs(dir: &Path) -> Result<(), KeyError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| KeyError::Io {
        action: "create directory",
        path: dir.to_owned(),
        source,
    })
}

fn temp_with(dir: &Path, mode: u32, contents: &[u8]) -> Result<tempfile::NamedTempFile, KeyError> {
    let io = |action, source| KeyError::Io {
        action,
        path: dir.to_owned(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".expert-key-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    // The mode is set at creation, before any byte is written; set it again afterwards
    // because the process umask may have removed bits (0644 for the public key).
    let mut file = builder
        .tempfile_in(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .map_err(|e| io("create a temporary file in", e))?;
    #[cfg(unix)]
    fs::set_permissions(
        file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(mode),
    )
    .map_err(|e| io("set permissions in", e))?;
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(contents)
        .map_err(|e| io("write a temporary file in", e))?;
    file.as_file()
        .sync_all()
        .map_err(|e| io("write a temporary file in", e))?;
    Ok(file)
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Writes `secret` as a key pair: the private key at `private_path` (PKCS#8 PEM, 0600) and
/// the public key at [`public_key_path`] (SPKI PEM, 0644), both preceded by a `name:` line
/// when `name` is given.
///
/// Missing parent directories are created with mode 0700. Each file is written to a
/// temporary file in the target directory (mode set before the first byte) and then
/// renamed into place, so a key is never half-written. Without `force`, an existing private
/// or public file is refused, and the final rename refuses to clobber a file that appeared
/// meanwhile; if the public key cannot be placed, the new private key is removed again.
/// With `force`, both files are replaced atomically.
///
/// # Errors
/// [`KeyError::SamePath`], [`KeyError::NoFileName`], [`KeyError::InvalidName`],
/// [`KeyError::Exists`], or [`KeyError::Io`] naming the path.
pub fn write_keypair_with(
    secret: &SecretKey,
    private_path: &Path,
    name: Option<&str>,
    force: bool,
) -> Result<KeyPairInfo, KeyError> {
    let public_path = public_key_path(private_path)?;
    let mut secret = secret.clone();
    if let Some(name) = name {
        secret = secret.with_name(name)?;
    }
    let dir = private_path.parent().unwrap_or(Path::new(""));
    create_parent_dirs(dir)?;
    if !force {
        for path in [private_path, public_path.as_path()] {
            if exists(path) {
                return Err(KeyError::Exists {
                    path: path.to_owned(),
                });
            }
        }
    }
    let public = secret.public_key();
    let private_tmp = temp_with(dir, 0o600, secret.to_pkcs8_pem()?.as_bytes())?;
    let public_tmp = temp_with(dir, 0o644, public.to_spki_pem()?.as_bytes())?;
    let persist_err = |path: &Path, e: tempfile::PersistError| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                action: "write",
                path: path.to_owned(),
                source: e.error,
            }
        }
    };
    if force {
        private_tmp
            .persist(private_path)
            .map_err(|e| persist_err(private_path, e))?;
        public_tmp
            .persist(&public_path)
            .map_err(|e| persist_err(&public_path, e))?;
    } else {
        private_tmp
            .persist_noclobber(private_path)
            .map_err(|e| persist_err(private_path, e))?;
        if let Err(e) = public_tmp.persist_noclobber(&public_path) {
            // Leave nothing behind: the private key without its public half is useless.
            let _ = fs::remove_file(private_path);
            return Err(persist_err(&public_path, e));
        }
    }
    Ok(KeyPairInfo {
        private_path: private_path.to_owned(),
        public_path,
        key_id: public.key_id(),
        public_key: public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        let pk = SecretKey::from_seed(&seed()).public_key();
        let full = sha256_hex(&pk.to_bytes());
        assert_eq!(key_id(&pk), full[..16]);
        assert_eq!(key_id(&pk).len(), 16);
    }

    #[test]
    fn secret_formats_all_read_to_the_same_key() {
        let sk = SecretKey::from_seed(&seed());
        let pem = sk.to_pkcs8_pem().unwrap();
        let der = SigningKey::from_bytes(&seed()).to_pkcs8_der().unwrap();
        let hex_text = format!("{}\n", hex::encode(seed()));
        let crlf = pem.replace('\n', "\r\n");
        let raw = seed();
        let inputs: Vec<&[u8]> = vec![
            &raw,
            pem.as_bytes(),
            der.as_bytes(),
            hex_text.as_bytes(),
            crlf.as_bytes(),
        ];
        for input in inputs {
            let read = read_secret_key(input).unwrap();
            assert_eq!(read.public_key(), sk.public_key());
        }
        let upper = hex::encode_upper(seed());
        assert!(read_secret_key(upper.as_bytes()).is_ok());
    }

    #[test]
    fn name_line_round_trips() {
        let sk = SecretKey::from_seed(&seed()).with_name("ACME CI").unwrap();
        let pem = sk.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("name: ACME CI\n-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(
            read_secret_key(pem.as_bytes()).unwrap().name(),
            Some("ACME CI")
        );
        let pubpem = sk.public_key().to_spki_pem().unwrap();
        assert_eq!(
            read_public_key(pubpem.as_bytes()).unwrap().name(),
            Some("ACME CI")
        );
        assert!(SecretKey::from_seed(&seed()).with_name("a\nb").is_err());
    }

    #[test]
    fn public_formats() {
        let pk = SecretKey::from_seed(&seed()).public_key();
        let hex_lower = pk.to_hex();
        let inputs = [
            pk.to_spki_pem().unwrap(),
            format!("ed25519:{hex_lower}"),
            format!("ed25519:{}\n", hex_lower.to_uppercase()),
            hex_lower.clone(),
            format!("  {}\r\n", hex_lower.to_uppercase()),
        ];
        for input in inputs {
            assert_eq!(read_public_key(input.as_bytes()).unwrap(), pk, "{input:?}");
        }
        let der = pk.verifying_key().to_public_key_der().unwrap();
        assert_eq!(read_public_key(der.as_bytes()).unwrap(), pk);
    }

    #[test]
    fn errors_name_accepted_formats() {
        let e = read_secret_key(b"hello").unwrap_err().to_string();
        assert!(
            e.contains("PKCS#8 PEM") && e.contains("raw 32-byte") && e.contains("64 hex"),
            "{e}"
        );
        let e = read_public_key(b"hello").unwrap_err().to_string();
        assert!(e.contains("SPKI PEM") && e.contains("ed25519:"), "{e}");
        let sk = SecretKey::from_seed(&seed());
        let e = read_public_key(sk.to_pkcs8_pem().unwrap().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("private key"), "{e}");
        let e = read_secret_key(format!("ed25519:{}", "0".repeat(64)).as_bytes()).unwrap_err();
        assert!(e.to_string().contains("public key"), "{e}");
        let e = read_secret_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        assert!(matches!(e, Err(KeyError::EncryptedSecretKey)));
        assert!(read_secret_key(&[0x30, 0x01, 0x00]).is_err());
        assert!(read_secret_key(b"").is_err());
        assert!(read_secret_key(&[0xff; 33]).is_err());
        assert!(read_public_key(&[0xff; 32]).is_err());
    }

    #[test]
    fn weak_and_invalid_public_keys_refused() {
        // The identity point (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(&identity),
            Err(KeyError::WeakPublicKey)
        ));
        let text = format!("ed25519:{}", hex::encode(identity));
        assert!(read_public_key(text.as_bytes()).is_err());
    }

    #[test]
    fn public_path_rule() {
        let p = |s: &str| public_key_path(Path::new(s)).map(|p| p.display().to_string());
        assert_eq!(p("publisher.pem").unwrap(), "publisher.pub");
        assert_eq!(p("a.b.pem").unwrap(), "a.b.pub");
        assert_eq!(p("dir/key").unwrap(), "dir/key.pub");
        assert!(matches!(p("k.pub"), Err(KeyError::SamePath { .. })));
        assert!(matches!(p("k.PUB"), Err(KeyError::SamePath { .. })));
        assert!(matches!(p(""), Err(KeyError::NoFileName { .. })));
        assert!(matches!(p(".."), Err(KeyError::NoFileName { .. })));
    }
}
