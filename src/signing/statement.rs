//! What a signature binds, and the exact bytes Ed25519 signs (SPEC §0, issue #11.3).
//!
//! The signed message is one line of ASCII, the one the expert runtime's install step rebuilds:
//!
//! ```text
//! manifest.json:<lowercase hex SHA-256 of the packaged manifest.json bytes>
//! ```
//!
//! (no line feed). The manifest in turn binds everything else: its `name`, `version` and base
//! model, and in its `integrity` section the signer's public key (`pubkey`, bare lowercase
//! hex), `key_id`, `publisher`, `created_at`, `signature_algorithm: "ed25519"` and `files`, the
//! SHA-256 of every other member. [`message`] is the ONLY place the signed bytes are built;
//! [`SignedIntegrity`] is the only place the signed `integrity` section is written
//! ([`SignedIntegrity::splice`]) and read back ([`SignedIntegrity::read`]).
//!
//! `sign` changes nothing in `manifest.json` but the value of `integrity`: every other byte
//! (key order, comments, indentation, line ends) is kept, through the span-keeping editor of
//! `manifest::edit`.

use crate::manifest::edit;
use crate::manifest::source::{Node, Source};
use thiserror::Error;

/// What the signed message starts with; the manifest's SHA-256 follows.
pub const MESSAGE_PREFIX: &str = "manifest.json:";

/// `integrity.signature_algorithm` of a signed package.
pub const ALGORITHM: &str = "ed25519";

/// `integrity.signature_algorithm` of an unsigned package (written by `package`).
pub const UNSIGNED_ALGORITHM: &str = "none";

/// The first line of a `signature.sig` in the earlier statement format (expert-cli before the
/// runtime-compatible signature; refused with this reason, see `docs/SIGNING.md`).
pub const LEGACY_STATEMENT_HEADER: &str = "expert-cli signed statement v1";

/// Upper bound on the length in bytes of one text value (publisher, key name).
pub const MAX_VALUE_LEN: usize = 4096;

/// The bytes Ed25519 signs for a package whose `manifest.json` is `manifest`:
/// `manifest.json:` followed by the 64 lowercase hex digits of its SHA-256.
pub fn message(manifest: &[u8]) -> Vec<u8> {
    let mut out = MESSAGE_PREFIX.as_bytes().to_vec();
    out.extend_from_slice(crate::digest::sha256_hex(manifest).as_bytes());
    out
}

/// What is wrong with a text value (publisher, key name).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ValueProblem {
    /// Empty value.
    #[error("is empty")]
    Empty,
    /// Leading or trailing whitespace.
    #[error("starts or ends with whitespace")]
    SurroundingWhitespace,
    /// A control, line-separator or bidirectional-formatting character.
    #[error("contains the character U+{:04X}; control, line-separator and bidirectional-formatting characters are not allowed", u32::from(*.0))]
    ForbiddenChar(char),
    /// Longer than [`MAX_VALUE_LEN`].
    #[error("is {0} bytes long, more than the limit of {MAX_VALUE_LEN}")]
    TooLong(usize),
}

/// True for characters that must never reach a terminal unescaped in a value printed as it is
/// (publisher, key names, the fields of a trusted comment): what no member name may hold
/// (the member-name rule in `names`: controls, line and paragraph separators, bidirectional
/// formatting characters) and the zero-width characters and BOM. A member name may hold those last ones
/// because every message shows names through `display_name`, which escapes them; these values
/// are printed verbatim, so they must not.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    crate::names::is_forbidden_in_name(c) || crate::names::is_zero_width(c)
}

/// Checks a free-text value (the publisher, key names): non-empty, at most [`MAX_VALUE_LEN`]
/// bytes, no surrounding whitespace, no control, line-separator or bidirectional-formatting
/// character (so it prints safely on a terminal).
///
/// # Errors
/// The first rule the value breaks.
pub fn check_text_value(value: &str) -> Result<(), ValueProblem> {
    if value.is_empty() {
        return Err(ValueProblem::Empty);
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(ValueProblem::TooLong(value.len()));
    }
    if let Some(c) = value.chars().find(|&c| is_forbidden_char(c)) {
        return Err(ValueProblem::ForbiddenChar(c));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(ValueProblem::SurroundingWhitespace);
    }
    Ok(())
}

