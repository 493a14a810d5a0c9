//! Validation of what a manifest describes: a `.expert` package (read once, hardened) or an
//! expert folder; `expert-cli validate`, and the check `sign` makes before signing. Findings are [`Diagnostic`]s like the manifest's own, placed on the manifest
//! line they concern where there is one.
//!
//! Checked: the adapter files every adapter type needs (`adapter_model.safetensors`,
//! `adapter_config.json`), the sizes and digests the manifest gives for the adapter, the files
//! the manifest names (grammar, soft prompts), and for packages the `integrity` section against
//! the members actually present, and the archive's form: [`validate_package`] reads in
//! canonical mode (for `sign`, which refuses anything our writer did not produce);
//! [`validate_package_in`] with [`ReadMode::Lenient`] (for `validate`) reads well-formed tar from
//! other tools and reports a package that is not canonical as an `E0705` error.

use super::adapter::{self, AdapterError, AdapterLocation, CONFIG_FILE};
use super::read::{
    read_members_keeping_in, Limits, MemberInfo, NonCanonical, ReadError, ReadErrorKind, ReadMode,
};
use super::{MANIFEST_NAME, SIGNATURE_MEMBER};
use crate::manifest::check::Sink;
use crate::manifest::{
    check_bytes, Checked, Code, Diagnostic, Diagnostics, Manifest, Role, Severity,
};
use crate::names::display_name;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::open_package;

/// What validating a package found.
#[derive(Debug)]
pub struct PackageValidation {
    /// Findings about the packaged manifest and the members.
    pub diagnostics: Diagnostics,
    /// The packaged manifest, when it is valid.
    pub manifest: Option<Manifest>,
    /// Every member, in archive order (empty when the archive was refused).
    pub members: Vec<MemberInfo>,
    /// The bytes of `signature.sig`, when the package has one.
    pub signature: Option<Vec<u8>>,
    /// False when the archive itself was refused (corrupt, truncated, hostile, not canonical in
    /// canonical mode).
    pub readable: bool,
    /// Why the package was refused as a package, when it was: the reader's [`ReadErrorKind`],
    /// or [`ReadErrorKind::NotAPackage`] for an archive without `manifest.json`. `None` when the
    /// archive was read (its content may still have errors: see `diagnostics`).
    pub refused: Option<ReadErrorKind>,
    /// The archive's member mtime ([`Listing::mtime`](super::Listing::mtime)), when it was read.
    pub mtime: Option<u64>,
}

fn top(code: Code, message: String, hint: Option<&str>) -> Diagnostic {
    Diagnostic {
        severity: code.severity(),
        code,
        pointer: String::new(),
        line: 1,
        column: 1,
        message,
        hint: hint.map(str::to_owned),
    }
}

/// Reads a package once in canonical mode (keeping `manifest.json` and `signature.sig`) and
/// checks it: what `sign` uses. A package our writer did not produce is refused
/// (`readable: false`, an `E0705` diagnostic naming the member and the field).
pub fn validate_package<R: Read>(input: R, limits: &Limits) -> PackageValidation {
    validate_package_in(ReadMode::Canonical, input, limits)
}

