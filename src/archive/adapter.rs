//! The adapter of one base model: where its files are ([`locate`], the lookup order of
//! docs/PACKAGING.md) and whether its `adapter_config.json` says what the manifest says
//! ([`compare`]). Used by `package` (archive::package) and by `validate` of an expert folder
//! (archive::validate), so both look in the same places and apply the same rule (SPEC §0).
//!
//! The adapter is a pair of files: the weights (`adapter_model.safetensors`, or the
//! `.safetensors` file an adapter `path` names, packed under that standard name) and
//! `adapter_config.json` in the same folder.

use super::member::{open_regular, optional_file, safe_join, MemberError};
use crate::manifest::source::Node;
use crate::manifest::{BaseModel, Manifest};
use crate::names;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The standard name of the adapter's weights, in packages and in adapter folders.
pub const WEIGHTS_FILE: &str = "adapter_model.safetensors";

/// The adapter's configuration, beside the weights.
pub const CONFIG_FILE: &str = "adapter_config.json";

/// Bigger `adapter_config.json` files are refused: peft writes about 2 KiB.
const CONFIG_LIMIT: u64 = 1 << 20;

/// Which rule of the lookup order found the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// `--weights DIR` joined with the adapter's `path` (or that path without `weights/`).
    WeightsAdapterPath,
    /// `DIR/<slug>/` for `--weights DIR`.
    WeightsSlug,
    /// `DIR` itself for `--weights DIR`.
    WeightsDir,
    /// The adapter's `path`, relative to the expert folder.
    AdapterPath,
    /// `<expert>/weights/<slug>/`, where `expert-cli train` writes.
    ExpertWeightsSlug,
    /// `<expert>/<slug>/`.
    ExpertSlug,
    /// The expert folder itself (upstream's layout; one base model only).
    ExpertRoot,
}

impl Lookup {
    /// The rule in words, for status lines: `the adapter's path`.
    pub fn describe(self) -> &'static str {
        match self {
            Lookup::WeightsAdapterPath => "--weights DIR + the adapter's path",
            Lookup::WeightsSlug => "--weights DIR/<slug>",
            Lookup::WeightsDir => "--weights DIR itself",
            Lookup::AdapterPath => "the adapter's path",
            Lookup::ExpertWeightsSlug => "weights/<slug>",
            Lookup::ExpertSlug => "<slug>",
            Lookup::ExpertRoot => "the expert folder",
        }
    }
}

/// Where one base model's adapter was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterLocation {
    /// The folder: `adapter_config.json`, tokenizer files and pickles are taken from here.
    pub dir: PathBuf,
    /// The weights file, packed as `adapter_model.safetensors`.
    pub weights: PathBuf,
    /// The rule that found it.
    pub found_by: Lookup,
}

impl AdapterLocation {
    /// `adapter_config.json` beside the weights.
    pub fn config(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }
}

