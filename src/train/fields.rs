//! Field mapping: which dataset columns feed the template's slots (SPEC §7, DATASET_FORMATS.md).
//!
//! Three formats: `text` (a string per row: chat markup is parsed into a conversation, anything
//! else is trained as written), instruction rows (instruction, optional input and system,
//! response), and chat `messages` (`[{role, content}]`). The manifest's
//! `training.dataset.field_mapping` names the columns (a name, or a JSON pointer such as
//! `/input/instruction` into a nested object); the format comes from the mapping or the first
//! valid row. Columns the mapping leaves open are looked up in every row, from a short list of
//! common names, so a column a later row has (a `system` the first row lacks) is used there. What
//! each row used, and which columns no slot used, is counted and reported.

use super::markup;
use super::templates::Turn;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Column names tried, in order, for each slot the manifest does not map.
pub const INSTRUCTION_COLUMNS: &[&str] = &["instruction", "prompt", "question"];
/// See [`INSTRUCTION_COLUMNS`].
pub const RESPONSE_COLUMNS: &[&str] = &["response", "output", "answer", "completion"];
/// See [`INSTRUCTION_COLUMNS`].
pub const INPUT_COLUMNS: &[&str] = &["input", "context"];
/// See [`INSTRUCTION_COLUMNS`].
pub const SYSTEM_COLUMNS: &[&str] = &["system"];

/// How rows are turned into examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A string per row: chat markup becomes a conversation, other text is trained as is.
    Text,
    /// Instruction / input / response columns, rendered with the template.
    Instruction,
    /// A list of `{role, content}` messages, rendered with the template.
    Messages,
}

/// How many rows used one column for one slot (or no slot: `slot` empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnUse {
    /// The slot (`instruction`, `input`, `response`, `system`, `text`, `messages`).
    pub slot: &'static str,
    /// The column (or JSON pointer).
    pub column: String,
    /// Rows.
    pub rows: u64,
}

/// The mapping in force, and what the rows used.
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
    /// Instruction column: the mapped one, else (after the scan) the one most rows used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// Optional input column, as for `instruction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Response column, as for `instruction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Optional system column, as for `instruction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Label printed before the input (`Input`, or e.g. `Schema`).
    pub input_label: String,
    /// Where the mapping came from: `manifest` or `detected`.
    pub source: &'static str,
    /// Per slot, the columns rows used and how many rows each (filled by the scan).
    pub columns: Vec<ColumnUse>,
    /// Columns present in rows that no slot used, with the number of rows having each.
    pub unused_columns: Vec<ColumnUse>,
    /// Rows by kind (`instruction`, `messages`, `text: chatml markup`, `text: plain`, …).
    pub rows: BTreeMap<String, u64>,
    #[serde(skip)]
    mapped: Vec<(String, String)>,
    #[serde(skip)]
    used: BTreeMap<&'static str, BTreeMap<String, u64>>,
    #[serde(skip)]
    unused: BTreeMap<String, u64>,
}

/// The author's `field_mapping` (plus `text_field`), before a row is seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Slot → column, for the slots of `field_mapping` ([`crate::manifest::shape::field_mapping_keys`]).
    pub columns: Vec<(String, String)>,
}

/// One row, as a conversation or a plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Example<'r> {
    /// A text trained on every token.
    Plain(&'r str),
    /// A conversation for the template.
    Chat {
        /// System text (empty = none).
        system: Option<&'r str>,
        /// The turns.
        turns: Vec<Turn<'r>>,
    },
}

