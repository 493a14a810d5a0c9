//! Strict standard base64 (RFC 4648 §4, `+/`, `=` padding) for the signature line and the
//! minisign files, through `base64ct` (constant-time, canonical-only since 1.5.1).
//!
//! Decoding is canonical-only: no whitespace, padding required, unused trailing bits must be
//! zero, so one value has exactly one text form (a tampered encoding is refused, not silently
//! repaired). The round trip below re-checks that independently of the decoder's own rules.

use base64ct::{Base64, Encoding};

/// Encodes `bytes` as padded standard base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Decodes canonical padded standard base64; `None` on anything else.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = Base64::decode_vec(text).ok()?;
    // One text form per value: a decoder that ever tolerated something (a stray bit, a
    // missing pad) would be caught here.
    (encode(&bytes) == text).then_some(bytes)
}

/// Decodes canonical padded standard base64 of exactly `N` bytes; `None` on anything else.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Bound the work before decoding: the encoding of N bytes has a known length.
    if text.len() != N.div_ceil(3) * 4 {
        return None;
    }
    decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn refuses_non_canonical() {
        for bad in [
            "Zg=", "Zh==", "Zm9=", "Zg==Zg==", "Z===", "Zm9v\n", "Zm 9", "Zm-v", "====",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_length_decoding() {
        let text = encode(&[7u8; 64]);
        assert_eq!(decode_array::<64>(&text), Some([7u8; 64]));
        assert_eq!(decode_array::<63>(&text), None);
        assert_eq!(decode_array::<65>(&text), None);
        assert_eq!(decode_array::<64>(&format!("{text} ")), None);
    }

    #[test]
    fn all_lengths_round_trip() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            assert_eq!(decode(&encode(&data[..n])).as_deref(), Some(&data[..n]));
        }
    }
}
