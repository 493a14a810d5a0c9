//! What goes into an `.expert` for one base model (SPEC §5): the plan that `package` writes
//! and `package --list-contents` prints, so a dry run cannot show something else.
//!
//! Members, all from regular files inside the expert folder (the manifest's folder; a symbolic
//! link anywhere on the way is refused):
//! - `manifest.json`: the author's text with `base_models` cut to the chosen model and an
//!   `integrity` section listing the SHA-256 of every other member;
//! - `adapter_model.safetensors` and `adapter_config.json` (required), from the adapter folder
//!   found by [`ADAPTER_LOOKUP`];
//! - tokenizer and chat-template files of [`TOKENIZER_FILES`] found in the adapter folder;
//! - `README.md`, `LICENSE*` and `grammar.gbnf` from the expert folder when present;
//! - the grammar file and soft-prompt files the manifest names (required to exist), under
//!   their relative paths;
//! - `tests/**` with `include_tests`; pickle files of the adapter folder (`*.bin`, `*.pt`,
//!   `*.pth`, `*.pkl`) only with `include_pickle`.

use super::member::{sort_members, Member, MemberError, MANIFEST_NAME};
use crate::manifest::{edit, BaseModel, Manifest, SchemaVersion};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the adapter files are looked for, in order (documented in docs/PACKAGING.md).
pub const ADAPTER_LOOKUP: &str =
    "--weights DIR; the adapter's `path`; <expert>/weights/<slug>/; <expert>/<slug>/; <expert>/";

/// Tokenizer and chat-template files packed when present beside the adapter.
pub const TOKENIZER_FILES: &[&str] = &[
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "generation_config.json",
];

const PICKLE_EXTENSIONS: &[&str] = &["bin", "pt", "pth", "pkl", "pickle"];

/// How to package.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// `--weights DIR`: the folder holding the adapter files.
    pub weights: Option<PathBuf>,
    /// Pack `tests/` recursively.
    pub include_tests: bool,
    /// Pack pickle files of the adapter folder.
    pub include_pickle: bool,
    /// Unix time written as `integrity.created_at` (the members' mtime).
    pub created_at: u64,
}

/// The members of one package, sorted as they will be written.
#[derive(Debug)]
pub struct PackagePlan {
    /// The chosen base model.
    pub model: BaseModel,
    /// Where the adapter files were found.
    pub adapter_dir: PathBuf,
    /// Every member, `manifest.json` first, then byte order.
    pub members: Vec<Member>,
}

/// Why a package cannot be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// No folder holds the adapter.
    #[error("no adapter_model.safetensors found for base model `{model}`; tried: {}", tried.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    NoAdapter {
        /// The model's name.
        model: String,
        /// Every place looked at.
        tried: Vec<PathBuf>,
    },
    /// A file the package needs is missing.
    #[error("{what} `{}` does not exist", path.display())]
    Missing {
        /// What it is.
        what: String,
        /// Where it should be.
        path: PathBuf,
    },
    /// A symbolic link on the way to a member.
    #[error("`{}` is a symbolic link; packages hold regular files only", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something that is neither a file nor a folder.
    #[error("`{}` is not a regular file", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// Two different files would get one name in the package.
    #[error("two files would both be packed as `{name}`: `{}` and `{}`", first.display(), second.display())]
    Duplicate {
        /// The member name.
        name: String,
        /// The first source.
        first: PathBuf,
        /// The second source.
        second: PathBuf,
    },
    /// The chosen model has adapters in different folders.
    #[error("base model `{model}` has {count} adapters in different folders; a package holds one adapter")]
    SeveralAdapters {
        /// The model's name.
        model: String,
        /// How many.
        count: usize,
    },
    /// A path that is not valid UTF-8 or not a usable member name.
    #[error("`{}` cannot be a package member name", path.display())]
    BadName {
        /// The path.
        path: PathBuf,
    },
    /// Reading a file failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Hashing a member failed.
    #[error(transparent)]
    Member(#[from] MemberError),
}

