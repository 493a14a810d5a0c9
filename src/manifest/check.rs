//! The structural validator: walks the JSON tree against the tables of [`super::shape`] and
//! reports types, required fields, allowed values, ranges, paths and unknown keys — all of
//! them, in one pass.

use super::diagnostic::{Code, Diagnostic};
use super::shape::{Field, Obj, Presence, Str, Ty};
use super::source::{escape_token, Node, Source, Value};

/// Collects diagnostics for one source, turning byte offsets into line:column.
pub struct Sink<'a> {
    source: &'a Source,
    /// What was found so far.
    pub found: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    /// An empty sink for `source`.
    pub fn new(source: &'a Source) -> Self {
        Self {
            source,
            found: Vec::new(),
        }
    }
    /// Records a diagnostic with the code's severity at byte `offset`.
    pub fn push(
        &mut self,
        code: Code,
        pointer: &str,
        offset: usize,
        message: String,
        hint: Option<String>,
    ) {
        let (line, column) = self.source.locate(offset);
        self.found.push(Diagnostic {
            severity: code.severity(),
            code,
            pointer: pointer.to_owned(),
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
        pointer: &str,
        node: &Node,
        message: String,
        hint: Option<String>,
    ) {
        self.push(code, pointer, node.span.start, message, hint);
    }
}

/// Checks `node` (at `pointer`) against `ty`.
pub fn check(sink: &mut Sink<'_>, node: &Node, ty: &Ty, pointer: &str) {
    match ty {
        Ty::Any => {}
        Ty::Bool
        | Ty::Str(_)
        | Ty::Int { .. }
        | Ty::Num { .. }
        | Ty::Array { .. }
        | Ty::Object(_)
        | Ty::Map(_)
            if !kind_matches(node, ty) =>
        {
            type_error(sink, node, ty, pointer)
        }
        Ty::Bool => {}
        Ty::Str(rule) => check_str(sink, node, node.as_str().unwrap_or(""), rule, pointer),
        Ty::Int { min, max } => {
            let Some(v) = node.as_i64() else {
                return type_error(sink, node, ty, pointer);
            };
            if v < *min || max.is_some_and(|m| v > m) {
                let range = match max {
                    Some(m) => format!("between {min} and {m}"),
                    None => format!("at least {min}"),
                };
                sink.at(
                    Code::Range,
                    pointer,
                    node,
                    format!("must be {range}, found {v}"),
                    None,
                );
            }
        }
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
                    pointer,
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
                    pointer,
                    node,
                    format!(
                        "must have at least {min_items} element{}",
                        if *min_items == 1 { "" } else { "s" }
                    ),
                    None,
                );
            }
            for (i, elem) in elems.iter().enumerate() {
                check(sink, elem, items, &format!("{pointer}/{i}"));
            }
        }
        Ty::Object(obj) => check_object(sink, node, obj, pointer),
        Ty::Map(values) => {
            for m in node.as_object().unwrap_or(&[]) {
                if !m.key.starts_with('_') {
                    check(
                        sink,
                        &m.value,
                        values,
                        &format!("{pointer}/{}", escape_token(&m.key)),
                    );
                }
            }
        }
        Ty::OneOf(alts) => match alts.iter().find(|alt| kind_matches(node, alt)) {
            Some(alt) => check(sink, node, alt, pointer),
            None => type_error(sink, node, ty, pointer),
        },
        Ty::Lenient(documented, accepted) => {
            if kind_matches(node, documented) {
                check(sink, node, documented, pointer);
            } else if kind_matches(node, accepted) {
                sink.at(
                    Code::LooseType,
                    pointer,
                    node,
                    format!(
                        "should be {}, found {} {}; accepted for compatibility",
                        expected(documented),
                        node.value.type_name(),
                        raw(sink.source, node)
                    ),
                    None,
                );
                check(sink, node, accepted, pointer);
            } else {
                type_error(sink, node, documented, pointer);
            }
        }
    }
}

