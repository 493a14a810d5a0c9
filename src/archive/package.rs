//! The `package` operation (SPEC §5): one deterministic `.expert` for one base model, written
//! atomically with its `.sha256` sidecar — or, as a dry run, only the list of what would be
//! written. The CLI parses flags into [`PackageOptions`], calls [`package`] and renders the
//! [`PackageReport`]; everything in between happens here.
//!
//! What goes in ([`contents`]), all from regular files reached without a symbolic link:
//! - `manifest.json`: the author's text with `base_models` cut to the chosen model and an
//!   `integrity` section listing the SHA-256 of every other member ([`packaged_manifest`]);
//! - `adapter_model.safetensors` and `adapter_config.json` (required), from where
//!   [`adapter::locate`] finds them (the weights may have another `.safetensors` name);
//! - tokenizer and chat-template files of [`TOKENIZER_FILES`] found beside the adapter;
//! - `README.md`, `LICENSE*` and `grammar.gbnf` from the expert folder when present;
//! - the grammar file and soft-prompt files the manifest names (required to exist), under
//!   their relative paths;
//! - `tests/**` with `include_tests`; pickle files of the adapter folder (`*.bin`, `*.pt`,
//!   `*.pth`, `*.pkl`) only with `include_pickle`.
//!
//! Before anything is written the adapter is held against the manifest with the very checks
//! `validate DIR` makes ([`validate::check_adapter`]): `package` refuses what `validate` refuses.

use super::adapter::{self, AdapterError, AdapterLocation, Lookup, CONFIG_FILE, WEIGHTS_FILE};
use super::header::MANIFEST_NAME;
use super::member::{optional_file, regular_file, safe_join, sort_members, Member, MemberError};
use super::pack::{write_members, WriteMembersError, WrittenMember};
use super::sidecar::{check_sidecar_name, sidecar_path, write_sidecar, SidecarError};
use super::validate;
use super::write::{WriteOptions, DEFAULT_LEVEL, DEFAULT_MTIME};
use crate::fs::{check_output_free, write_atomically, AtomicError};
use crate::manifest::select::{self, SelectError};
use crate::manifest::{edit, BaseModel, Diagnostics, LoadError, Manifest, SchemaVersion, Severity};
use crate::progress::{NoProgress, Progress};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// How to package: the command line, resolved (the caller reads `SOURCE_DATE_EPOCH`).
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// `--model`: which base model (name, last path component or slug); `None` picks the only
    /// one.
    pub model: Option<String>,
    /// `--weights DIR`: the folder that holds the adapters.
    pub weights: Option<PathBuf>,
    /// `--output`; `None`: `<name>-<slug>.v<version>.expert` in the current folder.
    pub output: Option<PathBuf>,
    /// Replace an existing output.
    pub force: bool,
    /// Pack `tests/` recursively.
    pub include_tests: bool,
    /// Pack pickle files of the adapter folder.
    pub include_pickle: bool,
    /// Plan only: report the members, write nothing.
    pub list_contents: bool,
    /// Unix time of `integrity.created_at` and every member's mtime.
    pub created_at: u64,
    /// zlib level (1..=9) for text members.
    pub level: u32,
}

impl Default for PackageOptions {
    fn default() -> Self {
        PackageOptions {
            model: None,
            weights: None,
            output: None,
            force: false,
            include_tests: false,
            include_pickle: false,
            list_contents: false,
            created_at: DEFAULT_MTIME,
            level: DEFAULT_LEVEL,
        }
    }
}

/// What goes into one package, sorted as it will be written.
#[derive(Debug)]
pub struct PackageContents {
    /// The chosen base model.
    pub model: BaseModel,
    /// Where its adapter was found.
    pub adapter: AdapterLocation,
    /// Every member, `manifest.json` first, then byte order.
    pub members: Vec<Member>,
}

/// What [`package`] tells its caller while it works; the library never prints (STYLE.md §3),
/// so the CLI turns these into status lines and a progress bar.
pub trait PackageEvents {
    /// The manifest is read (`warnings` are its non-fatal diagnostics) and `model` chosen;
    /// finding and hashing the members starts.
    fn started(&mut self, _manifest: &Manifest, _warnings: &Diagnostics, _model: &BaseModel) {}
    /// The members are planned and agree with the manifest; writing starts unless this is a
    /// dry run.
    fn planned(&mut self, _contents: &PackageContents) {}
    /// Where the bytes written are reported.
    fn progress(&mut self) -> &mut dyn Progress;
}

impl PackageEvents for NoProgress {
    fn progress(&mut self) -> &mut dyn Progress {
        self
    }
}