/// Plans the package of `model` from the expert folder `root` (the manifest's folder).
///
/// # Errors
/// [`PackageError`] when a required file is missing, a path is a link or leaves the folder,
/// or two files would share a member name.
pub fn plan(
    manifest: &Manifest,
    model: &BaseModel,
    root: &Path,
    opts: &PackageOptions,
) -> Result<PackagePlan, PackageError> {
    let adapter_dir = find_adapter(model, root, opts.weights.as_deref())?;
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut add = |name: String, path: PathBuf| -> Result<(), PackageError> {
        match files.get(&name) {
            Some(first) if *first == path => Ok(()),
            Some(first) => Err(PackageError::Duplicate {
                name,
                first: first.clone(),
                second: path,
            }),
            None => {
                files.insert(name, path);
                Ok(())
            }
        }
    };
    for required in ["adapter_model.safetensors", "adapter_config.json"] {
        let path = adapter_dir.join(required);
        regular_file(&path).map_err(|e| match e {
            PackageError::Io { path, .. } => PackageError::Missing {
                what: format!("adapter file {required}"),
                path,
            },
            other => other,
        })?;
        add(required.to_owned(), path)?;
    }
    for name in TOKENIZER_FILES {
        if let Some(path) = optional_file(&adapter_dir.join(name))? {
            add((*name).to_owned(), path)?;
        }
    }
    if opts.include_pickle {
        for (name, path) in list_dir(&adapter_dir)? {
            let ext = Path::new(&name)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("");
            if PICKLE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
                regular_file(&path)?;
                add(name, path)?;
            }
        }
    }
    for (name, path) in list_dir(root)? {
        let upper = name.to_ascii_uppercase();
        if name == "README.md"
            || upper == "LICENSE"
            || upper.starts_with("LICENSE.")
            || name == "grammar.gbnf"
        {
            regular_file(&path)?;
            add(name, path)?;
        }
    }
    let mut named: Vec<(String, String)> = manifest
        .soft_prompt_paths()
        .into_iter()
        .map(|(_, p)| ("soft prompt".to_owned(), p))
        .collect();
    if let Some(g) = manifest.grammar_file() {
        named.push(("grammar file".to_owned(), g));
    }
    for (what, rel) in named {
        let rel = rel.trim_start_matches("./").to_owned();
        let path = safe_join(root, &rel)?;
        match optional_file(&path)? {
            Some(p) => add(rel, p)?,
            None => {
                return Err(PackageError::Missing {
                    what: format!("{what} named by the manifest"),
                    path,
                })
            }
        }
    }
    if opts.include_tests {
        let tests = root.join("tests");
        match std::fs::symlink_metadata(&tests) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PackageError::Symlink { path: tests })
            }
            Ok(m) if m.is_dir() => walk(&tests, "tests", &mut add)?,
            Ok(_) => return Err(PackageError::NotRegular { path: tests }),
            Err(_) => {
                return Err(PackageError::Missing {
                    what: "folder".to_owned(),
                    path: tests,
                })
            }
        }
    }
    let mut members = Vec::with_capacity(files.len() + 1);
    for (name, path) in files {
        members.push(Member::from_file(name, path)?);
    }
    let text = packaged_manifest(manifest, model, &members, opts.created_at);
    members.push(Member::from_bytes(MANIFEST_NAME, text.into_bytes()));
    sort_members(&mut members);
    Ok(PackagePlan {
        model: model.clone(),
        adapter_dir,
        members,
    })
}

/// The packaged manifest: the author's text, `base_models` cut to `model` (2.0), and a fresh
/// `integrity` section with the SHA-256 of every member in `members` (upstream's field names,
/// so upstream's loader still parses it; signatures live in `signature.sig`, not here).
pub fn packaged_manifest(
    manifest: &Manifest,
    model: &BaseModel,
    members: &[Member],
    created_at: u64,
) -> String {
    let source = &manifest.source;
    let root = source.root();
    let mut edits = Vec::new();
    if manifest.schema == SchemaVersion::V2 {
        let index = model
            .pointer
            .rsplit('/')
            .next()
            .and_then(|i| i.parse::<usize>().ok())
            .unwrap_or(0);
        if let Some(e) = root
            .get("base_models")
            .and_then(|arr| edit::keep_one(source, arr, index))
        {
            edits.push(e);
        }
    }
    let files: serde_json::Map<String, serde_json::Value> = members
        .iter()
        .filter(|m| m.path != MANIFEST_NAME)
        .map(|m| (m.path.clone(), serde_json::Value::String(m.sha256.clone())))
        .collect();
    let publisher = root
        .get("author")
        .and_then(|n| n.as_str())
        .unwrap_or(&manifest.name);
    let integrity = serde_json::json!({
        "created_at": crate::clock::rfc3339_utc(created_at),
        "publisher": publisher,
        "signature_algorithm": "none",
        "files": files,
    });
    let indent = match root.as_object().and_then(|m| m.last()) {
        Some(last) => source.indent_at(last.key_span.start).to_owned(),
        None => source.indent_unit(),
    };
    let rendered = edit::render(&integrity, source, &indent);
    edits.push(edit::set_member(source, root, "integrity", &rendered));
    source.splice(&mut edits)
}

