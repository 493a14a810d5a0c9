//! The manifest as the author wrote it: a strict JSON parser that keeps the original text,
//! the byte span of every value and key, and every duplicate key it meets.
//!
//! Why our own parser: `serde_json` forgets spans, key order (without a feature), duplicates
//! and formatting. Keeping the text and splicing edits into it (see [`Source::splice`]) is what
//! makes `package` and `migrate` lossless: comments (`_…` keys), unknown keys, key order,
//! CRLF and indentation all survive byte for byte.
//!
//! Bounds: nesting deeper than [`MAX_DEPTH`] is refused, so hostile input cannot blow the stack.

use std::borrow::Cow;
use std::fmt;

/// The one-digit number literals.
const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value is in the text.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A JSON number: the literal as written and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The literal exactly as written (`5e-5`, `2.0`). One-digit literals share a static
    /// string: a manifest may hold millions of `0`s.
    pub raw: std::borrow::Cow<'static, str>,
    /// Its value as a double.
    pub value: f64,
}

impl Number {
    /// The value as an integer when it has no fractional part and fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        if self.value.fract() == 0.0 && self.value.abs() < 9.0e15 {
            Some(self.value as i64)
        } else {
            None
        }
    }
}

/// One `"key": value` pair of an object, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: String,
    /// Where the key (with its quotes) is.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string, decoded.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object, members in source order (duplicates included).
    Object(Vec<Member>),
}

impl Value {
    /// The JSON type name, as used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.as_i64().is_some() && !n.raw.contains(['.', 'e', 'E']) => {
                "integer"
            }
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl Node {
    /// The first member named `key` when this is an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
            _ => None,
        }
    }
    /// Like [`Node::get`], but a `null` value counts as absent.
    pub fn get_non_null(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|n| n.value != Value::Null)
    }
    /// The member named `key` (key span included).
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.value {
            Value::Object(members) => members.iter().find(|m| m.key == key),
            _ => None,
        }
    }
    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The numeric value, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Number(n) => Some(n.value),
            _ => None,
        }
    }
    /// The integer value, if this is a number without fractional part.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    /// The boolean value, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// The node at an RFC 6901 JSON pointer below this one (`""` is this node).
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.value {
                Value::Object(_) => node.get(&token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// A key that occurs twice in one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// Pointer of the second occurrence.
    pub pointer: String,
    /// The key.
    pub key: String,
    /// The first occurrence's key span.
    pub first: Span,
    /// The second occurrence's key span.
    pub second: Span,
}

/// Why the text is not a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, a lower-case phrase.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Maps byte offsets to 1-based line and column. Columns count Unicode characters (scalar
/// values) from the start of the line; a BOM (U+FEFF) and the `\r` of CRLF do not count.
///
/// Both lookups take time independent of the file's size and of the line's length: the line
/// by binary search over the line starts, the column from a table of character counts taken
/// every [`LineIndex::BLOCK`] bytes, plus at most one block scanned.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// `chars[k]`: characters (as counted for columns) in the first `k * BLOCK` bytes.
    chars: Vec<usize>,
}

impl LineIndex {
    /// Bytes between two entries of the character-count table.
    pub const BLOCK: usize = 64;

    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut chars = Vec::with_capacity(bytes.len() / Self::BLOCK + 1);
        let mut total = 0;
        for (k, block) in bytes.chunks(Self::BLOCK).enumerate() {
            chars.push(total);
            total += counted(bytes, k * Self::BLOCK, k * Self::BLOCK + block.len());
        }
        chars.push(total);
        Self { starts, chars }
    }

    /// Characters counted for columns in `text[..offset]`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / Self::BLOCK;
        let from = block * Self::BLOCK;
        super::work::add(offset - from);
        self.chars[block] + counted(text.as_bytes(), from, offset)
    }

    /// 1-based (line, column) of a byte offset in `text` (the text given to [`LineIndex::new`]).
    pub fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        self.locate_near(text, offset, &mut 0)
    }

    /// [`LineIndex::locate`], trying the 0-based line `*near` (and the next one) before a
    /// binary search, and leaving the line found there: callers that go through a file in
    /// order (the diagnostics of one check) find most lines without a search.
    pub fn locate_near(&self, text: &str, offset: usize, near: &mut usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let holds = |line: usize| {
            self.starts.get(line).is_some_and(|&s| s <= offset)
                && self.starts.get(line + 1).is_none_or(|&next| offset < next)
        };
        let line = if holds(*near) {
            *near
        } else if holds(*near + 1) {
            *near + 1
        } else {
            self.starts.partition_point(|&s| s <= offset) - 1
        };
        *near = line;
        let start = self.starts[line];
        super::work::add(usize::BITS as usize);
        let col = self.chars_before(text, offset) - self.chars_before(text, start) + 1;
        (line + 1, col)
    }
}

