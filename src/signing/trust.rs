//! The trusted key set: the only keys a verification may accept.
//!
//! Keys come from the verifier's own files, never from the package being verified (its
//! `integrity.pubkey` is only a hint). [`TrustSources`] says where, first match wins:
//! 1. `--pubkey FILE` (repeatable) and `--trusted-keys DIR`;
//! 2. else the `EXPERT_CLI_TRUSTED_KEYS` list (`:`-separated key files or folders; every
//!    entry must exist);
//! 3. else the trust store `$XDG_CONFIG_HOME/expert-cli/trusted/` (default
//!    `~/.config/expert-cli/trusted/`): its `*.pub` files; a missing folder trusts nothing.
//!
//! The caller reads the environment and passes the values in.
//!
//! A directory contributes every regular file whose name ends in `.pub`, in byte order of
//! the names. Symbolic links are not followed: they are skipped and reported as
//! [`SkippedEntry`] (a link can point at a file someone else may write). Other entries
//! (`README`, sub-directories not named `*.pub`) are ignored. A `.pub` file that does not
//! hold a valid public key is an error, not a skip: a broken trust store should be loud.

use crate::signing::keys::{read_public_key_file, KeyError, PublicKey};
use serde::Serialize;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the trusted keys of one verification come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustOrigin {
    /// `--pubkey` / `--trusted-keys`.
    Flags,
    /// The `EXPERT_CLI_TRUSTED_KEYS` environment variable.
    Environment,
    /// The trust store folder in the user's configuration folder.
    Store,
}

/// The files and folders to load trusted keys from, and why those.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustSources {
    /// Which rule chose them.
    pub origin: TrustOrigin,
    /// Key files and folders of `*.pub` files, in order.
    pub paths: Vec<PathBuf>,
    /// How many of `paths`, from the start, are key files (`--pubkey`); with
    /// [`TrustOrigin::Flags`] the rest are folders (`--trusted-keys`), otherwise either.
    #[serde(skip)]
    pub files: usize,
    /// The trust store folder (`<config>/expert-cli/trusted`), whichever rule chose the keys:
    /// where a hint tells the user to put a key. `None` without `XDG_CONFIG_HOME` and `HOME`.
    #[serde(skip)]
    pub store: Option<PathBuf>,
}

/// The trust store folder below a configuration folder: `<config>/expert-cli/trusted`.
pub const STORE_DIR: &str = "expert-cli/trusted";

impl TrustSources {
    /// Chooses the sources: the flags when any was given; else the `EXPERT_CLI_TRUSTED_KEYS`
    /// value when set and not empty; else the store below `XDG_CONFIG_HOME` (when absolute,
    /// as the XDG spec requires) or `HOME/.config`. With neither, the store is unknown and
    /// nothing is trusted.
    pub fn choose(
        pubkeys: &[PathBuf],
        dirs: &[PathBuf],
        env_list: Option<&OsStr>,
        xdg_config_home: Option<&OsStr>,
        home: Option<&OsStr>,
    ) -> TrustSources {
        let store = xdg_config_home
            .map(Path::new)
            .filter(|p| p.is_absolute())
            .map(Path::to_owned)
            .or_else(|| {
                home.filter(|h| !h.is_empty())
                    .map(|h| Path::new(h).join(".config"))
            })
            .map(|c| c.join(STORE_DIR));
        if !pubkeys.is_empty() || !dirs.is_empty() {
            return TrustSources {
                origin: TrustOrigin::Flags,
                paths: pubkeys.iter().chain(dirs).cloned().collect(),
                files: pubkeys.len(),
                store,
            };
        }
        if let Some(list) = env_list.filter(|v| !v.is_empty()) {
            return TrustSources {
                origin: TrustOrigin::Environment,
                paths: split_list(list),
                files: 0,
                store,
            };
        }
        TrustSources {
            origin: TrustOrigin::Store,
            paths: store.clone().into_iter().collect(),
            files: 0,
            store,
        }
    }

    /// Loads every key: `--pubkey` files as keys, `--trusted-keys` folders as `*.pub` files
    /// ([`TrustedKeys::add_dir`]), list entries as either. The store folder may be missing
    /// (nothing is trusted then); flags and the environment list must name existing files or
    /// folders.
    ///
    /// # Errors
    /// As [`TrustedKeys::add_file`] and [`TrustedKeys::add_dir`].
    pub fn load(&self) -> Result<(TrustedKeys, Vec<SkippedEntry>), TrustError> {
        let mut keys = TrustedKeys::new();
        let mut skipped = Vec::new();
        for (i, path) in self.paths.iter().enumerate() {
            match self.origin {
                TrustOrigin::Flags if i < self.files => keys.add_file(path)?,
                TrustOrigin::Flags => skipped.extend(keys.add_dir(path)?),
                TrustOrigin::Store if !path.exists() => {}
                _ => skipped.extend(keys.add_path(path)?),
            }
        }
        Ok((keys, skipped))
    }
}

/// Splits a `:`-separated path list; empty entries are ignored.
fn split_list(list: &OsStr) -> Vec<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        list.as_bytes()
            .split(|&b| b == b':')
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(OsStr::from_bytes(p)))
            .collect()
    }
    #[cfg(not(unix))]
    {
        list.to_string_lossy()
            .split(';')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect()
    }
}

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
        // Name order, except that `K.minisign.pub` comes after `K.pub` (keygen writes both for one
        // key): a match is then reported under the key's own `.pub` file.
        let minisign = |p: &Path| p.to_string_lossy().ends_with(".minisign.pub");
        paths.sort_by(|a, b| (minisign(a), a.as_os_str()).cmp(&(minisign(b), b.as_os_str())));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_in_order_of_precedence() {
        let flags = TrustSources::choose(
            &[PathBuf::from("k.pub")],
            &[],
            Some(OsStr::new("/a")),
            None,
            Some(OsStr::new("/home/u")),
        );
        assert_eq!(flags.origin, TrustOrigin::Flags);
        assert_eq!(flags.paths, [PathBuf::from("k.pub")]);
        let env = TrustSources::choose(&[], &[], Some(OsStr::new("/a::b.pub")), None, None);
        assert_eq!(env.origin, TrustOrigin::Environment);
        assert_eq!(env.paths, [PathBuf::from("/a"), PathBuf::from("b.pub")]);
        let store = TrustSources::choose(
            &[],
            &[],
            Some(OsStr::new("")),
            Some(OsStr::new("relative")),
            Some(OsStr::new("/home/u")),
        );
        assert_eq!(store.origin, TrustOrigin::Store);
        assert_eq!(
            store.paths,
            [PathBuf::from("/home/u/.config/expert-cli/trusted")]
        );
        let xdg = TrustSources::choose(&[], &[], None, Some(OsStr::new("/x")), None);
        assert_eq!(xdg.paths, [PathBuf::from("/x/expert-cli/trusted")]);
        let none = TrustSources::choose(&[], &[], None, None, None);
        assert!(none.paths.is_empty());
        let (keys, _) =
            TrustSources::choose(&[], &[], None, Some(OsStr::new("/nonexistent")), None)
                .load()
                .unwrap();
        assert!(keys.is_empty());
    }
}
