//! The prompt-template registry: the only place prompt formats are written down (SPEC §7,
//! issue #15). `--dry-run` renders with it and the Python trainer receives its output, so what
//! is shown is what is trained.
//!
//! Each template reproduces one model family's own chat template (the Jinja `chat_template` of
//! its tokenizer, copies in `fixtures/chat-templates/`) rendered by transformers with
//! `add_generation_prompt=False`, with BOS and EOS written as that family's tokenizer defines
//! them; a test renders both and compares them character by character. `alpaca` is the one
//! format no model ships: it is upstream's (hivellm) alpaca text with the tokenizer's EOS token
//! after every answer.
//!
//! A conversation is rendered into one text (the text the model sees at inference) and a list
//! of trained character ranges: every assistant turn, from where the model starts generating
//! after its generation prompt to its end-of-turn marker inclusive. Everything else (system,
//! user turns, role headers, an empty `<think>` block) is masked.

use crate::names;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

/// How a family's template is rendered; see [`Template::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ChatMl,
    Qwen3,
    Llama2,
    Llama3,
    Phi3,
    Phi4,
    DeepSeek,
    DeepSeekCoder,
    Gemma,
    Mistral,
    Alpaca,
}

/// One prompt format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Template {
    /// Registry name, as written in a manifest's `prompt_template`.
    pub name: &'static str,
    /// The model family whose chat template this is.
    pub family: &'static str,
    /// The family's BOS token as written in the text (empty: none).
    pub bos: &'static str,
    /// The family's EOS token as written in the text (empty: none written).
    pub eos: &'static str,
    /// What ends every trained answer.
    pub end_of_turn: &'static str,
    /// Extra variables for rendering the model's own chat template in the tokenizer check
    /// (`enable_thinking`, `date_string`); JSON object text.
    pub check_kwargs: &'static str,
    #[serde(skip)]
    kind: Kind,
}

const fn t(
    name: &'static str,
    family: &'static str,
    bos: &'static str,
    eos: &'static str,
    end_of_turn: &'static str,
    check_kwargs: &'static str,
    kind: Kind,
) -> Template {
    Template {
        name,
        family,
        bos,
        eos,
        end_of_turn,
        check_kwargs,
        kind,
    }
}

/// The date Llama 3.1 and 3.3 write into their system header (their template's default; 3.2's
/// template writes today's date unless `date_string` is given, so the check passes this one).
pub const LLAMA3_DATE: &str = "26 Jul 2024";
/// The system text DeepSeek Coder's template writes when a conversation has none.
pub const DEEPSEEK_CODER_SYSTEM: &str = "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\n";

/// Every template, in documentation order. `manifest::shape::PROMPT_TEMPLATES` lists the same
/// names, and `names::TEMPLATE_FAMILIES` the family ones (tests keep them equal).
pub const TEMPLATES: &[Template] = &[
    t(
        "qwen3",
        "Qwen3",
        "",
        "",
        "<|im_end|>",
        r#"{"enable_thinking": false}"#,
        Kind::Qwen3,
    ),
    t(
        "chatml",
        "ChatML (Qwen 1/2, QwQ, Yi)",
        "",
        "",
        "<|im_end|>",
        "{}",
        Kind::ChatMl,
    ),
    t(
        "llama",
        "Llama 2",
        "<s>",
        "</s>",
        " </s>",
        "{}",
        Kind::Llama2,
    ),
    t(
        "llama3",
        "Llama 3",
        "<|begin_of_text|>",
        "",
        "<|eot_id|>",
        r#"{"date_string": "26 Jul 2024"}"#,
        Kind::Llama3,
    ),
    t(
        "phi",
        "Phi-3",
        "",
        "<|endoftext|>",
        "<|end|>",
        "{}",
        Kind::Phi3,
    ),
    t("phi4", "Phi-4", "", "", "<|im_end|>", "{}", Kind::Phi4),
    t(
        "deepseek",
        "DeepSeek LLM",
        "<｜begin▁of▁sentence｜>",
        "<｜end▁of▁sentence｜>",
        "<｜end▁of▁sentence｜>",
        "{}",
        Kind::DeepSeek,
    ),
    t(
        "deepseek-coder",
        "DeepSeek Coder",
        "<｜begin▁of▁sentence｜>",
        "",
        "\n<|EOT|>",
        "{}",
        Kind::DeepSeekCoder,
    ),
    t(
        "gemma",
        "Gemma",
        "<bos>",
        "",
        "<end_of_turn>",
        "{}",
        Kind::Gemma,
    ),
    t(
        "mistral",
        "Mistral",
        "<s>",
        "</s>",
        "</s>",
        "{}",
        Kind::Mistral,
    ),
    t(
        "alpaca",
        "Alpaca",
        "",
        "",
        "the tokenizer's EOS token",
        "{}",
        Kind::Alpaca,
    ),
];

