//! Ed25519 keys: generation, key ids, key files and the formats accepted on input.
//!
//! Written by `keygen`: the private key as PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`,
//! the form `openssl genpkey -algorithm ed25519` writes) or, with a passphrase, as PKCS#8
//! `-----BEGIN ENCRYPTED PRIVATE KEY-----` (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, the form
//! `openssl pkcs8 -topk8` writes), mode 0600; the public key as SPKI PEM
//! (`-----BEGIN PUBLIC KEY-----`), mode 0644; and the same public key in minisign's format
//! (`*.minisign.pub`, see [`crate::signing::minisign`]), mode 0644. An optional key name is
//! stored as one `name: <name>` line *before* the PEM block in the PEM files: RFC 7468 §2 lets
//! explanatory text precede the encapsulation boundary and OpenSSL skips it (tested).
//!
//! Read: secret keys as PKCS#8 PEM or DER (encrypted ones with a passphrase the caller passes
//! in as bytes: this module never prompts), upstream's raw 32-byte seed, or 64 hex digits;
//! public keys as SPKI PEM or DER, minisign's public key file or its bare base64 line,
//! upstream's `ed25519:<hex>`, or 64 hex digits (any case).
//!
//! The key id is the first 16 hex digits (8 bytes) of the SHA-256 of the 32 raw public key
//! bytes: short enough to read aloud, and only a hint; trust always compares full keys.

use crate::digest::sha256_hex;
use crate::fs::{AtomicError, AtomicFile};
use crate::signing::minisign;
use crate::signing::statement::{check_text_value, ValueProblem};
use ed25519_dalek::pkcs8::KeypairBytes;
use ed25519_dalek::{SigningKey, VerifyingKey};
use pkcs8::der::pem::LineEnding;
use pkcs8::pkcs5::pbes2::{self, Kdf};
use pkcs8::pkcs5::EncryptionScheme;
use pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rand_core::RngCore;
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;

/// Largest key file the readers accept, in bytes.
pub const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

const NAME_PREFIX: &str = "name: ";

/// PBKDF2-HMAC-SHA256 iterations when `keygen --encrypt` writes a key: OWASP's 2023 figure
/// for this PRF. PBES2 with PBKDF2-HMAC-SHA256 is what `openssl pkcs8 -topk8` itself writes
/// by default, so any OpenSSL that writes it reads it; OpenSSL 3.0 refuses scrypt at the cost
/// the `pkcs8` crate picks by default (N = 2^15, r = 8: "memory limit exceeded"), hence PBKDF2
/// (docs/SIGNING.md).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Most PBKDF2 iterations accepted when reading an encrypted key (bounds the work a hostile
/// key file can ask for; 16x what we write).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Most memory (128·r·N bytes) a scrypt-encrypted key may ask for when read.
pub const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

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
    /// The key number of the minisign public key file it was read from (random when the key
    /// was made by `minisign -G`); `None` for every other source.
    minisign_keynum: Option<[u8; 8]>,
}

/// What `keygen` wrote.
#[derive(Clone, Debug)]
pub struct KeyPairInfo {
    /// Where the private key went.
    pub private_path: PathBuf,
    /// Where the public key went.
    pub public_path: PathBuf,
    /// Where the minisign public key went (see [`minisign_public_key_path`]).
    pub minisign_public_path: PathBuf,
    /// Whether the private key was written encrypted with a passphrase.
    pub encrypted: bool,
    /// The key id (see [`key_id`]).
    pub key_id: String,
    /// The public key.
    pub public_key: PublicKey,
}

