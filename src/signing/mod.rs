//! Keys, the signed statement, signing and verification of `.expert` packages.
//!
//! What this module owns (see `docs/SIGNING.md` for the user-facing description):
//! - [`keys`]: Ed25519 key pairs, their files (PKCS#8 / SPKI PEM, plus upstream's legacy raw
//!   and hex forms on input) and the key id;
//! - [`statement`]: the canonical signed message. It is the ONLY place the signed bytes are
//!   built; verification parses and re-serialises through it, never a copy of its own;
//! - [`sigfile`]: the `signature.sig` archive member (statement bytes plus signature line);
//! - [`sign`] and [`verify`]: producing and checking signatures, and the four verification
//!   outcomes (verified, untrusted, unsigned, invalid);
//! - [`trust`]: the set of trusted public keys built from `--pubkey` files and directories;
//! - [`minisign`]: minisign's public key and prehashed signature formats (`*.minisign.pub`,
//!   `PACKAGE.minisig`), so stock `minisign -V` checks our detached signatures.
//!
//! What it must not do: print, exit, read the environment (the command passes an
//! environment variable's value in as bytes) or read archives (the command streams the
//! archive and hands over member digests). ed25519-dalek and PEM handling live only here.

mod base64;
pub mod keys;
pub mod minisign;
pub mod sigfile;
pub mod sign;
pub mod statement;
pub mod trust;
pub mod verify;

pub use keys::{
    check_key_outputs, is_encrypted_secret_key, key_id, minisign_public_key_path, public_key_path,
    read_key_file, read_public_key, read_public_key_file, read_secret_key, read_secret_key_file,
    read_secret_key_with_passphrase, write_key_files, write_keypair, write_keypair_with, KeyError,
    KeyFileOptions, KeyPairInfo, PublicKey, SecretKey,
};
pub use minisign::MinisignError;
pub use sigfile::{SigFileError, SignatureFile, MAX_SIGNATURE_FILE_LEN, SIGNATURE_MEMBER};
pub use sign::{sign_statement, SignError};
pub use statement::{format_signed_at, Statement, StatementError};
pub use trust::{SkipReason, SkippedEntry, TrustError, TrustedKey, TrustedKeys};
pub use verify::{
    check_members, report, verify_signature_file, Invalid, ManifestFacts, Outcome, Report,
    VerifiedStatement, VerifyError,
};