/// The template named `name` (exact, lower-case registry name).
pub fn get(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// The registry's names, in order.
pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.name).collect()
}

/// The template of a model's family, detected from its name (see
/// [`names::template_for_model`]: whole words of the last path component).
pub fn detect(model: &str) -> Option<&'static Template> {
    names::template_for_model(model).and_then(get)
}

/// One user turn and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn<'a> {
    /// The user's message.
    pub instruction: &'a str,
    /// Extra input shown under a label; empty for none.
    pub input: &'a str,
    /// The answer.
    pub response: &'a str,
}

/// What the loss covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Masking {
    /// Train on the prompt as well as the answer (default: answer only).
    pub train_on_prompt: bool,
}

/// A piece of a rendered example, for display: masked or trained text, or the tokenizer's EOS
/// token (`eos`, empty text, trained).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// The loss covers it.
    pub trained: bool,
    /// Stands for the tokenizer's EOS token (alpaca), which only the tokenizer knows.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub eos: bool,
}

/// One rendered training example: the whole conversation as one text, and what is trained.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// The text, exactly as the model's chat template renders the conversation (BOS and EOS
    /// written as the family's tokenizer defines them).
    pub text: String,
    /// Trained byte ranges of `text`, ascending and disjoint.
    pub train: Vec<Range<usize>>,
    /// Byte offsets of `text` where the tokenizer's EOS token goes, trained (alpaca: the only
    /// format whose end marker depends on the tokenizer).
    pub tokenizer_eos_at: Vec<usize>,
    /// The tokenizer's BOS token goes first, when the tokenizer uses one and the text does not
    /// start with it (alpaca and plain text rows; chat templates write their own).
    pub tokenizer_bos: bool,
    /// The conversation had a system text the template leaves out (mistral).
    pub system_dropped: bool,
}

impl Rendered {
    fn mask(&mut self, text: &str) {
        self.text.push_str(text);
    }
    fn mask_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        // Writing into a String cannot fail.
        let _ = self.text.write_fmt(args);
    }
    fn trained_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let start = self.text.len();
        let _ = self.text.write_fmt(args);
        let end = self.text.len();
        if end == start {
            return;
        }
        match self.train.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => self.train.push(start..end),
        }
    }
    fn trained(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(text);
        match self.train.last_mut() {
            Some(last) if last.end == start => last.end = self.text.len(),
            _ => self.train.push(start..self.text.len()),
        }
    }
    fn tokenizer_eos(&mut self) {
        self.tokenizer_eos_at.push(self.text.len());
    }

    /// A plain text trained on every character (a `text` row without chat markup).
    pub fn plain(text: &str) -> Rendered {
        Rendered {
            text: text.to_owned(),
            train: if text.is_empty() {
                Vec::new()
            } else {
                std::iter::once(0..text.len()).collect()
            },
            tokenizer_bos: true,
            ..Rendered::default()
        }
    }

    /// The text in pieces, masked and trained in turn, with the tokenizer's EOS tokens as
    /// [`Segment::eos`] pieces (for display).
    pub fn segments(&self) -> Vec<Segment> {
        let mut cuts: Vec<usize> = vec![0, self.text.len()];
        for r in &self.train {
            cuts.push(r.start);
            cuts.push(r.end);
        }
        cuts.extend(&self.tokenizer_eos_at);
        cuts.sort_unstable();
        cuts.dedup();
        let mut out: Vec<Segment> = Vec::new();
        let mut eos = self.tokenizer_eos_at.iter().peekable();
        for w in cuts.windows(2) {
            while eos.next_if(|&&p| p == w[0]).is_some() {
                out.push(Segment {
                    text: String::new(),
                    trained: true,
                    eos: true,
                });
            }
            let piece = &self.text[w[0]..w[1]];
            if piece.is_empty() {
                continue;
            }
            let trained = self.train.iter().any(|r| r.start <= w[0] && w[1] <= r.end);
            match out.last_mut() {
                Some(last) if !last.eos && last.trained == trained => last.text.push_str(piece),
                _ => out.push(Segment {
                    text: piece.to_owned(),
                    trained,
                    eos: false,
                }),
            }
        }
        for _ in eos {
            out.push(Segment {
                text: String::new(),
                trained: true,
                eos: true,
            });
        }
        out
    }

    /// The text of the trained ranges, with `⟨eos⟩` for the tokenizer's EOS tokens.
    pub fn trained_text(&self) -> String {
        self.segments()
            .iter()
            .filter(|s| s.trained)
            .map(|s| if s.eos { "⟨eos⟩" } else { s.text.as_str() })
            .collect()
    }

    /// The example as the trainer reads it (one line of `train.rendered.jsonl`): `text`, the
    /// trained ranges `train` as `[start, end)` pairs of character (Unicode code point) offsets,
    /// `tokenizer_eos_at` (character offsets where the tokenizer's EOS token goes; omitted when
    /// none) and `tokenizer_bos`.
    pub fn record(&self, line: u64) -> serde_json::Value {
        let mut chars = CharOffsets::new(&self.text);
        let train: Vec<[usize; 2]> = self
            .train
            .iter()
            .map(|r| [chars.at(r.start), chars.at(r.end)])
            .collect();
        let mut chars = CharOffsets::new(&self.text);
        let eos: Vec<usize> = self.tokenizer_eos_at.iter().map(|&p| chars.at(p)).collect();
        let mut v = serde_json::json!({
            "line": line,
            "text": self.text,
            "train": train,
            "tokenizer_bos": self.tokenizer_bos,
        });
        if !eos.is_empty() {
            v["tokenizer_eos_at"] = serde_json::json!(eos);
        }
        v
    }
}