/// Why a key could not be read, written or used.
#[derive(Debug, Error)]
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
    /// An encrypted PKCS#8 key was read without a passphrase.
    #[error("the private key is encrypted and no passphrase was given")]
    EncryptedSecretKey,
    /// The passphrase does not decrypt the key.
    #[error("the passphrase is wrong (or the encrypted key is damaged)")]
    WrongPassphrase,
    /// An empty passphrase, which would protect nothing.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// An encrypted key whose scheme or cost this reader refuses.
    #[error("the encrypted private key uses {detail}, which is not supported; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000 -in KEY -out new.pem`")]
    UnsupportedEncryption {
        /// What was found.
        detail: String,
    },
    /// A public key where a secret key is needed.
    #[error("this is {what}, not a secret key")]
    PublicKeyGiven {
        /// What kind of public key (`an SPKI public key`, `a minisign public key`, …).
        what: &'static str,
    },
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
            minisign_keynum: None,
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
        Ok(self.with_name_line(&pem))
    }

    /// The private key file text encrypted under `passphrase`: optional `name:` line (not
    /// encrypted), then PKCS#8 `ENCRYPTED PRIVATE KEY` PEM with LF ends. PBES2 with
    /// PBKDF2-HMAC-SHA256 ([`PBKDF2_ITERATIONS`], 16-byte random salt) and AES-256-CBC
    /// (16-byte random IV): the scheme `openssl pkcs8 -topk8` writes by default (OpenSSL 3.0
    /// reads ours: tests/cli/minisign.rs).
    ///
    /// # Errors
    /// [`KeyError::EmptyPassphrase`]; [`KeyError::Encode`] if the encoder fails (not expected).
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut salt);
        rand_core::OsRng.fill_bytes(&mut iv);
        self.encrypt_with(passphrase, PBKDF2_ITERATIONS, &salt, &iv)
    }

    fn encrypt_with(
        &self,
        passphrase: &[u8],
        iterations: u32,
        salt: &[u8; 16],
        iv: &[u8; 16],
    ) -> Result<Zeroizing<String>, KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        let encode = |e: &dyn fmt::Display| KeyError::Encode(e.to_string());
        let plain = KeypairBytes {
            secret_key: self.inner.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_der()
        .map_err(|e| encode(&e))?;
        let info = PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|e| encode(&e))?;
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, salt, iv)
            .map_err(|e| encode(&e))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| encode(&e))?;
        let pem = encrypted
            .to_pem(ENCRYPTED_LABEL, LineEnding::LF)
            .map_err(|e| encode(&e))?;
        Ok(self.with_name_line(&pem))
    }

    fn with_name_line(&self, pem: &str) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(pem.len() + 64));
        if let Some(name) = &self.name {
            out.push_str(NAME_PREFIX);
            out.push_str(name);
            out.push('\n');
        }
        out.push_str(pem);
        out
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
        Ok(PublicKey {
            inner,
            name: None,
            minisign_keynum: None,
        })
    }

    /// The key read from a minisign public key: its 32 bytes and its key number.
    ///
    /// # Errors
    /// [`KeyError::InvalidPoint`] or [`KeyError::WeakPublicKey`].
    pub fn from_minisign(keynum: [u8; 8], bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let mut key = PublicKey::from_bytes(bytes)?;
        key.minisign_keynum = Some(keynum);
        Ok(key)
    }

    /// The minisign key number of this key: the one of the minisign public key file it was
    /// read from, else the one derived from the key itself ([`minisign::derived_keynum`]),
    /// which is what `keygen` writes into `*.minisign.pub` and `sign --minisig` into the
    /// signature, so a PEM key and its minisign file always agree.
    pub fn minisign_keynum(&self) -> [u8; 8] {
        self.minisign_keynum
            .unwrap_or_else(|| minisign::derived_keynum(self))
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
/// ignored. An encrypted key (`ENCRYPTED PRIVATE KEY`) needs
/// [`read_secret_key_with_passphrase`].
///
/// # Errors
/// [`KeyError::UnrecognizedSecretKey`] (listing the accepted formats),
/// [`KeyError::PublicKeyGiven`] for any public key format,
/// [`KeyError::EncryptedSecretKey`], or [`KeyError::Malformed`] for a broken PKCS#8 key.
pub fn read_secret_key(bytes: &[u8]) -> Result<SecretKey, KeyError> {
    parse_secret_key(bytes, None)
}

/// Like [`read_secret_key`], decrypting an encrypted PKCS#8 key (PEM or DER) with
/// `passphrase` (its bytes exactly as typed or stored: no trimming, no normalisation). A key
/// that is not encrypted is read as it is and the passphrase ignored.
///
/// Encrypted keys are PBES2 with PBKDF2 (at most [`MAX_PBKDF2_ITERATIONS`]) or scrypt (at
/// most [`MAX_SCRYPT_MEMORY`]) and AES-CBC: what OpenSSL and this crate write.
///
/// # Errors
/// As [`read_secret_key`], plus [`KeyError::WrongPassphrase`],
/// [`KeyError::EmptyPassphrase`] and [`KeyError::UnsupportedEncryption`].
pub fn read_secret_key_with_passphrase(
    bytes: &[u8],
    passphrase: &[u8],
) -> Result<SecretKey, KeyError> {
    parse_secret_key(bytes, Some(passphrase))
}

/// Whether `bytes` hold an encrypted PKCS#8 key (PEM or DER), i.e. whether reading them
/// needs a passphrase.
pub fn is_encrypted_secret_key(bytes: &[u8]) -> bool {
    matches!(read_secret_key(bytes), Err(KeyError::EncryptedSecretKey))
}

fn parse_secret_key(bytes: &[u8], passphrase: Option<&[u8]>) -> Result<SecretKey, KeyError> {
    if let Ok(seed) = <[u8; 32]>::try_from(bytes) {
        return Ok(SecretKey::from_seed(&seed));
    }
    let malformed = |e: pkcs8::Error| KeyError::Malformed {
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
            ENCRYPTED_LABEL => {
                let (_, der) = pkcs8::der::Document::from_pem(&pem.block).map_err(|e| {
                    KeyError::Malformed {
                        kind: "encrypted PKCS#8 private key",
                        detail: e.to_string(),
                    }
                })?;
                let inner = decrypt_der(der.as_bytes(), passphrase)?;
                Ok(SecretKey {
                    inner,
                    name: pem.name,
                })
            }
            "PUBLIC KEY" => Err(KeyError::PublicKeyGiven {
                what: "an SPKI public key (`-----BEGIN PUBLIC KEY-----`)",
            }),
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
        if EncryptedPrivateKeyInfo::try_from(bytes).is_ok() {
            let inner = decrypt_der(bytes, passphrase)?;
            return Ok(SecretKey { inner, name: None });
        }
        let inner = SigningKey::from_pkcs8_der(bytes).map_err(malformed)?;
        return Ok(SecretKey { inner, name: None });
    }
    if trimmed.starts_with("ed25519:") {
        return Err(KeyError::PublicKeyGiven {
            what: "an upstream public key (`ed25519:…`)",
        });
    }
    if minisign::looks_like_public_key(text) && minisign::parse_public_key(text).is_ok() {
        return Err(KeyError::PublicKeyGiven {
            what: "a minisign public key",
        });
    }
    let found = if trimmed.starts_with(minisign::UNTRUSTED_PREFIX) {
        "a minisign file (a minisign secret key or signature); expert-cli signs with the PKCS#8 keys `expert-cli keygen` writes".to_owned()
    } else {
        describe(bytes)
    };
    Err(KeyError::UnrecognizedSecretKey { found })
}

/// Checks the encryption scheme's cost, then decrypts a DER `EncryptedPrivateKeyInfo`.
fn decrypt_der(der: &[u8], passphrase: Option<&[u8]>) -> Result<SigningKey, KeyError> {
    let info = EncryptedPrivateKeyInfo::try_from(der).map_err(|e| KeyError::Malformed {
        kind: "encrypted PKCS#8 private key",
        detail: e.to_string(),
    })?;
    let unsupported = |detail: String| Err(KeyError::UnsupportedEncryption { detail });
    match &info.encryption_algorithm {
        EncryptionScheme::Pbes1(alg) => {
            return unsupported(format!("the legacy PBES1 scheme `{}`", alg.oid()))
        }
        EncryptionScheme::Pbes2(params) => match &params.kdf {
            Kdf::Pbkdf2(k) if k.iteration_count > MAX_PBKDF2_ITERATIONS => {
                return unsupported(format!(
                    "PBKDF2 with {} iterations (at most {MAX_PBKDF2_ITERATIONS} are read)",
                    k.iteration_count
                ))
            }
            Kdf::Pbkdf2(_) => {}
            Kdf::Scrypt(k) => {
                let memory = 128u64
                    .saturating_mul(u64::from(k.block_size))
                    .saturating_mul(k.cost_parameter);
                if memory > MAX_SCRYPT_MEMORY || k.parallelization > 16 {
                    return unsupported(format!(
                        "scrypt with N = {}, r = {}, p = {} (at most {} MiB of memory and p = 16 are read)",
                        k.cost_parameter,
                        k.block_size,
                        k.parallelization,
                        MAX_SCRYPT_MEMORY >> 20
                    ));
                }
            }
            // The enum is `non_exhaustive` upstream: a KDF added later is not one we checked.
            _ => return unsupported("an unknown key derivation function".to_owned()),
        },
        _ => return unsupported("an unknown encryption scheme".to_owned()),
    }
    let Some(passphrase) = passphrase else {
        return Err(KeyError::EncryptedSecretKey);
    };
    if passphrase.is_empty() {
        return Err(KeyError::EmptyPassphrase);
    }
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        // A wrong passphrase shows up as bad CBC padding (or, rarely, as garbage DER below).
        // pkcs5 0.7 reports a padding failure while decrypting as `EncryptFailed`.
        pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
        ) => KeyError::WrongPassphrase,
        pkcs8::Error::EncryptedPrivateKey(other) => KeyError::UnsupportedEncryption {
            detail: other.to_string(),
        },
        _ => KeyError::WrongPassphrase,
    })?;
    SigningKey::from_pkcs8_der(plain.as_bytes()).map_err(|_| KeyError::WrongPassphrase)
}

