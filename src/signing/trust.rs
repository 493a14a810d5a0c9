//! The trusted key set: the only keys a verification may accept.
//!
//! Keys come from the verifier's own files (`--pubkey FILE`, `--trusted-keys DIR`), never
//! from the package being verified: a package carries only the key id, which selects among
//! the trusted keys, and the full 32-byte key then checks the signature.
//!
//! A directory contributes every regular file whose name ends in `.pub`, in byte order of
//! the names. Symbolic links are not followed: they are skipped and reported as
//! [`SkippedEntry`] (a link can point at a file someone else may write). Other entries
//! (`README`, sub-directories not named `*.pub`) are ignored. A `.pub` file that does not
//! hold a valid public key is an error, not a skip: a broken trust store should be loud.

use crate::signing::keys::{read_public_key_file, KeyError, PublicKey};
use std::fs;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// One trusted key and the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    /// The key.
    pub key: PublicKey,
    /// Where it was read from (or a label given by the caller).
    pub source: PathBuf,
}

/// A directory entry that was not loaded, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The entry's path.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a `*.pub` directory entry was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A symbolic link (not followed).
    Symlink,
    /// Not a regular file (a directory, socket, …).
    NotAFile,
}

impl std::fmt::Display for SkippedEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.reason {
            SkipReason::Symlink => {
                "it is a symbolic link, which trusted-key directories do not follow"
            }
            SkipReason::NotAFile => "it is not a regular file",
        };
        write!(f, "skipped `{}`: {why}", self.path.display())
    }
}

/// Why trusted keys could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A key file is unreadable or invalid (the path is in the error).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A directory could not be listed.
    #[error("cannot list the trusted-keys directory `{}`", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The set of public keys a verification may accept; duplicates (same 32 bytes) are kept once.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// An empty set: every signature is then untrusted.
    pub fn new() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// Adds a key; returns false when the same key bytes were already present.
    pub fn add(&mut self, key: PublicKey, source: impl Into<PathBuf>) -> bool {
        if self.keys.iter().any(|k| k.key == key) {
            return false;
        }
        self.keys.push(TrustedKey {
            key,
            source: source.into(),
        });
        true
    }

    /// Adds the key in one public key file (any format [`crate::signing::read_public_key`]
    /// accepts). The file itself may be reached through a symbolic link: it was named
    /// explicitly.
    ///
    /// # Errors
    /// [`TrustError::Key`] naming the file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), TrustError> {
        let key = read_public_key_file(path)?;
        self.add(key, path);
        Ok(())
    }

    /// Adds every `*.pub` regular file in `dir` (not recursive, symbolic links skipped).
    ///
    /// # Errors
    /// [`TrustError::Io`] when the directory cannot be listed; [`TrustError::Key`] for a
    /// `.pub` file that is not a valid public key.
    pub fn add_dir(&mut self, dir: &Path) -> Result<Vec<SkippedEntry>, TrustError> {
        let io = |source| TrustError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "pub") {
                paths.push(path);
            }
        }
        paths.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        let mut skipped = Vec::new();
        for path in paths {
            let meta = fs::symlink_metadata(&path).map_err(io)?;
            let reason = if meta.file_type().is_symlink() {
                SkipReason::Symlink
            } else if !meta.is_file() {
                SkipReason::NotAFile
            } else {
                self.add_file(&path)?;
                continue;
            };
            skipped.push(SkippedEntry { path, reason });
        }
        Ok(skipped)
    }

    /// [`TrustedKeys::add_dir`] when `path` is a directory, else [`TrustedKeys::add_file`].
    ///
    /// # Errors
    /// As those two.
    pub fn add_path(&mut self, path: &Path) -> Result<Vec<SkippedEntry>, TrustError> {
        if path.is_dir() {
            self.add_dir(path)
        } else {
            self.add_file(path).map(|()| Vec::new())
        }
    }

    /// How many distinct keys are trusted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every trusted key, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.iter()
    }

    /// The trusted keys whose key id is `key_id` (normally at most one).
    pub fn matching<'a>(&'a self, key_id: &'a str) -> impl Iterator<Item = &'a TrustedKey> + 'a {
        self.keys.iter().filter(move |k| k.key.key_id() == key_id)
    }
}
