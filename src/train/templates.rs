//! The prompt-template registry: the only place prompt formats are written down (SPEC §7).
//! `--dry-run` renders with it and the Python trainer receives its output, so what is shown is
//! what is trained.
//!
//! Formats follow upstream's `prompt_templates.py` (reference `upstream-training.md` §5) with its
//! quirks removed: llama always opens with `[INST]`, mistral keeps a system prompt (inside the
//! first `[INST]`, as Mistral's own template does), alpaca's system part has no unfillable slot,
//! chatml's user turn ends in the prompt rather than in the response, gemma has no `system` role
//! (Gemma's template puts the system text at the top of the user turn), and the end of sequence
//! is explicit: either an end-of-turn marker in the text or the tokenizer's EOS token, never a
//! stray space. `qwen3` is ChatML as Qwen3 renders an answer with thinking off: the assistant turn
//! opens with an empty `<think>` block.

use crate::names;

/// One prompt format. Each part holds at most one slot, filled with plain text replacement, so
/// braces in the data are never interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Template {
    /// Registry name, as written in a manifest's `prompt_template`.
    pub name: &'static str,
    /// Opens every user turn, before the system part (`[INST] ` for llama and mistral).
    pub turn_begin: &'static str,
    /// Rendered only when there is a system text; slot `{system}`.
    pub system: &'static str,
    /// The user's message; slot `{instruction}`.
    pub user: &'static str,
    /// Rendered only when the input is non-empty; slots `{input}` and `{input_label}`.
    pub input: &'static str,
    /// Closes the user turn and opens the answer; the last masked part of a prompt.
    pub assistant: &'static str,
    /// Closes the answer; trained with it, so the model learns to stop.
    pub response_end: &'static str,
    /// The tokenizer's EOS token follows `response_end` (templates without a textual
    /// end-of-turn marker).
    pub eos: bool,
}

/// Every template, in documentation order. `manifest::shape::PROMPT_TEMPLATES` lists the same
/// names (a test keeps them equal).
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "chatml",
        turn_begin: "",
        system: "<|im_start|>system\n{system}<|im_end|>\n",
        user: "<|im_start|>user\n{instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: "<|im_end|>\n<|im_start|>assistant\n",
        response_end: "<|im_end|>\n",
        eos: false,
    },
    Template {
        name: "qwen3",
        turn_begin: "",
        system: "<|im_start|>system\n{system}<|im_end|>\n",
        user: "<|im_start|>user\n{instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
        response_end: "<|im_end|>\n",
        eos: false,
    },
    Template {
        name: "alpaca",
        turn_begin: "",
        system: "{system}\n\n",
        user: "### Instruction:\n{instruction}",
        input: "\n\n### {input_label}:\n{input}",
        assistant: "\n\n### Response:\n",
        response_end: "",
        eos: true,
    },
    Template {
        name: "llama",
        turn_begin: "[INST] ",
        system: "<<SYS>>\n{system}\n<</SYS>>\n\n",
        user: "{instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: " [/INST] ",
        response_end: "",
        eos: true,
    },
    Template {
        name: "phi",
        turn_begin: "",
        system: "System: {system}\n\n",
        user: "User: {instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: "\nAssistant: ",
        response_end: "",
        eos: true,
    },
    Template {
        name: "deepseek",
        turn_begin: "",
        system: "System: {system}\n\n",
        user: "User: {instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: "\n\nAssistant: ",
        response_end: "",
        eos: true,
    },
    Template {
        name: "gemma",
        turn_begin: "<start_of_turn>user\n",
        system: "{system}\n\n",
        user: "{instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: "<end_of_turn>\n<start_of_turn>model\n",
        response_end: "<end_of_turn>\n",
        eos: false,
    },
    Template {
        name: "mistral",
        turn_begin: "[INST] ",
        system: "{system}\n\n",
        user: "{instruction}",
        input: "\n\n{input_label}:\n{input}",
        assistant: " [/INST] ",
        response_end: "",
        eos: true,
    },
];

/// The template named `name` (exact, lower-case registry name).
pub fn get(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// The registry's names, in order.
pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.name).collect()
}