/// Reads a public key from the bytes of a key file.
///
/// Accepted: text holding an SPKI PEM block, optionally preceded by a `name:` line;
/// minisign's public key file (`untrusted comment: …` then the base64 line) or its bare
/// base64 line (`RW…`, as `minisign -P` takes it); `ed25519:` followed by 64 hex digits
/// (upstream); 64 hex digits; SPKI DER (starts with a DER SEQUENCE). Hex may be upper or
/// lower case; surrounding whitespace is ignored.
///
/// # Errors
/// [`KeyError::UnrecognizedPublicKey`] (listing the accepted formats), [`KeyError::Malformed`],
/// [`KeyError::InvalidPoint`] or [`KeyError::WeakPublicKey`].
pub fn read_public_key(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    let malformed = |e: pkcs8::spki::Error| KeyError::Malformed {
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
            "PRIVATE KEY" | ENCRYPTED_LABEL => Err(KeyError::UnrecognizedPublicKey {
                found: "a private key; pass the `.pub` file written beside it".to_owned(),
            }),
            other => Err(KeyError::UnrecognizedPublicKey {
                found: format!("a PEM block labelled `{}`", other.escape_debug()),
            }),
        };
    }
    if minisign::looks_like_public_key(text) {
        return minisign::parse_public_key(text).map_err(|e| match e {
            minisign::MinisignError::Key(k) => k,
            other => KeyError::Malformed {
                kind: "minisign public key",
                detail: other.to_string(),
            },
        });
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

/// Reads a key file whole, refusing what is not a regular file and anything larger than
/// [`MAX_KEY_FILE_LEN`]. The buffer is wiped when dropped.
///
/// # Errors
/// [`KeyError::Io`] naming the path, or [`KeyError::File`] with [`KeyError::TooLarge`].
pub fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
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
    let bytes = read_key_file(path)?;
    in_file(path, read_secret_key(&bytes))
}

