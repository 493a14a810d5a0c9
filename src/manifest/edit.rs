//! Lossless edits of the author's JSON: every change is a splice into the original text, so
//! keys, comments (`_…`), key order, indentation and line endings outside the edit survive
//! byte for byte. Used by `package` (cut `base_models`, write `integrity`) and `migrate`.

use super::source::{Node, Source, Span};

/// Re-indents a block of JSON text that is moved `extra` deeper: every line after the first
/// gets `extra` in front.
pub fn reindent(text: &str, extra: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(extra);
            }
        }
        out.push_str(line);
    }
    out
}

/// Pretty JSON of `value` in the author's style: indent unit, line ending, and starting at
/// the indentation `base` (for every line after the first).
pub fn render(value: &serde_json::Value, source: &Source, base: &str) -> String {
    use serde::Serialize;
    let unit = source.indent_unit();
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    // Serialising a serde_json::Value into a Vec cannot fail.
    let _ = value.serialize(&mut ser);
    let text = String::from_utf8(buf).unwrap_or_default();
    reindent(&text, base).replace('\n', source.newline())
}

/// The edit that sets `key` of the object `obj` to `value_text` (already rendered): replaces
/// the value when the key exists, else appends a member after the last one.
pub fn set_member(source: &Source, obj: &Node, key: &str, value_text: &str) -> (Span, String) {
    if let Some(m) = obj.member(key) {
        return (m.value.span, value_text.to_owned());
    }
    let members = obj.as_object().unwrap_or(&[]);
    let nl = source.newline();
    match members.last() {
        Some(last) => {
            let indent = source.indent_at(last.key_span.start).to_owned();
            let at = last.value.span.end;
            (
                Span { start: at, end: at },
                format!(",{nl}{indent}\"{key}\": {value_text}"),
            )
        }
        None => {
            let outer = source.indent_at(obj.span.start).to_owned();
            let inner = format!("{outer}{}", source.indent_unit());
            (
                Span {
                    start: obj.span.start,
                    end: obj.span.end,
                },
                format!("{{{nl}{inner}\"{key}\": {value_text}{nl}{outer}}}"),
            )
        }
    }
}

/// The edit that removes member `key` from `obj`, with the comma and white space that
/// belonged to it. `None` when the key is absent.
pub fn remove_member(obj: &Node, key: &str) -> Option<(Span, String)> {
    let members = obj.as_object()?;
    let i = members.iter().position(|m| m.key == key)?;
    let span = if i > 0 {
        // from the end of the previous value (its comma goes) to the end of this one
        Span {
            start: members[i - 1].value.span.end,
            end: members[i].value.span.end,
        }
    } else if let Some(next) = members.get(1) {
        // first member: up to the next key, keeping the next key's indentation
        Span {
            start: members[0].key_span.start,
            end: next.key_span.start,
        }
    } else {
        let open = obj.span.start + 1;
        let close = obj.span.end - 1;
        return Some((
            Span {
                start: open,
                end: close,
            },
            String::new(),
        ));
    };
    Some((span, String::new()))
}

/// The text of `base_models` cut down to the element at `keep`, formatted like the original.
pub fn keep_one(source: &Source, array: &Node, keep: usize) -> Option<(Span, String)> {
    let items = array.as_array()?;
    let chosen = items.get(keep)?;
    let (first, last) = (items.first()?, items.last()?);
    let text = source.text();
    let lead = &text[array.span.start + 1..first.span.start];
    let trail = &text[last.span.end..array.span.end - 1];
    let body = &text[chosen.span.start..chosen.span.end];
    Some((array.span, format!("[{lead}{body}{trail}]")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> Source {
        Source::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn set_appends_in_style() {
        let s = src("{\r\n    \"a\": 1\r\n}");
        let mut e = [set_member(&s, s.root(), "b", "2")];
        assert_eq!(s.splice(&mut e), "{\r\n    \"a\": 1,\r\n    \"b\": 2\r\n}");
        let mut e = [set_member(&s, s.root(), "a", "3")];
        assert_eq!(s.splice(&mut e), "{\r\n    \"a\": 3\r\n}");
    }

    #[test]
    fn remove_first_middle_last() {
        let s = src("{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}");
        for (k, want) in [
            ("a", "{\n  \"b\": 2,\n  \"c\": 3\n}"),
            ("b", "{\n  \"a\": 1,\n  \"c\": 3\n}"),
            ("c", "{\n  \"a\": 1,\n  \"b\": 2\n}"),
        ] {
            let mut e = [remove_member(s.root(), k).unwrap()];
            let out = s.splice(&mut e);
            assert_eq!(out, want);
            assert!(Source::parse(out.as_bytes()).is_ok());
        }
    }

    #[test]
    fn keep_one_keeps_format() {
        let s = src("{\"m\": [\n  {\"n\": 1},\n  {\"n\": 2}\n]}");
        let arr = s.root().get("m").unwrap();
        let mut e = [keep_one(&s, arr, 1).unwrap()];
        assert_eq!(s.splice(&mut e), "{\"m\": [\n  {\"n\": 2}\n]}");
    }
}