pub(crate) fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True when `s` is a key id: 16 lowercase hex digits.
pub fn is_key_id(s: &str) -> bool {
    is_lower_hex(s, 16)
}

/// The `integrity` section of a signed package, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIntegrity {
    /// When it was signed: UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Free text chosen by the signer; signed, but it says nothing about who holds the key.
    pub publisher: String,
    /// The signing key: 64 lowercase hex digits (bare, as the runtime reads it).
    pub pubkey: String,
    /// The signing key's id (first 16 hex digits of the SHA-256 of the key bytes).
    pub key_id: String,
    /// `(path, sha256)` of every member but `manifest.json` and `signature.sig`, sorted
    /// bytewise by path.
    pub files: Vec<(String, String)>,
}

/// Why a packaged manifest's `integrity` section is not the one `sign` writes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IntegrityProblem {
    /// No `integrity` section (or `null`).
    #[error("the packaged manifest has no `integrity` section")]
    Missing,
    /// `integrity` is not an object.
    #[error("`integrity` in the packaged manifest is not an object")]
    NotAnObject,
    /// `signature_algorithm` is not `ed25519`.
    #[error("`integrity.signature_algorithm` is `{}`, not `ed25519`", crate::signing::display_name(.0))]
    Algorithm(String),
    /// A field is absent or has the wrong type or form.
    #[error("`integrity.{field}` {problem}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A `files` entry is not `path: sha256`.
    #[error(
        "`integrity.files` entry `{}` {problem}",
        crate::signing::display_name(path)
    )]
    FileEntry {
        /// The member path.
        path: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// `key_id` is not the id of `pubkey`.
    #[error("`integrity.key_id` is `{key_id}` but the id of `integrity.pubkey` is `{actual}`")]
    KeyIdMismatch {
        /// The key id in the manifest.
        key_id: String,
        /// The id of the key in the manifest.
        actual: String,
    },
}

impl SignedIntegrity {
    /// The section as JSON, keys in the order they are written (files last: the longest).
    pub fn to_json(&self) -> serde_json::Value {
        let files: serde_json::Map<String, serde_json::Value> = self
            .files
            .iter()
            .map(|(p, d)| (p.clone(), serde_json::Value::String(d.clone())))
            .collect();
        serde_json::json!({
            "created_at": self.created_at,
            "publisher": self.publisher,
            "signature_algorithm": ALGORITHM,
            "pubkey": self.pubkey,
            "key_id": self.key_id,
            "files": files,
        })
    }

    /// The manifest text with its `integrity` value replaced by this section (or the section
    /// appended when there is none), in the author's indentation and line ends. Nothing
    /// outside that value changes.
    pub fn splice(&self, source: &Source) -> String {
        let root = source.root();
        let indent = match root.member("integrity") {
            Some(m) => source.indent_at(m.key_span.start).to_owned(),
            None => match root.as_object().and_then(|m| m.last()) {
                Some(last) => source.indent_at(last.key_span.start).to_owned(),
                None => source.indent_unit(),
            },
        };
        let rendered = edit::render(&self.to_json(), source, &indent);
        let mut edits = [edit::set_member(source, root, "integrity", &rendered)];
        source.splice(&mut edits)
    }

