//! `migrate`: rewrites a schema 1.0 manifest as 2.0 without losing anything the author wrote.
//!
//! `base_model` becomes the single entry of `base_models`, the root `adapters` move into it,
//! and `schema_version` becomes "2.0". Every other byte — unknown keys, `_` comments, key order,
//! line endings — is kept, because the change is a splice into the original text.
//!
//! Any manifest that is JSON with a `base_model` object migrates, whatever else `validate`
//! says about it (issue #11.6: the runtime loads manifests that we flag, such as placeholder
//! `sha256` values); what it says comes back with the result.

use super::edit::{reindent, remove_member};
use super::source::{Source, Span};
use super::{check_bytes, Diagnostics, Role, SchemaVersion};

/// Why a manifest cannot be migrated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MigrateError {
    /// It is already schema 2.0.
    #[error("the manifest is already schema 2.0")]
    AlreadyV2,
    /// It has no `base_model` object.
    #[error("the manifest has no `base_model` object to migrate")]
    NoBaseModel,
    /// The bytes are not a JSON document (the diagnostic says where).
    #[error("the manifest is not valid JSON")]
    NotJson(Diagnostics),
}

/// A manifest migrated to 2.0.
#[derive(Debug, Clone)]
pub struct Migrated {
    /// The 2.0 text.
    pub text: String,
    /// What `validate` says about the 2.0 text (lines and columns are in it).
    pub diagnostics: Diagnostics,
}

/// Migrates the manifest `bytes` to schema 2.0.
///
/// # Errors
/// [`MigrateError::NotJson`] when the bytes are not JSON (nothing to splice into),
/// [`MigrateError::AlreadyV2`] for a 2.0 manifest, [`MigrateError::NoBaseModel`] when there is
/// no `base_model` object. Anything else `validate` finds is returned with the result.
pub fn migrate(bytes: &[u8]) -> Result<Migrated, MigrateError> {
    let source = match Source::parse(bytes) {
        Ok(s) => s,
        Err(_) => {
            let checked = check_bytes(bytes, Role::Authored);
            return Err(MigrateError::NotJson(checked.diagnostics));
        }
    };
    let root = source.root();
    let declared_v2 = matches!(
        root.get("schema_version").and_then(super::Node::as_str),
        Some("2.0" | "2")
    );
    if root.get_non_null("base_models").is_some()
        || (declared_v2 && root.get_non_null("base_model").is_none())
    {
        return Err(MigrateError::AlreadyV2);
    }
    let text = to_v2(&source, SchemaVersion::V1)?;
    let checked = check_bytes(text.as_bytes(), Role::Authored);
    Ok(Migrated {
        text,
        diagnostics: checked.diagnostics,
    })
}

/// The 2.0 text of a 1.0 manifest.
///
/// # Errors
/// [`MigrateError`] when the manifest is not a 1.0 manifest with a `base_model` object.
pub fn to_v2(source: &Source, schema: SchemaVersion) -> Result<String, MigrateError> {
    if schema == SchemaVersion::V2 {
        return Err(MigrateError::AlreadyV2);
    }
    let root = source.root();
    let member = root.member("base_model").ok_or(MigrateError::NoBaseModel)?;
    let model = &member.value;
    if model.as_object().is_none() {
        return Err(MigrateError::NoBaseModel);
    }
    let text = source.text();
    let nl = source.newline();
    let unit = source.indent_unit();
    let key_indent = source.indent_at(member.key_span.start).to_owned();

    // The model object, one level deeper, with the root adapters appended inside it.
    let mut model_text = text[model.span.start..model.span.end].to_owned();
    if let Some(adapters) = root.get("adapters") {
        let adapters_text = reindent(&text[adapters.span.start..adapters.span.end], &unit);
        let sub = Source::parse(model_text.as_bytes()).map_err(|_| MigrateError::NoBaseModel)?;
        let mut edit = [super::edit::set_member(
            &sub,
            sub.root(),
            "adapters",
            &adapters_text,
        )];
        model_text = sub.splice(&mut edit);
    }
    let element = format!("{key_indent}{unit}{}", reindent(&model_text, &unit));
    let replacement = format!("\"base_models\": [{nl}{element}{nl}{key_indent}]");

    let mut edits: Vec<(Span, String)> = vec![(
        Span {
            start: member.key_span.start,
            end: model.span.end,
        },
        replacement,
    )];
    if let Some(e) = remove_member(root, "adapters") {
        edits.push(e);
    }
    match root.get("schema_version") {
        Some(v) => edits.push((v.span, "\"2.0\"".to_owned())),
        None => {
            // right after `version` when there is one, else first
            let members = root.as_object().unwrap_or(&[]);
            let (at, indent) = match members.iter().find(|m| m.key == "version") {
                Some(v) => (
                    v.value.span.end,
                    source.indent_at(v.key_span.start).to_owned(),
                ),
                None => (root.span.start + 1, format!("{nl}{unit}")),
            };
            let insert = if members.iter().any(|m| m.key == "version") {
                format!(",{nl}{indent}\"schema_version\": \"2.0\"")
            } else {
                format!("{indent}\"schema_version\": \"2.0\",")
            };
            edits.push((Span { start: at, end: at }, insert));
        }
    }
    Ok(source.splice(&mut edits))
}
