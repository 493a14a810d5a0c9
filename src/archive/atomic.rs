//! Atomic output files: written to an unpredictably named temporary file in the target's own
//! directory, fsynced, then renamed into place. Without `force` an existing target is never
//! replaced; dropping an [`AtomicFile`] without [`commit`](AtomicFile::commit) deletes the
//! temporary file, so a failed run leaves nothing behind (SPEC §5, STYLE.md habit 7).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;
use thiserror::Error;

/// Why an atomic write failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AtomicError {
    /// The target exists and `force` was not given.
    #[error("`{path}` already exists; pass --force to replace it")]
    OutputExists {
        /// The target.
        path: PathBuf,
    },
    /// The target is a directory.
    #[error("`{path}` is a directory, not a file")]
    IsDirectory {
        /// The target.
        path: PathBuf,
    },
    /// The target's directory does not exist.
    #[error("the directory of `{path}` does not exist")]
    NoParent {
        /// The target.
        path: PathBuf,
    },
    /// Creating, writing, syncing or renaming failed.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The target.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuses early, before any work, when `path` cannot be written: it exists (without `force`),
/// it is a directory, or its directory is missing.
///
/// # Errors
///
/// [`AtomicError::OutputExists`], [`AtomicError::IsDirectory`] or [`AtomicError::NoParent`].
pub fn check_output_free(path: &Path, force: bool) -> Result<(), AtomicError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(AtomicError::IsDirectory {
            path: path.to_owned(),
        }),
        Ok(_) if !force => Err(AtomicError::OutputExists {
            path: path.to_owned(),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if parent_dir(path).is_dir() {
                Ok(())
            } else {
                Err(AtomicError::NoParent {
                    path: path.to_owned(),
                })
            }
        }
        Err(source) => Err(AtomicError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A file that appears at its target path only when committed.
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    target: PathBuf,
    force: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `target`, with mode 0644 (less the umask) on Unix.
    ///
    /// # Errors
    ///
    /// As [`check_output_free`], or [`AtomicError::Io`] when the temporary file cannot be made.
    pub fn create(target: &Path, force: bool) -> Result<AtomicFile, AtomicError> {
        Self::create_with_mode(target, force, 0o644)
    }

    /// Like [`create`](Self::create) with the given Unix permission bits (e.g. 0o600 for a
    /// secret key); `mode` is ignored elsewhere.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create).
    pub fn create_with_mode(
        target: &Path,
        force: bool,
        mode: u32,
    ) -> Result<AtomicFile, AtomicError> {
        check_output_free(target, force)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        #[cfg(not(unix))]
        let _ = mode;
        let temp = builder
            .tempfile_in(parent_dir(target))
            .map_err(|source| AtomicError::Io {
                path: target.to_owned(),
                source,
            })?;
        Ok(AtomicFile {
            temp,
            target: target.to_owned(),
            force,
        })
    }

    /// The target path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where the data is written until [`commit`](Self::commit) (so a signal handler can
    /// remove it).
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The open temporary file.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Flushes and fsyncs the data, renames the file to its target (refusing to replace an
    /// existing one unless `force` was given) and fsyncs the directory.
    ///
    /// # Errors
    ///
    /// [`AtomicError::OutputExists`] when the target appeared meanwhile and `force` is off;
    /// [`AtomicError::Io`] otherwise. The temporary file is removed on every error.
    pub fn commit(mut self) -> Result<(), AtomicError> {
        let io_err = |source| AtomicError::Io {
            path: self.target.clone(),
            source,
        };
        self.temp.flush().map_err(io_err)?;
        self.temp.as_file().sync_all().map_err(io_err)?;
        let persisted = if self.force {
            self.temp.persist(&self.target)
        } else {
            self.temp.persist_noclobber(&self.target)
        };
        if let Err(e) = persisted {
            return Err(if e.error.kind() == io::ErrorKind::AlreadyExists {
                AtomicError::OutputExists {
                    path: self.target.clone(),
                }
            } else {
                AtomicError::Io {
                    path: self.target.clone(),
                    source: e.error,
                }
            });
        }
        // Make the rename itself durable. Directories cannot be opened for syncing on Windows.
        #[cfg(unix)]
        File::open(parent_dir(&self.target))
            .and_then(|dir| dir.sync_all())
            .map_err(|source| AtomicError::Io {
                path: self.target.clone(),
                source,
            })?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn drop_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.expert");
        let mut f = AtomicFile::create(&target, false).unwrap();
        f.write_all(b"partial").unwrap();
        assert_eq!(entries(dir.path()).len(), 1);
        drop(f);
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn commit_refuses_to_clobber_without_force_and_replaces_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.expert");
        let mut f = AtomicFile::create(&target, false).unwrap();
        f.write_all(b"one").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");

        let err = AtomicFile::create(&target, false).unwrap_err();
        assert!(matches!(err, AtomicError::OutputExists { .. }), "{err}");
        assert!(matches!(
            check_output_free(&target, false),
            Err(AtomicError::OutputExists { .. })
        ));

        // the target appears between create and commit
        let other = dir.path().join("race.expert");
        let mut f = AtomicFile::create(&other, false).unwrap();
        f.write_all(b"mine").unwrap();
        std::fs::write(&other, b"theirs").unwrap();
        assert!(matches!(f.commit(), Err(AtomicError::OutputExists { .. })));
        assert_eq!(std::fs::read(&other).unwrap(), b"theirs");

        let mut f = AtomicFile::create(&target, true).unwrap();
        f.write_all(b"two").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(entries(dir.path()), ["out.expert", "race.expert"]);
    }

    #[test]
    fn refuses_directories_and_missing_parents() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            check_output_free(dir.path(), true),
            Err(AtomicError::IsDirectory { .. })
        ));
        let missing = dir.path().join("no/such/out.expert");
        assert!(matches!(
            check_output_free(&missing, false),
            Err(AtomicError::NoParent { .. })
        ));
    }
}
