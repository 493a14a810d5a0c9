//! Signing: the statement's canonical bytes, signed with pure Ed25519 (RFC 8032).
//!
//! Like minisign's `sign`, the new signature is checked against the public key before it is
//! returned, so a broken key or encoder can never produce a package that does not verify.

use crate::signing::keys::SecretKey;
use crate::signing::sigfile::SignatureFile;
use crate::signing::statement::{Statement, StatementError};
use ed25519_dalek::Signer;
use thiserror::Error;

/// Why a statement could not be signed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The statement breaks a format rule.
    #[error("cannot sign: {0}")]
    Statement(StatementError),
    /// The statement names another key than the one signing it.
    #[error("the statement names key id `{statement}` but the signing key's id is `{key}`")]
    KeyIdMismatch {
        /// The key id in the statement.
        statement: String,
        /// The signing key's id.
        key: String,
    },
    /// The fresh signature did not verify (not expected; a defensive self-check).
    #[error("the new signature does not verify against the signing key's public key")]
    SelfCheck,
}

/// Signs `statement` with `key` and returns the `signature.sig` content.
///
/// The statement's `key_id` must be `key`'s id (set it from [`SecretKey::key_id`]).
/// Ed25519 is deterministic: the same key and statement always give the same bytes.
///
/// # Errors
/// [`SignError::Statement`] for an invalid statement, [`SignError::KeyIdMismatch`], or
/// [`SignError::SelfCheck`].
pub fn sign_statement(key: &SecretKey, statement: &Statement) -> Result<SignatureFile, SignError> {
    let own_id = key.key_id();
    if statement.key_id != own_id {
        return Err(SignError::KeyIdMismatch {
            statement: statement.key_id.clone(),
            key: own_id,
        });
    }
    let bytes = statement.to_bytes().map_err(SignError::Statement)?;
    let signature = key.signing_key().sign(&bytes);
    key.signing_key()
        .verifying_key()
        .verify_strict(&bytes, &signature)
        .map_err(|_| SignError::SelfCheck)?;
    SignatureFile::new(statement.clone(), signature.to_bytes()).map_err(SignError::Statement)
}
