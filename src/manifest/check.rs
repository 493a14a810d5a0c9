//! The structural validator: walks the JSON tree against the tables of [`super::shape`] and
//! reports types, required fields, allowed values, ranges, paths, unknown keys and what the
//! expert runtime's loader would refuse — all of them, in one pass.
//!
//! JSON pointers are built only for the diagnostics that carry one: the walk passes a chain of
//! borrowed segments ([`Ptr`]) down the tree and renders it when something is reported.

use super::diagnostic::{Code, Diagnostic};
use super::shape::{Bits, Field, Obj, Presence, Runtime, Str, Ty};
use super::source::{escape_token, Node, Number, Source, Value};
use std::fmt::Write as _;

/// Most diagnostics of one code listed for one file; the rest are counted and summed up in one
/// last diagnostic of that code. A person reads the first ones and fixes the cause; a hostile
/// or generated file with a million unknown keys must not turn into a million lines (and the
/// seconds to print them). Nothing is lost from the verdict: severities and counts stay.
pub const LISTED_PER_CODE: usize = 1000;

/// Collects diagnostics for one source, turning byte offsets into line:column.
pub struct Sink<'a> {
    source: &'a Source,
    /// What was found so far (at most [`LISTED_PER_CODE`] of each code).
    pub found: Vec<Diagnostic>,
    /// The line of the last diagnostic (most come in file order).
    line: usize,
    /// Per code: how many were found, and the offset of the first one not listed.
    counts: std::collections::HashMap<Code, (usize, usize)>,
}

impl<'a> Sink<'a> {
    /// An empty sink for `source`.
    pub fn new(source: &'a Source) -> Self {
        Self {
            source,
            found: Vec::new(),
            line: 0,
            counts: std::collections::HashMap::new(),
        }
    }
    /// Counts a diagnostic of `code` at byte `offset`; true when it is to be listed.
    fn listed(&mut self, code: Code, offset: usize) -> bool {
        let (n, first_unlisted) = self.counts.entry(code).or_insert((0, offset));
        *n += 1;
        if *n == LISTED_PER_CODE + 1 {
            *first_unlisted = offset;
        }
        *n <= LISTED_PER_CODE
    }
    /// Records a diagnostic of `code` at byte `offset`, building its pointer, message and hint
    /// only when it is listed (see [`LISTED_PER_CODE`]).
    pub fn push_with(
        &mut self,
        code: Code,
        offset: usize,
        build: impl FnOnce() -> (String, String, Option<String>),
    ) {
        if self.listed(code, offset) {
            let (pointer, message, hint) = build();
            self.record(code, pointer, offset, message, hint);
        }
    }
    /// The diagnostics, with one more per code that found more than [`LISTED_PER_CODE`],
    /// saying how many were not listed.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        let mut over: Vec<(Code, usize, usize)> = self
            .counts
            .iter()
            .filter(|(_, (n, _))| *n > LISTED_PER_CODE)
            .map(|(code, (n, at))| (*code, *n - LISTED_PER_CODE, *at))
            .collect();
        over.sort_by_key(|(code, _, at)| (*at, code.as_str()));
        for (code, unlisted, at) in over {
            self.record(
                code,
                String::new(),
                at,
                format!(
                    "{unlisted} more {} diagnostics from here on are not listed (at most {LISTED_PER_CODE} of each code are)",
                    code.as_str()
                ),
                Some("fix the ones listed and run `validate` again".to_owned()),
            );
        }
        self.found
    }
    /// Records a diagnostic with the code's severity at byte `offset`.
    pub fn push(
        &mut self,
        code: Code,
        pointer: impl Into<String>,
        offset: usize,
        message: String,
        hint: Option<String>,
    ) {
        if self.listed(code, offset) {
            self.record(code, pointer.into(), offset, message, hint);
        }
    }
    fn record(
        &mut self,
        code: Code,
        pointer: String,
        offset: usize,
        message: String,
        hint: Option<String>,
    ) {
        let (line, column) = self.source.locate_near(offset, &mut self.line);
        self.found.push(Diagnostic {
            severity: code.severity(),
            code,
            pointer,
            line,
            column,
            message,
            hint,
        });
    }
    /// Records a diagnostic about `node`.
    pub fn at(
        &mut self,
        code: Code,
        pointer: impl Into<String>,
        node: &Node,
        message: String,
        hint: Option<String>,
    ) {
        self.push(code, pointer, node.span.start, message, hint);
    }
}