    /// Reads the section from a packaged manifest's root, requiring the shape `sign` writes:
    /// `signature_algorithm` `ed25519`, `pubkey` 64 lowercase hex, `key_id` its id, `publisher`
    /// and `created_at` strings, `files` an object of 64-hex strings. The key bytes are not
    /// checked to be a curve point here (the verifier does that when it uses them).
    ///
    /// # Errors
    /// The first [`IntegrityProblem`].
    pub fn read(root: &Node) -> Result<SignedIntegrity, IntegrityProblem> {
        let node = root
            .get_non_null("integrity")
            .ok_or(IntegrityProblem::Missing)?;
        if node.as_object().is_none() {
            return Err(IntegrityProblem::NotAnObject);
        }
        let text = |field: &'static str| -> Result<String, IntegrityProblem> {
            match node.get(field) {
                None => Err(IntegrityProblem::Field {
                    field,
                    problem: "is missing",
                }),
                Some(n) => n
                    .as_str()
                    .map(str::to_owned)
                    .ok_or(IntegrityProblem::Field {
                        field,
                        problem: "is not a string",
                    }),
            }
        };
        let algorithm = text("signature_algorithm")?;
        if algorithm != ALGORITHM {
            return Err(IntegrityProblem::Algorithm(algorithm));
        }
        let pubkey = text("pubkey")?;
        if !is_lower_hex(&pubkey, 64) {
            return Err(IntegrityProblem::Field {
                field: "pubkey",
                problem: "is not 64 lowercase hex digits (a bare Ed25519 public key)",
            });
        }
        let key_id = text("key_id")?;
        if !is_key_id(&key_id) {
            return Err(IntegrityProblem::Field {
                field: "key_id",
                problem: "is not 16 lowercase hex digits",
            });
        }
        let actual = key_id_of_hex(&pubkey);
        if actual != key_id {
            return Err(IntegrityProblem::KeyIdMismatch { key_id, actual });
        }
        let publisher = text("publisher")?;
        let created_at = text("created_at")?;
        let files_node = node.get("files").ok_or(IntegrityProblem::Field {
            field: "files",
            problem: "is missing",
        })?;
        let entries = files_node.as_object().ok_or(IntegrityProblem::Field {
            field: "files",
            problem: "is not an object",
        })?;
        let mut files = Vec::with_capacity(entries.len());
        for m in entries {
            let digest = m.value.as_str().ok_or(IntegrityProblem::FileEntry {
                path: m.key.clone(),
                problem: "is not a string",
            })?;
            if !is_lower_hex(digest, 64) {
                return Err(IntegrityProblem::FileEntry {
                    path: m.key.clone(),
                    problem: "is not a SHA-256 (64 lowercase hex digits)",
                });
            }
            files.push((m.key.clone(), digest.to_owned()));
        }
        files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        Ok(SignedIntegrity {
            created_at,
            publisher,
            pubkey,
            key_id,
            files,
        })
    }
}

/// The key id of a key given as 64 hex digits (see [`crate::signing::key_id`]).
fn key_id_of_hex(pubkey_hex: &str) -> String {
    let mut raw = [0u8; 32];
    match hex::decode_to_slice(pubkey_hex, &mut raw) {
        Ok(()) => {
            let mut id = crate::digest::sha256_hex(&raw);
            id.truncate(16);
            id
        }
        Err(_) => String::new(),
    }
}

/// The expert a packaged manifest describes: what `verify` reports and `--expect-*` compare.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExpertFacts {
    /// `name`.
    pub name: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// The packaged base model's name: the single entry of `base_models` (2.0) or
    /// `base_model.name` (1.0).
    pub base_model: Option<String>,
}