/// Detects a template from a model name. Only the last path component is read (a folder such as
/// `/home/yi/models/` says nothing about the model), split into words at every character that is
/// not a letter or digit; a word matches a family when it is the family name followed only by a
/// version number (`qwen3`, `llama2`, `phi`, `gemma`). Whole words only: `TinyLlama` is not a
/// llama-format model (its chat models use the Zephyr format), so it is not detected.
pub fn detect(model: &str) -> Option<&'static Template> {
    let base = names::base_name(model).to_ascii_lowercase();
    for word in base.split(|c: char| !c.is_ascii_alphanumeric()) {
        let stem = word.trim_end_matches(|c: char| c.is_ascii_digit());
        let found = match stem {
            "qwen" if word == "qwen3" => "qwen3",
            "qwen" | "qwq" | "yi" => "chatml",
            "llama" | "codellama" => "llama",
            "mistral" | "mixtral" | "codestral" => "mistral",
            "phi" => "phi",
            "deepseek" => "deepseek",
            "gemma" | "codegemma" => "gemma",
            _ => continue,
        };
        return get(found);
    }
    None
}

/// A piece of a rendered example: masked (prompt) or trained (answer) text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// The loss covers it.
    pub trained: bool,
}

/// One rendered training example.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendered {
    /// The pieces in order; adjacent pieces differ in `trained`.
    pub segments: Vec<Segment>,
    /// The tokenizer's EOS token follows the last segment, trained.
    pub eos: bool,
}