/// The folder holding `adapter_model.safetensors` for `model`, looked up as [`ADAPTER_LOOKUP`]
/// says.
///
/// # Errors
/// [`PackageError::NoAdapter`] naming every place tried, or a link or read error.
pub fn find_adapter(
    model: &BaseModel,
    root: &Path,
    weights: Option<&Path>,
) -> Result<PathBuf, PackageError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(w) = weights {
        candidates.push(w.to_owned());
    } else {
        let paths: Vec<&String> = model
            .adapters
            .iter()
            .filter_map(|a| a.path.as_ref())
            .collect();
        if let Some(first) = paths.first() {
            if paths.iter().any(|p| p != first) {
                return Err(PackageError::SeveralAdapters {
                    model: model.name.clone(),
                    count: paths.len(),
                });
            }
            let p = safe_join(root, first.trim_start_matches("./"))?;
            // a path may name the weights file itself
            let dir = if p.extension().is_some_and(|e| e == "safetensors") {
                p.parent().unwrap_or(root).to_owned()
            } else {
                p
            };
            candidates.push(dir);
        }
        for dir in [
            root.join("weights").join(&model.slug),
            root.join(&model.slug),
            root.to_owned(),
        ] {
            if !candidates.contains(&dir) {
                candidates.push(dir);
            }
        }
    }
    for dir in &candidates {
        let file = dir.join("adapter_model.safetensors");
        if optional_file(&file)?.is_some() {
            no_links_between(root, dir)?;
            return Ok(dir.clone());
        }
    }
    Err(PackageError::NoAdapter {
        model: model.name.clone(),
        tried: candidates,
    })
}

/// `root/rel`, refusing any component that is a symbolic link.
fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, PackageError> {
    let mut path = root.to_owned();
    for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
        path.push(part);
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            if m.file_type().is_symlink() {
                return Err(PackageError::Symlink { path });
            }
        }
    }
    Ok(path)
}

/// Refuses a link in any component of `dir` below `root` (for `--weights` outside the root,
/// only `dir` itself is checked).
fn no_links_between(root: &Path, dir: &Path) -> Result<(), PackageError> {
    if let Ok(rel) = dir.strip_prefix(root) {
        if let Some(s) = rel.to_str() {
            safe_join(root, s)?;
        }
    }
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(PackageError::Symlink {
            path: dir.to_owned(),
        });
    }
    Ok(())
}

fn regular_file(path: &Path) -> Result<(), PackageError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(PackageError::Symlink {
            path: path.to_owned(),
        }),
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(PackageError::NotRegular {
            path: path.to_owned(),
        }),
        Err(source) => Err(PackageError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn optional_file(path: &Path) -> Result<Option<PathBuf>, PackageError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(PackageError::Symlink {
            path: path.to_owned(),
        }),
        Ok(m) if m.is_file() => Ok(Some(path.to_owned())),
        Ok(m) if m.is_dir() => Ok(None),
        Ok(_) => Err(PackageError::NotRegular {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PackageError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The files and links directly in `dir` (name, path), sorted. Callers check with
/// [`regular_file`] whatever they pack, so a link that would be packed is refused loudly and a
/// stray link elsewhere in the folder does no harm.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let io = |source| PackageError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let ft = entry.file_type().map_err(io)?;
        if ft.is_file() || ft.is_symlink() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    add: &mut dyn FnMut(String, PathBuf) -> Result<(), PackageError>,
) -> Result<(), PackageError> {
    let io = |source| PackageError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e
            .file_name()
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| PackageError::BadName { path: path.clone() })?;
        let ft = e.file_type().map_err(io)?;
        let member = format!("{prefix}/{name}");
        if ft.is_symlink() {
            return Err(PackageError::Symlink { path });
        } else if ft.is_dir() {
            walk(&path, &member, add)?;
        } else if ft.is_file() {
            add(member, path)?;
        } else {
            return Err(PackageError::NotRegular { path });
        }
    }
    Ok(())
}