/// Characters that count for columns in `bytes[from..to]`: every byte that starts a UTF-8
/// sequence, except the first byte of a U+FEFF (`EF BB BF`). Works on any byte range, also one
/// that cuts a character, so the table of [`LineIndex`] can use fixed-size blocks.
fn counted(bytes: &[u8], from: usize, to: usize) -> usize {
    if bytes[from..to].is_ascii() {
        return to - from;
    }
    bytes[from..to]
        .iter()
        .enumerate()
        .filter(|&(i, &b)| {
            b & 0xC0 != 0x80 && !(b == 0xEF && bytes[from + i..].starts_with(b"\xEF\xBB\xBF"))
        })
        .count()
}

/// A parsed manifest file: its exact text and the tree.
#[derive(Debug, Clone)]
pub struct Source {
    text: String,
    root: Node,
    duplicates: Vec<Duplicate>,
    unlisted: Unlisted,
    lines: LineIndex,
}

/// Duplicate keys found but not listed in [`Source::duplicates`], because the pointers of the
/// listed ones already add up to [`duplicate_pointer_budget`] (only a hostile file gets there:
/// thousands of duplicates below a megabyte-long key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unlisted {
    /// Duplicated keys that are not `_` comments.
    pub keys: usize,
    /// Duplicated `_` comment keys.
    pub comments: usize,
}

/// Most bytes of JSON pointers kept for the duplicate keys of a text of `len` bytes: four
/// times its size (at least 1 MiB). Further duplicates are only counted
/// ([`Source::unlisted_duplicates`]), so time and memory stay linear in the file size.
pub fn duplicate_pointer_budget(len: usize) -> usize {
    len.saturating_mul(4).max(1 << 20)
}

