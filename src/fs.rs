//! Output files, written atomically: to an unpredictably named temporary file in the target's
//! own directory, fsynced, then renamed into place. Without `force` an existing target is never
//! replaced; dropping an [`AtomicFile`] without [`commit`](AtomicFile::commit) deletes the
//! temporary file, so a failed run leaves nothing behind (SPEC §5, STYLE.md habit 7).
//!
//! A signal ends the process without running destructors, so every live temporary file is
//! also listed in a process-wide registry: the binary's Ctrl-C handler calls
//! [`remove_temp_files`]. [`write_atomically`] is the one guarded-commit sequence (temporary
//! file, guard, fill, commit) for every output file: packages, sidecars, keys, signatures,
//! manifests, man pages, training plans.
//!
//! It sits at the bottom of the library, beside `digest` and `names`: `archive` writes packages
//! and sidecars through it, `signing` key files, the binary everything else. It knows nothing of
//! what it writes.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use tempfile::NamedTempFile;
use thiserror::Error;

/// Why an atomic write failed.
#[derive(Debug, Error)]
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

/// The temporary files of every live [`AtomicFile`] in this process.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary file of every [`AtomicFile`] not yet committed or dropped, and returns
/// how many were removed. For a signal handler, which ends the process without unwinding (the
/// files' destructors never run); everything else relies on those destructors.
pub fn remove_temp_files() -> usize {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.drain(..)
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// A temporary file's entry in [`LIVE`], removed when dropped (after the file itself is gone
/// or renamed: it is declared after the file in [`AtomicFile`]).
#[derive(Debug)]
struct Registered(PathBuf);

impl Registered {
    fn new(path: &Path) -> Self {
        LIVE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_owned());
        Registered(path.to_owned())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = live.iter().position(|p| *p == self.0) {
            live.swap_remove(i);
        }
    }
}

/// Writes `target` atomically and under the interrupt guard: creates the temporary file beside
/// it (Unix permission bits `mode`, e.g. 0o644, or 0o600 for a secret key), lets `fill` write
/// it, then commits. Returns what `fill` returned. Nothing is left behind when `fill` or the
/// commit fails, or when the process is interrupted meanwhile (see [`remove_temp_files`]).
///
/// # Errors
///
/// `fill`'s error, or an [`AtomicError`] from [`AtomicFile::create_with_mode`] or
/// [`AtomicFile::commit`], converted into `E`.
pub fn write_atomically<T, E: From<AtomicError>>(
    target: &Path,
    force: bool,
    mode: u32,
    fill: impl FnOnce(&mut AtomicFile) -> Result<T, E>,
) -> Result<T, E> {
    let mut file = AtomicFile::create_with_mode(target, force, mode)?;
    let value = fill(&mut file)?;
    file.commit()?;
    Ok(value)
}

/// A file that appears at its target path only when committed.
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    // Dropped after `temp`: the registry lists the file as long as it may exist.
    registered: Registered,
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
        let registered = Registered::new(temp.path());
        Ok(AtomicFile {
            temp,
            registered,
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
    pub fn commit(self) -> Result<(), AtomicError> {
        // `registered` outlives `temp` and any error holding it, then leaves the registry.
        let AtomicFile {
            mut temp,
            registered: _registered,
            target,
            force,
        } = self;
        let io_err = |source| AtomicError::Io {
            path: target.clone(),
            source,
        };
        temp.flush().map_err(io_err)?;
        temp.as_file().sync_all().map_err(io_err)?;
        let persisted = if force {
            temp.persist(&target)
        } else {
            temp.persist_noclobber(&target)
        };
        if let Err(e) = persisted {
            // `e.file` is dropped here, which removes the temporary file.
            return Err(if e.error.kind() == io::ErrorKind::AlreadyExists {
                AtomicError::OutputExists {
                    path: target.clone(),
                }
            } else {
                AtomicError::Io {
                    path: target.clone(),
                    source: e.error,
                }
            });
        }
        // Make the rename itself durable. Directories cannot be opened for syncing on Windows.
        #[cfg(unix)]
        File::open(parent_dir(&target))
            .and_then(|dir| dir.sync_all())
            .map_err(|source| AtomicError::Io {
                path: target.clone(),
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

/// An I/O error as a short lower-case phrase for messages, without Rust's `(os error N)`
/// suffix: "no such file or folder", "permission denied", …
pub fn io_reason(e: &io::Error) -> String {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or folder".to_owned(),
        PermissionDenied => "permission denied".to_owned(),
        AlreadyExists => "it already exists".to_owned(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_owned();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
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

    fn live(path: &Path) -> bool {
        LIVE.lock().unwrap().iter().any(|p| p == path)
    }

    #[test]
    fn temporary_files_are_guarded_until_committed_or_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("k.pem");
        let f = AtomicFile::create(&target, false).unwrap();
        let temp = f.temp_path().to_owned();
        assert!(live(&temp));
        drop(f);
        assert!(!live(&temp) && !temp.exists());

        let temp = write_atomically(&target, false, 0o600, |f| {
            f.write_all(b"secret").map_err(|source| AtomicError::Io {
                path: target.clone(),
                source,
            })?;
            Ok::<_, AtomicError>(f.temp_path().to_owned())
        })
        .unwrap();
        assert!(!live(&temp));
        assert_eq!(std::fs::read(&target).unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // a failing fill leaves nothing behind
        let other = dir.path().join("other");
        let err = write_atomically(&other, false, 0o644, |f| {
            f.write_all(b"half").unwrap();
            Err::<(), _>(AtomicError::NoParent {
                path: other.clone(),
            })
        });
        assert!(err.is_err());
        assert_eq!(entries(dir.path()), ["k.pem"]);
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