/// Where a value is, as a chain of segments on the stack: rendered as an RFC 6901 pointer only
/// when a diagnostic needs it.
#[derive(Debug, Clone, Copy)]
pub enum Ptr<'a> {
    /// The document itself (`""`).
    Root,
    /// The member `key` of the object at the parent.
    Key(&'a Ptr<'a>, &'a str),
    /// The element at an index of the array at the parent.
    Index(&'a Ptr<'a>, usize),
}

impl Ptr<'_> {
    /// The pointer as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        super::work::add(out.len());
        out
    }
    fn write(&self, out: &mut String) {
        match self {
            Ptr::Root => {}
            Ptr::Key(parent, key) => {
                parent.write(out);
                out.push('/');
                out.push_str(&escape_token(key));
            }
            Ptr::Index(parent, i) => {
                parent.write(out);
                let _ = write!(out, "/{i}");
            }
        }
    }
}

/// Checks `node` (at `at`) against `ty`. `read` says whether the expert runtime reads this
/// value; then its integer fields must also fit the runtime's integer types.
pub fn check(sink: &mut Sink<'_>, node: &Node, ty: &Ty, at: &Ptr<'_>, read: bool) {
    match ty {
        Ty::Any => {}
        Ty::Int { min, max, bits } => {
            let Value::Number(n) = &node.value else {
                return type_error(sink, node, ty, at);
            };
            check_int(sink, node, n, (*min, *max, *bits), at, read);
        }
        Ty::Bool | Ty::Str(_) | Ty::Num { .. } | Ty::Array { .. } | Ty::Object(_) | Ty::Map(_)
            if !kind_matches(node, ty) =>
        {
            type_error(sink, node, ty, at)
        }
        Ty::Bool => {}
        Ty::Str(rule) => check_str(sink, node, node.as_str().unwrap_or(""), rule, at),
        Ty::Num { min, max, above } => {
            let v = node.as_f64().unwrap_or(0.0);
            let low = min.is_some_and(|m| if *above { v <= m } else { v < m });
            let high = max.is_some_and(|m| v > m);
            if low || high {
                let raw = raw(sink.source, node);
                let range = match (min, max, above) {
                    (Some(a), Some(b), false) => format!("between {a} and {b}"),
                    (Some(a), Some(b), true) => format!("greater than {a} and at most {b}"),
                    (Some(a), None, true) => format!("greater than {a}"),
                    (Some(a), None, false) => format!("at least {a}"),
                    (None, Some(b), _) => format!("at most {b}"),
                    (None, None, _) => String::new(),
                };
                sink.at(
                    Code::Range,
                    at.render(),
                    node,
                    format!("must be {range}, found {raw}"),
                    None,
                );
            }
        }
        Ty::Array { items, min_items } => {
            let elems = node.as_array().unwrap_or(&[]);
            if elems.len() < *min_items {
                sink.at(
                    Code::Empty,
                    at.render(),
                    node,
                    format!(
                        "must have at least {min_items} element{}",
                        if *min_items == 1 { "" } else { "s" }
                    ),
                    None,
                );
            }
            for (i, elem) in elems.iter().enumerate() {
                check(sink, elem, items, &Ptr::Index(at, i), read);
            }
        }
        Ty::Object(obj) => check_object(sink, node, obj, at, read),
        Ty::Map(values) => {
            for m in node.as_object().unwrap_or(&[]) {
                let at = Ptr::Key(at, &m.key);
                if !m.key.starts_with('_') {
                    check(sink, &m.value, values, &at, read);
                } else if read && !kind_matches(&m.value, values) {
                    // A map the runtime reads is a map to it (`evaluation.metrics` is
                    // name → f32): a `_comment` there is one more entry, of the wrong type.
                    let found = m.value.value.type_name();
                    sink.at(
                        Code::Type,
                        at.render(),
                        &m.value,
                        format!(
                            "must be {} like every entry of this map, found {found} {}: the expert runtime reads `_` keys here as entries, not comments",
                            expected(values),
                            raw(sink.source, &m.value)
                        ),
                        Some("move the comment out of this object".to_owned()),
                    );
                }
            }
        }
        Ty::OneOf(alts) => match alts.iter().find(|alt| kind_matches(node, alt)) {
            Some(alt) => check(sink, node, alt, at, read),
            None => type_error(sink, node, ty, at),
        },
        Ty::Lenient(documented, accepted) => {
            if kind_matches(node, documented) {
                check(sink, node, documented, at, read);
            } else if kind_matches(node, accepted) {
                sink.at(
                    Code::LooseType,
                    at.render(),
                    node,
                    format!(
                        "should be {}, found {} {}; accepted for compatibility",
                        expected(documented),
                        node.value.type_name(),
                        raw(sink.source, node)
                    ),
                    None,
                );
                check(sink, node, accepted, at, read);
            } else {
                type_error(sink, node, documented, at);
            }
        }
    }
}

