//! Rules that look at more than one field: schema version and shape, identity, base models and
//! their adapters, training sanity, dataset paths. The per-field rules live in the tables of
//! [`super::shape`]; everything here is written in terms of JSON pointers so each diagnostic
//! lands on the line the author has to edit.

use super::check::{check_relative_path, shorten, Sink};
use super::diagnostic::Code;
use super::shape::RANKED_ADAPTER_TYPES;
use super::source::{Node, Source, Value};
use super::SchemaVersion;
use crate::names;

/// Whether the manifest is an author's file or the one inside a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The author's manifest: an `integrity` section is unexpected.
    Authored,
    /// A packaged manifest: `integrity` is written by `package`.
    Packaged,
}

/// Reports keys that occur twice in one object. Duplicate `_` comments are only a warning:
/// nothing reads them, and a real manifest (expert-sql 7a80739) has one.
pub fn duplicates(sink: &mut Sink<'_>, source: &Source) {
    for d in source.duplicates() {
        let (line, column) = source.locate(d.first.start);
        let code = if d.key.starts_with('_') {
            Code::DuplicateComment
        } else {
            Code::DuplicateKey
        };
        sink.push(
            code,
            &d.pointer,
            d.second.start,
            format!(
                "key `{}` appears twice in one object; the first is at line {line}, column {column}",
                shorten(&d.key)
            ),
            Some("remove or rename one of the two".to_owned()),
        );
    }
    let more = source.unlisted_duplicates();
    if more.keys + more.comments > 0 {
        let code = if more.keys > 0 {
            Code::DuplicateKey
        } else {
            Code::DuplicateComment
        };
        sink.push(
            code,
            "",
            0,
            format!(
                "{} more duplicate keys are not listed: the pointers of those above already fill the report",
                more.keys + more.comments
            ),
            Some("remove the duplicates listed above and validate again".to_owned()),
        );
    }
}

/// Decides the schema version (SPEC §3) and checks that the shape agrees with it.
pub fn schema_version(sink: &mut Sink<'_>, root: &Node) -> Option<SchemaVersion> {
    let one = root.get_non_null("base_model");
    let many = root.get_non_null("base_models");
    if let (Some(_), Some(m)) = (one, many) {
        sink.at(
            Code::BaseModelConflict,
            "/base_models",
            m,
            "the manifest has both `base_model` and `base_models`".to_owned(),
            Some(
                "keep `base_models` (schema 2.0), or run `expert-cli migrate` on a 1.0 manifest"
                    .to_owned(),
            ),
        );
    }
    let declared = match root.get("schema_version") {
        None => None,
        Some(node) => match node.as_str() {
            Some("1.0" | "1") => Some(SchemaVersion::V1),
            Some("2.0" | "2") => Some(SchemaVersion::V2),
            other => {
                let shown = match other {
                    Some(s) => format!("\"{s}\""),
                    None => sink_text(node),
                };
                sink.at(
                    Code::SchemaVersion,
                    "/schema_version",
                    node,
                    format!("`schema_version` {shown} is not supported"),
                    Some(
                        "use \"2.0\" (with `base_models`) or \"1.0\" (with `base_model`)"
                            .to_owned(),
                    ),
                );
                return None;
            }
        },
    };
    let shaped = match (one, many) {
        (_, Some(_)) => Some(SchemaVersion::V2),
        (Some(_), None) => Some(SchemaVersion::V1),
        (None, None) => None,
    };
    match (declared, shaped) {
        (_, None) => {
            let (field, v) = match declared {
                Some(SchemaVersion::V1) => ("base_model", "1.0"),
                _ => ("base_models", "2.0"),
            };
            sink.at(
                Code::NoBaseModel,
                format!("/{field}"),
                root,
                format!("the manifest has no `{field}`"),
                Some(format!(
                    "schema {v} lists its base model{} in `{field}`",
                    if field == "base_models" { "s" } else { "" }
                )),
            );
            declared
        }
        (None, Some(SchemaVersion::V1)) => {
            sink.at(
                Code::InferredVersion,
                "",
                root,
                "`schema_version` is absent; the manifest is read as 1.0 because it has `base_model`".to_owned(),
                Some("add \"schema_version\": \"1.0\"".to_owned()),
            );
            Some(SchemaVersion::V1)
        }
        (None, Some(SchemaVersion::V2)) => {
            // The runtime reads a manifest without `schema_version` as 1.0, which has no
            // `base_models`: it cannot load it. We still check the rest as 2.0.
            sink.at(
                Code::RuntimeRequired,
                "/schema_version",
                root,
                "`schema_version` is missing; the manifest is read as 2.0 because it has `base_models`, but the expert runtime reads it as 1.0".to_owned(),
                Some("add \"schema_version\": \"2.0\" — the expert runtime cannot load a manifest with `base_models` without it".to_owned()),
            );
            Some(SchemaVersion::V2)
        }
        (Some(d), Some(s)) if d != s && !(one.is_some() && many.is_some()) => {
            let node = root.get("schema_version").unwrap_or(root);
            let (has, wants) = match s {
                SchemaVersion::V1 => ("base_model", "\"1.0\""),
                SchemaVersion::V2 => ("base_models", "\"2.0\""),
            };
            sink.at(
                Code::SchemaVersion,
                "/schema_version",
                node,
                format!(
                    "`schema_version` says {} but the manifest uses `{has}`",
                    d.as_str()
                ),
                Some(format!("set `schema_version` to {wants}")),
            );
            Some(s)
        }
        (Some(d), Some(s)) => {
            if s == SchemaVersion::V2 {
                if let Some(node) = root
                    .get("schema_version")
                    .filter(|n| n.as_str() == Some("2"))
                {
                    sink.at(
                        Code::SchemaVersion,
                        "/schema_version",
                        node,
                        "`schema_version` \"2\" means 2.0 here, but the expert runtime reads every value other than \"2.0\" as 1.0 and then cannot load `base_models`".to_owned(),
                        Some("write \"2.0\"".to_owned()),
                    );
                }
            }
            Some(d)
        }
    }
}

