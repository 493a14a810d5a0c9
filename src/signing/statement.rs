//! The signed statement: the one canonical message that Ed25519 signs.
//!
//! This file is the only place the signed bytes are built ([`Statement::to_bytes`]); the
//! verifier gets its bytes from [`Statement::parse`], which accepts exactly what `to_bytes`
//! produces (it re-serialises and compares), so signer and verifier cannot drift apart the
//! way upstream's did (`reference/upstream-packaging.md` §7 item 3).
//!
//! Format (UTF-8, LF line ends, every line including the last ends with one `\n`):
//!
//! ```text
//! expert-cli signed statement v1
//! name: <name>
//! version: <version>
//! base-model: <base model>
//! signed-at: <YYYY-MM-DDTHH:MM:SSZ>
//! publisher: <publisher>
//! key-id: <16 lowercase hex>
//! members: <N>
//! <path>:<sha256>        (N lines, paths in strictly increasing byte order)
//! ```
//!
//! Values are non-empty, carry no leading or trailing whitespace and no control, line
//! separator or bidirectional-formatting character; member paths are safe relative `/`
//! paths; a path may contain `:` because the digest is everything after the LAST `:`
//! and is always 64 lowercase hex digits. `docs/SIGNING.md` describes it byte by byte.

use thiserror::Error;

/// The first line of every statement: domain-separation tag and format version.
pub const STATEMENT_HEADER: &str = "expert-cli signed statement v1";

/// The archive member that holds the signature; it can never be listed in a statement.
pub const RESERVED_MEMBER: &str = crate::archive::inspect::SIGNATURE_MEMBER;

/// Upper bound on a statement's size in bytes (the whole `signature.sig` is bounded too).
pub const MAX_STATEMENT_LEN: usize = 1024 * 1024;

/// Upper bound on the number of members a statement may list.
pub const MAX_MEMBERS: usize = 100_000;

/// Upper bound on the length in bytes of one text value or member path.
pub const MAX_VALUE_LEN: usize = 4096;

/// The facts a signature binds: what the package is, who signed it and when, and the
/// SHA-256 of every member except `signature.sig`.
///
/// Build it with a struct literal, call [`Statement::sort_members`], then
/// [`Statement::to_bytes`] checks every rule before producing the canonical bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The expert's `name` from the packaged manifest.
    pub name: String,
    /// The expert's `version` from the packaged manifest.
    pub version: String,
    /// The selected base model's `name` from the packaged manifest.
    pub base_model: String,
    /// Signing time, UTC, `YYYY-MM-DDTHH:MM:SSZ` (see [`format_signed_at`]).
    pub signed_at: String,
    /// Free-text publisher name chosen by the signer (not authenticated by anyone else).
    pub publisher: String,
    /// Key id of the signing key (see [`crate::signing::key_id`]).
    pub key_id: String,
    /// `(path, sha256)` of every archive member except `signature.sig`, sorted bytewise.
    pub members: Vec<(String, String)>,
}

/// Why a statement is refused, when built or parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementError {
    /// A header field's value breaks the value rules.
    #[error("statement field `{field}` {problem}")]
    InvalidValue {
        /// The field as spelled in the statement (`name`, `base-model`, …).
        field: &'static str,
        /// What is wrong with it.
        problem: ValueProblem,
    },
    /// A member path is not a safe relative path.
    #[error("member path `{}` {problem}", path.escape_debug())]
    InvalidMemberPath {
        /// The offending path.
        path: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// A member's digest is not 64 lowercase hex digits.
    #[error("member `{}` has digest `{}`, which is not 64 lowercase hex digits", path.escape_debug(), digest.escape_debug())]
    InvalidMemberDigest {
        /// The member path.
        path: String,
        /// The offending digest text.
        digest: String,
    },
    /// Two members share one path.
    #[error("member `{}` is listed twice", path.escape_debug())]
    DuplicateMember {
        /// The repeated path.
        path: String,
    },
    /// Members are not in strictly increasing byte order of their paths.
    #[error("member `{}` is listed after `{}`, but members must be sorted bytewise", path.escape_debug(), previous.escape_debug())]
    MembersNotSorted {
        /// The path out of order.
        path: String,
        /// The path before it.
        previous: String,
    },
    /// The statement lists no member at all.
    #[error("the statement lists no members")]
    NoMembers,
    /// More members than [`MAX_MEMBERS`].
    #[error("the statement lists {count} members, more than the limit of {max}")]
    TooManyMembers {
        /// How many were listed or announced.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The statement text is larger than [`MAX_STATEMENT_LEN`].
    #[error("the statement is {len} bytes long, more than the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The statement text does not follow the format.
    #[error("statement line {line}: {problem}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        problem: ParseProblem,
    },
}