/// Reads a public key file (at most [`MAX_KEY_FILE_LEN`] bytes) with [`read_public_key`].
///
/// # Errors
/// [`KeyError::Io`] when it cannot be read; [`KeyError::File`] naming the path otherwise.
pub fn read_public_key_file(path: &Path) -> Result<PublicKey, KeyError> {
    let bytes = read_key_file(path)?;
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

/// The minisign public key path for a private key path: its last extension replaced by
/// `minisign.pub` (`publisher.pem` → `publisher.minisign.pub`, `key` → `key.minisign.pub`).
///
/// # Errors
/// As [`public_key_path`].
pub fn minisign_public_key_path(private: &Path) -> Result<PathBuf, KeyError> {
    public_key_path(private)?;
    Ok(private.with_extension("minisign.pub"))
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

/// How [`write_key_files`] writes a key pair.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyFileOptions<'a> {
    /// Stored as a `name: NAME` line before the PEM blocks.
    pub name: Option<&'a str>,
    /// Replace existing files.
    pub force: bool,
    /// Encrypt the private key under this passphrase (PKCS#8 PBES2, see
    /// [`SecretKey::to_encrypted_pkcs8_pem`]).
    pub passphrase: Option<&'a [u8]>,
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

fn atomic_error(e: AtomicError) -> KeyError {
    match e {
        AtomicError::OutputExists { path } => KeyError::Exists { path },
        AtomicError::IsDirectory { path } => KeyError::Io {
            action: "write",
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "it is a directory"),
        },
        AtomicError::NoParent { path } => KeyError::Io {
            action: "write",
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "its directory does not exist",
            ),
        },
        AtomicError::Io { path, source } => KeyError::Io {
            action: "write",
            path,
            source,
        },
    }
}

