//! Field mapping: which dataset columns feed the template's slots (SPEC §7, DATASET_FORMATS.md).
//!
//! Three formats: `text` (a ready string, trained as is), instruction rows (instruction, optional
//! input and system, response), and chat `messages` (`[{role, content}]`). The manifest's
//! `training.dataset.field_mapping` names the columns; without it the format and columns are
//! detected from the first valid row, from a short list of common names.

use super::templates::{Masking, Rendered, Template, Turn};
use serde_json::Value;

/// Column names tried, in order, for each slot when the manifest does not name one.
pub const INSTRUCTION_COLUMNS: &[&str] = &["instruction", "prompt", "question"];
/// See [`INSTRUCTION_COLUMNS`].
pub const RESPONSE_COLUMNS: &[&str] = &["response", "output", "answer", "completion"];
/// See [`INSTRUCTION_COLUMNS`].
pub const INPUT_COLUMNS: &[&str] = &["input", "context"];
/// See [`INSTRUCTION_COLUMNS`].
pub const SYSTEM_COLUMNS: &[&str] = &["system"];
/// Keys of `field_mapping` that are understood.
pub const MAPPING_KEYS: &[&str] = &[
    "instruction",
    "input",
    "response",
    "system",
    "text",
    "messages",
    "input_label",
];

/// How rows are turned into examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A ready string per row, trained on every token.
    Text,
    /// Instruction / input / response columns, rendered with the template.
    Instruction,
    /// A list of `{role, content}` messages, rendered with the template.
    Messages,
}

/// The resolved mapping from columns to slots.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldMap {
    /// The format.
    pub format: Format,
    /// `text` column (format text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `messages` column (format messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<String>,
    /// Instruction column (format instruction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// Optional input column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Response column (format instruction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Optional system column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Label printed before the input (`Input`, or e.g. `Schema`).
    pub input_label: String,
    /// Where the mapping came from: `manifest` or `detected`.
    pub source: &'static str,
}

/// The author's `field_mapping` (plus `text_field`), before a row is seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Slot → column, for the keys of [`MAPPING_KEYS`].
    pub columns: Vec<(String, String)>,
}

