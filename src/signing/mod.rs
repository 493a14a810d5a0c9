//! Keys, signing and verification of `.expert` packages (`docs/SIGNING.md`).
//!
//! What this module owns:
//! - [`keys`]: Ed25519 key pairs, their files (PKCS#8 / SPKI PEM, plus upstream's legacy raw
//!   and hex forms on input) and the key id;
//! - [`statement`]: what a signature binds — the signed message
//!   (`manifest.json:<sha256 of manifest.json>`, the one the expert runtime checks) and the
//!   signed `integrity` section of the manifest. It is the ONLY place either is built;
//! - [`sigfile`]: the `signature.sig` member (the signature in hex);
//! - [`sign`]: [`sign_package`], the library operation behind `expert-cli sign`;
//! - [`verify`]: [`verify_package`], the operation behind `expert-cli verify`, and its four
//!   outcomes (verified, untrusted, unsigned, invalid);
//! - [`trust`]: the trusted key set, and where it comes from (flags, environment, store).
//! - [`minisign`]: minisign's public key and prehashed signature formats (`*.minisign.pub`,
//!   `PACKAGE.minisig`), so stock `minisign -V` checks our detached signatures.
//! - [`detached`]: the package's detached signature `PACKAGE.minisig` — its trusted comment
//!   (`sign --minisig`) and `verify`'s fast path.
//!
//! What it must not do: print, exit or read the environment (the command passes values such
//! as an environment variable's content in). ed25519-dalek and PEM handling live only here.

mod base64;
pub mod detached;
pub mod keys;
pub mod minisign;
pub mod sigfile;
pub mod sign;
pub mod statement;
pub mod trust;
pub mod verify;

pub use detached::{
    minisig_path, DetachedCheck, DetachedProblem, DetachedSignature, DetachedStatus,
};
pub use keys::{
    check_key_outputs, is_encrypted_secret_key, key_id, minisign_public_key_path, public_key_path,
    read_key_file, read_public_key, read_public_key_file, read_secret_key, read_secret_key_file,
    read_secret_key_with_passphrase, write_key_files, write_keypair, write_keypair_with, KeyError,
    KeyFileOptions, KeyPairInfo, PublicKey, SecretKey,
};
pub use minisign::MinisignError;
pub use sigfile::{SigFileError, SignatureFile, MAX_SIGNATURE_FILE_LEN};
pub use sign::{sign_manifest, sign_package, SignError, SignOptions, SignReport, SignedManifest};
pub use statement::{message, ExpertFacts, IntegrityProblem, SignedIntegrity};
pub use trust::{
    SkipReason, SkippedEntry, TrustError, TrustOrigin, TrustSources, TrustedKey, TrustedKeys,
};
pub use verify::{
    check_members, file_name_warning, verify_contents, verify_package, Check, MemberDigest,
    Outcome, Reason, Signer, Verdict, VerifyError, VerifyOptions, VerifyReport, Warning,
};

/// How a member name, or any other text taken from a package, is shown in a message:
/// [`archive::display_name`](crate::archive::display_name), the one function for it (controls,
/// bidirectional, zero-width and other invisible characters escaped as `\u{…}`).
pub fn display_name(name: &str) -> String {
    crate::archive::display_name(name).to_string()
}