impl Rendered {
    /// The example for `--dry-run --format json`: the [`Rendered::record`] fields plus
    /// `segments` (the text in masked and trained pieces, `eos` pieces for the tokenizer's EOS).
    pub fn to_json(&self, line: u64) -> serde_json::Value {
        let mut v = self.record(line);
        v["segments"] = serde_json::json!(self.segments());
        v
    }
}

/// Converts ascending byte offsets of one string to character offsets in one pass.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            byte: 0,
            chars: 0,
        }
    }
    /// The character offset of byte offset `to` (ascending calls only; `to` on a char boundary).
    fn at(&mut self, to: usize) -> usize {
        if to < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..to].chars().count();
        self.byte = to;
        self.chars
    }
}

/// Python's `str.strip()` (and Jinja's `trim`): Unicode white space plus the four ASCII
/// separators U+001C..U+001F, which Rust's `char::is_whitespace` leaves out.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split(sep)[-1]`: the part after the last `sep` (the whole string without one).
fn after_last<'s>(s: &'s str, sep: &str) -> &'s str {
    s.rsplit(sep).next().unwrap_or(s)
}

/// Python's `str.split(sep)[0]`.
fn before_first<'s>(s: &'s str, sep: &str) -> &'s str {
    s.split(sep).next().unwrap_or(s)
}