/// A whole-number literal as the expert runtime (serde_json) sees it.
enum Whole {
    /// Digits with an optional `-`, and their value.
    Value(i128),
    /// Digits, more than fit in an `i128`.
    Huge,
    /// A fraction or an exponent (`32.0`, `1e3`): a float, whatever its value.
    Float,
}

fn whole(n: &Number) -> Whole {
    if n.raw.contains(['.', 'e', 'E']) {
        return Whole::Float;
    }
    match n.raw.parse::<i128>() {
        Ok(v) => Whole::Value(v),
        Err(_) => Whole::Huge,
    }
}

/// An integer field: the runtime's integer type first (where it reads the field), then this
/// format's range.
fn check_int(
    sink: &mut Sink<'_>,
    node: &Node,
    n: &Number,
    (min, max, bits): (i64, Option<i64>, Bits),
    at: &Ptr<'_>,
    read: bool,
) {
    let value = whole(n);
    if read {
        let limit = bits.max();
        let problem = match value {
            Whole::Float => Some(match n.as_i64() {
                Some(i) if i >= 0 && (i as u64) <= limit => format!("write {i}"),
                _ => "write a whole number, without a fraction or an exponent".to_owned(),
            }),
            Whole::Value(v) if v < 0 || n.raw.starts_with('-') => {
                Some(format!("use {} or more", min.max(0)))
            }
            Whole::Value(v) if v > i128::from(limit) => Some(format!("use at most {limit}")),
            Whole::Huge => Some(format!("use at most {limit}")),
            Whole::Value(_) => None,
        };
        if let Some(hint) = problem {
            sink.at(
                Code::RuntimeInteger,
                at.render(),
                node,
                format!(
                    "must be a whole number from 0 to {limit} (the expert runtime reads it as {}), found {}",
                    bits.name(),
                    raw(sink.source, node)
                ),
                Some(hint),
            );
            return;
        }
    }
    let v = match value {
        Whole::Value(v) => v,
        Whole::Float | Whole::Huge => {
            return type_error(sink, node, &Ty::Int { min, max, bits }, at)
        }
    };
    if v < i128::from(min) || max.is_some_and(|m| v > i128::from(m)) {
        let range = match max {
            Some(m) => format!("between {min} and {m}"),
            None => format!("at least {min}"),
        };
        sink.at(
            Code::Range,
            at.render(),
            node,
            format!("must be {range}, found {v}"),
            None,
        );
    }
}

/// Checks the fields of an object: required ones present (by this format and by the expert
/// runtime, when `read`), each known one valid, unknown keys reported with a did-you-mean.
///
/// One pass over the members finds each field's first occurrence and the unknown keys, so an
/// object with a million members costs a million look-ups, not one scan per field.
pub fn check_object(sink: &mut Sink<'_>, node: &Node, obj: &'static Obj, at: &Ptr<'_>, read: bool) {
    let Some(members) = node.as_object() else {
        return type_error(sink, node, &Ty::Object(obj), at);
    };
    let mut found: Vec<Option<&Node>> = vec![None; obj.fields.len()];
    let mut unknown = Vec::new();
    for m in members {
        match obj.fields.iter().position(|f| f.name == m.key) {
            Some(i) => {
                found[i].get_or_insert(&m.value);
            }
            None if m.key.starts_with('_') || obj.open => {}
            None => unknown.push(m),
        }
    }
    super::work::add(members.len());
    for (field, value) in obj.fields.iter().zip(found) {
        let field_read = read && field.runtime_reads();
        match value {
            None => missing(sink, node, field, at, read, false),
            Some(Node {
                value: Value::Null, ..
            }) => missing(sink, node, field, at, read, true),
            Some(value) => check(
                sink,
                value,
                &field.ty,
                &Ptr::Key(at, field.name),
                field_read,
            ),
        }
    }
    if unknown.is_empty() {
        return;
    }
    let suggest = Suggest::new(obj.fields.iter().map(|f| f.name));
    for m in unknown {
        let alias = ALIASES
            .iter()
            .find(|(k, v)| *k == m.key && obj.fields.iter().any(|f| f.name == *v));
        sink.push_with(Code::UnknownKey, m.key_span.start, || {
            let hint = alias
                .map(|(_, v)| *v)
                .or_else(|| suggest.best(&m.key))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    "the key is kept as is; prefix it with `_` if it is a comment".to_owned()
                });
            (
                Ptr::Key(at, &m.key).render(),
                format!("unknown key `{}`", shorten(&m.key)),
                Some(hint),
            )
        });
    }
}