/// Failure to read the bytes as a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseFailure {
    /// The bytes are not UTF-8; `offset` is the first bad byte.
    NotUtf8 {
        /// Byte offset.
        offset: usize,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A JSON syntax error.
    Syntax {
        /// The error.
        error: SyntaxError,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

impl Source {
    /// Parses `bytes` as one JSON document. A UTF-8 BOM and CRLF line ends are accepted.
    ///
    /// # Errors
    /// [`ParseFailure`] when the bytes are not UTF-8 or not JSON, with line and column.
    pub fn parse(bytes: &[u8]) -> Result<Source, ParseFailure> {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.to_owned(),
            Err(e) => {
                let offset = e.valid_up_to();
                let good = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
                let (line, column) = LineIndex::new(good).locate(good, offset);
                return Err(ParseFailure::NotUtf8 {
                    offset,
                    line,
                    column,
                });
            }
        };
        let lines = LineIndex::new(&text);
        let mut parser = Parser {
            text: &text,
            bytes: text.as_bytes(),
            pos: 0,
            duplicates: Vec::new(),
            unlisted: Unlisted::default(),
            pointer_bytes: 0,
            path: Vec::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        };
        match parser.document() {
            Ok(root) => {
                let duplicates = parser.duplicates;
                let unlisted = parser.unlisted;
                Ok(Source {
                    text,
                    root,
                    duplicates,
                    unlisted,
                    lines,
                })
            }
            Err(error) => {
                let (line, column) = lines.locate(&text, error.offset);
                Err(ParseFailure::Syntax {
                    error,
                    line,
                    column,
                })
            }
        }
    }

    /// The exact text that was parsed.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The root value.
    pub fn root(&self) -> &Node {
        &self.root
    }
    /// Keys that occur twice in one object.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }
    /// Duplicate keys found beyond those listed by [`Source::duplicates`].
    pub fn unlisted_duplicates(&self) -> Unlisted {
        self.unlisted
    }
    /// 1-based (line, column) of a byte offset.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        self.lines.locate(&self.text, offset)
    }
    /// [`Source::locate`] starting the search at the 0-based line `*near` (see
    /// [`LineIndex::locate_near`]).
    pub fn locate_near(&self, offset: usize, near: &mut usize) -> (usize, usize) {
        self.lines.locate_near(&self.text, offset, near)
    }
    /// The line ending the author used (`\r\n` when the first line ends so).
    pub fn newline(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if i > 0 && self.text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }
    /// The indentation unit the author used (from the first indented line), default two spaces.
    pub fn indent_unit(&self) -> String {
        for line in self.text.lines().skip(1) {
            let ws: String = line
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            if !ws.is_empty() {
                return ws;
            }
        }
        "  ".to_owned()
    }
    /// The whitespace that starts the line holding `offset`.
    pub fn indent_at(&self, offset: usize) -> &str {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let rest = &self.text[start..];
        let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        &rest[..n]
    }
    /// The text with `edits` applied (each replaces a byte range; ranges must not overlap).
    pub fn splice(&self, edits: &mut [(Span, String)]) -> String {
        edits.sort_by_key(|(s, _)| (s.start, s.end));
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut at = 0;
        for (span, replacement) in edits.iter() {
            out.push_str(&self.text[at..span.start.max(at)]);
            out.push_str(replacement);
            at = at.max(span.end);
        }
        out.push_str(&self.text[at..]);
        out
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    duplicates: Vec<Duplicate>,
    unlisted: Unlisted,
    /// Bytes of the pointers in `duplicates`.
    pointer_bytes: usize,
    /// Where the value being parsed is: one segment per enclosing array or object. The JSON
    /// pointer is built from it only when a duplicate key needs one.
    path: Vec<Segment>,
    /// Hashes keys for the duplicate search (randomly keyed: no key set can be made to collide).
    hasher: std::collections::hash_map::RandomState,
}

/// One step of [`Parser::path`].
enum Segment {
    /// The member with this key (moved here while its value is parsed).
    Key(String),
    /// The element at this index.
    Index(usize),
}

/// Objects with fewer members are searched for a duplicate key one by one; larger ones get a
/// hash table.
const LINEAR_SEARCH_MEMBERS: usize = 16;

/// The table of an object's keys: the key's hash (already keyed, see [`Parser::hasher`]) →
/// index of the first member with that hash. The hash is used as is, not hashed again.
type KeyIndex = std::collections::HashMap<u64, usize, std::hash::BuildHasherDefault<Prehashed>>;

/// A `Hasher` for keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // only `write_u64` is used (the key type is u64); fold anything else in
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PResult<T> = Result<T, SyntaxError>;

impl Parser<'_> {
    fn err<T>(&self, offset: usize, message: impl Into<String>) -> PResult<T> {
        Err(SyntaxError {
            offset,
            message: message.into(),
        })
    }

    fn document(&mut self) -> PResult<Node> {
        if self.text.starts_with('\u{feff}') {
            self.pos = 3;
        }
        self.ws();
        if self.pos >= self.bytes.len() {
            return self.err(self.pos, "the file is empty: expected a JSON object");
        }
        let root = self.value(0)?;
        self.ws();
        if self.pos < self.bytes.len() {
            return self.err(
                self.pos,
                "unexpected text after the end of the JSON document",
            );
        }
        Ok(root)
    }

    fn ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn describe_here(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "the end of the file".to_owned(),
            Some(c) if c.is_control() => format!("control character U+{:04X}", c as u32),
            Some(c) => format!("`{c}`"),
        }
    }

    fn value(&mut self, depth: usize) -> PResult<Node> {
        if depth > MAX_DEPTH {
            return self.err(self.pos, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            None => return self.err(self.pos, "unexpected end of file: expected a value"),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'/') => return self.err(self.pos, "comments are not allowed in JSON"),
            Some(_) => {
                return self.err(
                    self.pos,
                    format!("expected a value, found {}", self.describe_here()),
                )
            }
        };
        Ok(Node {
            span: Span {
                start,
                end: self.pos,
            },
            value,
        })
    }

    fn literal(&mut self, word: &str, value: Value) -> PResult<Value> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.err(
                self.pos,
                format!("expected a value, found {}", self.describe_here()),
            )
        }
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        let b = self.bytes;
        if b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(self.pos), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return self.err(self.pos, "invalid number: expected a digit"),
        }
        if b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !matches!(b.get(self.pos), Some(b'0'..=b'9')) {
                return self.err(self.pos, "invalid number: expected a digit after `.`");
            }
            while matches!(b.get(self.pos), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(b.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(b.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(b.get(self.pos), Some(b'0'..=b'9')) {
                return self.err(self.pos, "invalid number: expected a digit in the exponent");
            }
            while matches!(b.get(self.pos), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        let raw = &self.text[start..self.pos];
        let value: f64 = raw.parse().unwrap_or(f64::NAN);
        if !value.is_finite() {
            return self.err(start, format!("number `{raw}` is out of range"));
        }
        Ok(Value::Number(Number {
            raw: match raw.as_bytes() {
                [d @ b'0'..=b'9'] => Cow::Borrowed(DIGITS[usize::from(d - b'0')]),
                _ => Cow::Owned(raw.to_owned()),
            },
            value,
        }))
    }

    fn string(&mut self) -> PResult<String> {
        let open = self.pos;
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return self.err(open, "unterminated string");
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(&e) = self.bytes.get(self.pos) else {
                        return self.err(open, "unterminated string");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return self.err(self.pos - 2, "invalid escape sequence in string"),
                    }
                }
                0x00..=0x1f => {
                    return self.err(
                        self.pos,
                        format!("{} inside a string must be escaped", self.describe_here()),
                    )
                }
                _ => {
                    // Copy a run of plain bytes at once; the text is valid UTF-8 and the run
                    // stops only at ASCII bytes, so the slice is on char boundaries.
                    let start = self.pos;
                    while let Some(&c) = self.bytes.get(self.pos) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.text[start..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let at = self.pos;
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(digits, 16) {
            Ok(v) if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => self.err(at, "invalid \\u escape: expected four hex digits"),
        }
    }

    fn unicode_escape(&mut self) -> PResult<char> {
        let at = self.pos - 2;
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return self.err(at, "unpaired surrogate in \\u escape");
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return self.err(at, "unpaired surrogate in \\u escape");
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.err(at, "unpaired surrogate in \\u escape"),
        }
    }

    fn array(&mut self, depth: usize) -> PResult<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        self.path.push(Segment::Index(0));
        loop {
            self.ws();
            if let Some(Segment::Index(i)) = self.path.last_mut() {
                *i = items.len();
            }
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                    if self.bytes.get(self.pos) == Some(&b']') {
                        return self.err(self.pos - 1, "trailing comma before `]`");
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    self.path.pop();
                    return Ok(Value::Array(items));
                }
                None => return self.err(self.pos, "unexpected end of file: expected `,` or `]`"),
                Some(_) => {
                    return self.err(
                        self.pos,
                        format!(
                            "expected `,` or `]` in array, found {}",
                            self.describe_here()
                        ),
                    )
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> PResult<Value> {
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        // key hash -> index of the first member with that hash, once the object is large
        let mut index: Option<KeyIndex> = None;
        self.ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b'"') => {}
                None => return self.err(self.pos, "unexpected end of file: expected a key"),
                Some(_) => {
                    return self.err(
                        self.pos,
                        format!(
                            "expected a key in double quotes, found {}",
                            self.describe_here()
                        ),
                    )
                }
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return self.err(
                    self.pos,
                    format!("expected `:` after key, found {}", self.describe_here()),
                );
            }
            self.pos += 1;
            self.ws();
            if let Some(first) = self.first_with_key(&members, &mut index, &key) {
                self.duplicate(&key, first, key_span);
            }
            self.path.push(Segment::Key(key));
            let value = self.value(depth + 1)?;
            let Some(Segment::Key(key)) = self.path.pop() else {
                unreachable!("the key pushed above is the last segment again")
            };
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                    if self.bytes.get(self.pos) == Some(&b'}') {
                        return self.err(self.pos - 1, "trailing comma before `}`");
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                None => return self.err(self.pos, "unexpected end of file: expected `,` or `}`"),
                Some(_) => {
                    return self.err(
                        self.pos,
                        format!(
                            "expected `,` or `}}` in object, found {}",
                            self.describe_here()
                        ),
                    )
                }
            }
        }
    }

    /// The key span of the first member named `key`, if any, in constant expected time: small
    /// objects are searched directly, larger ones through `index` (built on the way).
    fn first_with_key(
        &self,
        members: &[Member],
        index: &mut Option<KeyIndex>,
        key: &str,
    ) -> Option<Span> {
        use std::hash::BuildHasher;
        if index.is_none() && members.len() < LINEAR_SEARCH_MEMBERS {
            super::work::add(members.len());
            return members.iter().find(|m| m.key == key).map(|m| m.key_span);
        }
        let index = index.get_or_insert_with(|| {
            let mut map = KeyIndex::with_capacity_and_hasher(members.len() * 2, Default::default());
            for (i, m) in members.iter().enumerate() {
                map.entry(self.hasher.hash_one(&m.key)).or_insert(i);
            }
            map
        });
        super::work::add(1);
        match index.entry(self.hasher.hash_one(key)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(members.len());
                None
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let first = &members[*e.get()];
                if first.key == key {
                    Some(first.key_span)
                } else {
                    // Two keys with one 64-bit hash: astronomically rare, so a scan is fine.
                    super::work::add(members.len());
                    members.iter().find(|m| m.key == key).map(|m| m.key_span)
                }
            }
        }
    }

    /// Records a duplicate of `key` (first seen at `first`) at `second`, with its pointer
    /// while the pointers kept stay within [`duplicate_pointer_budget`].
    fn duplicate(&mut self, key: &str, first: Span, second: Span) {
        let room = self.pointer_bytes < duplicate_pointer_budget(self.bytes.len());
        if !room {
            if key.starts_with('_') {
                self.unlisted.comments += 1;
            } else {
                self.unlisted.keys += 1;
            }
            return;
        }
        let mut pointer = String::new();
        for segment in &self.path {
            pointer.push('/');
            match segment {
                Segment::Key(k) => pointer.push_str(&escape_token(k)),
                Segment::Index(i) => pointer.push_str(&i.to_string()),
            }
        }
        pointer.push('/');
        pointer.push_str(&escape_token(key));
        super::work::add(pointer.len());
        self.pointer_bytes += pointer.len();
        self.duplicates.push(Duplicate {
            pointer,
            key: key.to_owned(),
            first,
            second,
        });
    }
}