/// Reads a package once in `mode` (keeping `manifest.json` and `signature.sig`) and checks it.
/// In [`ReadMode::Lenient`] (what `validate` uses), a well-formed package that differs from
/// what our writer produces is read and checked like any other, and the first difference is
/// reported as an `E0705` error.
pub fn validate_package_in<R: Read>(
    mode: ReadMode,
    input: R,
    limits: &Limits,
) -> PackageValidation {
    let keep = |p: &str| p == MANIFEST_NAME || p == SIGNATURE_MEMBER;
    let mut listing = match read_members_keeping_in(mode, input, limits, &keep) {
        Ok(s) => s,
        Err(e) => {
            let code = match e.kind() {
                ReadErrorKind::NonCanonical => Code::NonCanonicalPackage,
                ReadErrorKind::NotAPackage
                | ReadErrorKind::Unsafe
                | ReadErrorKind::Corrupt
                | ReadErrorKind::OverLimits
                | ReadErrorKind::Io => Code::UnreadablePackage,
            };
            // A difference from the canonical form says itself what it is.
            let message = match &e {
                ReadError::NonCanonical(_) => e.to_string(),
                _ => format!("the package is refused: {e}"),
            };
            let d = top(code, message, Some(read_hint(&e)));
            return PackageValidation {
                diagnostics: Diagnostics(vec![d]),
                manifest: None,
                members: Vec::new(),
                signature: None,
                readable: false,
                refused: Some(e.kind()),
                mtime: None,
            };
        }
    };
    let form = listing.non_canonical.take().map(|nc| non_canonical(&nc));
    let signature = listing.kept.remove(SIGNATURE_MEMBER);
    let Some(bytes) = listing.kept.get(MANIFEST_NAME) else {
        let d = top(
            Code::PackageMember,
            "the package has no manifest.json, so it is not an .expert package".to_owned(),
            Some("package it with `expert-cli package`"),
        );
        return PackageValidation {
            diagnostics: Diagnostics(form.into_iter().chain([d]).collect()),
            manifest: None,
            members: listing.members,
            signature,
            readable: true,
            refused: Some(ReadErrorKind::NotAPackage),
            mtime: listing.mtime,
        };
    };
    let Checked {
        mut diagnostics,
        manifest,
    } = check_bytes(bytes, Role::Packaged);
    if let Some(m) = &manifest {
        let mut sink = Sink::new(&m.source);
        let actual: BTreeMap<&str, &MemberInfo> = listing
            .members
            .iter()
            .map(|mi| (mi.path.as_str(), mi))
            .collect();
        if m.base_models.len() > 1 {
            sink.at(
                Code::PackageMember,
                "/base_models",
                m.root().get("base_models").unwrap_or(m.root()),
                format!(
                    "the packaged manifest lists {} base models; a package is for one",
                    m.base_models.len()
                ),
                Some("package it with `expert-cli package --model …`".to_owned()),
            );
        }
        for name in ["adapter_model.safetensors", "adapter_config.json"] {
            if !actual.contains_key(name) {
                sink.at(
                    Code::PackageMember,
                    "",
                    m.root(),
                    format!("the package has no {name}"),
                    Some("every adapter type needs it; package it again".to_owned()),
                );
            }
        }
        if let Some(model) = m.base_models.first() {
            check_adapter_facts(
                &mut sink,
                m,
                model,
                actual
                    .get("adapter_model.safetensors")
                    .map(|mi| (mi.size, mi.sha256.as_str())),
            );
        }
        check_named_files(&mut sink, m, |rel| {
            (!actual.contains_key(rel)).then(|| {
                format!(
                    "`{}` is named by the manifest but not in the package",
                    display_name(rel)
                )
            })
        });
        check_integrity(&mut sink, m, &listing.members);
        diagnostics.0.extend(sink.found);
    }
    diagnostics.0.extend(form);
    diagnostics.sort();
    let manifest = manifest.filter(|_| !diagnostics.fails(false));
    PackageValidation {
        diagnostics,
        manifest,
        members: listing.members,
        signature,
        readable: true,
        refused: None,
        mtime: listing.mtime,
    }
}

/// The `E0705` error of a lenient read that found a difference from the canonical form.
fn non_canonical(found: &NonCanonical) -> Diagnostic {
    top(
        Code::NonCanonicalPackage,
        format!("the package is not in the form `expert-cli package` writes: {found}"),
        Some(NON_CANONICAL_HINT),
    )
}

const NON_CANONICAL_HINT: &str = "`verify` and `sign` accept only packages `expert-cli package` wrote, so that every unpacker sees the same files; a package built by another tool must be re-packed with `expert-cli package` (if it came from `expert-cli`, it was changed afterwards)";

fn read_hint(e: &ReadError) -> &'static str {
    match (e, e.kind()) {
        (ReadError::Truncated(_), _) => "the file is incomplete: download or copy it again",
        (_, ReadErrorKind::NotAPackage) => {
            "pass an .expert package made by `expert-cli package` (a manifest or folder is checked with `expert-cli validate`)"
        }
        (_, ReadErrorKind::NonCanonical) => NON_CANONICAL_HINT,
        (
            _,
            ReadErrorKind::Unsafe
            | ReadErrorKind::Corrupt
            | ReadErrorKind::OverLimits
            | ReadErrorKind::Io,
        ) => "do not install it; ask its publisher for a package made by `expert-cli package`",
    }
}