/// The written package.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenPackage {
    /// The `.expert` file.
    #[serde(serialize_with = "display")]
    pub path: PathBuf,
    /// Its `.sha256` sidecar.
    #[serde(serialize_with = "display")]
    pub sidecar: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (lower-case hex).
    pub sha256: String,
}

/// What [`package`] did. Serialised, it is the `--format json` result of `package`.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// The file written; `None` for a dry run (`list_contents`).
    #[serde(flatten)]
    pub written: Option<WrittenPackage>,
    /// The expert's `name`.
    pub name: String,
    /// Its `version`.
    pub version: String,
    /// The chosen base model's name.
    pub base_model: String,
    /// Its slug.
    pub slug: String,
    /// The folder the adapter came from.
    #[serde(serialize_with = "display")]
    pub adapter_dir: PathBuf,
    /// The file packed as `adapter_model.safetensors`.
    #[serde(serialize_with = "display")]
    pub adapter_weights: PathBuf,
    /// The lookup rule that found it.
    pub adapter_found_by: Lookup,
    /// Every member in archive order.
    pub members: Vec<WrittenMember>,
}

fn display<P: AsRef<Path>, S: Serializer>(path: &P, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&path.as_ref().display())
}

/// Why a package was not written.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The manifest cannot be read or has errors.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// No single base model could be chosen.
    #[error("{error}")]
    Select {
        /// The manifest.
        manifest: PathBuf,
        /// Why.
        error: SelectError,
    },
    /// The output exists (without `force`), is a folder, or cannot be written.
    #[error(transparent)]
    Output(#[from] AtomicError),
    /// The output's file name cannot be written in its `.sha256` sidecar.
    #[error("`{}` cannot be named in its .sha256 sidecar: the file name contains a newline, carriage return or backslash", path.display().to_string().escape_debug())]
    SidecarName {
        /// The output.
        path: PathBuf,
    },
    /// The output's folder cannot be created.
    #[error("cannot create the folder `{}`: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The adapter cannot be found (or is reached through a link).
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The adapter does not match the manifest: what `validate DIR` reports as errors.
    #[error("the adapter in `{}` does not match `{}` ({} error{})", adapter.display(), manifest.display(), diagnostics.count(Severity::Error), if diagnostics.count(Severity::Error) == 1 { "" } else { "s" })]
    Disagrees {
        /// The manifest.
        manifest: PathBuf,
        /// The adapter's folder.
        adapter: PathBuf,
        /// The findings, placed in the manifest.
        diagnostics: Diagnostics,
    },
    /// A file the package needs is missing.
    #[error("{what} `{}` does not exist", path.display())]
    Missing {
        /// What it is.
        what: String,
        /// Where it should be.
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
    /// A path that is not valid UTF-8, so not a usable member name.
    #[error("`{}` cannot be a package member name", path.display())]
    BadName {
        /// The path.
        path: PathBuf,
    },
    /// A source is a link, not a regular file, unreadable, or changed while packaging.
    #[error(transparent)]
    Member(#[from] MemberError),
    /// Writing the archive failed.
    #[error(transparent)]
    Write(#[from] WriteMembersError),
    /// The package was written and renamed into place, but its sidecar was not.
    #[error("the package was written but its sidecar was not: {source}")]
    Sidecar {
        /// The cause.
        #[source]
        source: SidecarError,
    },
}

/// The folder a manifest lives in: the expert folder its relative paths start from.
pub fn expert_folder(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Packages the expert of `manifest_path` for one base model: loads and checks the manifest,
/// chooses the model, finds its adapter, refuses one that does not match the manifest, plans
/// the members, and (unless `opts.list_contents`) writes the package through a temporary file
/// and its sidecar. Nothing is written before every check has passed; on any error nothing is
/// left behind.
///
/// # Errors
/// [`PackageError`]: one variant per cause the user can act on.
pub fn package(
    manifest_path: &Path,
    opts: &PackageOptions,
    events: &mut dyn PackageEvents,
) -> Result<PackageReport, PackageError> {
    let (manifest, warnings) = crate::manifest::load(manifest_path)?;
    let model =
        select::select(&manifest, opts.model.as_deref()).map_err(|error| PackageError::Select {
            manifest: manifest_path.to_owned(),
            error,
        })?;
    let output = opts.output.clone().unwrap_or_else(|| {
        PathBuf::from(crate::names::package_file_name(
            &manifest.name,
            &model.name,
            &manifest.version,
        ))
    });
    if !opts.list_contents {
        match check_output_free(&output, opts.force) {
            Err(AtomicError::NoParent { .. }) => {} // created below, once everything holds
            other => other?,
        }
        check_sidecar_name(&output).map_err(|_| PackageError::SidecarName {
            path: output.clone(),
        })?;
    }
    events.started(&manifest, &warnings, model);
    let root = expert_folder(manifest_path);
    let planned = contents(&manifest, model, &root, opts)?;
    agree(manifest_path, &manifest, &planned)?;
    events.planned(&planned);

    let mut report = PackageReport {
        written: None,
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        base_model: model.name.clone(),
        slug: model.slug.clone(),
        adapter_dir: planned.adapter.dir.clone(),
        adapter_weights: planned.adapter.weights.clone(),
        adapter_found_by: planned.adapter.found_by,
        members: planned
            .members
            .iter()
            .map(|m| WrittenMember {
                path: m.path.clone(),
                size: m.size,
                sha256: m.sha256.clone(),
            })
            .collect(),
    };
    if opts.list_contents {
        return Ok(report);
    }

    if let Some(dir) = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir).map_err(|source| PackageError::CreateFolder {
            path: dir.to_owned(),
            source,
        })?;
    }
    let write = WriteOptions {
        mtime: opts.created_at,
        level: opts.level,
        ..WriteOptions::default()
    };
    let sidecar = sidecar_path(&output);
    let summary = write_atomically(&output, opts.force, 0o644, |file| {
        let summary = write_members(&planned.members, file, &write, events.progress())?;
        // An old sidecar would describe the old file: it goes before the new file appears.
        if opts.force {
            let _ = std::fs::remove_file(&sidecar);
        }
        Ok::<_, PackageError>(summary)
    })?;
    write_sidecar(&output, &summary.sha256).map_err(|source| PackageError::Sidecar { source })?;
    report.members = summary.members;
    report.written = Some(WrittenPackage {
        path: output,
        sidecar,
        size: summary.size,
        sha256: summary.sha256,
    });
    Ok(report)
}

/// Refuses, before anything is written, an adapter that `validate DIR` would refuse.
fn agree(
    manifest_path: &Path,
    manifest: &Manifest,
    planned: &PackageContents,
) -> Result<(), PackageError> {
    let weights = planned
        .members
        .iter()
        .find(|m| m.path == WEIGHTS_FILE)
        .map(|m| (m.size, m.sha256.as_str()))
        .expect("contents() always plans the adapter's weights");
    let diagnostics = validate::check_adapter(manifest, &planned.model, &planned.adapter, weights);
    if diagnostics.fails(false) {
        return Err(PackageError::Disagrees {
            manifest: manifest_path.to_owned(),
            adapter: planned.adapter.dir.clone(),
            diagnostics,
        });
    }
    Ok(())
}

/// What goes into the package of `model` from the expert folder `root` (the manifest's
/// folder): every member, hashed, sorted; the same list a dry run reports and a real run
/// writes.
///
/// # Errors
/// [`PackageError`] when the adapter or another required file is missing, a path is a link or
/// leaves the folder, or two files would share a member name.
pub fn contents(
    manifest: &Manifest,
    model: &BaseModel,
    root: &Path,
    opts: &PackageOptions,
) -> Result<PackageContents, PackageError> {
    let adapter = adapter::locate(manifest, model, root, opts.weights.as_deref())?;
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
    for (name, path) in [
        (WEIGHTS_FILE, adapter.weights.clone()),
        (CONFIG_FILE, adapter.config()),
    ] {
        regular_file(&path).map_err(|e| match e {
            MemberError::Read { path, .. } => PackageError::Missing {
                what: format!("adapter file {name}"),
                path,
            },
            other => other.into(),
        })?;
        add(name.to_owned(), path)?;
    }
    for name in TOKENIZER_FILES {
        if let Some(path) = optional_file(&adapter.dir.join(name))? {
            add((*name).to_owned(), path)?;
        }
    }
    if opts.include_pickle {
        for (name, path) in list_dir(&adapter.dir)? {
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
                return Err(MemberError::Symlink { path: tests }.into())
            }
            Ok(m) if m.is_dir() => walk(&tests, "tests", &mut add)?,
            Ok(_) => return Err(MemberError::NotRegularFile { path: tests }.into()),
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
    Ok(PackageContents {
        model: model.clone(),
        adapter,
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
            .expect("a 2.0 base model's pointer is /base_models/<index>");
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

/// The files and links directly in `dir` (name, path), sorted. Callers check with
/// [`regular_file`] whatever they pack, so a link that would be packed is refused loudly and a
/// stray link elsewhere in the folder does no harm.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let io = |source| MemberError::Read {
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
    let io = |source| MemberError::Read {
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
            return Err(MemberError::Symlink { path }.into());
        } else if ft.is_dir() {
            walk(&path, &member, add)?;
        } else if ft.is_file() {
            add(member, path)?;
        } else {
            return Err(MemberError::NotRegularFile { path }.into());
        }
    }
    Ok(())
}