/// Why no adapter could be located.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// No candidate exists.
    #[error("no adapter for base model `{model}`: tried {}{}", list(tried), not_root(*skipped_root))]
    NotFound {
        /// The model's name.
        model: String,
        /// The model's slug.
        slug: String,
        /// Every weights file looked for, in order.
        tried: Vec<PathBuf>,
        /// `Some(n)`: the expert folder itself was not tried because the manifest lists `n`
        /// base models (an adapter there could be any model's).
        skipped_root: Option<usize>,
    },
    /// The model's adapters name different paths.
    #[error("base model `{model}` has {count} adapters in different folders; a package holds one adapter")]
    SeveralPaths {
        /// The model's name.
        model: String,
        /// How many adapters have a path.
        count: usize,
    },
    /// A path on the way is a link, leaves its folder, or cannot be read.
    #[error(transparent)]
    Member(#[from] MemberError),
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_root(skipped: Option<usize>) -> String {
    match skipped {
        Some(n) => format!(
            " (not the expert folder itself: the manifest lists {n} base models, so an adapter there could be any of them)"
        ),
        None => String::new(),
    }
}

/// One place to look: a weights file, and how it was chosen.
fn candidate(
    out: &mut Vec<(PathBuf, Lookup)>,
    base: &Path,
    rel: &str,
    found_by: Lookup,
) -> Result<(), MemberError> {
    let path = safe_join(base, rel)?;
    let file = if is_weights_file(rel) {
        path
    } else {
        path.join(WEIGHTS_FILE)
    };
    if !out.iter().any(|(f, _)| *f == file) {
        out.push((file, found_by));
    }
    Ok(())
}

/// An adapter `path` that names the weights file itself rather than its folder.
fn is_weights_file(rel: &str) -> bool {
    rel.rsplit('/')
        .next()
        .is_some_and(|f| f.to_ascii_lowercase().ends_with(".safetensors"))
}

/// Finds `model`'s adapter, trying in order (docs/PACKAGING.md): with `--weights DIR`,
/// `DIR/<adapter path>` (also without a leading `weights/`), `DIR/<slug>/`, `DIR`; otherwise
/// the adapter's `path`, `<expert>/weights/<slug>/`, `<expert>/<slug>/`, and `<expert>/` itself
/// when the manifest has one base model. `root` is the
/// expert folder (the manifest's folder); `weights` is `--weights DIR`, the folder that holds
/// the adapters (then nothing under `root` is tried).
///
/// # Errors
/// [`AdapterError::NotFound`] naming every file tried; [`AdapterError::SeveralPaths`];
/// [`AdapterError::Member`] for a link on the way or an unreadable path.
pub fn locate(
    manifest: &Manifest,
    model: &BaseModel,
    root: &Path,
    weights: Option<&Path>,
) -> Result<AdapterLocation, AdapterError> {
    let paths: Vec<&str> = model
        .adapters
        .iter()
        .filter_map(|a| a.path.as_deref())
        .map(|p| p.trim_start_matches("./"))
        .collect();
    let adapter_path = match paths.first() {
        Some(first) if paths.iter().any(|p| p != first) => {
            return Err(AdapterError::SeveralPaths {
                model: model.name.clone(),
                count: paths.len(),
            })
        }
        first => first.copied(),
    };
    let mut candidates: Vec<(PathBuf, Lookup)> = Vec::new();
    let mut skipped_root = None;
    if let Some(dir) = weights {
        if let Some(rel) = adapter_path {
            candidate(&mut candidates, dir, rel, Lookup::WeightsAdapterPath)?;
            if let Some(short) = rel.strip_prefix("weights/").filter(|s| !s.is_empty()) {
                candidate(&mut candidates, dir, short, Lookup::WeightsAdapterPath)?;
            }
        }
        candidate(&mut candidates, dir, &model.slug, Lookup::WeightsSlug)?;
        candidate(&mut candidates, dir, "", Lookup::WeightsDir)?;
    } else {
        if let Some(rel) = adapter_path {
            candidate(&mut candidates, root, rel, Lookup::AdapterPath)?;
        }
        let slug_in_weights = format!("weights/{}", model.slug);
        candidate(
            &mut candidates,
            root,
            &slug_in_weights,
            Lookup::ExpertWeightsSlug,
        )?;
        candidate(&mut candidates, root, &model.slug, Lookup::ExpertSlug)?;
        // #11: with several base models an adapter in the expert folder itself could belong
        // to any of them; it was packed for the wrong one without a word.
        match manifest.base_models.len() {
            1 => candidate(&mut candidates, root, "", Lookup::ExpertRoot)?,
            n => skipped_root = Some(n),
        }
    }
    for (file, found_by) in &candidates {
        if optional_file(file)?.is_some() {
            let dir = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(MemberError::Symlink { path: dir }.into());
            }
            return Ok(AdapterLocation {
                dir,
                weights: file.clone(),
                found_by: *found_by,
            });
        }
    }
    Err(AdapterError::NotFound {
        model: model.name.clone(),
        slug: model.slug.clone(),
        tried: candidates.into_iter().map(|(f, _)| f).collect(),
        skipped_root,
    })
}