/// The files a manifest names (soft prompts, the grammar file) must be there, in a package or
/// in the expert folder: `missing(path)` says why one is not, `None` when it is. Each finding
/// is placed on the manifest line that names the file.
fn check_named_files(sink: &mut Sink<'_>, m: &Manifest, missing: impl Fn(&str) -> Option<String>) {
    for (pointer, rel) in named_files(m) {
        if let Some(message) = missing(&rel) {
            let node = m.root().pointer(&pointer).unwrap_or(m.root());
            sink.at(Code::PackageMember, &pointer, node, message, None);
        }
    }
}

/// `(JSON pointer, relative path)` of every file the manifest names.
fn named_files(m: &Manifest) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = m
        .soft_prompt_paths()
        .into_iter()
        .map(|(p, rel)| (p, rel.trim_start_matches("./").to_owned()))
        .collect();
    if let Some(g) = m.grammar_file() {
        v.push((
            "/training/decoding/grammar_file".to_owned(),
            g.trim_start_matches("./").to_owned(),
        ));
    }
    v
}

/// The adapter's `size_bytes` and `sha256` (when given) against the real file.
fn check_adapter_facts(
    sink: &mut Sink<'_>,
    m: &Manifest,
    model: &crate::manifest::BaseModel,
    actual: Option<(u64, &str)>,
) {
    let Some((size, sha)) = actual else { return };
    for a in &model.adapters {
        let mut mismatch = |field: &str, message: String, hint: String| {
            let pointer = format!("{}/{field}", a.pointer);
            let node = m.root().pointer(&pointer).unwrap_or(m.root());
            sink.at(Code::PackageDigest, &pointer, node, message, Some(hint));
        };
        if let Some(want) = a.size_bytes.filter(|&w| w != size) {
            mismatch(
                "size_bytes",
                format!("adapter_model.safetensors is {size} bytes, the manifest says {want}"),
                format!("set size_bytes to {size}, or 0 when unknown"),
            );
        }
        if let Some(want) = a.sha256.as_ref().filter(|w| !w.eq_ignore_ascii_case(sha)) {
            mismatch(
                "sha256",
                format!("adapter_model.safetensors has SHA-256 {sha}, the manifest says {want}"),
                "set sha256 to the file's digest, or \"\" when unknown".to_owned(),
            );
        }
    }
}

/// `integrity.files` must list every member but `manifest.json` and `signature.sig`, with
/// the right digest.
fn check_integrity(sink: &mut Sink<'_>, m: &Manifest, members: &[MemberInfo]) {
    let root = m.root();
    let Some(integrity) = root.get_non_null("integrity") else {
        sink.at(
            Code::NoIntegrity,
            "/integrity",
            root,
            "the packaged manifest has no `integrity` section (made by another tool?)".to_owned(),
            Some("package it again with `expert-cli package` to record member digests".to_owned()),
        );
        return;
    };
    let Some(files) = integrity.get("files").filter(|f| f.as_object().is_some()) else {
        sink.at(
            Code::PackageIntegrity,
            "/integrity/files",
            integrity,
            "`integrity.files` is missing".to_owned(),
            None,
        );
        return;
    };
    for mi in members {
        if mi.path == MANIFEST_NAME || mi.path == SIGNATURE_MEMBER {
            continue;
        }
        let pointer = format!(
            "/integrity/files/{}",
            crate::manifest::source::escape_token(&mi.path)
        );
        match files.get(&mi.path).and_then(|n| n.as_str()) {
            None => sink.at(
                Code::PackageIntegrity,
                &pointer,
                files,
                format!(
                    "member `{}` is not listed in `integrity.files`",
                    display_name(&mi.path)
                ),
                None,
            ),
            Some(want) if !want.eq_ignore_ascii_case(&mi.sha256) => sink.at(
                Code::PackageIntegrity,
                &pointer,
                files.get(&mi.path).unwrap_or(files),
                format!(
                    "member `{}` has SHA-256 {}, `integrity.files` says {want}",
                    display_name(&mi.path),
                    mi.sha256
                ),
                Some("the package was altered after packaging".to_owned()),
            ),
            Some(_) => {}
        }
    }
    for member in files.as_object().unwrap_or(&[]) {
        if !members.iter().any(|mi| mi.path == member.key) {
            let pointer = format!(
                "/integrity/files/{}",
                crate::manifest::source::escape_token(&member.key)
            );
            sink.push(
                Code::PackageIntegrity,
                &pointer,
                member.key_span.start,
                format!(
                    "`integrity.files` lists `{}`, which is not in the package",
                    display_name(&member.key)
                ),
                Some("the package was altered after packaging".to_owned()),
            );
        }
    }
}

