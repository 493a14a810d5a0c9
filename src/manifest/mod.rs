//! The expert manifest: schema 1.0 and 2.0 read into ONE model (a 1.0 manifest becomes a
//! one-entry `base_models`), the author's JSON kept byte for byte, and a validator that reports
//! every problem at once as [`Diagnostic`]s with JSON pointers and line:column.
//!
//! This module does not print and does not touch files other than the manifest it is asked to
//! load.

pub mod check;
pub mod diagnostic;
pub mod edit;
pub mod migrate;
pub mod rules;
pub mod schema;
pub mod select;
pub mod shape;
pub mod source;
mod work;

#[cfg(test)]
mod linear;

use std::path::{Path, PathBuf};

pub use diagnostic::{Code, Diagnostic, Diagnostics, Severity};
pub use rules::Role;
pub use source::{Node, Source, Value};

/// Largest manifest read, in bytes. Real ones are under 20 KiB.
pub const MAX_MANIFEST_SIZE: u64 = 16 * 1024 * 1024;

/// The schema a manifest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SchemaVersion {
    /// `base_model` and root `adapters`.
    #[serde(rename = "1.0")]
    V1,
    /// `base_models[]`, each with its adapters.
    #[serde(rename = "2.0")]
    V2,
}

impl SchemaVersion {
    /// `"1.0"` or `"2.0"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaVersion::V1 => "1.0",
            SchemaVersion::V2 => "2.0",
        }
    }
}

/// One adapter of a base model.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    /// Where it is in the manifest (`/base_models/0/adapters/0`, or `/adapters/0` for 1.0).
    pub pointer: String,
    /// `lora`, `dora`, `ia3`, `lokr` or `adalora`.
    pub kind: String,
    /// The author's `path`, relative to the manifest, if any.
    pub path: Option<String>,
    /// Expected size of `adapter_model.safetensors`, when known (non-zero).
    pub size_bytes: Option<u64>,
    /// Expected SHA-256 of `adapter_model.safetensors` (lower-case), when known (non-empty).
    pub sha256: Option<String>,
}

/// One base model with its adapters: the unit that `package` and `train` select.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseModel {
    /// Where it is in the manifest (`/base_models/1`, or `/base_model` for 1.0).
    pub pointer: String,
    /// The name as written (hub id or path).
    pub name: String,
    /// [`crate::names::slug`] of the name.
    pub slug: String,
    /// The prompt template named by the manifest, if any.
    pub prompt_template: Option<String>,
    /// Its adapters (for 1.0: the root `adapters`).
    pub adapters: Vec<Adapter>,
}

/// A validated manifest: the unified model plus the author's text.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The author's JSON, exactly as read.
    pub source: Source,
    /// The schema it is written in.
    pub schema: SchemaVersion,
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// Every base model, in manifest order (one for 1.0).
    pub base_models: Vec<BaseModel>,
}

impl Manifest {
    /// The manifest's root JSON value.
    pub fn root(&self) -> &Node {
        self.source.root()
    }
    /// Relative paths of soft prompt files, with their pointers.
    pub fn soft_prompt_paths(&self) -> Vec<(String, String)> {
        let list = self
            .root()
            .get_non_null("soft_prompts")
            .and_then(Node::as_array)
            .unwrap_or(&[]);
        list.iter()
            .enumerate()
            .filter_map(|(i, sp)| {
                sp.get("path")
                    .and_then(Node::as_str)
                    .map(|p| (format!("/soft_prompts/{i}/path"), p.to_owned()))
            })
            .collect()
    }
    /// The grammar file named by `training.decoding.grammar_file`, if any.
    pub fn grammar_file(&self) -> Option<String> {
        self.root()
            .pointer("/training/decoding/grammar_file")
            .and_then(Node::as_str)
            .map(str::to_owned)
    }
}

/// The result of checking one manifest text.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Everything found, sorted by position.
    pub diagnostics: Diagnostics,
    /// The manifest, when it has no errors.
    pub manifest: Option<Manifest>,
}