/// Names other tools or older docs use for a field we know under another name.
const ALIASES: &[(&str, &str)] = &[
    ("length", "tokens"),
    ("lr", "learning_rate"),
    ("num_train_epochs", "epochs"),
    ("lora_alpha", "alpha"),
    ("lora_dropout", "dropout"),
    ("rank", "r"),
];

/// Keys the expert runtime does not read, found in place of one it requires: (required key,
/// the key found instead, what the hint adds).
const STAND_INS: &[(&str, &str, &str)] = &[
    ("epochs", "num_epochs", "it does not read `num_epochs`"),
    (
        "epochs",
        "max_steps",
        "it does not read `max_steps`; a positive `max_steps` still ends training first",
    ),
    (
        "warmup_steps",
        "warmup_ratio",
        "with 0, `warmup_ratio` still decides the warm-up",
    ),
];

fn missing(
    sink: &mut Sink<'_>,
    parent: &Node,
    field: &Field,
    at: &Ptr<'_>,
    read: bool,
    null: bool,
) {
    let what = if null { "is null" } else { "is missing" };
    let runtime = read
        && match field.runtime {
            Runtime::Required => true,
            Runtime::NotNull => null,
            Runtime::Read | Runtime::Ignored => false,
        };
    if !runtime && field.presence == Presence::Optional {
        return;
    }
    let pointer = at.render();
    let place = if pointer.is_empty() {
        "the manifest".to_owned()
    } else {
        format!("`{pointer}`")
    };
    let child = format!("{pointer}/{}", field.name);
    let doc = field.doc.trim_end_matches('.');
    if runtime {
        let stand_in = STAND_INS
            .iter()
            .find(|(key, other, _)| *key == field.name && parent.get_non_null(other).is_some());
        let value = match stand_in {
            Some((_, "num_epochs", _)) => parent
                .get("num_epochs")
                .filter(|n| n.as_f64().is_some_and(|v| v > 0.0))
                .map(|n| shorten(&sink.source.text()[n.span.start..n.span.end]).into_owned()),
            _ => None,
        }
        .or(field.example.map(str::to_owned))
        .unwrap_or_else(|| "…".to_owned());
        let (message, hint) = if null && field.runtime == Runtime::NotNull {
            (
                format!("`{}` is null in {place}; the expert runtime accepts it absent, not null", field.name),
                format!("remove `{}` or give it a value — the expert runtime cannot load a manifest with it null", field.name),
            )
        } else {
            let why = stand_in
                .map(|(_, _, note)| format!(" ({note})"))
                .unwrap_or_default();
            (
                format!("field `{}`, required by the expert runtime, {what} in {place}", field.name),
                format!("add \"{}\": {value} — the expert runtime cannot load a manifest without it{why}", field.name),
            )
        };
        sink.at(Code::RuntimeRequired, child, parent, message, Some(hint));
        return;
    }
    match field.presence {
        Presence::Optional => {}
        Presence::Required => sink.at(
            Code::Required,
            &child,
            parent,
            format!("required field `{}` {what} in {place}", field.name),
            Some(format!("add `{}`: {doc}", field.name)),
        ),
        Presence::Recommended => sink.at(
            Code::Recommended,
            &child,
            parent,
            format!("recommended field `{}` {what} in {place}", field.name),
            Some(format!("add `{}`: {doc}", field.name)),
        ),
    }
}