/// Checks the fields of an object: required ones present, each known one valid, unknown keys
/// reported with a did-you-mean.
pub fn check_object(sink: &mut Sink<'_>, node: &Node, obj: &'static Obj, pointer: &str) {
    let Some(members) = node.as_object() else {
        return type_error(sink, node, &Ty::Object(obj), pointer);
    };
    for field in obj.fields {
        let child = format!("{pointer}/{}", field.name);
        match node.get(field.name) {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => missing(sink, node, field, pointer, &child),
            Some(value) => check(sink, value, &field.ty, &child),
        }
    }
    if obj.open {
        return;
    }
    for m in members {
        if m.key.starts_with('_') || obj.fields.iter().any(|f| f.name == m.key) {
            continue;
        }
        let alias = ALIASES
            .iter()
            .find(|(k, v)| *k == m.key && obj.fields.iter().any(|f| f.name == *v));
        let hint = alias
            .map(|(_, v)| *v)
            .or_else(|| did_you_mean(&m.key, obj.fields.iter().map(|f| f.name)))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                Some("the key is kept as is; prefix it with `_` if it is a comment".to_owned())
            });
        sink.push(
            Code::UnknownKey,
            &format!("{pointer}/{}", escape_token(&m.key)),
            m.key_span.start,
            format!("unknown key `{}`", m.key),
            hint,
        );
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

fn missing(sink: &mut Sink<'_>, parent: &Node, field: &Field, pointer: &str, child: &str) {
    let what = if parent.get(field.name).is_some() {
        "is null"
    } else {
        "is missing"
    };
    let place = if pointer.is_empty() {
        "the manifest".to_owned()
    } else {
        format!("`{pointer}`")
    };
    let doc = field.doc.trim_end_matches('.');
    match field.presence {
        Presence::Optional => {}
        Presence::Required => sink.at(
            Code::Required,
            child,
            parent,
            format!("required field `{}` {what} in {place}", field.name),
            Some(format!("add `{}`: {doc}", field.name)),
        ),
        Presence::Recommended => sink.at(
            Code::Recommended,
            child,
            parent,
            format!("recommended field `{}` {what} in {place}", field.name),
            Some(format!("add `{}`: {doc}", field.name)),
        ),
    }
}

fn check_str(sink: &mut Sink<'_>, node: &Node, s: &str, rule: &Str, pointer: &str) {
    match rule {
        Str::Any => {}
        Str::NonEmpty => {
            if s.trim().is_empty() {
                sink.at(
                    Code::Empty,
                    pointer,
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
                pointer,
                node,
                format!("\"{s}\" is not a known value{tail}"),
                Some(hint),
            );
        }
        Str::Sha256 => {
            if !s.is_empty() && !crate::digest::is_sha256_hex(s) {
                sink.at(
                    Code::Sha256,
                    pointer,
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
                    pointer,
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

/// Why `path` is not a safe relative path inside the expert folder, if it is not.
pub fn check_relative_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.chars().any(char::is_control) {
        return Err("contains control characters");
    }
    if path.starts_with('/') || path.starts_with('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err("is absolute");
    }
    if path.contains('\\') {
        return Err("uses `\\` separators");
    }
    if path.split('/').any(|c| c == "..") {
        return Err("leaves the expert folder (`..`)");
    }
    Ok(())
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// The closest candidate to `word`, when one is close enough to be a likely typo.
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = word.to_lowercase();
    candidates
        .map(|c| {
            (
                strsim::jaro_winkler(&lower, c),
                strsim::levenshtein(&lower, c),
                c,
            )
        })
        .filter(|(jw, lev, c)| *lev <= 2.max(c.len() / 4) || *jw >= 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, _, c)| c)
}

fn kind_matches(node: &Node, ty: &Ty) -> bool {
    match (ty, &node.value) {
        (Ty::Any, _) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Str(_), Value::String(_)) => true,
        // `16.0` is a number, not an integer: ranks and counts are written as whole numbers.
        (Ty::Int { .. }, Value::Number(n)) => {
            n.as_i64().is_some() && !n.raw.contains(['.', 'e', 'E'])
        }
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

fn type_error(sink: &mut Sink<'_>, node: &Node, ty: &Ty, pointer: &str) {
    let found = node.value.type_name();
    let hint = match (ty, &node.value) {
        (Ty::Int { .. }, Value::Number(n)) => Some(match n.as_i64() {
            Some(i) => format!("write {i}"),
            None => "write a whole number without a fraction".to_owned(),
        }),
        (Ty::Str(_), Value::Number(_) | Value::Bool(_)) => Some(format!(
            "put the value in quotes: \"{}\"",
            &sink.source.text()[node.span.start..node.span.end]
        )),
        (Ty::Int { .. } | Ty::Num { .. }, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Some(format!("remove the quotes: {}", s.trim()))
        }
        _ => None,
    };
    let shown = raw(sink.source, node);
    sink.at(
        Code::Type,
        pointer,
        node,
        format!("must be {}, found {found} {shown}", expected(ty)),
        hint,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

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