fn sink_text(node: &Node) -> String {
    match &node.value {
        Value::Number(n) => n.raw.to_string(),
        other => other.type_name().to_owned(),
    }
}

/// `name` must be a safe lower-case package name; `version` a semantic version.
pub fn identity(sink: &mut Sink<'_>, root: &Node) {
    if let Some(node) = root.get("name") {
        if let Some(name) = node.as_str() {
            let ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                sink.at(
                    Code::Name,
                    "/name",
                    node,
                    format!("name \"{name}\" is not a valid package name"),
                    Some("use lower-case letters, digits and `-`, e.g. \"expert-sql\"".to_owned()),
                );
            } else if !name.starts_with("expert-") {
                sink.at(
                    Code::NamePrefix,
                    "/name",
                    node,
                    format!("name \"{name}\" does not start with `expert-`"),
                    Some(format!("rename it \"expert-{name}\"")),
                );
            }
        }
    }
    if let Some(node) = root.get("version") {
        if let Some(v) = node.as_str() {
            if !is_semver(v) {
                sink.at(
                    Code::Version,
                    "/version",
                    node,
                    format!("version \"{v}\" is not a semantic version"),
                    Some("use MAJOR.MINOR.PATCH, e.g. \"0.1.0\" or \"1.0.0-beta.1\"".to_owned()),
                );
            }
        }
    }
}

/// Semantic Versioning 2.0.0: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`.
pub fn is_semver(v: &str) -> bool {
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| {
            p.split('.')
                .all(|i| ident(i) && (!i.bytes().all(|b| b.is_ascii_digit()) || numeric(i)))
        })
        && build.is_none_or(|b| b.split('.').all(ident))
}

/// The base models as (pointer, node) pairs, whichever schema the manifest uses.
pub fn model_nodes(root: &Node, version: SchemaVersion) -> Vec<(String, &Node)> {
    match version {
        SchemaVersion::V1 => root
            .get_non_null("base_model")
            .map(|n| vec![("/base_model".to_owned(), n)])
            .unwrap_or_default(),
        SchemaVersion::V2 => root
            .get_non_null("base_models")
            .and_then(Node::as_array)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("/base_models/{i}"), n))
            .collect(),
    }
}

/// The adapters of one model as (pointer, node) pairs: root `adapters` for 1.0.
pub fn adapter_nodes<'n>(
    root: &'n Node,
    model: &'n Node,
    model_pointer: &str,
    version: SchemaVersion,
) -> Vec<(String, &'n Node)> {
    let (base, list) = match version {
        SchemaVersion::V1 => ("/adapters".to_owned(), root.get_non_null("adapters")),
        SchemaVersion::V2 => (
            format!("{model_pointer}/adapters"),
            model.get_non_null("adapters"),
        ),
    };
    list.and_then(Node::as_array)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{base}/{i}"), n))
        .collect()
}