fn check_str(sink: &mut Sink<'_>, node: &Node, s: &str, rule: &Str, at: &Ptr<'_>) {
    match rule {
        Str::Any => {}
        Str::NonEmpty => {
            if s.trim().is_empty() {
                sink.at(
                    Code::Empty,
                    at.render(),
                    node,
                    "must not be empty".to_owned(),
                    None,
                );
            }
        }
        Str::Enum(values) | Str::Open(values) => {
            if values.contains(&s) {
                return;
            }
            let code = if matches!(rule, Str::Enum(_)) {
                Code::Enum
            } else {
                Code::UnknownValue
            };
            let near = did_you_mean(s, values.iter().copied());
            let hint = match near {
                Some(n) => format!("did you mean \"{n}\"?"),
                None => format!("use one of: {}", values.join(", ")),
            };
            let tail = if code == Code::UnknownValue {
                "; accepted as is"
            } else {
                ""
            };
            sink.at(
                code,
                at.render(),
                node,
                format!("\"{s}\" is not a known value{tail}"),
                Some(hint),
            );
        }
        Str::Sha256 => {
            if !s.is_empty() && !crate::digest::is_sha256_hex(s) {
                sink.at(
                    Code::Sha256,
                    at.render(),
                    node,
                    format!("\"{}\" is not a SHA-256 digest", shorten(s)),
                    Some("use 64 hex digits, or \"\" when unknown".to_owned()),
                );
            }
        }
        Str::Path => {
            if let Err(why) = check_relative_path(s) {
                sink.at(
                    Code::UnsafePath,
                    at.render(),
                    node,
                    format!("path \"{}\" {why}", shorten(s)),
                    Some(
                        "use a relative path inside the expert folder, with `/` separators"
                            .to_owned(),
                    ),
                );
            }
        }
    }
}

/// Why `path` is not a safe relative path inside the expert folder, if it is not. A path the
/// manifest names becomes (part of) a package member's name, so this is the member-name rule
/// ([`crate::names::check_member_name`]) after the spellings a manifest may use and a member
/// name may not: leading `./`, a trailing `/` (a folder), and a drive letter (`C:`), which is
/// refused as absolute.
pub fn check_relative_path(path: &str) -> Result<(), &'static str> {
    use crate::names::NameProblem;
    if path.as_bytes().get(1) == Some(&b':') {
        return Err("is absolute");
    }
    let mut name = path;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    let name = name.strip_suffix('/').unwrap_or(name);
    if name == "." || (name.is_empty() && !path.is_empty()) {
        return Ok(()); // the expert folder itself
    }
    crate::names::check_member_name(name).map_err(|problem| match problem {
        NameProblem::Empty => "is empty",
        NameProblem::Absolute => "is absolute",
        NameProblem::Backslash => "uses `\\` separators",
        NameProblem::ParentDir => "leaves the expert folder (`..`)",
        NameProblem::CurrentDir | NameProblem::EmptyComponent => {
            "has an empty or `.` component (write it without `//` or `/./`)"
        }
        NameProblem::ControlCharacter => "contains control characters",
        NameProblem::BidiControl => {
            "contains a bidirectional formatting character, which changes how it is displayed"
        }
        NameProblem::TooLong => "is longer than 4096 bytes",
    })
}

/// `s`, cut to 80 characters with `…` when longer (for messages; pointers stay whole).
pub fn shorten(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &s[..end]).into(),
        None => s.into(),
    }
}

/// The closest candidate to `word`, when one is close enough to be a likely typo: within a
/// Levenshtein distance of `max(2, len/4)`, or at a Jaro-Winkler similarity of 0.9 or more.
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    Suggest::new(candidates).best(word)
}

/// The did-you-mean search over a fixed list of candidates.
///
/// Both distances cost time proportional to the product of the two lengths, so each candidate
/// first goes through bounds that need only the lengths and which characters occur
/// ([`could_be_close`]); a candidate that cannot pass is never measured. The answer is the same
/// as measuring every candidate, but a long key, or a file with a million unknown keys, costs
/// time linear in its size.
struct Suggest<'c> {
    candidates: Vec<Chars<'c>>,
}

impl<'c> Suggest<'c> {
    fn new(candidates: impl Iterator<Item = &'c str>) -> Self {
        Suggest {
            candidates: candidates.map(Chars::of).collect(),
        }
    }

