//! The one place a model name becomes part of a file name (SPEC §4).

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
}
