//! `--model X`: which base model a command works on (SPEC §4). One function, used by
//! `package` and `train`.

use super::{BaseModel, Manifest};
use crate::names;

/// Why no single base model could be chosen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectError {
    /// Several models and no `--model`.
    #[error("the manifest lists {} base models and no --model was given", choices.len())]
    NeedModel {
        /// The models' names.
        choices: Vec<String>,
    },
    /// Nothing matched.
    #[error("no base model matches `{wanted}`")]
    NotFound {
        /// What was asked for.
        wanted: String,
        /// The models' names.
        choices: Vec<String>,
    },
    /// More than one model matched.
    #[error("`{wanted}` matches {} base models: {}", matches.len(), matches.join(", "))]
    Ambiguous {
        /// What was asked for.
        wanted: String,
        /// The names that matched.
        matches: Vec<String>,
        /// The models' names.
        choices: Vec<String>,
    },
}

impl SelectError {
    /// Every model's name with its slug, for hints: `qwen306b (Qwen/Qwen3-0.6B)`.
    pub fn choices(&self) -> &[String] {
        match self {
            SelectError::NeedModel { choices }
            | SelectError::NotFound { choices, .. }
            | SelectError::Ambiguous { choices, .. } => choices,
        }
    }
}

/// Picks the base model: by exact name, else by last path component (any case), else by slug.
/// An exact name that matches exactly one model wins even if others match more loosely.
///
/// # Errors
/// [`SelectError`] when there is no match, more than one, or several models and no `wanted`.
pub fn select<'m>(
    manifest: &'m Manifest,
    wanted: Option<&str>,
) -> Result<&'m BaseModel, SelectError> {
    let models = &manifest.base_models;
    let choices = || models.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    let Some(wanted) = wanted else {
        return match models.as_slice() {
            [one] => Ok(one),
            _ => Err(SelectError::NeedModel { choices: choices() }),
        };
    };
    let exact: Vec<&BaseModel> = models.iter().filter(|m| m.name == wanted).collect();
    if let [one] = exact.as_slice() {
        return Ok(one);
    }
    let slug = names::slug(wanted);
    let base = names::base_name(wanted).to_lowercase();
    let loose: Vec<&BaseModel> = models
        .iter()
        .filter(|m| {
            m.name == wanted
                || names::base_name(&m.name).to_lowercase() == base
                || (!slug.is_empty() && m.slug == slug)
        })
        .collect();
    match loose.as_slice() {
        [one] => Ok(one),
        [] => Err(SelectError::NotFound {
            wanted: wanted.to_owned(),
            choices: choices(),
        }),
        many => Err(SelectError::Ambiguous {
            wanted: wanted.to_owned(),
            matches: many.iter().map(|m| m.name.clone()).collect(),
            choices: choices(),
        }),
    }
}