impl Mapping {
    fn get(&self, slot: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(k, _)| k == slot)
            .map(|(_, v)| v.as_str())
    }

    /// Resolves the mapping against the first valid row (`None` when the manifest names
    /// enough columns by itself).
    ///
    /// # Errors
    /// A sentence saying which columns are missing, for the caller to locate.
    pub fn resolve(
        &self,
        row: Option<&serde_json::Map<String, Value>>,
    ) -> Result<FieldMap, String> {
        let label = self.get("input_label").unwrap_or("Input").to_owned();
        let has = |c: &str| row.is_some_and(|r| r.contains_key(c));
        let pick = |slot: &str, candidates: &[&str]| -> Option<String> {
            match self.get(slot) {
                Some(c) => Some(c.to_owned()),
                None => candidates.iter().find(|c| has(c)).map(|c| (*c).to_owned()),
            }
        };
        let empty = FieldMap {
            format: Format::Text,
            text: None,
            messages: None,
            instruction: None,
            input: None,
            response: None,
            system: None,
            input_label: label,
            source: if self.columns.is_empty() {
                "detected"
            } else {
                "manifest"
            },
        };
        if let Some(text) = self.get("text") {
            return Ok(FieldMap {
                text: Some(text.to_owned()),
                ..empty
            });
        }
        if self.get("messages").is_some() || (self.get("instruction").is_none() && has("messages"))
        {
            return Ok(FieldMap {
                format: Format::Messages,
                messages: Some(self.get("messages").unwrap_or("messages").to_owned()),
                ..empty
            });
        }
        let instruction = pick("instruction", INSTRUCTION_COLUMNS);
        let response = pick("response", RESPONSE_COLUMNS);
        if let (Some(instruction), Some(response)) = (&instruction, &response) {
            return Ok(FieldMap {
                format: Format::Instruction,
                instruction: Some(instruction.clone()),
                response: Some(response.clone()),
                input: pick("input", INPUT_COLUMNS),
                system: pick("system", SYSTEM_COLUMNS),
                ..empty
            });
        }
        if instruction.is_none() && response.is_none() && has("text") {
            return Ok(FieldMap {
                text: Some("text".to_owned()),
                ..empty
            });
        }
        let keys = row
            .map(|r| {
                r.keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        Err(format!(
            "cannot tell the dataset format: the first row has columns {keys}; expected `text`, \
             `messages`, or an instruction column ({}) with a response column ({})",
            INSTRUCTION_COLUMNS.join(", "),
            RESPONSE_COLUMNS.join(", ")
        ))
    }
}

impl FieldMap {
    /// Renders one row with `template`.
    ///
    /// # Errors
    /// A sentence naming the missing or mistyped field, for the caller to prefix with the line.
    pub fn render(
        &self,
        row: &serde_json::Map<String, Value>,
        template: &Template,
        masking: Masking,
    ) -> Result<Rendered, String> {
        match self.format {
            Format::Text => {
                let col = self.text.as_deref().unwrap_or("text");
                let text = required_str(row, col, "text")?;
                Ok(Rendered {
                    segments: vec![super::templates::Segment {
                        text: text.to_owned(),
                        trained: true,
                    }],
                    eos: false,
                })
            }
            Format::Instruction => {
                let ins = self.instruction.as_deref().unwrap_or("instruction");
                let res = self.response.as_deref().unwrap_or("response");
                let turn = Turn {
                    instruction: required_str(row, ins, "instruction")?,
                    input: optional_str(row, self.input.as_deref(), "input")?,
                    response: required_str(row, res, "response")?,
                };
                let system = optional_str(row, self.system.as_deref(), "system")?;
                Ok(template.render(
                    Some(system).filter(|s| !s.is_empty()),
                    &[turn],
                    &self.input_label,
                    masking,
                ))
            }
            Format::Messages => {
                let col = self.messages.as_deref().unwrap_or("messages");
                let list = match row.get(col) {
                    Some(Value::Array(a)) => a,
                    Some(other) => {
                        return Err(format!(
                            "field `{col}` must be a list of messages, found {}",
                            type_name(other)
                        ))
                    }
                    None => return Err(format!("field `{col}` is missing")),
                };
                let mut system = None;
                let mut turns = Vec::new();
                let mut pending_user: Option<&str> = None;
                for (i, m) in list.iter().enumerate() {
                    let role = m.get("role").and_then(Value::as_str);
                    let content = m.get("content").and_then(Value::as_str);
                    let (Some(role), Some(content)) = (role, content) else {
                        return Err(format!(
                            "`{col}[{i}]` needs string fields `role` and `content`"
                        ));
                    };
                    match (role, pending_user) {
                        ("system", None) if i == 0 => system = Some(content),
                        ("user", None) => pending_user = Some(content),
                        ("assistant", Some(user)) => {
                            turns.push(Turn {
                                instruction: user,
                                input: "",
                                response: content,
                            });
                            pending_user = None;
                        }
                        _ => {
                            return Err(format!(
                                "`{col}[{i}]` has role `{role}` out of order: expected an optional \
                                 first `system`, then `user` and `assistant` alternating"
                            ))
                        }
                    }
                }
                if pending_user.is_some() || turns.is_empty() {
                    return Err(format!(
                        "`{col}` must end with an `assistant` message after a `user` message"
                    ));
                }
                Ok(template.render(system, &turns, &self.input_label, masking))
            }
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn required_str<'r>(
    row: &'r serde_json::Map<String, Value>,
    col: &str,
    slot: &str,
) -> Result<&'r str, String> {
    let mapped = if col == slot {
        String::new()
    } else {
        format!(" (mapped {slot}={col})")
    };
    match row.get(col) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "field `{col}`{mapped} must be a string, found {}",
            type_name(other)
        )),
        None => Err(format!("field `{col}`{mapped} is missing")),
    }
}

