//! Chat markup inside `text` rows (#13.5): the real experts ship pre-rendered conversations in a
//! `text` column, either in ChatML (`<|im_start|>role\n…<|im_end|>`, the convention of upstream's
//! `experts/AGENTS.md`) or in upstream's legacy tags (`<|system|>\n…\n<|end|>` with `<|user|>`
//! and `<|assistant|>`, expert-elastic's dataset). Such a row is parsed back into a conversation
//! and rendered with the prompt template like a `messages` row, so the loss covers the answers
//! only and the text is the model's own chat format. A text that does not start with a marker is
//! plain text, trained as written.

/// A conversation read from chat markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'t> {
    /// Which markup: `chatml` or `tags` (`<|user|>…<|end|>`).
    pub markup: &'static str,
    /// The system text, when the first message is one.
    pub system: Option<&'t str>,
    /// (user, assistant) pairs.
    pub turns: Vec<(&'t str, &'t str)>,
}

const TAG_ROLES: &[(&str, &str)] = &[
    ("<|system|>", "system"),
    ("<|user|>", "user"),
    ("<|assistant|>", "assistant"),
];

/// Parses `text` when it starts (after white space) with a chat marker; `None` for plain text.
///
/// # Errors
/// A sentence saying where the markup is broken or the roles are out of order.
pub fn parse(text: &str) -> Option<Result<Parsed<'_>, String>> {
    let body = text.trim_start();
    if body.starts_with("<|im_start|>") {
        Some(chatml(body))
    } else if TAG_ROLES.iter().any(|(tag, _)| body.starts_with(tag)) {
        Some(tags(body))
    } else {
        None
    }
}

/// True when a plain text has markers of a chat format that is not parsed (Llama 3 headers,
/// Gemma turns, `[INST]`, a ChatML or tag marker later in the text).
pub fn looks_like_chat(text: &str) -> bool {
    [
        "<|im_start|>",
        "<|user|>",
        "<|assistant|>",
        "<|start_header_id|>",
        "<start_of_turn>",
        "[INST]",
    ]
    .iter()
    .any(|m| text.contains(m))
}

fn chatml(mut rest: &str) -> Result<Parsed<'_>, String> {
    let mut messages = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some(after) = rest.strip_prefix("<|im_start|>") else {
            return Err(format!(
                "ChatML text has `{}` where a `<|im_start|>` should begin the next message",
                preview(rest)
            ));
        };
        let Some((role, after)) = after.split_once('\n') else {
            return Err("ChatML text has a `<|im_start|>` without a role line".into());
        };
        let Some((content, after)) = after.split_once("<|im_end|>") else {
            return Err(format!(
                "ChatML message `{}` has no `<|im_end|>`",
                preview(role)
            ));
        };
        messages.push((role.trim(), content));
        rest = after;
    }
    conversation("chatml", &messages)
}

fn tags(mut rest: &str) -> Result<Parsed<'_>, String> {
    let mut messages = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some((tag, role)) = TAG_ROLES.iter().find(|(tag, _)| rest.starts_with(tag)) else {
            return Err(format!(
                "tagged chat text has `{}` where `<|system|>`, `<|user|>` or `<|assistant|>` should begin the next message",
                preview(rest)
            ));
        };
        let after = &rest[tag.len()..];
        let Some((content, after)) = after.split_once("<|end|>") else {
            return Err(format!("tagged chat message `{tag}` has no `<|end|>`"));
        };
        // `<|role|>\n{content}\n<|end|>`: the newlines belong to the tags.
        let content = content.strip_prefix('\n').unwrap_or(content);
        let content = content.strip_suffix('\n').unwrap_or(content);
        messages.push((*role, content));
        rest = after;
    }
    conversation("tags", &messages)
}

fn conversation<'t>(
    markup: &'static str,
    messages: &[(&str, &'t str)],
) -> Result<Parsed<'t>, String> {
    let mut out = Parsed {
        markup,
        system: None,
        turns: Vec::new(),
    };
    let mut pending: Option<&'t str> = None;
    for (i, &(role, content)) in messages.iter().enumerate() {
        match (role, pending) {
            ("system", None) if i == 0 => out.system = Some(content),
            ("user", None) => pending = Some(content),
            ("assistant", Some(user)) => {
                out.turns.push((user, content));
                pending = None;
            }
            _ => {
                return Err(format!(
                    "message {} has role `{}` out of order: expected an optional first `system`, then `user` and `assistant` alternating",
                    i + 1,
                    preview(role)
                ))
            }
        }
    }
    if pending.is_some() || out.turns.is_empty() {
        return Err(
            "the chat text must end with an `assistant` message after a `user` message".into(),
        );
    }
    Ok(out)
}

fn preview(s: &str) -> String {
    let p: String = s.chars().take(24).collect();
    let p = p.replace('\n', "\\n");
    if s.chars().count() > 24 {
        format!("{p}…")
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_text_becomes_a_conversation() {
        let t = "<|im_start|>system\nDialect: sql<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA2<|im_end|>\n";
        let p = parse(t).unwrap().unwrap();
        assert_eq!(p.markup, "chatml");
        assert_eq!(p.system, Some("Dialect: sql"));
        assert_eq!(
            p.turns,
            vec![("Q1", "A1"), ("Q2", "<think>\n\n</think>\n\nA2")]
        );
    }

    #[test]
    fn legacy_tags_become_a_conversation() {
        // expert-elastic's datasets/train.jsonl, first row (shortened)
        let t = "<|system|>\nDialect: elastic\nTask: mapping_create\n<|end|>\n<|user|>\nGenerate a mapping.\n<|end|>\n<|assistant|>\n{\"a\":1}\n<|end|>";
        let p = parse(t).unwrap().unwrap();
        assert_eq!(p.markup, "tags");
        assert_eq!(p.system, Some("Dialect: elastic\nTask: mapping_create"));
        assert_eq!(p.turns, vec![("Generate a mapping.", "{\"a\":1}")]);
    }

    #[test]
    fn plain_text_and_broken_markup() {
        assert!(parse("just some text <|im_start|>").is_none());
        assert!(looks_like_chat("just some text <|im_start|>"));
        let e = parse("<|im_start|>user\nQ<|im_end|>").unwrap().unwrap_err();
        assert!(e.contains("must end with an `assistant`"), "{e}");
        let e = parse("<|im_start|>user\nQ").unwrap().unwrap_err();
        assert!(e.contains("no `<|im_end|>`"), "{e}");
        let e = parse("<|user|>\nQ<|end|>\nstray<|assistant|>A<|end|>")
            .unwrap()
            .unwrap_err();
        assert!(e.contains("`stray"), "{e}");
        let e = parse("<|im_start|>assistant\nA<|im_end|>")
            .unwrap()
            .unwrap_err();
        assert!(e.contains("out of order"), "{e}");
    }
}