/// What is wrong with a header value (also used for key names).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Not a `YYYY-MM-DDTHH:MM:SSZ` UTC time.
    #[error("is not a valid UTC time of the form YYYY-MM-DDTHH:MM:SSZ")]
    BadTime,
    /// Not 16 lowercase hex digits.
    #[error("is not a key id (16 lowercase hex digits)")]
    BadKeyId,
}

/// What is wrong with a member path.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// Empty path.
    #[error("is empty")]
    Empty,
    /// Starts with `/`.
    #[error("is absolute")]
    Absolute,
    /// Contains `\`.
    #[error("contains a backslash")]
    Backslash,
    /// Has an empty, `.` or `..` component.
    #[error("has an empty, `.` or `..` component")]
    BadComponent,
    /// A forbidden character.
    #[error("contains the character U+{:04X}; control, line-separator and bidirectional-formatting characters are not allowed", u32::from(*.0))]
    ForbiddenChar(char),
    /// Longer than [`MAX_VALUE_LEN`].
    #[error("is {0} bytes long, more than the limit of {MAX_VALUE_LEN}")]
    TooLong(usize),
    /// `signature.sig` cannot be signed by the statement stored in it.
    #[error("is reserved for the signature itself")]
    Reserved,
}

/// What is wrong on one line of a statement being parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseProblem {
    /// Not UTF-8.
    #[error("the text is not valid UTF-8")]
    NotUtf8,
    /// The text does not end with `\n`.
    #[error("the last line does not end with a line feed")]
    MissingFinalNewline,
    /// A carriage return (CRLF line ends are not accepted).
    #[error("the line contains a carriage return; lines must end with a single line feed")]
    CarriageReturn,
    /// The first line is not [`STATEMENT_HEADER`].
    #[error("expected `{STATEMENT_HEADER}`, found `{}`", .0.escape_debug())]
    BadHeader(String),
    /// A header line is missing or out of order.
    #[error("expected the `{0}: ` line")]
    ExpectedField(&'static str),
    /// The `members:` count is not a canonical decimal number.
    #[error("the member count `{}` is not a decimal number without leading zeros", .0.escape_debug())]
    BadCount(String),
    /// Fewer member lines than announced (a truncated statement).
    #[error("the statement announces {expected} members but lists only {found}")]
    Truncated {
        /// Announced count.
        expected: usize,
        /// Lines found.
        found: usize,
    },
    /// More lines than announced.
    #[error("unexpected text after the last announced member")]
    TrailingData,
    /// A member line without `:`.
    #[error("a member line must be `path:sha256`")]
    MalformedMember,
    /// Accepted piecewise but re-serialises differently (defensive; should not happen).
    #[error("the statement is not in canonical form")]
    NotCanonical,
}

const FIELDS: [&str; 6] = [
    "name",
    "version",
    "base-model",
    "signed-at",
    "publisher",
    "key-id",
];

fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// Checks a free-text value (statement header values and key names): non-empty, at most
/// [`MAX_VALUE_LEN`] bytes, no surrounding whitespace, no control, line-separator or
/// bidirectional-formatting character (so the statement prints safely on a terminal).
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

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True when `s` is a key id: 16 lowercase hex digits.
pub fn is_key_id(s: &str) -> bool {
    is_lower_hex(s, 16)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn check_signed_at(s: &str) -> Result<(), ValueProblem> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(ValueProblem::BadTime);
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if valid {
        Ok(())
    } else {
        Err(ValueProblem::BadTime)
    }
}

pub use crate::clock::rfc3339_utc as format_signed_at;