    fn best(&self, word: &str) -> Option<&'c str> {
        let lower: std::borrow::Cow<'_, str> = if word
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            word.to_lowercase().into()
        } else {
            word.into()
        };
        let w = Chars::of(&lower);
        self.candidates
            .iter()
            .filter(|c| could_be_close(&w, c))
            .map(|c| {
                super::work::add(lower.len() * c.text.len());
                (
                    strsim::jaro_winkler(&lower, c.text),
                    strsim::levenshtein(&lower, c.text),
                    c.text,
                )
            })
            .filter(|(jw, lev, c)| *lev <= 2.max(c.len() / 4) || *jw >= 0.9)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, _, c)| c)
    }
}

/// A word's length in characters and the set of characters in it (ASCII exactly, every other
/// character as one class: an over-estimate of what two words share, so the bounds stay valid).
struct Chars<'s> {
    text: &'s str,
    len: usize,
    set: u128,
}

impl<'s> Chars<'s> {
    fn of(text: &'s str) -> Self {
        super::work::add(text.len());
        let (len, set) = if text.is_ascii() {
            (text.len(), text.bytes().fold(0, |s, b| s | (1u128 << b)))
        } else {
            text.chars().fold((0, 0), |(n, s), c| (n + 1, s | class(c)))
        };
        Chars { text, len, set }
    }
    /// Characters of this word whose class occurs in `other`.
    fn shared_with(&self, other: &Chars<'_>) -> usize {
        super::work::add(self.text.len());
        if self.text.is_ascii() {
            self.text
                .bytes()
                .filter(|b| (1u128 << b) & other.set != 0)
                .count()
        } else {
            self.text
                .chars()
                .filter(|c| class(*c) & other.set != 0)
                .count()
        }
    }
}

fn class(c: char) -> u128 {
    1u128 << (c as u32).min(127)
}

/// False when `w` and `c` are certainly neither within the Levenshtein bound nor at a
/// Jaro-Winkler similarity of 0.9 (strsim 0.11: the prefix bonus needs Jaro above 0.7, adds
/// at most 0.4 of the gap, so 0.9 needs Jaro of at least 5/6; Jaro is at most
/// (m/|w| + m/|c| + 1)/3 where the m matched characters occur in both words).
fn could_be_close(w: &Chars<'_>, c: &Chars<'_>) -> bool {
    let bound = 2.max(c.text.len() / 4);
    let (short, long) = (w.len.min(c.len), w.len.max(c.len));
    // Jaro of at least 5/6 with at most m matches: m/|w| + m/|c| >= 3/2, in integers
    let jaro_possible = |m: usize| 2 * m * (w.len + c.len) >= 3 * w.len * c.len && m > 0;
    // length only: a word more than twice as long as the other matches neither way
    if long - short > bound && 2 * short < long {
        return false;
    }
    // no character in common: every one must be replaced, and nothing matches
    if w.set & c.set == 0 {
        return long <= bound;
    }
    // each distinct character of w that c lacks costs at least one edit and one match
    let absent = (w.set & !c.set).count_ones() as usize;
    if absent > bound && !jaro_possible(w.len - absent) {
        return false;
    }
    let in_c = w.shared_with(c); // characters of w that c could match
    if w.len - in_c > bound && !jaro_possible(in_c) {
        return false;
    }
    let in_w = c.shared_with(w);
    let lev_possible = long - short <= bound && w.len - in_c <= bound && c.len - in_w <= bound;
    lev_possible || jaro_possible(in_c.min(in_w))
}

fn kind_matches(node: &Node, ty: &Ty) -> bool {
    match (ty, &node.value) {
        (Ty::Any, _) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Str(_), Value::String(_)) => true,
        // `16.0` is a number, not an integer: ranks and counts are written as whole numbers.
        (Ty::Int { .. }, Value::Number(n)) => matches!(whole(n), Whole::Value(_)),
        (Ty::Num { .. }, Value::Number(_)) => true,
        (Ty::Array { .. }, Value::Array(_)) => true,
        (Ty::Object(_) | Ty::Map(_), Value::Object(_)) => true,
        (Ty::OneOf(alts), _) => alts.iter().any(|a| kind_matches(node, a)),
        (Ty::Lenient(a, b), _) => kind_matches(node, a) || kind_matches(node, b),
        _ => false,
    }
}

