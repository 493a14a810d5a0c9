//! The `signature.sig` archive member: the 64-byte Ed25519 signature over
//! [`message`](crate::signing::statement::message), as 128 lowercase hex digits and one line
//! feed.
//!
//! The expert runtime reads the member as UTF-8, trims it and hex-decodes it, so a trailing
//! `\n` is fine there; `verify` accepts exactly what `sign` writes (any other byte form is
//! refused with its reason, like every other non-canonical part of a package). A member in the
//! earlier statement format (`expert-cli signed statement v1` …) is recognised and refused
//! with its own reason, [`SigFileError::LegacyStatement`].

use crate::signing::statement::LEGACY_STATEMENT_HEADER;
use thiserror::Error;

/// The largest `signature.sig` accepted, in bytes (the real one is 129).
pub const MAX_SIGNATURE_FILE_LEN: usize = 4096;

/// A `signature.sig`: one Ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureFile {
    signature: [u8; 64],
}

/// Why a `signature.sig` is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SigFileError {
    /// Larger than [`MAX_SIGNATURE_FILE_LEN`].
    #[error("`signature.sig` is {len} bytes long; a signature is 129 bytes (128 hex digits and a line feed)")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// The earlier statement format, which is no longer read.
    #[error("`signature.sig` is in the signed-statement format of earlier expert-cli versions (`{LEGACY_STATEMENT_HEADER}`), which this version no longer accepts and the expert runtime cannot check")]
    LegacyStatement,
    /// Not the byte form `sign` writes.
    #[error("`signature.sig` {problem}; it must be the 128 lowercase hex digits of an Ed25519 signature and one line feed")]
    Malformed {
        /// What is wrong.
        problem: &'static str,
    },
}

impl SignatureFile {
    /// Wraps a raw signature.
    pub fn from_bytes(signature: [u8; 64]) -> SignatureFile {
        SignatureFile { signature }
    }

    /// The raw 64-byte Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The signature as 128 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.signature)
    }

    /// The member's bytes: the hex digits and `\n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.to_hex().into_bytes();
        out.push(b'\n');
        out
    }

    /// Parses a `signature.sig` strictly: `parse(b)?.to_bytes() == b`.
    ///
    /// # Errors
    /// [`SigFileError::TooLarge`], [`SigFileError::LegacyStatement`] or
    /// [`SigFileError::Malformed`] saying what differs.
    pub fn parse(bytes: &[u8]) -> Result<SignatureFile, SigFileError> {
        if bytes.len() > MAX_SIGNATURE_FILE_LEN {
            return Err(SigFileError::TooLarge { len: bytes.len() });
        }
        if bytes.starts_with(format!("{LEGACY_STATEMENT_HEADER}\n").as_bytes()) {
            return Err(SigFileError::LegacyStatement);
        }
        let malformed = |problem| Err(SigFileError::Malformed { problem });
        let Some(digits) = bytes.strip_suffix(b"\n") else {
            return malformed("does not end with a line feed");
        };
        if digits.iter().any(|b| b.is_ascii_whitespace()) {
            return malformed("holds white space other than the final line feed");
        }
        if digits.iter().any(|b| !b.is_ascii_hexdigit()) {
            return malformed("holds a character that is not a hex digit");
        }
        if digits.iter().any(u8::is_ascii_uppercase) {
            return malformed("holds upper-case hex digits");
        }
        if digits.len() != 128 {
            return malformed("does not hold exactly 128 hex digits");
        }
        let mut signature = [0u8; 64];
        match hex::decode_to_slice(digits, &mut signature) {
            Ok(()) => Ok(SignatureFile { signature }),
            Err(_) => malformed("holds a character that is not a hex digit"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_shape() {
        let sf = SignatureFile::from_bytes(std::array::from_fn(|i| i as u8 * 3));
        let bytes = sf.to_bytes();
        assert_eq!(bytes.len(), 129);
        assert_eq!(SignatureFile::parse(&bytes), Ok(sf));
    }

    #[test]
    fn refuses_every_other_form() {
        let good = String::from_utf8(SignatureFile::from_bytes([0xab; 64]).to_bytes()).unwrap();
        let bad = [
            good.trim_end().to_owned(),
            format!("{good}\n"),
            format!(" {good}"),
            good.replace('\n', "\r\n"),
            good.to_uppercase(),
            good[2..].to_owned(),
            format!("ab{good}"),
            good.replacen("ab", "zz", 1),
            String::new(),
            "\n".into(),
        ];
        for b in bad {
            assert!(
                matches!(
                    SignatureFile::parse(b.as_bytes()),
                    Err(SigFileError::Malformed { .. })
                ),
                "accepted {b:?}"
            );
        }
        let legacy = format!("{LEGACY_STATEMENT_HEADER}\nname: x\n");
        assert_eq!(
            SignatureFile::parse(legacy.as_bytes()),
            Err(SigFileError::LegacyStatement)
        );
        assert!(matches!(
            SignatureFile::parse(&vec![b'a'; MAX_SIGNATURE_FILE_LEN + 1]),
            Err(SigFileError::TooLarge { .. })
        ));
    }
}
