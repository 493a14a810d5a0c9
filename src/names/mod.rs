//! Names, each rule once: the one place a model name becomes part of a file name (SPEC §4),
//! and the member-name rule with the way a name is shown to people ([`member`]).
//!
//! At the bottom of the library, so the manifest (file paths it names), the archive (its
//! writer and reader) and signing (free-text values printed beside names) use the same rules.

mod member;

pub use member::{check_member_name, display_name, DisplayName, NameProblem, MAX_NAME_LEN};
pub(crate) use member::{display_bytes, is_forbidden_in_name, is_zero_width};

/// The last path component of a model name, splitting on both `/` and `\` on every OS,
/// so `F:\models\Qwen3-0.6B` and `F:/models/Qwen3-0.6B` agree. Trailing separators are ignored.
pub fn base_name(model: &str) -> &str {
    let trimmed = model.trim_end_matches(['/', '\\']);
    match trimmed.rfind(['/', '\\']) {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// The slug of a model name: its base name, lower-cased, with `.`, `-`, `_` and white space
/// removed. Used by `package`, `train` and file names.
///
/// ```
/// assert_eq!(expert_cli::names::slug("F:/models/Qwen3-0.6B"), "qwen306b");
/// assert_eq!(expert_cli::names::slug("Qwen/Qwen3-1.7B"), "qwen317b");
/// ```
pub fn slug(model: &str) -> String {
    base_name(model)
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The default package file name: `<name>-<slug>.v<version>.expert`.
///
/// ```
/// let file = expert_cli::names::package_file_name("expert-neo4j", "Qwen/Qwen3-0.6B", "0.0.1");
/// assert_eq!(file, "expert-neo4j-qwen306b.v0.0.1.expert");
/// ```
pub fn package_file_name(name: &str, model: &str, version: &str) -> String {
    format!("{name}-{}.v{version}.expert", slug(model))
}

/// True when `s` is safe as one path component: non-empty, no separators, no `..`,
/// no control characters. Name and version pass through this before they touch a file name.
pub fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c == ':')
}

/// Chat-template families: each prompt template named after a model family (the registry name of
/// `train::templates`) and the family, as messages name it. `alpaca` is no family's template.
pub const TEMPLATE_FAMILIES: &[(&str, &str)] = &[
    ("qwen3", "Qwen3"),
    ("chatml", "ChatML (Qwen 1/2, QwQ, Yi)"),
    ("llama", "Llama 2"),
    ("llama3", "Llama 3"),
    ("phi", "Phi-3"),
    ("phi4", "Phi-4"),
    ("deepseek", "DeepSeek LLM"),
    ("deepseek-coder", "DeepSeek Coder"),
    ("gemma", "Gemma"),
    ("mistral", "Mistral"),
];

/// The family name of a family template (`qwen3` → `Qwen3`); `None` for `alpaca` and unknown
/// names.
pub fn template_family(template: &str) -> Option<&'static str> {
    TEMPLATE_FAMILIES
        .iter()
        .find(|(t, _)| *t == template)
        .map(|(_, f)| *f)
}