/// Escapes a key as one RFC 6901 pointer token.
pub fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Source {
        Source::parse(s.as_bytes()).expect("parses")
    }

    fn fail(s: &str) -> (String, usize, usize) {
        match Source::parse(s.as_bytes()) {
            Err(ParseFailure::Syntax {
                error,
                line,
                column,
            }) => (error.message, line, column),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn spans_and_pointers() {
        let s = parse("{\r\n  \"a\": [1, {\"b~/\": true}],\r\n  \"c\": \"x\"\r\n}");
        let b = s.root().pointer("/a/1/b~0~1").unwrap();
        assert_eq!(b.value, Value::Bool(true));
        assert_eq!(s.locate(b.span.start), (2, 20));
        let c = s.root().pointer("/c").unwrap();
        assert_eq!(s.locate(c.span.start), (3, 8));
    }

    #[test]
    fn bom_is_accepted_and_not_counted() {
        let s = parse("\u{feff}{\"a\": 1}");
        assert_eq!(s.locate(s.root().pointer("/a").unwrap().span.start), (1, 7));
    }

    #[test]
    fn columns_count_characters_across_table_blocks() {
        // the naive count (characters from the line start, BOM not counted) at every offset
        let text = format!(
            "\u{feff}{{\"a\": \"{}\u{feff}x\",\r\n \"é\": [{}]}}\n",
            "é😀".repeat(60),
            "1, ".repeat(50) + "2"
        );
        let index = LineIndex::new(&text);
        for offset in 0..=text.len() {
            if !text.is_char_boundary(offset) {
                continue;
            }
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let col = text[start..offset]
                .chars()
                .filter(|&c| c != '\u{feff}')
                .count()
                + 1;
            let line = text[..offset].matches('\n').count() + 1;
            assert_eq!(index.locate(&text, offset), (line, col), "offset {offset}");
        }
        // with a line hint, in order and out of order, the same answers
        let mut near = 0;
        let offsets: Vec<usize> = (0..=text.len())
            .filter(|&o| text.is_char_boundary(o))
            .collect();
        for &o in offsets.iter().chain(offsets.iter().rev()).step_by(3) {
            assert_eq!(
                index.locate_near(&text, o, &mut near),
                index.locate(&text, o),
                "offset {o}"
            );
        }
    }

    #[test]
    fn duplicates_are_recorded_with_both_places() {
        let s = parse("{\"a\": 1,\n \"a\": 2}");
        let d = &s.duplicates()[0];
        assert_eq!(d.pointer, "/a");
        assert_eq!(s.locate(d.first.start).0, 1);
        assert_eq!(s.locate(d.second.start).0, 2);
    }

    #[test]
    fn duplicates_in_large_objects_and_below_arrays() {
        let mut keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        keys.push("\"k3\": 0".into());
        keys.push("\"a/b~\": [0, {\"x\": 1, \"x\": 2}]".into());
        keys.push("\"k39\": 0".into());
        let s = parse(&format!("{{\"outer\": {{{}}}}}", keys.join(", ")));
        let found: Vec<(&str, &str)> = s
            .duplicates()
            .iter()
            .map(|d| (d.key.as_str(), d.pointer.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("k3", "/outer/k3"),
                ("x", "/outer/a~1b~0/1/x"),
                ("k39", "/outer/k39")
            ]
        );
        let first = &s.text()[s.duplicates()[0].first.start..s.duplicates()[0].first.end];
        assert_eq!(first, "\"k3\"");
        assert!(s.duplicates()[0].first.start < s.duplicates()[0].second.start);
        assert_eq!(s.unlisted_duplicates(), Unlisted::default());
    }

    #[test]
    fn syntax_errors_have_positions() {
        assert_eq!(fail("{\"a\": 1,}").0, "trailing comma before `}`");
        assert_eq!(fail("").0, "the file is empty: expected a JSON object");
        let (m, l, c) = fail("{\n  \"a\": 1,\n  # note\n}");
        assert!(m.contains("expected a key"), "{m}");
        assert_eq!((l, c), (3, 3));
        assert!(fail("{\"a\": \"x").0.contains("unterminated"));
        assert!(fail("[1] 2").0.contains("after the end"));
        assert!(fail("{\"a\": 01}").0.contains("expected `,`"));
        assert!(fail("{\"a\": 1e999}").0.contains("out of range"));
        assert!(fail("\"\\ud800\"").0.contains("surrogate"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        assert!(fail(&deep).0.contains("nesting deeper"));
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = Source::parse(b"{\n \"a\": \"\xff\"}").unwrap_err();
        assert_eq!(
            err,
            ParseFailure::NotUtf8 {
                offset: 9,
                line: 2,
                column: 8
            }
        );
    }

    #[test]
    fn splice_keeps_everything_else() {
        let s = parse("{\r\n  \"a\": 1, \"_c\": \"x\"\r\n}");
        let span = s.root().pointer("/a").unwrap().span;
        assert_eq!(
            s.splice(&mut [(span, "2".into())]),
            "{\r\n  \"a\": 2, \"_c\": \"x\"\r\n}"
        );
    }
}