/// Base models: unique names and slugs, portable names, adapters present and complete.
pub fn models(sink: &mut Sink<'_>, root: &Node, version: SchemaVersion) {
    let models = model_nodes(root, version);
    match version {
        SchemaVersion::V1 => {
            if root.get_non_null("adapters").is_none() {
                sink.at(
                    Code::RuntimeRequired,
                    "/adapters",
                    root,
                    "field `adapters`, required by the expert runtime for schema 1.0, is missing in the manifest".to_owned(),
                    Some(
                        "add \"adapters\": [{\"type\": \"lora\", \"target_modules\": [\"q_proj\", \"v_proj\"], \"r\": 8, \"alpha\": 16}] — schema 1.0 lists the adapters of `base_model` there, and the expert runtime cannot load a manifest without them"
                            .to_owned(),
                    ),
                );
            }
        }
        SchemaVersion::V2 => {
            if let Some(node) = root.get_non_null("adapters") {
                sink.at(
                    Code::MisplacedAdapters,
                    "/adapters",
                    node,
                    "root `adapters` is ignored in schema 2.0".to_owned(),
                    Some("move the adapters into `base_models[].adapters`".to_owned()),
                );
            }
        }
    }
    let mut seen: Vec<(String, String, String)> = Vec::new(); // (name, slug, pointer)
    for (pointer, model) in &models {
        let Some(name_node) = model.get("name") else {
            continue;
        };
        let Some(name) = name_node.as_str() else {
            continue;
        };
        if name.trim().is_empty() {
            continue; // reported by the shape as empty
        }
        let slug = names::slug(name);
        if slug.is_empty() {
            sink.at(
                Code::Format,
                format!("{pointer}/name"),
                name_node,
                format!("base model name \"{name}\" has no usable last path component"),
                Some("use a hub id such as \"Qwen/Qwen3-0.6B\"".to_owned()),
            );
        }
        if let Some((_, _, other)) = seen.iter().find(|(n, _, _)| n == name) {
            sink.at(
                Code::DuplicateModel,
                format!("{pointer}/name"),
                name_node,
                format!("base model \"{name}\" is listed twice (also at `{other}`)"),
                Some("list each base model once, with all its adapters".to_owned()),
            );
        } else if let Some((n, _, other)) =
            seen.iter().find(|(_, s, _)| !slug.is_empty() && *s == slug)
        {
            sink.at(
                Code::SlugCollision,
                format!("{pointer}/name"),
                name_node,
                format!("base model \"{name}\" has the same slug `{slug}` as \"{n}\" (`{other}`)"),
                Some("select it with its full name, and pass --output when packaging".to_owned()),
            );
        }
        seen.push((name.to_owned(), slug, pointer.clone()));
        if is_machine_path(name) {
            sink.at(
                Code::NonPortableModel,
                format!("{pointer}/name"),
                name_node,
                format!("base model \"{name}\" is an absolute path on one machine"),
                Some(format!(
                    "use the hub id (e.g. \"Qwen/{}\") and give the local copy with `train --base-model PATH`",
                    names::base_name(name)
                )),
            );
        }
        prompt_template_family(sink, model, pointer, name);
        let adapters = adapter_nodes(root, model, pointer, version);
        for (apointer, adapter) in &adapters {
            rank_and_alpha(sink, adapter, apointer, "r");
        }
    }
    if let Some(config) = root.get("training").and_then(|t| t.get("config")) {
        if let Some(kind) = config.get("adapter_type").and_then(Node::as_str) {
            rank_and_alpha(sink, config, "/training/config", "rank");
            for (pointer, model) in &models {
                for (apointer, adapter) in adapter_nodes(root, model, pointer, version) {
                    if let Some(t) = adapter.get("type").and_then(Node::as_str) {
                        if !t.eq_ignore_ascii_case(kind) {
                            sink.at(
                                Code::AdapterTypeMismatch,
                                format!("{apointer}/type"),
                                adapter.get("type").unwrap_or(adapter),
                                format!("adapter type \"{t}\" differs from `training.config.adapter_type` \"{kind}\""),
                                Some("train and ship the same adapter family".to_owned()),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A family's chat template on another family's model (`chatml` on Qwen3): the adapter would
/// learn a text the model never sees at inference, where runtimes use the model's own template.
fn prompt_template_family(sink: &mut Sink<'_>, model: &Node, pointer: &str, name: &str) {
    let Some(node) = model.get("prompt_template") else {
        return;
    };
    let (Some(template), Some(own)) = (node.as_str(), names::template_for_model(name)) else {
        return;
    };
    let (Some(theirs), Some(family)) = (
        names::template_family(template),
        names::template_family(own),
    ) else {
        return;
    };
    if template != own {
        sink.at(
            Code::TemplateFamily,
            format!("{pointer}/prompt_template"),
            node,
            format!(
                "base model \"{name}\" is a {family} model, but its prompt_template \"{template}\" is the {theirs} chat template; the adapter would be trained on text the model does not see at inference"
            ),
            Some(format!("set \"prompt_template\": \"{own}\"")),
        );
    }
}

fn rank_and_alpha(sink: &mut Sink<'_>, node: &Node, pointer: &str, rank_key: &str) {
    let kind_key = if rank_key == "r" {
        "type"
    } else {
        "adapter_type"
    };
    let Some(kind) = node.get(kind_key).and_then(Node::as_str) else {
        return;
    };
    if !RANKED_ADAPTER_TYPES.contains(&kind.to_ascii_lowercase().as_str()) {
        return;
    }
    let missing: Vec<&str> = [rank_key, "alpha"]
        .into_iter()
        .filter(|k| node.get_non_null(k).is_none())
        .collect();
    if !missing.is_empty() {
        sink.at(
            Code::RankRequired,
            format!("{pointer}/{}", missing[0]),
            node,
            format!("adapter type \"{kind}\" needs {}", missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")),
            Some(format!("add e.g. \"{rank_key}\": 16, \"alpha\": 32 (or use type \"ia3\", which has no rank)")),
        );
    }
}

/// A Windows drive path or an absolute POSIX path: fine on the author's machine, nowhere else.
pub fn is_machine_path(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with('/')
        || name.starts_with('\\')
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'/' || b[2] == b'\\'))
}

/// Training sanity: a dataset source, safe local dataset paths. (An epoch count is a field
/// the runtime requires: the table says so, see `shape::CONFIG`.)
pub fn training(sink: &mut Sink<'_>, root: &Node) {
    let Some(training) = root.get_non_null("training") else {
        return;
    };
    let Some(dataset) = training
        .get_non_null("dataset")
        .filter(|d| d.as_object().is_some())
    else {
        return;
    };
    if ["path", "tasks", "generation"]
        .iter()
        .all(|k| dataset.get_non_null(k).is_none())
    {
        sink.at(
            Code::DatasetSource,
            "/training/dataset",
            dataset,
            "`training.dataset` has no `path`, `tasks` or `generation`".to_owned(),
            Some("add \"path\": \"datasets/train.jsonl\" (relative to the manifest)".to_owned()),
        );
    }
    let hub = dataset.get("format").and_then(Node::as_str) == Some("huggingface");
    if hub {
        return;
    }
    for key in ["path", "validation_path", "test_path"] {
        let Some(node) = dataset.get(key) else {
            continue;
        };
        let Some(path) = node.as_str() else { continue };
        if let Err(why) = check_relative_path(path) {
            sink.at(
                Code::UnsafePath,
                format!("/training/dataset/{key}"),
                node,
                format!("dataset path \"{path}\" {why}"),
                Some("use a path relative to the manifest, or set \"format\": \"huggingface\" for a hub dataset".to_owned()),
            );
        }
    }
}

/// An `integrity` section in an author's manifest is replaced by `package`.
pub fn integrity(sink: &mut Sink<'_>, root: &Node, role: Role) {
    if role == Role::Authored {
        if let Some(node) = root.get_non_null("integrity") {
            sink.at(
                Code::GeneratedIntegrity,
                "/integrity",
                node,
                "the manifest has an `integrity` section; `package` writes a new one".to_owned(),
                Some(
                    "remove it: packages carry the digests, signatures live in signature.sig"
                        .to_owned(),
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver() {
        for ok in [
            "0.0.1",
            "1.0.0-alpha",
            "2.0.0-beta.1",
            "1.2.3+build.5",
            "10.20.30",
        ] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in [
            "1.0",
            "01.0.0",
            "1.0.0-",
            "not-semver",
            "",
            "1.0.0-01",
            "v1.0.0",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn machine_paths() {
        assert!(is_machine_path("F:/Node/hivellm/expert/models/Qwen3-0.6B"));
        assert!(is_machine_path("/models/qwen"));
        assert!(!is_machine_path("Qwen/Qwen3-0.6B"));
    }
}