impl Template {
    /// The user message of a turn as chat templates receive it: the instruction, then the input
    /// under its label (`{instruction}\n\n{label}:\n{input}`). Alpaca keeps the input apart.
    pub fn user_content<'t>(&self, turn: &Turn<'t>, input_label: &str) -> Cow<'t, str> {
        if turn.input.is_empty() || self.kind == Kind::Alpaca {
            Cow::Borrowed(turn.instruction)
        } else {
            Cow::Owned(format!(
                "{}\n\n{input_label}:\n{}",
                turn.instruction, turn.input
            ))
        }
    }

    /// The conversation as chat messages (`[{role, content}]`, an optional first system
    /// message), as the model's own chat template receives it; what the tokenizer check renders
    /// with transformers. Alpaca's user messages carry `input` and `input_label` apart.
    pub fn messages(
        &self,
        system: Option<&str>,
        turns: &[Turn<'_>],
        input_label: &str,
    ) -> serde_json::Value {
        let mut out = Vec::new();
        if let Some(s) = system.filter(|s| !s.is_empty()) {
            out.push(serde_json::json!({"role": "system", "content": s}));
        }
        for turn in turns {
            let mut user = serde_json::json!({"role": "user", "content": self.user_content(turn, input_label)});
            if self.kind == Kind::Alpaca && !turn.input.is_empty() {
                user["input"] = serde_json::json!(turn.input);
                user["input_label"] = serde_json::json!(input_label);
            }
            out.push(user);
            out.push(serde_json::json!({"role": "assistant", "content": turn.response}));
        }
        serde_json::Value::Array(out)
    }

    /// Renders a conversation: an optional system text (empty = none), then one or more turns.
    /// Every answer and its end-of-turn marker are trained; with `masking.train_on_prompt`
    /// everything is.
    pub fn render<'t>(
        &self,
        system: Option<&str>,
        turns: &[Turn<'t>],
        input_label: &str,
        masking: Masking,
    ) -> Rendered {
        let sys = system.filter(|s| !s.is_empty());
        let mut r = Rendered::default();
        let user = |t: &Turn<'t>| self.user_content(t, input_label);
        let last = turns.len().saturating_sub(1);
        match self.kind {
            Kind::ChatMl => {
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("<|im_start|>system\n{s}<|im_end|>\n"));
                }
                for t in turns {
                    r.mask_fmt(format_args!(
                        "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
                        user(t)
                    ));
                    r.trained(t.response);
                    r.trained("<|im_end|>");
                    r.mask("\n");
                }
            }
            Kind::Qwen3 => {
                // Message indices as the template counts them (system first).
                let offset = usize::from(sys.is_some());
                // The user message is a tool response when it starts and ends with the tags.
                let tool_response = |t: &Turn<'_>| {
                    let first = if t.instruction.is_empty() && !t.input.is_empty() {
                        "\n"
                    } else {
                        t.instruction
                    };
                    let last = if t.input.is_empty() || self.kind == Kind::Alpaca {
                        t.instruction
                    } else {
                        t.input
                    };
                    first.starts_with("<tool_response>") && last.ends_with("</tool_response>")
                };
                let last_query = turns
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, t)| !tool_response(t))
                    .map_or(offset + 2 * turns.len() - 1, |(i, _)| offset + 2 * i);
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("<|im_start|>system\n{s}<|im_end|>\n"));
                }
                for (i, t) in turns.iter().enumerate() {
                    r.mask_fmt(format_args!("<|im_start|>user\n{}<|im_end|>\n", user(t)));
                    let (mut content, mut reasoning) = (t.response, "");
                    if t.response.contains("</think>") {
                        content = after_last(t.response, "</think>").trim_start_matches('\n');
                        reasoning = after_last(
                            before_first(t.response, "</think>").trim_end_matches('\n'),
                            "<think>",
                        )
                        .trim_start_matches('\n');
                    }
                    let index = offset + 2 * i + 1;
                    if index > last_query && (i == last || !reasoning.is_empty()) {
                        let content = content.trim_start_matches('\n');
                        if reasoning.is_empty() {
                            // Thinking off: the empty block is part of the generation prompt.
                            r.mask("<|im_start|>assistant\n<think>\n\n</think>\n\n");
                        } else {
                            r.mask("<|im_start|>assistant\n");
                            r.trained_fmt(format_args!(
                                "<think>\n{}\n</think>\n\n",
                                reasoning.trim_matches('\n')
                            ));
                        }
                        r.trained(content);
                    } else {
                        r.mask("<|im_start|>assistant\n");
                        r.trained(content);
                    }
                    r.trained("<|im_end|>");
                    r.mask("\n");
                }
            }
            Kind::Llama2 => {
                // Meta's generation.py: `<s>[INST] {user.strip()} [/INST] {answer.strip()} </s>`
                // per turn, the system text folded into the first user message.
                for (i, t) in turns.iter().enumerate() {
                    let content = match sys {
                        Some(s) if i == 0 => format!("<<SYS>>\n{s}\n<</SYS>>\n\n{}", user(t)),
                        _ => user(t).into_owned(),
                    };
                    r.mask_fmt(format_args!("<s>[INST] {} [/INST]", py_strip(&content)));
                    r.trained_fmt(format_args!(" {} </s>", py_strip(t.response)));
                }
            }
            Kind::Llama3 => {
                r.mask_fmt(format_args!(
                    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n\
                     Cutting Knowledge Date: December 2023\nToday Date: {LLAMA3_DATE}\n\n{}<|eot_id|>",
                    py_strip(sys.unwrap_or(""))
                ));
                for t in turns {
                    r.mask_fmt(format_args!(
                        "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>\
                         <|start_header_id|>assistant<|end_header_id|>\n\n",
                        py_strip(&user(t))
                    ));
                    r.trained(py_strip(t.response));
                    r.trained("<|eot_id|>");
                }
            }
            Kind::Phi3 => {
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("<|system|>\n{s}<|end|>\n"));
                }
                for t in turns {
                    r.mask_fmt(format_args!(
                        "<|user|>\n{}<|end|>\n<|assistant|>\n",
                        user(t)
                    ));
                    r.trained(t.response);
                    r.trained("<|end|>");
                    r.mask("\n");
                }
                r.mask("<|endoftext|>");
            }
            Kind::Phi4 => {
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("<|im_start|>system<|im_sep|>{s}<|im_end|>"));
                }
                for t in turns {
                    r.mask_fmt(format_args!(
                        "<|im_start|>user<|im_sep|>{}<|im_end|><|im_start|>assistant<|im_sep|>",
                        user(t)
                    ));
                    r.trained(t.response);
                    r.trained("<|im_end|>");
                }
            }
            Kind::DeepSeek => {
                r.mask(self.bos);
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("{s}\n\n"));
                }
                for t in turns {
                    r.mask_fmt(format_args!("User: {}\n\nAssistant:", user(t)));
                    r.trained_fmt(format_args!(" {}{}", t.response, self.eos));
                }
            }
            Kind::DeepSeekCoder => {
                r.mask(self.bos);
                r.mask(sys.unwrap_or(DEEPSEEK_CODER_SYSTEM));
                for t in turns {
                    r.mask_fmt(format_args!(
                        "### Instruction:\n{}\n### Response:\n",
                        user(t)
                    ));
                    r.trained(t.response);
                    r.trained("\n<|EOT|>");
                    r.mask("\n");
                }
            }
            Kind::Gemma => {
                r.mask("<bos>");
                for (i, t) in turns.iter().enumerate() {
                    let prefix = match sys {
                        Some(s) if i == 0 => format!("{s}\n\n"),
                        _ => String::new(),
                    };
                    r.mask_fmt(format_args!(
                        "<start_of_turn>user\n{prefix}{}<end_of_turn>\n<start_of_turn>model\n",
                        py_strip(&user(t))
                    ));
                    r.trained(py_strip(t.response));
                    r.trained("<end_of_turn>");
                    r.mask("\n");
                }
            }
            Kind::Mistral => {
                // Mistral v0.3 writes the system text into the last user turn only when the
                // conversation ends with a user turn; a training conversation ends with an
                // answer, so its template leaves the system text out.
                r.system_dropped = sys.is_some();
                r.mask("<s>");
                for t in turns {
                    r.mask_fmt(format_args!("[INST] {}[/INST]", user(t)));
                    r.trained_fmt(format_args!(" {}</s>", py_strip(t.response)));
                }
            }
            Kind::Alpaca => {
                r.tokenizer_bos = true;
                if let Some(s) = sys {
                    r.mask_fmt(format_args!("{s}\n\n"));
                }
                for (i, t) in turns.iter().enumerate() {
                    if i > 0 {
                        r.mask("\n\n");
                    }
                    r.mask_fmt(format_args!("### Instruction:\n{}", t.instruction));
                    if !t.input.is_empty() {
                        r.mask_fmt(format_args!("\n\n### {input_label}:\n{}", t.input));
                    }
                    r.mask("\n\n### Response:\n");
                    r.trained(t.response);
                    r.tokenizer_eos();
                }
            }
        }
        if masking.train_on_prompt {
            r.train = if r.text.is_empty() {
                Vec::new()
            } else {
                std::iter::once(0..r.text.len()).collect()
            };
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "SYS";

    fn turn<'a>(u: &'a str, a: &'a str) -> Turn<'a> {
        Turn {
            instruction: u,
            input: "",
            response: a,
        }
    }

    fn render(name: &str, system: Option<&str>, turns: &[Turn<'_>]) -> Rendered {
        get(name)
            .unwrap()
            .render(system, turns, "Input", Masking::default())
    }

    /// `text` with trained text between « and » and the tokenizer's EOS as ⟨eos⟩.
    fn marked(r: &Rendered) -> String {
        r.segments()
            .iter()
            .map(|s| match (s.eos, s.trained) {
                (true, _) => "«⟨eos⟩»".to_owned(),
                (false, true) => format!("«{}»", s.text),
                (false, false) => s.text.clone(),
            })
            .collect::<String>()
            .replace("»«", "")
    }

    /// Golden renders written out from each family's published chat template (the copies in
    /// fixtures/chat-templates/, rendered by transformers with add_generation_prompt=False):
    /// (template, case, expected with «trained» text). Cases: single turn; system + turn;
    /// system + two turns; white space around every message.
    #[rustfmt::skip]
    const GOLDEN: &[(&str, &str, &str)] = &[
        ("qwen3", "single", "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n«A<|im_end|>»\n"),
        ("qwen3", "system", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n«A<|im_end|>»\n"),
        ("qwen3", "multi", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n«A1<|im_end|>»\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n«A2<|im_end|>»\n"),
        ("qwen3", "space", "<|im_start|>system\n  S \n<|im_end|>\n<|im_start|>user\n\n U \n<|im_end|>\n<|im_start|>assistant\n«\n\n A  \n<|im_end|>»\n<|im_start|>user\n U2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n«A2 <|im_end|>»\n"),
        ("chatml", "single", "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n«A<|im_end|>»\n"),
        ("chatml", "system", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n«A<|im_end|>»\n"),
        ("chatml", "multi", "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n«A1<|im_end|>»\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n«A2<|im_end|>»\n"),
        ("chatml", "space", "<|im_start|>system\n  S \n<|im_end|>\n<|im_start|>user\n\n U \n<|im_end|>\n<|im_start|>assistant\n«\n\n A  \n<|im_end|>»\n<|im_start|>user\n U2<|im_end|>\n<|im_start|>assistant\n«A2 <|im_end|>»\n"),
        ("llama", "single", "<s>[INST] U [/INST]« A </s>»"),
        ("llama", "system", "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nU [/INST]« A </s>»"),
        ("llama", "multi", "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nU1 [/INST]« A1 </s>»<s>[INST] U2 [/INST]« A2 </s>»"),
        ("llama", "space", "<s>[INST] <<SYS>>\n  S \n\n<</SYS>>\n\n\n U [/INST]« A </s>»<s>[INST] U2 [/INST]« A2 </s>»"),
        ("llama3", "single", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A<|eot_id|>»"),
        ("llama3", "system", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nSYS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A<|eot_id|>»"),
        ("llama3", "multi", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nSYS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A1<|eot_id|>»<|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A2<|eot_id|>»"),
        ("llama3", "space", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A<|eot_id|>»<|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n«A2<|eot_id|>»"),
        ("phi", "single", "<|user|>\nU<|end|>\n<|assistant|>\n«A<|end|>»\n<|endoftext|>"),
        ("phi", "system", "<|system|>\nSYS<|end|>\n<|user|>\nU<|end|>\n<|assistant|>\n«A<|end|>»\n<|endoftext|>"),
        ("phi", "multi", "<|system|>\nSYS<|end|>\n<|user|>\nU1<|end|>\n<|assistant|>\n«A1<|end|>»\n<|user|>\nU2<|end|>\n<|assistant|>\n«A2<|end|>»\n<|endoftext|>"),
        ("phi", "space", "<|system|>\n  S \n<|end|>\n<|user|>\n\n U \n<|end|>\n<|assistant|>\n«\n\n A  \n<|end|>»\n<|user|>\n U2<|end|>\n<|assistant|>\n«A2 <|end|>»\n<|endoftext|>"),
        ("phi4", "single", "<|im_start|>user<|im_sep|>U<|im_end|><|im_start|>assistant<|im_sep|>«A<|im_end|>»"),
        ("phi4", "system", "<|im_start|>system<|im_sep|>SYS<|im_end|><|im_start|>user<|im_sep|>U<|im_end|><|im_start|>assistant<|im_sep|>«A<|im_end|>»"),
        ("phi4", "multi", "<|im_start|>system<|im_sep|>SYS<|im_end|><|im_start|>user<|im_sep|>U1<|im_end|><|im_start|>assistant<|im_sep|>«A1<|im_end|>»<|im_start|>user<|im_sep|>U2<|im_end|><|im_start|>assistant<|im_sep|>«A2<|im_end|>»"),
        ("phi4", "space", "<|im_start|>system<|im_sep|>  S \n<|im_end|><|im_start|>user<|im_sep|>\n U \n<|im_end|><|im_start|>assistant<|im_sep|>«\n\n A  \n<|im_end|>»<|im_start|>user<|im_sep|> U2<|im_end|><|im_start|>assistant<|im_sep|>«A2 <|im_end|>»"),
        ("deepseek", "single", "<｜begin▁of▁sentence｜>User: U\n\nAssistant:« A<｜end▁of▁sentence｜>»"),
        ("deepseek", "system", "<｜begin▁of▁sentence｜>SYS\n\nUser: U\n\nAssistant:« A<｜end▁of▁sentence｜>»"),
        ("deepseek", "multi", "<｜begin▁of▁sentence｜>SYS\n\nUser: U1\n\nAssistant:« A1<｜end▁of▁sentence｜>»User: U2\n\nAssistant:« A2<｜end▁of▁sentence｜>»"),
        ("deepseek", "space", "<｜begin▁of▁sentence｜>  S \n\n\nUser: \n U \n\n\nAssistant:« \n\n A  \n<｜end▁of▁sentence｜>»User:  U2\n\nAssistant:« A2 <｜end▁of▁sentence｜>»"),
        ("deepseek-coder", "single", "<｜begin▁of▁sentence｜>You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\n### Instruction:\nU\n### Response:\n«A\n<|EOT|>»\n"),
        ("deepseek-coder", "system", "<｜begin▁of▁sentence｜>SYS### Instruction:\nU\n### Response:\n«A\n<|EOT|>»\n"),
        ("deepseek-coder", "multi", "<｜begin▁of▁sentence｜>SYS### Instruction:\nU1\n### Response:\n«A1\n<|EOT|>»\n### Instruction:\nU2\n### Response:\n«A2\n<|EOT|>»\n"),
        ("deepseek-coder", "space", "<｜begin▁of▁sentence｜>  S \n### Instruction:\n\n U \n\n### Response:\n«\n\n A  \n\n<|EOT|>»\n### Instruction:\n U2\n### Response:\n«A2 \n<|EOT|>»\n"),
        ("gemma", "single", "<bos><start_of_turn>user\nU<end_of_turn>\n<start_of_turn>model\n«A<end_of_turn>»\n"),
        ("gemma", "system", "<bos><start_of_turn>user\nSYS\n\nU<end_of_turn>\n<start_of_turn>model\n«A<end_of_turn>»\n"),
        ("gemma", "multi", "<bos><start_of_turn>user\nSYS\n\nU1<end_of_turn>\n<start_of_turn>model\n«A1<end_of_turn>»\n<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n«A2<end_of_turn>»\n"),
        ("gemma", "space", "<bos><start_of_turn>user\n  S \n\n\nU<end_of_turn>\n<start_of_turn>model\n«A<end_of_turn>»\n<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n«A2<end_of_turn>»\n"),
        ("mistral", "single", "<s>[INST] U[/INST]« A</s>»"),
        ("mistral", "system", "<s>[INST] U[/INST]« A</s>»"),
        ("mistral", "multi", "<s>[INST] U1[/INST]« A1</s>»[INST] U2[/INST]« A2</s>»"),
        ("mistral", "space", "<s>[INST] \n U \n[/INST]« A</s>»[INST]  U2[/INST]« A2</s>»"),
        ("alpaca", "single", "### Instruction:\nU\n\n### Response:\n«A⟨eos⟩»"),
        ("alpaca", "system", "SYS\n\n### Instruction:\nU\n\n### Response:\n«A⟨eos⟩»"),
        ("alpaca", "multi", "SYS\n\n### Instruction:\nU1\n\n### Response:\n«A1⟨eos⟩»\n\n### Instruction:\nU2\n\n### Response:\n«A2⟨eos⟩»"),
        ("alpaca", "space", "  S \n\n\n### Instruction:\n\n U \n\n\n### Response:\n«\n\n A  \n⟨eos⟩»\n\n### Instruction:\n U2\n\n### Response:\n«A2 ⟨eos⟩»"),
    ];

    fn case(name: &str) -> (Option<&'static str>, Vec<Turn<'static>>) {
        match name {
            "single" => (None, vec![turn("U", "A")]),
            "system" => (Some(S), vec![turn("U", "A")]),
            "multi" => (Some(S), vec![turn("U1", "A1"), turn("U2", "A2")]),
            "space" => (
                Some("  S \n"),
                vec![turn("\n U \n", "\n\n A  \n"), turn(" U2", "A2 ")],
            ),
            other => panic!("no case {other}"),
        }
    }

    #[test]
    fn every_template_renders_the_golden_strings_of_its_family() {
        for &(name, case_name, want) in GOLDEN {
            let (system, turns) = case(case_name);
            let got = marked(&render(name, system, &turns));
            assert_eq!(got, want, "{name} {case_name}");
        }
        for t in TEMPLATES {
            let n = GOLDEN.iter().filter(|g| g.0 == t.name).count();
            assert_eq!(n, 4, "{} has {n} golden renders", t.name);
        }
    }

    #[test]
    fn every_answer_is_trained_and_ends_with_the_end_of_turn_marker() {
        for t in TEMPLATES {
            let turns = [turn("U1", "A1"), turn("U2", "A2"), turn("U3", "A3")];
            let r = t.render(Some(S), &turns, "Input", Masking::default());
            let trained = r.trained_text();
            let end = if t.name == "alpaca" {
                "⟨eos⟩"
            } else {
                t.end_of_turn
            };
            for a in ["A1", "A2", "A3"] {
                assert!(
                    trained.contains(&format!("{a}{end}")),
                    "{}: {trained:?}",
                    t.name
                );
            }
            assert_eq!(trained.matches(end).count(), 3, "{}: {trained:?}", t.name);
            // nothing of the prompt is trained
            assert!(
                !trained.contains('U') && !trained.contains("SYS"),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn input_goes_under_its_label() {
        let row = Turn {
            instruction: "INSTR",
            input: "INP",
            response: "RESP",
        };
        let r = get("chatml")
            .unwrap()
            .render(None, &[row], "Schema", Masking::default());
        assert_eq!(
            marked(&r),
            "<|im_start|>user\nINSTR\n\nSchema:\nINP<|im_end|>\n<|im_start|>assistant\n«RESP<|im_end|>»\n"
        );
        let r = get("alpaca")
            .unwrap()
            .render(None, &[row], "Schema", Masking::default());
        assert_eq!(
            marked(&r),
            "### Instruction:\nINSTR\n\n### Schema:\nINP\n\n### Response:\n«RESP⟨eos⟩»"
        );
        let m = get("alpaca").unwrap().messages(None, &[row], "Schema");
        assert_eq!(m[0]["input"], "INP");
        assert_eq!(m[0]["input_label"], "Schema");
        let m = get("gemma").unwrap().messages(Some("S"), &[row], "Schema");
        assert_eq!(m[1]["content"], "INSTR\n\nSchema:\nINP");
    }

    #[test]
    fn train_on_prompt_trains_everything() {
        let r = get("alpaca").unwrap().render(
            Some(S),
            &[turn("U", "A")],
            "Input",
            Masking {
                train_on_prompt: true,
            },
        );
        assert_eq!(
            r.train,
            std::iter::once(0..r.text.len()).collect::<Vec<_>>()
        );
        assert_eq!(
            marked(&r),
            "«SYS\n\n### Instruction:\nU\n\n### Response:\nA⟨eos⟩»"
        );
    }

    #[test]
    fn braces_in_data_are_not_slots() {
        let t = Turn {
            instruction: "{input} {system}",
            input: "{instruction}",
            response: "{response}",
        };
        let r = get("alpaca")
            .unwrap()
            .render(Some("{x}"), &[t], "Input", Masking::default());
        assert_eq!(
            r.text,
            "{x}\n\n### Instruction:\n{input} {system}\n\n### Input:\n{instruction}\n\n### Response:\n{response}"
        );
    }

    #[test]
    fn qwen3_keeps_a_reasoning_block_in_the_last_answer_and_drops_earlier_ones() {
        let r = render(
            "qwen3",
            None,
            &[
                turn("U1", "<think>\nold\n</think>\n\nA1"),
                turn("U2", "<think>\nwhy\n</think>\n\nA2"),
            ],
        );
        assert_eq!(
            marked(&r),
            "<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n«A1<|im_end|>»\n\
             <|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n«<think>\nwhy\n</think>\n\nA2<|im_end|>»\n"
        );
    }

    #[test]
    fn mistral_reports_the_system_text_it_leaves_out() {
        assert!(render("mistral", Some(S), &[turn("U", "A")]).system_dropped);
        assert!(!render("mistral", None, &[turn("U", "A")]).system_dropped);
        assert!(!render("gemma", Some(S), &[turn("U", "A")]).system_dropped);
    }

    #[test]
    fn records_carry_character_offsets() {
        let r = render("chatml", None, &[turn("é", "ü")]);
        let rec = r.record(7);
        let text = rec["text"].as_str().unwrap();
        let chars: Vec<char> = text.chars().collect();
        let span = &rec["train"][0];
        let (s, e) = (
            span[0].as_u64().unwrap() as usize,
            span[1].as_u64().unwrap() as usize,
        );
        assert_eq!(chars[s..e].iter().collect::<String>(), "ü<|im_end|>");
        assert_eq!(rec["line"], 7);
        assert!(rec.get("tokenizer_eos_at").is_none());
        let a = render("alpaca", None, &[turn("é", "ü")]).record(1);
        let at = a["tokenizer_eos_at"][0].as_u64().unwrap() as usize;
        assert_eq!(at, a["text"].as_str().unwrap().chars().count());
        assert_eq!(a["tokenizer_bos"], true);
    }

    #[test]
    fn python_strip_matches_str_strip() {
        assert_eq!(py_strip("\u{1c}\u{1f} a \u{3000}\u{85}"), "a");
        assert_eq!(py_strip("\u{200b}a"), "\u{200b}a"); // not white space in Python either
    }

    #[test]
    fn registry_names_equal_the_validators_list_and_the_families() {
        let mut ours = names();
        let mut theirs = crate::manifest::shape::PROMPT_TEMPLATES.to_vec();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        for t in TEMPLATES {
            assert_eq!(
                names::template_family(t.name),
                (t.name != "alpaca").then_some(t.family),
                "{}",
                t.name
            );
            let kwargs: serde_json::Value = serde_json::from_str(t.check_kwargs).unwrap();
            assert!(kwargs.is_object());
        }
    }

    #[test]
    fn detection_goes_through_the_family_names() {
        let d = |m: &str| detect(m).map(|t| t.name);
        assert_eq!(d("Qwen/Qwen3-0.6B"), Some("qwen3"));
        assert_eq!(d("meta-llama/Meta-Llama-3-8B"), Some("llama3"));
        assert_eq!(d("deepseek-ai/deepseek-coder-1.3b"), Some("deepseek-coder"));
        assert_eq!(d("microsoft/Phi-3-mini-4k-instruct"), Some("phi"));
        assert_eq!(d("microsoft/phi-4"), Some("phi4"));
        assert_eq!(d("TinyLlama/TinyLlama-1.1B-Chat-v1.0"), None);
    }
}