impl ExpertFacts {
    /// Reads the facts from a manifest's root; absent or mistyped values are `None`.
    pub fn read(root: &Node) -> ExpertFacts {
        let string = |n: Option<&Node>| n.and_then(Node::as_str).map(str::to_owned);
        let base_model = match root.get_non_null("base_models").and_then(Node::as_array) {
            Some([only]) => string(only.get("name")),
            Some(_) => None,
            None => string(root.pointer("/base_model/name")),
        };
        ExpertFacts {
            name: string(root.get("name")),
            version: string(root.get("version")),
            base_model,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignedIntegrity {
        let key = crate::signing::SecretKey::from_seed(&[1; 32]).public_key();
        SignedIntegrity {
            created_at: "2026-01-01T00:00:00Z".into(),
            publisher: "ACME CI".into(),
            pubkey: key.to_hex(),
            key_id: key.key_id(),
            files: vec![
                ("a.json".into(), "a".repeat(64)),
                ("b.bin".into(), "b".repeat(64)),
            ],
        }
    }

    #[test]
    fn message_is_the_runtimes() {
        assert_eq!(
            message(b"{}"),
            b"manifest.json:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn splice_keeps_every_other_byte_and_reads_back() {
        let text = "{\r\n    \"name\": \"x\",\r\n    \"_c\": \"keep me\",\r\n    \"integrity\": {\r\n        \"signature_algorithm\": \"none\"\r\n    },\r\n    \"license\": \"MIT\"\r\n}";
        let source = Source::parse(text.as_bytes()).unwrap();
        let out = sample().splice(&source);
        let (head, rest) = out.split_once("\"integrity\": ").unwrap();
        assert_eq!(head, text.split_once("\"integrity\": ").unwrap().0);
        assert!(
            rest.ends_with(",\r\n    \"license\": \"MIT\"\r\n}"),
            "{out}"
        );
        assert!(
            !out.replace("\r\n", "").contains('\n'),
            "CRLF kept: {out:?}"
        );
        let back = Source::parse(out.as_bytes()).unwrap();
        assert_eq!(SignedIntegrity::read(back.root()), Ok(sample()));
        // appended when absent
        let source = Source::parse(b"{\n  \"name\": \"x\"\n}").unwrap();
        let out = sample().splice(&source);
        assert!(out.starts_with("{\n  \"name\": \"x\",\n  \"integrity\": {\n    \"created_at\""));
    }

    #[test]
    fn read_names_the_field() {
        let signed = sample().splice(&Source::parse(b"{\"name\": \"x\"}").unwrap());
        let cases = [
            ("\"ed25519\"", "\"none\"", "signature_algorithm` is `none`"),
            (
                &sample().key_id,
                "0000000000000000",
                "key_id` is `0000000000000000`",
            ),
            (&sample().pubkey, "ed25519:00", "pubkey` is not 64"),
            ("\"ACME CI\"", "7", "publisher` is not a string"),
            (
                &"a".repeat(64),
                "sha256:aa",
                "entry `a.json` is not a SHA-256",
            ),
        ];
        for (from, to, says) in cases {
            let text = signed.replacen(from, to, 1);
            let source = Source::parse(text.as_bytes()).unwrap();
            let err = SignedIntegrity::read(source.root()).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
        let source = Source::parse(b"{\"integrity\": null}").unwrap();
        assert_eq!(
            SignedIntegrity::read(source.root()),
            Err(IntegrityProblem::Missing)
        );
    }

    #[test]
    fn facts_of_both_schemas() {
        let v2 =
            Source::parse(br#"{"name":"e","version":"1","base_models":[{"name":"Q"}]}"#).unwrap();
        let f = ExpertFacts::read(v2.root());
        assert_eq!(
            (
                f.name.as_deref(),
                f.version.as_deref(),
                f.base_model.as_deref()
            ),
            (Some("e"), Some("1"), Some("Q"))
        );
        let v1 = Source::parse(br#"{"name":"e","base_model":{"name":"Q1"}}"#).unwrap();
        assert_eq!(
            ExpertFacts::read(v1.root()).base_model.as_deref(),
            Some("Q1")
        );
        let two = Source::parse(br#"{"base_models":[{"name":"A"},{"name":"B"}]}"#).unwrap();
        assert_eq!(ExpertFacts::read(two.root()).base_model, None);
    }

    #[test]
    fn values() {
        assert_eq!(check_text_value("ACME CI"), Ok(()));
        // U+061C, the Arabic letter mark, is a bidirectional control like U+202E.
        for bad in [
            "",
            " x",
            "x ",
            "a\nb",
            "a\u{202e}b",
            "a\u{200b}b",
            "a\u{61c}b",
        ] {
            assert!(check_text_value(bad).is_err(), "{bad:?}");
        }
        assert!(is_key_id("0123456789abcdef"));
        assert!(!is_key_id("0123456789ABCDEF"));
    }
}