impl Rendered {
    /// All the text, masked and trained, concatenated.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }
    fn push(&mut self, text: &str, trained: bool) {
        if text.is_empty() {
            return;
        }
        match self.segments.last_mut() {
            Some(last) if last.trained == trained => last.text.push_str(text),
            _ => self.segments.push(Segment {
                text: text.to_owned(),
                trained,
            }),
        }
    }
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

impl Template {
    /// Renders a conversation: an optional system text, then turns. The system text goes into
    /// the first turn. Prompt parts are masked unless `masking.train_on_prompt`; each answer and
    /// its end marker are trained.
    pub fn render(
        &self,
        system: Option<&str>,
        turns: &[Turn<'_>],
        input_label: &str,
        masking: Masking,
    ) -> Rendered {
        let mut out = Rendered {
            segments: Vec::new(),
            eos: self.eos,
        };
        let p = masking.train_on_prompt;
        let last = turns.len().saturating_sub(1);
        for (i, turn) in turns.iter().enumerate() {
            out.push(self.turn_begin, p);
            if i == 0 {
                if let Some(s) = system.filter(|s| !s.is_empty()) {
                    out.push(&self.system.replace("{system}", s), p);
                }
            }
            out.push(&self.user.replace("{instruction}", turn.instruction), p);
            if !turn.input.is_empty() {
                let part = self.input.replace("{input_label}", input_label);
                out.push(&part.replace("{input}", turn.input), p);
            }
            out.push(self.assistant, p);
            out.push(turn.response, true);
            out.push(self.response_end, true);
            if i != last && self.eos {
                // Earlier turns of an EOS-terminated format are closed by a blank line; the
                // tokenizer's EOS is added only once, at the end of the example.
                out.push("\n\n", p);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: Turn<'static> = Turn {
        instruction: "INSTR",
        input: "INP",
        response: "RESP",
    };
    const NO_INPUT: Turn<'static> = Turn {
        instruction: "INSTR",
        input: "",
        response: "RESP",
    };

    fn render(name: &str, system: Option<&str>, turn: Turn<'_>) -> (String, String, bool) {
        let r = get(name)
            .unwrap()
            .render(system, &[turn], "Input", Masking::default());
        let masked: String = r
            .segments
            .iter()
            .filter(|s| !s.trained)
            .map(|s| s.text.as_str())
            .collect();
        let trained: String = r
            .segments
            .iter()
            .filter(|s| s.trained)
            .map(|s| s.text.as_str())
            .collect();
        (masked, trained, r.eos)
    }

    /// Golden renders: (name, system?, input?, prompt, answer, eos).
    #[rustfmt::skip]
    const GOLDEN: &[(&str, bool, bool, &str, &str, bool)] = &[
        ("chatml", false, false, "<|im_start|>user\nINSTR<|im_end|>\n<|im_start|>assistant\n", "RESP<|im_end|>\n", false),
        ("chatml", false, true, "<|im_start|>user\nINSTR\n\nInput:\nINP<|im_end|>\n<|im_start|>assistant\n", "RESP<|im_end|>\n", false),
        ("chatml", true, false, "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nINSTR<|im_end|>\n<|im_start|>assistant\n", "RESP<|im_end|>\n", false),
        ("chatml", true, true, "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nINSTR\n\nInput:\nINP<|im_end|>\n<|im_start|>assistant\n", "RESP<|im_end|>\n", false),
        ("qwen3", false, false, "<|im_start|>user\nINSTR<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "RESP<|im_end|>\n", false),
        ("qwen3", false, true, "<|im_start|>user\nINSTR\n\nInput:\nINP<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "RESP<|im_end|>\n", false),
        ("qwen3", true, false, "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nINSTR<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "RESP<|im_end|>\n", false),
        ("qwen3", true, true, "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nINSTR\n\nInput:\nINP<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "RESP<|im_end|>\n", false),
        ("alpaca", false, false, "### Instruction:\nINSTR\n\n### Response:\n", "RESP", true),
        ("alpaca", false, true, "### Instruction:\nINSTR\n\n### Input:\nINP\n\n### Response:\n", "RESP", true),
        ("alpaca", true, false, "SYS\n\n### Instruction:\nINSTR\n\n### Response:\n", "RESP", true),
        ("alpaca", true, true, "SYS\n\n### Instruction:\nINSTR\n\n### Input:\nINP\n\n### Response:\n", "RESP", true),
        ("llama", false, false, "[INST] INSTR [/INST] ", "RESP", true),
        ("llama", false, true, "[INST] INSTR\n\nInput:\nINP [/INST] ", "RESP", true),
        ("llama", true, false, "[INST] <<SYS>>\nSYS\n<</SYS>>\n\nINSTR [/INST] ", "RESP", true),
        ("llama", true, true, "[INST] <<SYS>>\nSYS\n<</SYS>>\n\nINSTR\n\nInput:\nINP [/INST] ", "RESP", true),
        ("phi", false, false, "User: INSTR\nAssistant: ", "RESP", true),
        ("phi", false, true, "User: INSTR\n\nInput:\nINP\nAssistant: ", "RESP", true),
        ("phi", true, false, "System: SYS\n\nUser: INSTR\nAssistant: ", "RESP", true),
        ("phi", true, true, "System: SYS\n\nUser: INSTR\n\nInput:\nINP\nAssistant: ", "RESP", true),
        ("deepseek", false, false, "User: INSTR\n\nAssistant: ", "RESP", true),
        ("deepseek", false, true, "User: INSTR\n\nInput:\nINP\n\nAssistant: ", "RESP", true),
        ("deepseek", true, false, "System: SYS\n\nUser: INSTR\n\nAssistant: ", "RESP", true),
        ("deepseek", true, true, "System: SYS\n\nUser: INSTR\n\nInput:\nINP\n\nAssistant: ", "RESP", true),
        ("gemma", false, false, "<start_of_turn>user\nINSTR<end_of_turn>\n<start_of_turn>model\n", "RESP<end_of_turn>\n", false),
        ("gemma", false, true, "<start_of_turn>user\nINSTR\n\nInput:\nINP<end_of_turn>\n<start_of_turn>model\n", "RESP<end_of_turn>\n", false),
        ("gemma", true, false, "<start_of_turn>user\nSYS\n\nINSTR<end_of_turn>\n<start_of_turn>model\n", "RESP<end_of_turn>\n", false),
        ("gemma", true, true, "<start_of_turn>user\nSYS\n\nINSTR\n\nInput:\nINP<end_of_turn>\n<start_of_turn>model\n", "RESP<end_of_turn>\n", false),
        ("mistral", false, false, "[INST] INSTR [/INST] ", "RESP", true),
        ("mistral", false, true, "[INST] INSTR\n\nInput:\nINP [/INST] ", "RESP", true),
        ("mistral", true, false, "[INST] SYS\n\nINSTR [/INST] ", "RESP", true),
        ("mistral", true, true, "[INST] SYS\n\nINSTR\n\nInput:\nINP [/INST] ", "RESP", true),
    ];

    #[test]
    fn every_template_renders_the_same_row_as_its_golden_string() {
        for &(name, sys, inp, prompt, answer, eos) in GOLDEN {
            let turn = if inp { ROW } else { NO_INPUT };
            let got = render(name, sys.then_some("SYS"), turn);
            assert_eq!(
                got,
                (prompt.to_owned(), answer.to_owned(), eos),
                "{name} system={sys} input={inp}"
            );
        }
        // every template has all four cases
        for t in TEMPLATES {
            let n = GOLDEN.iter().filter(|g| g.0 == t.name).count();
            assert_eq!(n, 4, "{} has {n} golden renders", t.name);
        }
    }

    #[test]
    fn prompt_is_masked_and_answer_is_trained_in_one_piece_each() {
        let r = get("chatml")
            .unwrap()
            .render(Some("SYS"), &[ROW], "Schema", Masking::default());
        assert_eq!(r.segments.len(), 2);
        assert!(!r.segments[0].trained && r.segments[1].trained);
        assert!(r.segments[0].text.contains("Schema:\nINP"));
        let all = get("chatml").unwrap().render(
            None,
            &[ROW],
            "Input",
            Masking {
                train_on_prompt: true,
            },
        );
        assert_eq!(all.segments.len(), 1);
        assert!(all.segments[0].trained);
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
            r.text(),
            "{x}\n\n### Instruction:\n{input} {system}\n\n### Input:\n{instruction}\n\n### Response:\n{response}"
        );
    }

    #[test]
    fn multi_turn_trains_every_answer() {
        let turns = [NO_INPUT, NO_INPUT];
        let r = get("llama")
            .unwrap()
            .render(None, &turns, "Input", Masking::default());
        assert_eq!(
            r.text(),
            "[INST] INSTR [/INST] RESP\n\n[INST] INSTR [/INST] RESP"
        );
        assert_eq!(r.segments.iter().filter(|s| s.trained).count(), 2);
    }

    #[test]
    fn registry_names_equal_the_validators_list() {
        let mut ours = names();
        let mut theirs = crate::manifest::shape::PROMPT_TEMPLATES.to_vec();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn detection_uses_whole_words_of_the_last_component() {
        let d = |m: &str| detect(m).map(|t| t.name);
        assert_eq!(d("Qwen3-0.6B"), Some("qwen3"));
        assert_eq!(d("Qwen/Qwen3-0.6B"), Some("qwen3"));
        assert_eq!(d("F:/Node/hivellm/expert/models/Qwen3-0.6B"), Some("qwen3"));
        assert_eq!(d("Qwen/Qwen2.5-7B-Instruct"), Some("chatml"));
        assert_eq!(d("01-ai/Yi-34B-Chat"), Some("chatml"));
        assert_eq!(d("meta-llama/Llama-2-7b-chat-hf"), Some("llama"));
        assert_eq!(d("meta-llama/Meta-Llama-3-8B"), Some("llama"));
        assert_eq!(d("codellama/CodeLlama-7b"), Some("llama"));
        assert_eq!(d("mistralai/Mistral-7B-Instruct-v0.2"), Some("mistral"));
        assert_eq!(d("mistralai/Mixtral-8x7B"), Some("mistral"));
        assert_eq!(d("microsoft/Phi-3-mini-4k-instruct"), Some("phi"));
        assert_eq!(d("microsoft/phi-2"), Some("phi"));
        assert_eq!(d("microsoft/Phi-4"), Some("phi"));
        assert_eq!(d("deepseek-ai/deepseek-coder-1.3b"), Some("deepseek"));
        assert_eq!(d("google/gemma-2-2b-it"), Some("gemma"));
        // TinyLlama's chat models use the Zephyr format, not llama's [INST]
        assert_eq!(d("TinyLlama/TinyLlama-1.1B-Chat-v1.0"), None);
        // a folder called `yi` (or a user `yiming`) does not make a Yi model
        assert_eq!(d("/home/yi/models/gpt2"), None);
        assert_eq!(d("/home/yiming/models/my-model"), None);
        assert_eq!(d("/srv/qwen/weights/tiny-model"), None);
        // `phil` and `gemmas` are not families
        assert_eq!(d("phil-7b"), None);
        assert_eq!(d("gemmas"), None);
    }
}