/// Parses and validates manifest bytes. Never fails: problems are diagnostics.
pub fn check_bytes(bytes: &[u8], role: Role) -> Checked {
    let source = match Source::parse(bytes) {
        Ok(s) => s,
        Err(failure) => {
            let (line, column, message, hint) = match failure {
                source::ParseFailure::NotUtf8 { line, column, .. } => (
                    line,
                    column,
                    "the file is not valid UTF-8".to_owned(),
                    "save the file as UTF-8",
                ),
                source::ParseFailure::Syntax {
                    error,
                    line,
                    column,
                } => (
                    line,
                    column,
                    format!("invalid JSON: {}", error.message),
                    "fix the JSON syntax at this position",
                ),
            };
            let d = Diagnostic {
                severity: Severity::Error,
                code: Code::Syntax,
                pointer: String::new(),
                line,
                column,
                message,
                hint: Some(hint.to_owned()),
            };
            return Checked {
                diagnostics: Diagnostics(vec![d]),
                manifest: None,
            };
        }
    };
    let mut sink = check::Sink::new(&source);
    let root = source.root();
    rules::duplicates(&mut sink, &source);
    if root.as_object().is_none() {
        sink.at(
            Code::NotObject,
            "",
            root,
            format!(
                "the manifest must be a JSON object, found {}",
                root.value.type_name()
            ),
            None,
        );
        let diagnostics = Diagnostics(sink.finish());
        return Checked {
            diagnostics,
            manifest: None,
        };
    }
    let version = rules::schema_version(&mut sink, root);
    check::check_object(&mut sink, root, &shape::MANIFEST, &check::Ptr::Root, true);
    rules::identity(&mut sink, root);
    if let Some(v) = version {
        rules::models(&mut sink, root, v);
    }
    rules::training(&mut sink, root);
    rules::integrity(&mut sink, root, role);
    let mut diagnostics = Diagnostics(sink.finish());
    diagnostics.sort();
    let manifest = match version {
        Some(v) if !diagnostics.fails(false) => Some(build(source, v)),
        _ => None,
    };
    Checked {
        diagnostics,
        manifest,
    }
}

fn build(source: Source, schema: SchemaVersion) -> Manifest {
    let root = source.root();
    let text = |n: &Node, k: &str| n.get(k).and_then(Node::as_str).map(str::to_owned);
    let base_models = rules::model_nodes(root, schema)
        .into_iter()
        .map(|(pointer, node)| {
            let adapters = rules::adapter_nodes(root, node, &pointer, schema)
                .into_iter()
                .map(|(pointer, a)| Adapter {
                    pointer,
                    kind: text(a, "type").unwrap_or_default().to_ascii_lowercase(),
                    path: text(a, "path"),
                    size_bytes: a
                        .get("size_bytes")
                        .and_then(Node::as_i64)
                        .filter(|&n| n > 0)
                        .map(|n| n as u64),
                    sha256: text(a, "sha256")
                        .filter(|s| !s.is_empty())
                        .map(|s| s.to_ascii_lowercase()),
                })
                .collect();
            let name = text(node, "name").unwrap_or_default();
            BaseModel {
                slug: crate::names::slug(&name),
                name,
                prompt_template: text(node, "prompt_template"),
                pointer,
                adapters,
            }
        })
        .collect();
    Manifest {
        schema,
        name: text(root, "name").unwrap_or_default(),
        version: text(root, "version").unwrap_or_default(),
        base_models,
        source,
    }
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The path is a symbolic link or not a regular file.
    #[error("`{path}` is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than [`MAX_MANIFEST_SIZE`].
    #[error(
        "`{path}` is {size} bytes, more than the {MAX_MANIFEST_SIZE}-byte limit for a manifest"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The manifest has errors.
    #[error("`{path}` is not a valid manifest ({} error{})", diagnostics.count(Severity::Error), if diagnostics.count(Severity::Error) == 1 { "" } else { "s" })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Everything found.
        diagnostics: Diagnostics,
    },
}

/// Reads a manifest file (bounded, no symlinks) and returns its bytes.
///
/// # Errors
/// [`LoadError::Io`], [`LoadError::NotAFile`] or [`LoadError::TooLarge`].
pub fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
        });
    }
    if meta.len() > MAX_MANIFEST_SIZE {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: meta.len(),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_MANIFEST_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_MANIFEST_SIZE {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Reads and validates an author's manifest; warnings come back with it.
///
/// # Errors
/// [`LoadError`] when it cannot be read or has errors.
pub fn load(path: &Path) -> Result<(Manifest, Diagnostics), LoadError> {
    let checked = check_bytes(&read(path)?, Role::Authored);
    match checked.manifest {
        Some(m) => Ok((m, checked.diagnostics)),
        None => Err(LoadError::Invalid {
            path: path.to_owned(),
            diagnostics: checked.diagnostics,
        }),
    }
}