/// A key file staged through the one atomic writer: mode set at creation (before the first
/// byte) and again afterwards, because the umask may have removed bits (0644 for public
/// keys); committed later.
fn stage(path: &Path, force: bool, mode: u32, contents: &[u8]) -> Result<AtomicFile, KeyError> {
    let mut file = AtomicFile::create_with_mode(path, force, mode).map_err(atomic_error)?;
    let io = |source| KeyError::Io {
        action: "write",
        path: path.to_owned(),
        source,
    };
    #[cfg(unix)]
    file.file_mut()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(io)?;
    file.write_all(contents).map_err(io)?;
    Ok(file)
}

/// Refuses early what [`write_key_files`] would refuse for `private_path`: a path naming no
/// file or ending in `.pub`, and, without `force`, any of the three files existing. (`keygen
/// --encrypt` calls it before asking for a passphrase.)
///
/// # Errors
/// [`KeyError::NoFileName`], [`KeyError::SamePath`] or [`KeyError::Exists`].
pub fn check_key_outputs(private_path: &Path, force: bool) -> Result<(), KeyError> {
    let public_path = public_key_path(private_path)?;
    let minisign_path = minisign_public_key_path(private_path)?;
    if !force {
        for path in [private_path, public_path.as_path(), minisign_path.as_path()] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(KeyError::Exists {
                    path: path.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// Writes `secret` as a key pair (see [`write_key_files`]), unencrypted.
///
/// # Errors
/// As [`write_key_files`].
pub fn write_keypair_with(
    secret: &SecretKey,
    private_path: &Path,
    name: Option<&str>,
    force: bool,
) -> Result<KeyPairInfo, KeyError> {
    write_key_files(
        secret,
        private_path,
        &KeyFileOptions {
            name,
            force,
            passphrase: None,
        },
    )
}

/// Writes `secret` as three files: the private key at `private_path` (PKCS#8 PEM, encrypted
/// when a passphrase is given, 0600), the public key at [`public_key_path`] (SPKI PEM, 0644)
/// and the same public key in minisign's format at [`minisign_public_key_path`] (0644). The
/// PEM files start with a `name:` line when a name is given.
///
/// Missing parent directories are created with mode 0700. Each file goes through
/// [`AtomicFile`]: a temporary file in the target directory, renamed into place, so a key is
/// never half-written. Without `force`, an existing file is refused before anything is
/// written, and the final renames refuse to clobber a file that appeared meanwhile; if a
/// public file cannot be placed, the files already placed are removed again. With `force`,
/// the three files are replaced atomically, one after the other.
///
/// # Errors
/// [`KeyError::SamePath`], [`KeyError::NoFileName`], [`KeyError::InvalidName`],
/// [`KeyError::EmptyPassphrase`], [`KeyError::Exists`], or [`KeyError::Io`] naming the path.
pub fn write_key_files(
    secret: &SecretKey,
    private_path: &Path,
    options: &KeyFileOptions<'_>,
) -> Result<KeyPairInfo, KeyError> {
    let public_path = public_key_path(private_path)?;
    let minisign_path = minisign_public_key_path(private_path)?;
    let mut secret = secret.clone();
    if let Some(name) = options.name {
        secret = secret.with_name(name)?;
    }
    let force = options.force;
    // Before creating directories or deriving a key from the passphrase.
    check_key_outputs(private_path, force)?;
    let private_text = match options.passphrase {
        Some(passphrase) => secret.to_encrypted_pkcs8_pem(passphrase)?,
        None => secret.to_pkcs8_pem()?,
    };
    let public = secret.public_key();
    let public_text = public.to_spki_pem()?;
    let minisign_text = minisign::public_key_file(&public);
    create_parent_dirs(private_path.parent().unwrap_or(Path::new("")))?;
    let staged = [
        (
            private_path,
            stage(private_path, force, 0o600, private_text.as_bytes())?,
        ),
        (
            public_path.as_path(),
            stage(&public_path, force, 0o644, public_text.as_bytes())?,
        ),
        (
            minisign_path.as_path(),
            stage(&minisign_path, force, 0o644, minisign_text.as_bytes())?,
        ),
    ];
    let mut placed: Vec<&Path> = Vec::new();
    for (path, file) in staged {
        if let Err(e) = file.commit() {
            if !force {
                // Leave nothing behind: a private key without its public halves is useless,
                // and these files did not exist before.
                for p in placed {
                    let _ = fs::remove_file(p);
                }
            }
            return Err(atomic_error(e));
        }
        placed.push(path);
    }
    Ok(KeyPairInfo {
        private_path: private_path.to_owned(),
        public_path,
        minisign_public_path: minisign_path,
        encrypted: options.passphrase.is_some(),
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
        assert!(matches!(e, Err(KeyError::Malformed { .. })), "{e:?}");
        let e = read_secret_key(sk.public_key().to_spki_pem().unwrap().as_bytes()).unwrap_err();
        assert!(matches!(e, KeyError::PublicKeyGiven { .. }), "{e}");
        let minisign_pub = crate::signing::minisign::public_key_file(&sk.public_key());
        let e = read_secret_key(minisign_pub.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("minisign public key"), "{e}");
        assert!(read_secret_key(&[0x30, 0x01, 0x00]).is_err());
        assert!(read_secret_key(b"").is_err());
        assert!(read_secret_key(&[0xff; 33]).is_err());
        assert!(read_public_key(&[0xff; 32]).is_err());
    }

    #[test]
    fn encrypted_keys_round_trip() {
        let sk = SecretKey::from_seed(&seed()).with_name("ACME CI").unwrap();
        // Few iterations: this test is about the format, not the cost.
        let pem = sk
            .encrypt_with(b"correct horse", 1000, &[1; 16], &[2; 16])
            .unwrap();
        assert!(pem.starts_with("name: ACME CI\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert!(is_encrypted_secret_key(pem.as_bytes()));
        assert!(!is_encrypted_secret_key(
            sk.to_pkcs8_pem().unwrap().as_bytes()
        ));
        assert!(matches!(
            read_secret_key(pem.as_bytes()),
            Err(KeyError::EncryptedSecretKey)
        ));
        let back = read_secret_key_with_passphrase(pem.as_bytes(), b"correct horse").unwrap();
        assert_eq!(back.public_key(), sk.public_key());
        assert_eq!(back.name(), Some("ACME CI"));
        let e = read_secret_key_with_passphrase(pem.as_bytes(), b"wrong horse");
        assert!(matches!(e, Err(KeyError::WrongPassphrase)), "{e:?}");
        assert!(matches!(
            read_secret_key_with_passphrase(pem.as_bytes(), b""),
            Err(KeyError::EmptyPassphrase)
        ));
        // a plain key reads with or without a passphrase
        let plain = sk.to_pkcs8_pem().unwrap();
        assert!(read_secret_key_with_passphrase(plain.as_bytes(), b"x").is_ok());
        // DER too
        let der = pkcs8::der::Document::from_pem(pem.split_once('\n').unwrap().1)
            .unwrap()
            .1;
        assert!(is_encrypted_secret_key(der.as_bytes()));
        assert_eq!(
            read_secret_key_with_passphrase(der.as_bytes(), b"correct horse")
                .unwrap()
                .public_key(),
            sk.public_key()
        );
        assert!(matches!(
            sk.to_encrypted_pkcs8_pem(b""),
            Err(KeyError::EmptyPassphrase)
        ));
    }

    #[test]
    fn encrypted_key_cost_is_bounded() {
        use pkcs8::der::Encode;
        // Built by hand: encrypting at that cost would take seconds.
        let (salt, iv) = ([1u8; 16], [2u8; 16]);
        let params =
            pbes2::Parameters::pbkdf2_sha256_aes256cbc(MAX_PBKDF2_ITERATIONS + 1, &salt, &iv)
                .unwrap();
        let info = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: &[0u8; 64],
        };
        let der = info.to_der().unwrap();
        let e = read_secret_key_with_passphrase(&der, b"pw").unwrap_err();
        assert!(matches!(e, KeyError::UnsupportedEncryption { .. }), "{e}");
        assert!(e.to_string().contains("iterations"), "{e}");
    }

    #[test]
    fn minisign_public_keys_read_with_their_keynum() {
        let pk = SecretKey::from_seed(&seed()).public_key();
        let file = crate::signing::minisign::public_key_file(&pk);
        let read = read_public_key(file.as_bytes()).unwrap();
        assert_eq!(read, pk);
        assert_eq!(read.minisign_keynum(), pk.minisign_keynum());
        let random = PublicKey::from_minisign([1, 2, 3, 4, 5, 6, 7, 8], &pk.to_bytes()).unwrap();
        let file = crate::signing::minisign::public_key_file(&random);
        assert!(file.starts_with("untrusted comment: minisign public key 807060504030201\n"));
        let read = read_public_key(file.as_bytes()).unwrap();
        assert_eq!(read.minisign_keynum(), [1, 2, 3, 4, 5, 6, 7, 8]);
        let e = read_public_key(b"untrusted comment: x\nRWQ\n").unwrap_err();
        assert!(e.to_string().contains("minisign public key"), "{e}");
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
