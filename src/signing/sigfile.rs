//! The `signature.sig` archive member: the statement followed by one signature line.
//!
//! ```text
//! <statement bytes, exactly as signed, ending in "\n">
//! signature: <standard padded base64 of the 64-byte Ed25519 signature>\n
//! ```
//!
//! Every line but the last is the signed statement, so standard tools split it:
//! `sed '$d' signature.sig > statement.txt` and
//! `sed -n '$s/^signature: //p' signature.sig | openssl base64 -d -A > sig.bin`, then
//! `openssl pkeyutl -verify -pubin -inkey publisher.pub -rawin -in statement.txt -sigfile sig.bin`
//! (the recipe in `docs/SIGNING.md`, run by `tests/cli/signing.rs`). The key id is inside the
//! statement and therefore signed; nothing outside the statement is trusted.

use crate::signing::base64;
use crate::signing::statement::{Statement, StatementError, RESERVED_MEMBER};
use thiserror::Error;

/// The archive member name of the signature file.
pub const SIGNATURE_MEMBER: &str = RESERVED_MEMBER;

/// The largest `signature.sig` accepted, in bytes; readers should stop reading past it.
pub const MAX_SIGNATURE_FILE_LEN: usize = 1024 * 1024;

const SIGNATURE_PREFIX: &str = "signature: ";

/// A parsed or freshly made `signature.sig`: a valid statement, its exact bytes and the
/// signature over them. Fields are private so that a value always holds a valid statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureFile {
    statement: Statement,
    statement_bytes: Vec<u8>,
    signature: [u8; 64],
}

/// Why a `signature.sig` is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigFileError {
    /// Larger than [`MAX_SIGNATURE_FILE_LEN`].
    #[error("`signature.sig` is {len} bytes long, more than the limit of {max}")]
    TooLarge {
        /// Its length (or a lower bound).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The last line is missing, lacks its `\n`, or is not `signature: …`.
    #[error("`signature.sig` does not end with a `signature: <base64>` line and a line feed")]
    MissingSignatureLine,
    /// The signature line does not hold canonical base64 of 64 bytes.
    #[error("the `signature:` line of `signature.sig` is not standard base64 of a 64-byte Ed25519 signature")]
    BadSignatureEncoding,
    /// The statement part is malformed.
    #[error("`signature.sig` holds an invalid statement: {0}")]
    Statement(StatementError),
}

impl SignatureFile {
    /// Pairs a statement with its signature; the statement must be valid.
    pub(crate) fn new(
        statement: Statement,
        signature: [u8; 64],
    ) -> Result<SignatureFile, StatementError> {
        let statement_bytes = statement.to_bytes()?;
        Ok(SignatureFile {
            statement,
            statement_bytes,
            signature,
        })
    }

    /// The signed statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The exact bytes the signature covers.
    pub fn statement_bytes(&self) -> &[u8] {
        &self.statement_bytes
    }

    /// The raw 64-byte Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The signature as it appears on the `signature:` line (standard padded base64).
    pub fn signature_base64(&self) -> String {
        base64::encode(&self.signature)
    }

    /// The key id the statement names.
    pub fn key_id(&self) -> &str {
        &self.statement.key_id
    }

    /// The member's bytes: statement bytes, then `signature: <base64>\n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.statement_bytes.clone();
        out.extend_from_slice(SIGNATURE_PREFIX.as_bytes());
        out.extend_from_slice(self.signature_base64().as_bytes());
        out.push(b'\n');
        out
    }

    /// Parses a `signature.sig` strictly: `parse(b)?.to_bytes() == b`.
    ///
    /// # Errors
    /// [`SigFileError::TooLarge`], [`SigFileError::MissingSignatureLine`],
    /// [`SigFileError::BadSignatureEncoding`] or [`SigFileError::Statement`].
    pub fn parse(bytes: &[u8]) -> Result<SignatureFile, SigFileError> {
        if bytes.len() > MAX_SIGNATURE_FILE_LEN {
            return Err(SigFileError::TooLarge {
                len: bytes.len(),
                max: MAX_SIGNATURE_FILE_LEN,
            });
        }
        let body = bytes
            .strip_suffix(b"\n")
            .ok_or(SigFileError::MissingSignatureLine)?;
        let split = body
            .iter()
            .rposition(|&b| b == b'\n')
            .ok_or(SigFileError::MissingSignatureLine)?;
        let (statement_bytes, last) = (&body[..=split], &body[split + 1..]);
        let encoded = last
            .strip_prefix(SIGNATURE_PREFIX.as_bytes())
            .ok_or(SigFileError::MissingSignatureLine)?;
        let encoded =
            std::str::from_utf8(encoded).map_err(|_| SigFileError::BadSignatureEncoding)?;
        let signature: [u8; 64] = base64::decode(encoded)
            .and_then(|v| <[u8; 64]>::try_from(v.as_slice()).ok())
            .ok_or(SigFileError::BadSignatureEncoding)?;
        let statement = Statement::parse(statement_bytes).map_err(SigFileError::Statement)?;
        Ok(SignatureFile {
            statement,
            statement_bytes: statement_bytes.to_vec(),
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignatureFile {
        let statement = Statement {
            name: "expert-x".into(),
            version: "1.0.0".into(),
            base_model: "Qwen3-0.6B".into(),
            signed_at: "2026-01-01T00:00:00Z".into(),
            publisher: "me".into(),
            key_id: "00112233445566ff".into(),
            members: vec![("manifest.json".into(), "0".repeat(64))],
        };
        SignatureFile::new(statement, [7u8; 64]).unwrap()
    }

    #[test]
    fn round_trip_and_shape() {
        let sf = sample();
        let bytes = sf.to_bytes();
        assert_eq!(SignatureFile::parse(&bytes).unwrap(), sf);
        let text = String::from_utf8(bytes).unwrap();
        let (stmt, last) = text.trim_end().rsplit_once('\n').unwrap();
        assert_eq!(format!("{stmt}\n").as_bytes(), sf.statement_bytes());
        assert_eq!(last.len(), "signature: ".len() + 88);
    }

    #[test]
    fn refuses_malformed() {
        let good = String::from_utf8(sample().to_bytes()).unwrap();
        let sig = sample().signature_base64();
        let bad = [
            good.trim_end().to_owned(),
            format!("{good}\n"),
            good.replace("signature: ", "signature:"),
            good.replace("signature: ", "Signature: "),
            good.replace(&sig, &sig[..84]),
            good.replace(&sig, &format!("{sig}AAAA")),
            good.replace(&sig, &sig.replace('=', "")),
            good.replace('\n', "\r\n"),
            good.replace("members: 1\n", "members: 1\nextra\n"),
            format!("signature: {sig}\n"),
            String::new(),
        ];
        for b in bad {
            assert!(
                SignatureFile::parse(b.as_bytes()).is_err(),
                "accepted {b:?}"
            );
        }
        let big = vec![b'a'; MAX_SIGNATURE_FILE_LEN + 1];
        assert!(matches!(
            SignatureFile::parse(&big),
            Err(SigFileError::TooLarge { .. })
        ));
    }
}