fn optional_str<'r>(
    row: &'r serde_json::Map<String, Value>,
    col: Option<&str>,
    slot: &str,
) -> Result<&'r str, String> {
    match col.and_then(|c| row.get(c)) {
        None | Some(Value::Null) => Ok(""),
        Some(_) => required_str(row, col.unwrap_or(slot), slot),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::templates::get;

    fn row(json: &str) -> serde_json::Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }
    fn mapping(pairs: &[(&str, &str)]) -> Mapping {
        Mapping {
            columns: pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn detects_instruction_columns_by_common_names() {
        let r = row(r#"{"question":"Q","context":"C","answer":"A"}"#);
        let map = Mapping::default().resolve(Some(&r)).unwrap();
        assert_eq!(map.format, Format::Instruction);
        assert_eq!(map.instruction.as_deref(), Some("question"));
        assert_eq!(map.input.as_deref(), Some("context"));
        assert_eq!(map.response.as_deref(), Some("answer"));
        let out = map
            .render(&r, get("alpaca").unwrap(), Masking::default())
            .unwrap();
        assert_eq!(
            out.text(),
            "### Instruction:\nQ\n\n### Input:\nC\n\n### Response:\nA"
        );
    }

    #[test]
    fn manifest_mapping_wins_and_names_the_missing_column() {
        let map = mapping(&[
            ("instruction", "question"),
            ("input", "schema"),
            ("response", "cypher"),
            ("input_label", "Schema"),
        ])
        .resolve(None)
        .unwrap();
        assert_eq!(map.source, "manifest");
        let ok = row(r#"{"question":"Q","schema":"S","cypher":"MATCH (n) RETURN n"}"#);
        let out = map
            .render(&ok, get("chatml").unwrap(), Masking::default())
            .unwrap();
        assert!(out.text().contains("Schema:\nS"));
        let bad = row(r#"{"question":"Q","answer":"A"}"#);
        let err = map
            .render(&bad, get("chatml").unwrap(), Masking::default())
            .unwrap_err();
        assert_eq!(err, "field `cypher` (mapped response=cypher) is missing");
    }

    #[test]
    fn text_rows_are_used_as_is() {
        let map = mapping(&[("text", "text")]).resolve(None).unwrap();
        let r = row(r#"{"text":"<|im_start|>user\nhi<|im_end|>"}"#);
        let out = map
            .render(&r, get("alpaca").unwrap(), Masking::default())
            .unwrap();
        assert_eq!(out.text(), "<|im_start|>user\nhi<|im_end|>");
        assert!(out.segments[0].trained && !out.eos);
        let detected = Mapping::default().resolve(Some(&r)).unwrap();
        assert_eq!(detected.format, Format::Text);
    }

    #[test]
    fn messages_render_through_the_template() {
        let r = row(
            r#"{"messages":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"A"}]}"#,
        );
        let map = Mapping::default().resolve(Some(&r)).unwrap();
        assert_eq!(map.format, Format::Messages);
        let out = map
            .render(&r, get("chatml").unwrap(), Masking::default())
            .unwrap();
        assert_eq!(
            out.text(),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
        );
        let bad = row(r#"{"messages":[{"role":"assistant","content":"A"}]}"#);
        assert!(map
            .render(&bad, get("chatml").unwrap(), Masking::default())
            .unwrap_err()
            .contains("out of order"));
    }

    #[test]
    fn unknown_shapes_are_explained() {
        let r = row(r#"{"foo":1}"#);
        let err = Mapping::default().resolve(Some(&r)).unwrap_err();
        assert!(err.contains("`foo`"), "{err}");
    }
}