/// Checks an expert folder: its manifest, and for each base model the adapter found by
/// [`adapter::locate`] (the lookup `package` uses without `--weights`), with
/// [`check_adapter`]; a model without an adapter gets a warning; files the manifest names.
pub fn validate_folder(manifest_path: &Path) -> (Checked, Option<&'static str>) {
    let bytes = match crate::manifest::read(manifest_path) {
        Ok(b) => b,
        Err(e) => {
            let d = top(Code::Syntax, e.to_string(), None);
            return (
                Checked {
                    diagnostics: Diagnostics(vec![d]),
                    manifest: None,
                },
                None,
            );
        }
    };
    let mut checked = check_bytes(&bytes, Role::Authored);
    let Some(m) = &checked.manifest else {
        return (checked, None);
    };
    let schema = Some(m.schema.as_str());
    let root = super::package::expert_folder(manifest_path);
    let mut sink = Sink::new(&m.source);
    for model in &m.base_models {
        let problem = match adapter::locate(m, model, &root, None) {
            Ok(found) => match super::hash_file(&found.weights) {
                Ok((sha, size)) => {
                    sink.found
                        .extend(check_adapter(m, model, &found, (size, &sha)).0);
                    None
                }
                Err(e) => Some((Code::PackageMember, e.to_string(), None)),
            },
            Err(e @ AdapterError::NotFound { .. }) => Some((
                Code::NoAdapter,
                e.to_string(),
                Some(format!(
                    "train it with `expert-cli train --model {0}`, or put it in `weights/{0}/` (docs/PACKAGING.md lists where `package` looks)",
                    model.slug
                )),
            )),
            Err(e @ (AdapterError::Member(_) | AdapterError::SeveralPaths { .. })) => {
                Some((Code::PackageMember, e.to_string(), None))
            }
        };
        if let Some((code, message, hint)) = problem {
            let node = m.root().pointer(&model.pointer).unwrap_or(m.root());
            sink.at(code, &model.pointer, node, message, hint);
        }
    }
    check_named_files(&mut sink, m, |rel| {
        let p = root.join(rel);
        let regular = std::fs::symlink_metadata(&p).is_ok_and(|md| md.is_file());
        (!regular).then(|| {
            format!(
                "`{}` is named by the manifest but is not a regular file",
                p.display()
            )
        })
    });
    checked.diagnostics.0.extend(sink.found);
    checked.diagnostics.sort();
    if checked
        .diagnostics
        .0
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        checked.manifest = None;
    }
    (checked, schema)
}

/// What `validate DIR` and `package` both hold against the manifest for `model`'s adapter at
/// `found`, whose weights file has `weights` = (size, SHA-256): `adapter_config.json` is there
/// (`E0701`) and says what the manifest's adapter says (`E0704`, see [`adapter::compare`]), and
/// the weights match the adapter's `size_bytes` and `sha256` (`E0702`). One function, so the
/// two commands cannot disagree (SPEC §0).
pub fn check_adapter(
    m: &Manifest,
    model: &crate::manifest::BaseModel,
    found: &AdapterLocation,
    weights: (u64, &str),
) -> Diagnostics {
    let mut sink = Sink::new(&m.source);
    let node = m.root().pointer(&model.pointer).unwrap_or(m.root());
    let config = found.config();
    match super::member::optional_file(&config) {
        Ok(Some(_)) => match adapter::read_config(&config) {
            Ok(value) => {
                for mismatch in adapter::compare(&value, &config, m, model) {
                    let at = m.root().pointer(&mismatch.pointer).unwrap_or(node);
                    sink.at(
                        Code::AdapterMismatch,
                        &mismatch.pointer,
                        at,
                        mismatch.message,
                        Some(
                            "use the adapter trained for this base model, or make the manifest say how it was trained"
                                .to_owned(),
                        ),
                    );
                }
            }
            Err(why) => sink.at(
                Code::AdapterMismatch,
                &model.pointer,
                node,
                why,
                Some("train the adapter again, or restore the file peft wrote".to_owned()),
            ),
        },
        Ok(None) => sink.at(
            Code::PackageMember,
            &model.pointer,
            node,
            format!(
                "`{}` has the adapter's weights but no {CONFIG_FILE}",
                found.dir.display()
            ),
            Some("peft writes both files; copy the adapter's whole folder".to_owned()),
        ),
        Err(e) => sink.at(
            Code::PackageMember,
            &model.pointer,
            node,
            e.to_string(),
            None,
        ),
    }
    check_adapter_facts(&mut sink, m, model, Some(weights));
    let mut diagnostics = Diagnostics(sink.found);
    diagnostics.sort();
    diagnostics
}