/// The prompt template of a model's family, from its name: `Qwen/Qwen3-0.6B` → `qwen3`,
/// `meta-llama/Meta-Llama-3-8B` → `llama3`, `microsoft/phi-4` → `phi4`. Only the last path
/// component is read (a folder such as `/home/yi/models/` says nothing about the model); it is
/// split into words at every character that is not a letter or digit, and a word names a family
/// only as a whole word with an optional version, glued (`qwen3`, `phi4`) or as the next word
/// (`llama-3`, `phi-3.5`). The first family word decides, even when its version has no template
/// (`DeepSeek-R1-Distill-Qwen` is not a Qwen model). `TinyLlama` is not Llama (its chat models
/// use the Zephyr format); `phi-2` and `Phi-4-mini` have no template here.
///
/// ```
/// use expert_cli::names::template_for_model as t;
/// assert_eq!(t("F:/models/Qwen3-0.6B"), Some("qwen3"));
/// assert_eq!(t("meta-llama/Llama-3.1-8B-Instruct"), Some("llama3"));
/// assert_eq!(t("deepseek-ai/deepseek-coder-6.7b-instruct"), Some("deepseek-coder"));
/// assert_eq!(t("TinyLlama/TinyLlama-1.1B-Chat-v1.0"), None);
/// ```
pub fn template_for_model(model: &str) -> Option<&'static str> {
    let base = base_name(model).to_ascii_lowercase();
    let words: Vec<&str> = base
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let stem = word.trim_end_matches(|c: char| c.is_ascii_digit());
        let rest = &words[i + 1..];
        let glued = &word[stem.len()..];
        let version = match rest.first() {
            _ if !glued.is_empty() => glued,
            Some(next) if next.bytes().all(|b| b.is_ascii_digit()) => next,
            _ => "",
        };
        let has = |w: &str| rest.contains(&w);
        let found = match stem {
            "qwen" => match version {
                "3" => Some("qwen3"),
                "" | "1" | "2" => Some("chatml"),
                _ => None,
            },
            "qwq" | "yi" => Some("chatml"),
            "llama" | "codellama" => match version {
                "" | "1" | "2" => Some("llama"),
                "3" => Some("llama3"),
                _ => None,
            },
            "mistral" | "mixtral" | "codestral" | "mathstral" | "ministral" => Some("mistral"),
            "phi" => match version {
                "3" => Some("phi"),
                "4" if !has("mini") && !has("multimodal") => Some("phi4"),
                _ => None,
            },
            "deepseek" => {
                if ["v3", "r1", "prover", "vl", "vl2", "math", "janus"]
                    .iter()
                    .any(|w| has(w))
                    || (has("v2") && has("5"))
                {
                    None
                } else if has("coder") && !has("v2") {
                    Some("deepseek-coder")
                } else {
                    Some("deepseek")
                }
            }
            "gemma" | "codegemma" => match version {
                "" | "1" | "2" | "3" => Some("gemma"),
                _ => None,
            },
            _ => continue,
        };
        return found;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_of_windows_and_hub_names() {
        assert_eq!(slug("F:/Node/hivellm/expert/models/Qwen3-0.6B"), "qwen306b");
        assert_eq!(slug(r"F:\models\Qwen3-0.6B"), "qwen306b");
        assert_eq!(slug("Qwen/Qwen3_1.7B Instruct"), "qwen317binstruct");
        assert_eq!(slug("models/Qwen3-4B/"), "qwen34b");
    }

    #[test]
    fn package_name_matches_the_seed_example() {
        assert_eq!(
            package_file_name(
                "expert-neo4j",
                "F:/Node/hivellm/expert/models/Qwen3-0.6B",
                "0.0.1"
            ),
            "expert-neo4j-qwen306b.v0.0.1.expert"
        );
    }

    #[test]
    fn safe_components() {
        assert!(is_safe_component("expert-sql"));
        assert!(!is_safe_component("../x"));
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component(""));
        assert!(!is_safe_component("a\\b"));
    }

    #[test]
    fn model_names_pick_their_family_template() {
        let t = template_for_model;
        for (model, want) in [
            ("Qwen3-0.6B", Some("qwen3")),
            ("Qwen/Qwen3-0.6B", Some("qwen3")),
            ("F:/Node/hivellm/expert/models/Qwen3-0.6B", Some("qwen3")),
            ("Qwen/Qwen3-4B-Instruct-2507", Some("qwen3")),
            ("Qwen/Qwen2.5-7B-Instruct", Some("chatml")),
            ("Qwen/Qwen-7B-Chat", Some("chatml")),
            ("Qwen/QwQ-32B", Some("chatml")),
            ("01-ai/Yi-34B-Chat", Some("chatml")),
            ("meta-llama/Llama-2-7b-chat-hf", Some("llama")),
            ("codellama/CodeLlama-7b-Instruct-hf", Some("llama")),
            ("meta-llama/Meta-Llama-3-8B", Some("llama3")),
            ("meta-llama/Meta-Llama-3-8B-Instruct", Some("llama3")),
            ("meta-llama/Llama-3.1-8B-Instruct", Some("llama3")),
            ("meta-llama/Llama-3.2-1B-Instruct", Some("llama3")),
            ("unsloth/llama3.2-3b", Some("llama3")),
            ("meta-llama/Llama-4-Scout-17B-16E", None),
            ("mistralai/Mistral-7B-Instruct-v0.3", Some("mistral")),
            ("mistralai/Mixtral-8x7B-Instruct-v0.1", Some("mistral")),
            ("microsoft/Phi-3-mini-4k-instruct", Some("phi")),
            ("microsoft/Phi-3.5-mini-instruct", Some("phi")),
            ("microsoft/phi-4", Some("phi4")),
            ("microsoft/Phi-4-mini-instruct", None),
            ("microsoft/phi-2", None),
            ("deepseek-ai/deepseek-llm-7b-chat", Some("deepseek")),
            ("deepseek-ai/DeepSeek-V2-Lite-Chat", Some("deepseek")),
            (
                "deepseek-ai/deepseek-coder-1.3b-instruct",
                Some("deepseek-coder"),
            ),
            (
                "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
                Some("deepseek"),
            ),
            ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", None),
            ("deepseek-ai/DeepSeek-V3", None),
            ("google/gemma-3-4b-it", Some("gemma")),
            ("google/gemma-2-2b-it", Some("gemma")),
            ("google/codegemma-7b-it", Some("gemma")),
            ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", None),
            ("/home/yi/models/gpt2", None),
            ("/home/yiming/models/my-model", None),
            ("/srv/qwen/weights/tiny-model", None),
            ("phil-7b", None),
            ("gemmas", None),
        ] {
            assert_eq!(t(model), want, "{model}");
        }
        for (template, _) in TEMPLATE_FAMILIES {
            assert!(template_family(template).is_some());
        }
        assert_eq!(template_family("alpaca"), None);
    }
}