/// One way `adapter_config.json` contradicts the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// JSON pointer of the manifest value concerned (`/base_models/0/adapters/0/r`).
    pub pointer: String,
    /// The sentence: both values, the config key and the manifest key.
    pub message: String,
}

/// Reads `adapter_config.json` (bounded) as JSON.
///
/// # Errors
/// A sentence saying why it cannot be compared: unreadable, too big, not a JSON object.
pub fn read_config(path: &Path) -> Result<Value, String> {
    use std::io::Read;
    let (file, _) = open_regular(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(CONFIG_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("`{}` cannot be read: {e}", path.display()))?;
    if bytes.len() as u64 > CONFIG_LIMIT {
        return Err(format!(
            "`{}` is larger than {CONFIG_LIMIT} bytes; peft writes a few KiB",
            path.display()
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(format!("`{}` is not a JSON object", path.display())),
        Err(e) => Err(format!("`{}` is not valid JSON: {e}", path.display())),
    }
}

/// The adapter family peft records, in the manifest's words (`lora`, `dora`, `ia3`, `lokr`,
/// `adalora`), or the raw `peft_type` for a family the manifest has no word for.
fn config_kind(config: &Value) -> Option<String> {
    let peft = config.get("peft_type")?.as_str()?;
    let dora = config.get("use_dora").and_then(Value::as_bool) == Some(true);
    Some(match peft.to_ascii_uppercase().as_str() {
        "LORA" if dora => "dora".to_owned(),
        "LORA" => "lora".to_owned(),
        "IA3" => "ia3".to_owned(),
        "LOKR" => "lokr".to_owned(),
        "ADALORA" => "adalora".to_owned(),
        _ => peft.to_owned(),
    })
}

/// How `peft_type` (and `use_dora`) read in a message.
fn config_kind_words(config: &Value) -> String {
    let peft = config
        .get("peft_type")
        .map(Value::to_string)
        .unwrap_or_default();
    if config.get("use_dora").and_then(Value::as_bool) == Some(true) {
        format!("\"peft_type\": {peft} with \"use_dora\": true")
    } else {
        format!("\"peft_type\": {peft}")
    }
}

/// A config key and peft's default for it.
type ConfigKey = (&'static str, f64);

/// The config keys holding the rank and the scaling numerator for a family, with the value
/// peft uses when the key is absent (peft 0.21: `LoraConfig`, `AdaLoraConfig`, `LoKrConfig`).
/// AdaLoRA's saved matrices have `init_r` rows (its `r` is unused), so that is its rank.
fn rank_keys(kind: &str) -> Option<(ConfigKey, ConfigKey)> {
    match kind {
        "lora" | "dora" => Some((("r", 8.0), ("lora_alpha", 8.0))),
        "adalora" => Some((("init_r", 12.0), ("lora_alpha", 8.0))),
        "lokr" => Some((("r", 8.0), ("alpha", 8.0))),
        _ => None,
    }
}

/// A set of module names from a JSON list or a single string (peft accepts a regex string).
fn module_set(v: &Value) -> Option<Vec<String>> {
    let mut set: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    set.sort();
    set.dedup();
    Some(set)
}

fn node_module_set(n: &Node) -> Option<Vec<String>> {
    let mut set: Vec<String> = if let Some(s) = n.as_str() {
        vec![s.to_owned()]
    } else {
        n.as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<_>>()?
    };
    set.sort();
    set.dedup();
    Some(set)
}

fn words(set: &[String]) -> String {
    format!("[{}]", set.join(", "))
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Compares `adapter_config.json` (`config`, read from `config_path`) with every adapter the
/// manifest lists for `model` (SPEC §0, #11): the family (`peft_type`, with DoRA being LORA
/// plus `"use_dora": true`) with `type` (and a `use_dora` the manifest sets), the rank with `r`
/// (`rank`), the scaling numerator with `alpha`, the set of `target_modules`, and
/// `base_model_name_or_path` with the model's name by slug (local copies live at other paths;
/// a value naming another base model of the manifest exactly is still a difference). A value
/// the config leaves out is taken as peft's default; a config without `target_modules` or
/// `base_model_name_or_path` (peft writes `null` for a model built from a config) is not
/// compared on that point. An empty result means they agree.
pub fn compare(
    config: &Value,
    config_path: &Path,
    manifest: &Manifest,
    model: &BaseModel,
) -> Vec<Mismatch> {
    let file = format!("`{}`", config_path.display());
    let mut out = Vec::new();
    let Some(kind) = config_kind(config) else {
        out.push(Mismatch {
            pointer: model.pointer.clone(),
            message: format!(
                "{file} has no \"peft_type\"; it is not a PEFT adapter config, so peft cannot load the adapter"
            ),
        });
        return out;
    };
    if let Some(recorded) = config
        .get("base_model_name_or_path")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        let other_exactly = manifest
            .base_models
            .iter()
            .any(|m| m.name == recorded && m.pointer != model.pointer);
        let slug = names::slug(recorded);
        if other_exactly || slug != model.slug {
            out.push(Mismatch {
                pointer: format!("{}/name", model.pointer),
                message: format!(
                    "{file} was made for base model \"{recorded}\" (slug `{slug}`), but this adapter is listed under \"{}\" (slug `{}`)",
                    model.name, model.slug
                ),
            });
        }
    }
    let root = manifest.root();
    for adapter in &model.adapters {
        let Some(node) = root.pointer(&adapter.pointer) else {
            continue;
        };
        let at = |key: &str| format!("{}/{key}", adapter.pointer);
        let dora = node.get("use_dora").and_then(Node::as_bool) == Some(true);
        let mut want = adapter.kind.to_ascii_lowercase();
        if want == "lora" && dora {
            want = "dora".to_owned();
        }
        if want != kind {
            let said = if want == "dora" && adapter.kind.eq_ignore_ascii_case("lora") {
                format!(
                    "\"type\": \"{}\" with \"use_dora\": true (dora)",
                    adapter.kind
                )
            } else {
                format!("\"type\": \"{}\"", adapter.kind)
            };
            out.push(Mismatch {
                pointer: at("type"),
                message: format!(
                    "{file} has {} ({kind}), the manifest's adapter says {said}",
                    config_kind_words(config)
                ),
            });
            continue; // rank and alpha mean different things in another family
        }
        if let Some(((rank_key, rank_default), (alpha_key, alpha_default))) = rank_keys(&kind) {
            let (manifest_rank_key, manifest_rank) = match node.get_non_null("r") {
                Some(n) => ("r", n.as_f64()),
                None => ("rank", node.get_non_null("rank").and_then(Node::as_f64)),
            };
            for (mkey, mval, ckey, default) in [
                (manifest_rank_key, manifest_rank, rank_key, rank_default),
                (
                    "alpha",
                    node.get_non_null("alpha").and_then(Node::as_f64),
                    alpha_key,
                    alpha_default,
                ),
            ] {
                let Some(want) = mval else { continue };
                let (have, shown) = match config.get(ckey) {
                    None | Some(Value::Null) => (
                        Some(default),
                        format!("no \"{ckey}\" (peft's default: {})", number(default)),
                    ),
                    Some(v) => (v.as_f64(), format!("\"{ckey}\": {v}")),
                };
                if have != Some(want) {
                    out.push(Mismatch {
                        pointer: at(mkey),
                        message: format!(
                            "{file} has {shown}, the manifest's adapter says \"{mkey}\": {}",
                            number(want)
                        ),
                    });
                }
            }
        }
        let config_modules = config.get("target_modules").filter(|v| !v.is_null());
        if let (Some(have), Some(want_node)) = (config_modules, node.get_non_null("target_modules"))
        {
            let have_set = module_set(have);
            if let Some(want) = node_module_set(want_node).filter(|w| Some(w) != have_set.as_ref())
            {
                let shown = have_set.map_or_else(|| have.to_string(), |s| words(&s));
                out.push(Mismatch {
                    pointer: at("target_modules"),
                    message: format!(
                        "{file} has \"target_modules\": {shown}, the manifest's adapter says {}",
                        words(&want)
                    ),
                });
            }
        }
    }
    out
}