/// What `expert-cli validate` found in one path it was given.
#[derive(Debug)]
pub struct PathReport {
    /// The path as given (for a folder: the manifest inside).
    pub path: String,
    /// `manifest`, `directory` or `package`.
    pub kind: &'static str,
    /// `1.0` / `2.0` when known.
    pub schema: Option<&'static str>,
    /// The findings.
    pub diagnostics: Diagnostics,
}

impl PathReport {
    /// The path could not be read at all (`E0005`).
    pub fn unreadable(&self) -> bool {
        self.diagnostics
            .0
            .iter()
            .any(|d| d.code == Code::Unreadable)
    }

    /// A report whose one diagnostic is about the path itself.
    fn problem(path: &Path, kind: &'static str, code: Code, message: String, hint: &str) -> Self {
        PathReport {
            path: path.display().to_string(),
            kind,
            schema: None,
            diagnostics: Diagnostics(vec![Diagnostic {
                severity: Severity::Error,
                code,
                pointer: String::new(),
                line: 1,
                column: 1,
                message,
                hint: Some(hint.to_owned()),
            }]),
        }
    }

    fn cannot_read(path: &Path, kind: &'static str, e: &std::io::Error) -> Self {
        Self::problem(
            path,
            kind,
            Code::Unreadable,
            format!(
                "cannot read `{}`: {}",
                path.display(),
                crate::fs::io_reason(e)
            ),
            "pass a manifest file, an expert folder or a .expert package",
        )
    }
}

/// Validates one path given to `expert-cli validate`: a manifest file, an expert folder
/// ([`validate_folder`]) or a `.expert` package ([`validate_package_in`], lenient, so a package
/// from another tool is read and explained, `E0705`). A path that cannot be checked at all — a
/// folder without manifest.json (`E0004`), a file that cannot be read (`E0005`) — is a report
/// with that one diagnostic, so the caller goes on with the other paths.
pub fn validate_path(path: &Path) -> PathReport {
    let is_package = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("expert"));
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let kind = if is_package { "package" } else { "manifest" };
            return PathReport::cannot_read(path, kind, &e);
        }
    };
    if meta.is_dir() {
        let file = path.join("manifest.json");
        if std::fs::symlink_metadata(&file).is_err() {
            return PathReport::problem(
                path,
                "directory",
                Code::NoManifest,
                format!("`{}` has no manifest.json", path.display()),
                "pass the expert folder, the manifest file or a .expert package",
            );
        }
        let (checked, schema) = validate_folder(&file);
        return PathReport {
            path: file.display().to_string(),
            kind: "directory",
            schema,
            diagnostics: checked.diagnostics,
        };
    }
    if is_package {
        let file = match open_package(path) {
            Ok(f) => f,
            Err(e) => return PathReport::cannot_read(path, "package", &e),
        };
        let report = validate_package_in(
            ReadMode::Lenient,
            std::io::BufReader::new(file),
            &Limits::default(),
        );
        return PathReport {
            path: path.display().to_string(),
            kind: "package",
            schema: report.manifest.as_ref().map(|m| m.schema.as_str()),
            diagnostics: report.diagnostics,
        };
    }
    manifest_report(path)
}

fn manifest_report(path: &Path) -> PathReport {
    let bytes = match crate::manifest::read(path) {
        Ok(b) => b,
        Err(crate::manifest::LoadError::Io { path, source }) => {
            return PathReport::cannot_read(&path, "manifest", &source)
        }
        Err(e) => {
            return PathReport {
                path: path.display().to_string(),
                kind: "manifest",
                schema: None,
                diagnostics: Diagnostics(vec![Diagnostic {
                    severity: Severity::Error,
                    code: Code::Syntax,
                    pointer: String::new(),
                    line: 1,
                    column: 1,
                    message: e.to_string(),
                    hint: None,
                }]),
            }
        }
    };
    let checked = check_bytes(&bytes, Role::Authored);
    PathReport {
        path: path.display().to_string(),
        kind: "manifest",
        schema: checked.manifest.as_ref().map(|m| m.schema.as_str()),
        diagnostics: checked.diagnostics,
    }
}