/// The JSON type(s) `ty` expects, in words.
pub fn expected(ty: &Ty) -> String {
    match ty {
        Ty::Any => "any value".into(),
        Ty::Bool => "a boolean".into(),
        Ty::Str(_) => "a string".into(),
        Ty::Int { .. } => "an integer".into(),
        Ty::Num { .. } => "a number".into(),
        Ty::Array { .. } => "an array".into(),
        Ty::Object(_) | Ty::Map(_) => "an object".into(),
        Ty::OneOf(alts) => alts.iter().map(expected).collect::<Vec<_>>().join(" or "),
        Ty::Lenient(a, _) => expected(a),
    }
}

fn raw(source: &Source, node: &Node) -> String {
    let text = &source.text()[node.span.start..node.span.end];
    match node.value {
        Value::Array(_) => "[…]".to_owned(),
        Value::Object(_) => "{…}".to_owned(),
        _ => format!("`{}`", shorten(text)),
    }
}

fn type_error(sink: &mut Sink<'_>, node: &Node, ty: &Ty, at: &Ptr<'_>) {
    let found = node.value.type_name();
    let hint = match (ty, &node.value) {
        (Ty::Int { .. }, Value::Number(n)) => Some(match n.as_i64() {
            Some(i) => format!("write {i}"),
            None => "write a whole number without a fraction".to_owned(),
        }),
        (Ty::Str(_), Value::Number(_) | Value::Bool(_)) => Some(format!(
            "put the value in quotes: \"{}\"",
            shorten(&sink.source.text()[node.span.start..node.span.end])
        )),
        (Ty::Int { .. } | Ty::Num { .. }, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Some(format!("remove the quotes: {}", s.trim()))
        }
        _ => None,
    };
    let shown = raw(sink.source, node);
    sink.at(
        Code::Type,
        at.render(),
        node,
        format!("must be {}, found {found} {shown}", expected(ty)),
        hint,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suggested_value_passes_its_own_field() {
        for (at, field) in super::super::shape::runtime_required() {
            let example = field.example.expect("checked in shape.rs");
            let source = Source::parse(example.as_bytes()).expect("JSON, checked in shape.rs");
            let mut sink = Sink::new(&source);
            check(&mut sink, source.root(), &field.ty, &Ptr::Root, true);
            let errors: Vec<_> = sink
                .found
                .iter()
                .filter(|d| d.severity == super::super::Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{at}: {example}: {errors:#?}");
        }
    }

    #[test]
    fn at_most_a_thousand_diagnostics_of_a_code_are_listed_and_the_rest_counted() {
        use super::super::{check_bytes, Role, Severity};
        let keys: Vec<String> = (0..LISTED_PER_CODE + 250)
            .map(|i| format!("\n \"unknown{i}\": 0"))
            .collect();
        let text = format!("{{{}\n}}", keys.join(","));
        let checked = check_bytes(text.as_bytes(), Role::Authored);
        let unknown: Vec<_> = checked
            .diagnostics
            .0
            .iter()
            .filter(|d| d.code == Code::UnknownKey)
            .collect();
        assert_eq!(unknown.len(), LISTED_PER_CODE + 1);
        let last = unknown
            .iter()
            .find(|d| d.pointer.is_empty())
            .expect("the summary diagnostic");
        assert_eq!(
            last.message,
            "250 more W0201 diagnostics from here on are not listed (at most 1000 of each code are)"
        );
        assert_eq!(last.severity, Severity::Warning);
        // placed where the first unlisted key is: line 1002 (`{` is line 1)
        assert_eq!(last.line, LISTED_PER_CODE + 2);
        // other codes are listed as before
        assert!(checked
            .diagnostics
            .0
            .iter()
            .any(|d| d.code != Code::UnknownKey));
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        let fields = ["learning_rate", "epochs", "batch_size"];
        assert_eq!(
            did_you_mean("learning_rat", fields.iter().copied()),
            Some("learning_rate")
        );
        assert_eq!(
            did_you_mean("epoch", fields.iter().copied()),
            Some("epochs")
        );
        assert_eq!(did_you_mean("zzz", fields.iter().copied()), None);
    }

    #[test]
    fn relative_paths() {
        assert!(check_relative_path("grammar.gbnf").is_ok());
        assert!(check_relative_path("./soft/a.pt").is_ok());
        assert_eq!(
            check_relative_path("../x"),
            Err("leaves the expert folder (`..`)")
        );
        assert_eq!(check_relative_path("/etc/passwd"), Err("is absolute"));
        assert_eq!(check_relative_path("C:/x"), Err("is absolute"));
        assert_eq!(check_relative_path("a\\b"), Err("uses `\\` separators"));
    }
}