/// The value at `column` of a row: a top-level key, or a JSON pointer (`/input/instruction`).
pub fn lookup<'r>(row: &'r Map<String, Value>, column: &str) -> Option<&'r Value> {
    let Some(pointer) = column.strip_prefix('/') else {
        return row.get(column);
    };
    let mut parts = pointer
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"));
    let mut at = row.get(&parts.next()?)?;
    for part in parts {
        at = match at {
            Value::Object(o) => o.get(&part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// True when `column` (a name or JSON pointer) reads the top-level key `key`.
fn reads_key(column: &str, key: &str) -> bool {
    match column.strip_prefix('/') {
        Some(p) => {
            let first = p.split('/').next().unwrap_or("");
            if first.contains('~') {
                first.replace("~1", "/").replace("~0", "~") == key
            } else {
                first == key
            }
        }
        None => column == key,
    }
}

/// Adds one to `map[key]`, allocating the key only the first time.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

fn present(row: &Map<String, Value>, column: &str) -> bool {
    !matches!(lookup(row, column), None | Some(Value::Null))
}

impl Mapping {
    fn get(&self, slot: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(k, _)| k == slot)
            .map(|(_, v)| v.as_str())
    }

    /// Decides the format from the mapping, else from the first valid row (`None` when the
    /// manifest names enough columns by itself).
    ///
    /// # Errors
    /// A sentence saying which columns are missing, for the caller to locate.
    pub fn resolve(&self, row: Option<&Map<String, Value>>) -> Result<FieldMap, String> {
        let label = self.get("input_label").unwrap_or("Input").to_owned();
        let has = |c: &str| row.is_some_and(|r| present(r, c));
        let any = |cands: &[&str]| cands.iter().any(|c| has(c));
        let mapped: Vec<(String, String)> = self
            .columns
            .iter()
            .filter(|(k, _)| k != "input_label")
            .cloned()
            .collect();
        let map = |format: Format| FieldMap {
            format,
            text: None,
            messages: None,
            instruction: self.get("instruction").map(str::to_owned),
            input: self.get("input").map(str::to_owned),
            response: self.get("response").map(str::to_owned),
            system: self.get("system").map(str::to_owned),
            input_label: label.clone(),
            source: if mapped.is_empty() {
                "detected"
            } else {
                "manifest"
            },
            columns: Vec::new(),
            unused_columns: Vec::new(),
            rows: BTreeMap::new(),
            mapped: mapped.clone(),
            used: BTreeMap::new(),
            unused: BTreeMap::new(),
        };
        if let Some(text) = self.get("text") {
            return Ok(FieldMap {
                text: Some(text.to_owned()),
                ..map(Format::Text)
            });
        }
        if let Some(col) = self.get("messages") {
            return Ok(FieldMap {
                messages: Some(col.to_owned()),
                ..map(Format::Messages)
            });
        }
        if self.get("instruction").is_some() || self.get("response").is_some() {
            return Ok(map(Format::Instruction));
        }
        if has("messages") && !any(INSTRUCTION_COLUMNS) {
            return Ok(FieldMap {
                messages: Some("messages".to_owned()),
                ..map(Format::Messages)
            });
        }
        if any(INSTRUCTION_COLUMNS) && any(RESPONSE_COLUMNS) {
            return Ok(map(Format::Instruction));
        }
        if has("text") && !any(INSTRUCTION_COLUMNS) && !any(RESPONSE_COLUMNS) {
            return Ok(FieldMap {
                text: Some("text".to_owned()),
                ..map(Format::Text)
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
        let nested = row
            .and_then(|r| r.get("input"))
            .and_then(Value::as_object)
            .filter(|o| o.contains_key("instruction"));
        if let Some(obj) = nested {
            let context = obj
                .keys()
                .find(|k| *k != "instruction" && obj[*k].is_string())
                .map_or("…".to_owned(), |k| format!("/input/{k}"));
            return Err(format!(
                "the first row has columns {keys}, and its `input` is an object with an `instruction` \
                 (upstream's multi-task shape); map its fields with JSON pointers in \
                 training.dataset.field_mapping, e.g. {{\"instruction\": \"/input/instruction\", \
                 \"input\": \"{context}\", \"response\": \"output\"}}"
            ));
        }
        Err(format!(
            "cannot tell the dataset format: the first row has columns {keys}; expected `text`, \
             `messages`, or an instruction column ({}) with a response column ({})",
            INSTRUCTION_COLUMNS.join(", "),
            RESPONSE_COLUMNS.join(", ")
        ))
    }
}

fn mapped_column<'c>(mapped: &'c [(String, String)], slot: &str) -> Option<&'c str> {
    mapped
        .iter()
        .find(|(k, _)| k == slot)
        .map(|(_, v)| v.as_str())
}

/// The string a row has for `slot`: from the mapped column, else from the first of `candidates`
/// the row has (not null). Records the column in `used`.
fn slot_string<'r, 'c>(
    mapped: &'c [(String, String)],
    row: &'r Map<String, Value>,
    slot: &'static str,
    candidates: &'c [&'c str],
    required: bool,
    used: &mut Vec<(&'static str, &'c str)>,
) -> Result<&'r str, String> {
    let by_mapping = mapped_column(mapped, slot);
    let Some(col) = by_mapping.or_else(|| candidates.iter().copied().find(|c| present(row, c)))
    else {
        if required {
            return Err(format!(
                "the row has no {slot} column (one of {})",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Ok("");
    };
    match lookup(row, col) {
        Some(Value::String(s)) => {
            used.push((slot, col));
            Ok(s)
        }
        None | Some(Value::Null) if !required => Ok(""),
        found => {
            let mapped = if by_mapping.is_some() && col != slot {
                format!(" (mapped {slot}={col})")
            } else {
                String::new()
            };
            Err(match found {
                Some(other) => format!(
                    "field `{col}`{mapped} must be a string, found {}",
                    type_name(other)
                ),
                None => format!("field `{col}`{mapped} is missing"),
            })
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

impl FieldMap {
    /// One row as an [`Example`], counting the columns it used.
    ///
    /// # Errors
    /// A sentence naming the missing or mistyped field, for the caller to prefix with the line.
    pub fn example<'r>(&mut self, row: &'r Map<String, Value>) -> Result<Example<'r>, String> {
        let mut used: Vec<(&'static str, &str)> = Vec::new();
        let mapped = &self.mapped;
        let (example, kind) = match self.format {
            Format::Text => {
                let col = self.text.as_deref().unwrap_or("text");
                let text = match lookup(row, col) {
                    Some(Value::String(s)) => s.as_str(),
                    Some(other) => {
                        return Err(format!(
                            "field `{col}` must be a string, found {}",
                            type_name(other)
                        ))
                    }
                    None => return Err(format!("field `{col}` is missing")),
                };
                used.push(("text", col));
                match markup::parse(text) {
                    None => {
                        let kind = if markup::looks_like_chat(text) {
                            "text: plain, with chat markers that are not parsed"
                        } else {
                            "text: plain"
                        };
                        (Example::Plain(text), kind)
                    }
                    Some(parsed) => {
                        let p = parsed.map_err(|e| format!("field `{col}`: {e}"))?;
                        let turns = p
                            .turns
                            .iter()
                            .map(|&(u, a)| Turn {
                                instruction: u,
                                input: "",
                                response: a,
                            })
                            .collect();
                        (
                            Example::Chat {
                                system: p.system,
                                turns,
                            },
                            if p.markup == "chatml" {
                                "text: chatml markup"
                            } else {
                                "text: tags markup"
                            },
                        )
                    }
                }
            }
            Format::Instruction => {
                let instruction = slot_string(
                    mapped,
                    row,
                    "instruction",
                    INSTRUCTION_COLUMNS,
                    true,
                    &mut used,
                )?;
                let input = slot_string(mapped, row, "input", INPUT_COLUMNS, false, &mut used)?;
                let response =
                    slot_string(mapped, row, "response", RESPONSE_COLUMNS, true, &mut used)?;
                let system = slot_string(mapped, row, "system", SYSTEM_COLUMNS, false, &mut used)?;
                (
                    Example::Chat {
                        system: Some(system).filter(|s| !s.is_empty()),
                        turns: vec![Turn {
                            instruction,
                            input,
                            response,
                        }],
                    },
                    "instruction",
                )
            }
            Format::Messages => {
                let col = self.messages.as_deref().unwrap_or("messages");
                let list = match lookup(row, col) {
                    Some(Value::Array(a)) => a,
                    Some(other) => {
                        return Err(format!(
                            "field `{col}` must be a list of messages, found {}",
                            type_name(other)
                        ))
                    }
                    None => return Err(format!("field `{col}` is missing")),
                };
                used.push(("messages", col));
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
                (
                    Example::Chat {
                        system: system.filter(|s| !s.is_empty()),
                        turns,
                    },
                    "messages",
                )
            }
        };
        // Count only rows that render.
        match self.rows.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.rows.insert(kind.to_owned(), 1);
            }
        }
        for (slot, col) in &used {
            bump(self.used.entry(slot).or_default(), col);
        }
        for k in row.keys() {
            if !used.iter().any(|(_, c)| reads_key(c, k)) {
                bump(&mut self.unused, k);
            }
        }
        Ok(example)
    }

    /// After the scan: fills [`FieldMap::columns`] and [`FieldMap::unused_columns`], names the
    /// most used column of each open slot, and returns the warnings the counts call for.
    pub fn finish(&mut self) -> Vec<String> {
        let mut warnings = Vec::new();
        self.columns = self
            .used
            .iter()
            .flat_map(|(slot, columns)| {
                columns.iter().map(|(column, &rows)| ColumnUse {
                    slot,
                    column: column.clone(),
                    rows,
                })
            })
            .collect();
        self.unused_columns = self
            .unused
            .iter()
            .map(|(column, &rows)| ColumnUse {
                slot: "",
                column: column.clone(),
                rows,
            })
            .collect();
        for slot in ["instruction", "input", "response", "system"] {
            let uses: Vec<&ColumnUse> = self.columns.iter().filter(|u| u.slot == slot).collect();
            if let Some(top) = uses.iter().max_by_key(|u| u.rows) {
                let field = match slot {
                    "instruction" => &mut self.instruction,
                    "input" => &mut self.input,
                    "response" => &mut self.response,
                    _ => &mut self.system,
                };
                if field.is_none() {
                    *field = Some(top.column.clone());
                }
            }
            if uses.len() > 1 {
                let list: Vec<String> = uses
                    .iter()
                    .map(|u| format!("`{}` in {} row{}", u.column, u.rows, plural(u.rows)))
                    .collect();
                warnings.push(format!(
                    "the {slot} of the examples comes from different columns ({}); name one in training.dataset.field_mapping to be sure",
                    list.join(", ")
                ));
            }
        }
        if !self.unused_columns.is_empty() {
            let list: Vec<String> = self
                .unused_columns
                .iter()
                .map(|u| format!("`{}` ({} row{})", u.column, u.rows, plural(u.rows)))
                .collect();
            warnings.push(format!(
                "dataset column{} {} {} not used by the field mapping, so not trained on (map {} in training.dataset.field_mapping to use {})",
                plural(self.unused_columns.len() as u64),
                list.join(", "),
                if self.unused_columns.len() == 1 { "is" } else { "are" },
                if self.unused_columns.len() == 1 { "it" } else { "them" },
                if self.unused_columns.len() == 1 { "it" } else { "them" },
            ));
        }
        if let Some(n) = self
            .rows
            .get("text: plain, with chat markers that are not parsed")
        {
            warnings.push(format!(
                "{n} text row{} contain chat markers in a form expert-cli does not parse (only ChatML `<|im_start|>` and `<|user|>`/`<|end|>` tags at the start of the text are); {} trained on every token, prompt included",
                plural(*n),
                if *n == 1 { "it is" } else { "they are" }
            ));
        }
        warnings
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::templates::{get, Masking};

    fn row(json: &str) -> Map<String, Value> {
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
    fn text(map: &mut FieldMap, r: &Map<String, Value>, template: &str) -> String {
        match map.example(r).unwrap() {
            Example::Plain(t) => t.to_owned(),
            Example::Chat { system, turns } => {
                get(template)
                    .unwrap()
                    .render(system, &turns, &map.input_label.clone(), Masking::default())
                    .text
            }
        }
    }

    #[test]
    fn detects_instruction_columns_by_common_names() {
        let r = row(r#"{"question":"Q","context":"C","answer":"A"}"#);
        let mut map = Mapping::default().resolve(Some(&r)).unwrap();
        assert_eq!(map.format, Format::Instruction);
        assert_eq!(
            text(&mut map, &r, "alpaca"),
            "### Instruction:\nQ\n\n### Input:\nC\n\n### Response:\nA"
        );
        map.finish();
        assert_eq!(map.instruction.as_deref(), Some("question"));
        assert_eq!(map.input.as_deref(), Some("context"));
        assert_eq!(map.response.as_deref(), Some("answer"));
    }

    #[test]
    fn a_column_missing_from_the_first_row_is_used_where_it_appears() {
        let first = row(r#"{"instruction":"I1","output":"O1"}"#);
        let later = row(r#"{"instruction":"I2","output":"O2","system":"S2","input":"X"}"#);
        let mut map = Mapping::default().resolve(Some(&first)).unwrap();
        assert_eq!(
            text(&mut map, &first, "chatml"),
            "<|im_start|>user\nI1<|im_end|>\n<|im_start|>assistant\nO1<|im_end|>\n"
        );
        assert_eq!(
            text(&mut map, &later, "chatml"),
            "<|im_start|>system\nS2<|im_end|>\n<|im_start|>user\nI2\n\nInput:\nX<|im_end|>\n<|im_start|>assistant\nO2<|im_end|>\n"
        );
        let warnings = map.finish();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(map.system.as_deref(), Some("system"));
        let system = map.columns.iter().find(|u| u.slot == "system").unwrap();
        assert_eq!(system.rows, 1);
        // the same with the manifest naming the columns
        let mut map = mapping(&[
            ("instruction", "instruction"),
            ("response", "output"),
            ("system", "system"),
        ])
        .resolve(None)
        .unwrap();
        assert!(text(&mut map, &first, "chatml").starts_with("<|im_start|>user"));
        assert!(text(&mut map, &later, "chatml").starts_with("<|im_start|>system\nS2"));
    }

    #[test]
    fn unused_and_mixed_columns_are_reported() {
        let a = row(r#"{"task":"t","instruction":"I","output":"O","source":"s"}"#);
        let b = row(r#"{"question":"Q","output":"O"}"#);
        let mut map = Mapping::default().resolve(Some(&a)).unwrap();
        map.example(&a).unwrap();
        map.example(&b).unwrap();
        let w = map.finish();
        assert!(
            w.iter()
                .any(|w| w.contains("`source` (1 row), `task` (1 row) are not used")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|w| w.contains("instruction of the examples comes from different columns")),
            "{w:?}"
        );
    }

    #[test]
    fn manifest_mapping_wins_and_names_the_missing_column() {
        let mut map = mapping(&[
            ("instruction", "question"),
            ("input", "schema"),
            ("response", "cypher"),
            ("input_label", "Schema"),
        ])
        .resolve(None)
        .unwrap();
        assert_eq!(map.source, "manifest");
        let ok = row(r#"{"question":"Q","schema":"S","cypher":"MATCH (n) RETURN n"}"#);
        assert!(text(&mut map, &ok, "chatml").contains("Schema:\nS"));
        let bad = row(r#"{"question":"Q","answer":"A"}"#);
        assert_eq!(
            map.example(&bad).unwrap_err(),
            "field `cypher` (mapped response=cypher) is missing"
        );
    }

    #[test]
    fn json_pointers_reach_into_nested_rows() {
        // expert-json's json_repair_enhanced/train.jsonl shape
        let r = row(
            r#"{"task":"json_repair","input":{"instruction":"Fix it.","broken_json":"[1,]","error_type":"trailing_comma"},"output":"[1]"}"#,
        );
        let err = Mapping::default().resolve(Some(&r)).unwrap_err();
        assert!(
            err.contains("\"instruction\": \"/input/instruction\""),
            "{err}"
        );
        let mut map = mapping(&[
            ("instruction", "/input/instruction"),
            ("input", "/input/broken_json"),
            ("response", "output"),
            ("input_label", "JSON"),
        ])
        .resolve(None)
        .unwrap();
        assert_eq!(
            text(&mut map, &r, "alpaca"),
            "### Instruction:\nFix it.\n\n### JSON:\n[1,]\n\n### Response:\n[1]"
        );
        let w = map.finish();
        assert!(
            w.iter().any(|w| w.contains("`task` (1 row) is not used")),
            "{w:?}"
        );
        assert!(lookup(&r, "/input/missing").is_none());
    }

    #[test]
    fn text_rows_are_used_as_is_or_parsed_when_they_are_chat() {
        let mut map = mapping(&[("text", "text")]).resolve(None).unwrap();
        let plain = row(r#"{"text":"Once upon a time"}"#);
        assert_eq!(
            map.example(&plain).unwrap(),
            Example::Plain("Once upon a time")
        );
        let chat = row(
            r#"{"text":"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nho<|im_end|>\n"}"#,
        );
        assert_eq!(
            text(&mut map, &chat, "qwen3"),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nho<|im_end|>\n"
        );
        let broken = row(r#"{"text":"<|im_start|>user\nhi"}"#);
        assert!(map
            .example(&broken)
            .unwrap_err()
            .starts_with("field `text`: ChatML"));
        map.finish();
        assert_eq!(map.rows.get("text: plain"), Some(&1));
        assert_eq!(map.rows.get("text: chatml markup"), Some(&1));
        let detected = Mapping::default().resolve(Some(&plain)).unwrap();
        assert_eq!(detected.format, Format::Text);
    }

    #[test]
    fn messages_render_through_the_template() {
        let r = row(
            r#"{"messages":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"A"}]}"#,
        );
        let mut map = Mapping::default().resolve(Some(&r)).unwrap();
        assert_eq!(map.format, Format::Messages);
        assert_eq!(
            text(&mut map, &r, "chatml"),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
        );
        let bad = row(r#"{"messages":[{"role":"assistant","content":"A"}]}"#);
        assert!(map.example(&bad).unwrap_err().contains("out of order"));
    }

    #[test]
    fn unknown_shapes_are_explained() {
        let r = row(r#"{"foo":1}"#);
        let err = Mapping::default().resolve(Some(&r)).unwrap_err();
        assert!(err.contains("`foo`"), "{err}");
    }
}