/// Checks a member path: a non-empty relative `/` path of at most [`MAX_VALUE_LEN`] bytes,
/// with no empty, `.` or `..` component, no `\`, no forbidden character, and not
/// `signature.sig`.
///
/// # Errors
/// The first rule the path breaks.
pub fn check_member_path(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.len() > MAX_VALUE_LEN {
        return Err(PathProblem::TooLong(path.len()));
    }
    if let Some(c) = path.chars().find(|&c| is_forbidden_char(c)) {
        return Err(PathProblem::ForbiddenChar(c));
    }
    if path.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    if path.contains('\\') {
        return Err(PathProblem::Backslash);
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(PathProblem::BadComponent);
    }
    if path == RESERVED_MEMBER {
        return Err(PathProblem::Reserved);
    }
    Ok(())
}

impl Statement {
    /// Sorts the members bytewise by path, the order [`Statement::to_bytes`] requires.
    pub fn sort_members(&mut self) {
        self.members
            .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }

    /// Checks every rule of the format without producing bytes.
    ///
    /// # Errors
    /// The first broken rule: a bad value (naming the field), a bad member path or digest,
    /// duplicate or unsorted members, no members or too many.
    pub fn validate(&self) -> Result<(), StatementError> {
        let text = [
            (FIELDS[0], &self.name),
            (FIELDS[1], &self.version),
            (FIELDS[2], &self.base_model),
            (FIELDS[4], &self.publisher),
        ];
        for (field, value) in text {
            check_text_value(value)
                .map_err(|problem| StatementError::InvalidValue { field, problem })?;
        }
        check_signed_at(&self.signed_at).map_err(|problem| StatementError::InvalidValue {
            field: FIELDS[3],
            problem,
        })?;
        if !is_key_id(&self.key_id) {
            return Err(StatementError::InvalidValue {
                field: FIELDS[5],
                problem: ValueProblem::BadKeyId,
            });
        }
        if self.members.is_empty() {
            return Err(StatementError::NoMembers);
        }
        if self.members.len() > MAX_MEMBERS {
            return Err(StatementError::TooManyMembers {
                count: self.members.len(),
                max: MAX_MEMBERS,
            });
        }
        let mut previous: Option<&str> = None;
        for (path, digest) in &self.members {
            check_member_path(path).map_err(|problem| StatementError::InvalidMemberPath {
                path: path.clone(),
                problem,
            })?;
            if !is_lower_hex(digest, 64) {
                return Err(StatementError::InvalidMemberDigest {
                    path: path.clone(),
                    digest: digest.clone(),
                });
            }
            if let Some(prev) = previous {
                match prev.as_bytes().cmp(path.as_bytes()) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        return Err(StatementError::DuplicateMember { path: path.clone() })
                    }
                    std::cmp::Ordering::Greater => {
                        return Err(StatementError::MembersNotSorted {
                            path: path.clone(),
                            previous: prev.to_owned(),
                        })
                    }
                }
            }
            previous = Some(path);
        }
        Ok(())
    }

    /// The canonical bytes that are signed: see the module documentation.
    ///
    /// # Errors
    /// As [`Statement::validate`], plus [`StatementError::TooLarge`] past
    /// [`MAX_STATEMENT_LEN`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, StatementError> {
        self.validate()?;
        let mut out = String::new();
        out.push_str(STATEMENT_HEADER);
        out.push('\n');
        let values = [
            &self.name,
            &self.version,
            &self.base_model,
            &self.signed_at,
            &self.publisher,
            &self.key_id,
        ];
        for (field, value) in FIELDS.iter().zip(values) {
            out.push_str(field);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
        out.push_str(&format!("members: {}\n", self.members.len()));
        for (path, digest) in &self.members {
            out.push_str(path);
            out.push(':');
            out.push_str(digest);
            out.push('\n');
        }
        if out.len() > MAX_STATEMENT_LEN {
            return Err(StatementError::TooLarge {
                len: out.len(),
                max: MAX_STATEMENT_LEN,
            });
        }
        Ok(out.into_bytes())
    }

    /// Parses statement bytes strictly: it accepts exactly the outputs of
    /// [`Statement::to_bytes`], so `parse(b)?.to_bytes()? == b`.
    ///
    /// # Errors
    /// [`StatementError::Parse`] with the line number for a format breach (wrong header or
    /// version, missing field, CR, missing final LF, truncated or extra member lines), or
    /// the validation error of the value that breaks a rule.
    pub fn parse(bytes: &[u8]) -> Result<Statement, StatementError> {
        if bytes.len() > MAX_STATEMENT_LEN {
            return Err(StatementError::TooLarge {
                len: bytes.len(),
                max: MAX_STATEMENT_LEN,
            });
        }
        let parse_err =
            |line: usize, problem: ParseProblem| StatementError::Parse { line, problem };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            parse_err(line, ParseProblem::NotUtf8)
        })?;
        let Some(body) = text.strip_suffix('\n') else {
            let line = 1 + text.matches('\n').count();
            return Err(parse_err(line, ParseProblem::MissingFinalNewline));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if let Some(i) = lines.iter().position(|l| l.contains('\r')) {
            return Err(parse_err(i + 1, ParseProblem::CarriageReturn));
        }
        let mut it = lines.iter().copied().enumerate().map(|(i, l)| (i + 1, l));
        match it.next() {
            Some((_, STATEMENT_HEADER)) => {}
            Some((n, other)) => {
                return Err(parse_err(n, ParseProblem::BadHeader(other.to_owned())))
            }
            None => return Err(parse_err(1, ParseProblem::BadHeader(String::new()))),
        }
        let mut values: Vec<String> = Vec::with_capacity(FIELDS.len());
        for (i, field) in FIELDS.iter().enumerate() {
            let (n, line) = it.next().unwrap_or((i + 2, ""));
            let value = line
                .strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(": "))
                .ok_or_else(|| parse_err(n, ParseProblem::ExpectedField(field)))?;
            values.push(value.to_owned());
        }
        let count_line = FIELDS.len() + 2;
        let (n, line) = it.next().unwrap_or((count_line, ""));
        let count_text = line
            .strip_prefix("members: ")
            .ok_or_else(|| parse_err(n, ParseProblem::ExpectedField("members")))?;
        let canonical = !count_text.is_empty()
            && count_text.len() <= 10
            && count_text.bytes().all(|b| b.is_ascii_digit())
            && (count_text == "0" || !count_text.starts_with('0'));
        let count: usize = if canonical {
            count_text.parse().ok()
        } else {
            None
        }
        .ok_or_else(|| parse_err(n, ParseProblem::BadCount(count_text.to_owned())))?;
        if count > MAX_MEMBERS {
            return Err(StatementError::TooManyMembers {
                count,
                max: MAX_MEMBERS,
            });
        }
        let mut members = Vec::with_capacity(count.min(lines.len()));
        for (n, line) in it.by_ref().take(count) {
            let (path, digest) = line
                .rsplit_once(':')
                .ok_or_else(|| parse_err(n, ParseProblem::MalformedMember))?;
            members.push((path.to_owned(), digest.to_owned()));
        }
        if members.len() < count {
            return Err(parse_err(
                lines.len() + 1,
                ParseProblem::Truncated {
                    expected: count,
                    found: members.len(),
                },
            ));
        }
        if let Some((n, _)) = it.next() {
            return Err(parse_err(n, ParseProblem::TrailingData));
        }
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or_default();
        let statement = Statement {
            name: next(),
            version: next(),
            base_model: next(),
            signed_at: next(),
            publisher: next(),
            key_id: next(),
            members,
        };
        if statement.to_bytes()? != bytes {
            return Err(parse_err(1, ParseProblem::NotCanonical));
        }
        Ok(statement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Statement {
        Statement {
            name: "expert-neo4j".into(),
            version: "0.0.1".into(),
            base_model: "F:/Node/hivellm/expert/models/Qwen3-0.6B".into(),
            signed_at: "2026-11-25T12:00:00Z".into(),
            publisher: "ACME CI".into(),
            key_id: "0123456789abcdef".into(),
            members: vec![
                ("adapter_config.json".into(), "a".repeat(64)),
                ("adapter_model.safetensors".into(), "b".repeat(64)),
                ("manifest.json".into(), "c".repeat(64)),
            ],
        }
    }

    fn text(s: &Statement) -> String {
        String::from_utf8(s.to_bytes().unwrap()).unwrap()
    }

    #[test]
    fn exact_bytes() {
        let expected = format!(
            "expert-cli signed statement v1\nname: expert-neo4j\nversion: 0.0.1\n\
             base-model: F:/Node/hivellm/expert/models/Qwen3-0.6B\n\
             signed-at: 2026-11-25T12:00:00Z\npublisher: ACME CI\nkey-id: 0123456789abcdef\n\
             members: 3\nadapter_config.json:{}\nadapter_model.safetensors:{}\nmanifest.json:{}\n",
            "a".repeat(64),
            "b".repeat(64),
            "c".repeat(64)
        );
        assert_eq!(text(&sample()), expected);
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let b = s.to_bytes().unwrap();
        assert_eq!(Statement::parse(&b).unwrap(), s);
    }

    #[test]
    fn colon_in_path_splits_at_last_colon() {
        let mut s = sample();
        s.members.push(("tests/a:b.txt".into(), "d".repeat(64)));
        s.sort_members();
        let parsed = Statement::parse(&s.to_bytes().unwrap()).unwrap();
        assert_eq!(parsed.members[3].0, "tests/a:b.txt");
    }

    #[test]
    fn refuses_bad_values() {
        type Mutation = fn(&mut Statement);
        let cases: Vec<(Mutation, &str)> = vec![
            (|s| s.name = "a\nb".into(), "field `name`"),
            (
                |s| s.publisher = String::new(),
                "field `publisher` is empty",
            ),
            (|s| s.publisher = " x".into(), "whitespace"),
            (|s| s.version = "1\u{202E}".into(), "U+202E"),
            (|s| s.base_model = "m\u{7f}".into(), "U+007F"),
            (|s| s.signed_at = "2026-02-30T00:00:00Z".into(), "signed-at"),
            (|s| s.signed_at = "2026-11-25 12:00:00Z".into(), "signed-at"),
            (|s| s.key_id = "0123456789ABCDEF".into(), "key-id"),
            (|s| s.members.clear(), "no members"),
            (|s| s.members[0].1 = "A".repeat(64), "lowercase hex"),
            (|s| s.members[0].0 = "../x".into(), "component"),
            (|s| s.members[0].0 = "/x".into(), "absolute"),
            (|s| s.members[0].0 = "a\\b".into(), "backslash"),
            (|s| s.members[0].0 = "a//b".into(), "component"),
            (|s| s.members[0].0 = "a\nb".into(), "U+000A"),
            (|s| s.members[2].0 = "signature.sig".into(), "reserved"),
            (|s| s.members[1].0 = "adapter_config.json".into(), "twice"),
            (|s| s.members.swap(0, 1), "sorted"),
        ];
        for (mutate, needle) in cases {
            let mut s = sample();
            mutate(&mut s);
            let err = s.to_bytes().unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        }
    }

    #[test]
    fn parse_rejects_non_canonical_text() {
        let good = text(&sample());
        let bad = [
            good.replace('\n', "\r\n"),
            good.trim_end().to_owned(),
            good.replace("v1", "v2"),
            good.replace("members: 3", "members: 03"),
            good.replace("members: 3", "members: 4"),
            good.replace("members: 3", "members: 2"),
            good.replace("name: ", "name:  "),
            good.replace("name: ", "Name: "),
            good.replace("version: 0.0.1\n", ""),
            format!("{good}\n"),
            format!("{good}extra\n"),
            format!("\u{feff}{good}"),
            good.replacen(&"a".repeat(64), &"a".repeat(63), 1),
            String::new(),
            "\n".into(),
        ];
        for b in bad {
            assert!(Statement::parse(b.as_bytes()).is_err(), "accepted {b:?}");
        }
        assert!(Statement::parse(&[0xff, b'\n']).is_err());
    }

    #[test]
    fn truncation_is_named() {
        let good = text(&sample());
        let cut = good.rsplit_once("manifest.json").unwrap().0;
        let err = Statement::parse(cut.as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            StatementError::Parse {
                problem: ParseProblem::Truncated { .. },
                ..
            }
        ));
    }

    #[test]
    fn signed_at_formatting() {
        assert_eq!(format_signed_at(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_signed_at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_signed_at(1_795_608_000), "2026-11-25T12:00:00Z");
        assert_eq!(format_signed_at(u64::MAX), "9999-12-31T23:59:59Z");
        for t in [0, 951_782_400, 1_795_608_000, 4_102_444_799] {
            assert_eq!(check_signed_at(&format_signed_at(t)), Ok(()));
        }
    }
}
