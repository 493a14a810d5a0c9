//! The Python `train` embeds, and where its standard library is, decided before Python starts.
//!
//! The interpreter is linked into the binary (build.rs), so no command needs libpython to start
//! (#12.1). Its standard library and the trainer's packages stay outside: the library comes from
//! the Python installation a virtual environment was made with (`home` in its `pyvenv.cfg`), else
//! from where it was when the binary was built. CPython aborts the whole process when it cannot
//! find its standard library, so [`locate`] checks the version and the files first and returns an
//! error that names the Python needed. The caller passes the home to Python (`PYTHONHOME`): this
//! module reads no environment.

use std::path::{Path, PathBuf};

/// The embedded interpreter: its version (`3.11.7`) and the prefix its standard library had
/// when the binary was built. `None` when the binary has no trainer.
pub const EMBEDDED: Option<Embedded> = match (
    option_env!("EXPERT_CLI_PYTHON_VERSION"),
    option_env!("EXPERT_CLI_PYTHON_PREFIX"),
) {
    (Some(version), Some(prefix)) => Some(Embedded { version, prefix }),
    _ => None,
};

/// The Python linked into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    /// Full version, `3.11.7`.
    pub version: &'static str,
    /// `sys.base_prefix` of the Python it came from, at build time.
    pub prefix: &'static str,
}

impl Embedded {
    /// `3.11` of `3.11.7`.
    pub fn minor(&self) -> &'static str {
        minor(self.version)
    }
}

/// Where the standard library was found, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The prefix: `<home>/lib/python3.X/os.py` exists.
    pub path: PathBuf,
    /// Which setting chose it.
    pub source: Source,
}

/// What decided the home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `PYTHONHOME`, set by the user.
    PythonHome,
    /// `home` in this `pyvenv.cfg`.
    Venv(PathBuf),
    /// The prefix recorded at build time.
    Build,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::PythonHome => write!(f, "PYTHONHOME"),
            Source::Venv(cfg) => write!(f, "`home` in `{}`", cfg.display()),
            Source::Build => write!(f, "where it was when this expert-cli was built"),
        }
    }
}

/// Why the embedded Python cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InterpreterError {
    /// The virtual environment was made by another Python version.
    #[error("the Python environment `{}` is Python {found}, but this expert-cli embeds Python {embedded}", venv.display())]
    Version {
        /// The environment.
        venv: PathBuf,
        /// Its version (`version` in `pyvenv.cfg`).
        found: String,
        /// The embedded version.
        embedded: &'static str,
    },
    /// The virtual environment was made by a later release of the same minor version, whose
    /// extension modules may call functions the embedded interpreter lacks.
    #[error("the Python environment `{}` is Python {found}, newer than the Python {embedded} this expert-cli embeds", venv.display())]
    Newer {
        /// The environment.
        venv: PathBuf,
        /// Its version (`version` in `pyvenv.cfg`).
        found: String,
        /// The embedded version.
        embedded: &'static str,
    },
    /// No standard library of the embedded version where it was looked for.
    #[error("`train` needs the standard library of Python {embedded} and it is not in `{}` ({chosen_by})", looked.display())]
    NoStdlib {
        /// The folder that should hold `os.py`.
        looked: PathBuf,
        /// What chose that folder.
        chosen_by: Source,
        /// The embedded version.
        embedded: &'static str,
    },
    /// `pyvenv.cfg` exists but cannot be read.
    #[error("cannot read `{}`: {error}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        error: std::io::Error,
    },
}

/// Finds the embedded Python's standard library: `python_home` (the user's `PYTHONHOME`) when
/// given, else the `home` of `venv`'s `pyvenv.cfg`, else the build-time prefix. Checks the
/// environment's Python version against the embedded one first.
///
/// # Errors
/// [`InterpreterError::Version`] when `venv` was made by another `major.minor`;
/// [`InterpreterError::NoStdlib`] when the chosen home has no `lib/python3.X/os.py`;
/// [`InterpreterError::Config`] when `pyvenv.cfg` cannot be read.
pub fn locate(
    embedded: Embedded,
    venv: Option<&Path>,
    python_home: Option<&Path>,
) -> Result<Home, InterpreterError> {
    let stdlib = |prefix: &Path| {
        prefix
            .join("lib")
            .join(format!("python{}", embedded.minor()))
    };
    let cfg = venv.map(|v| v.join("pyvenv.cfg")).filter(|c| c.is_file());
    let mut venv_home = None;
    if let Some(cfg) = &cfg {
        let text = std::fs::read_to_string(cfg).map_err(|error| InterpreterError::Config {
            path: cfg.clone(),
            error,
        })?;
        let values = parse_cfg(&text);
        let version = values
            .iter()
            .find(|(k, _)| k == "version" || k == "version_info")
            .map(|(_, v)| v.clone());
        if let Some(found) = version {
            let venv = venv
                .map(Path::to_owned)
                .expect("pyvenv.cfg is read only from a virtual environment");
            if minor(&found) != embedded.minor() {
                return Err(InterpreterError::Version {
                    venv,
                    found,
                    embedded: embedded.version,
                });
            }
            // 3.11.7's `_ssl` needs `_PyModule_Add`, which 3.11.2 lacks: a later patch release's
            // library does not load into an earlier interpreter.
            if numbers(&found) > numbers(embedded.version) {
                return Err(InterpreterError::Newer {
                    venv,
                    found,
                    embedded: embedded.version,
                });
            }
        }
        venv_home = values
            .iter()
            .find(|(k, _)| k == "home")
            .map(|(_, v)| PathBuf::from(v));
    }
    let (start, source) = match (python_home, venv_home, &cfg) {
        (Some(h), _, _) => (h.to_owned(), Source::PythonHome),
        (None, Some(h), Some(cfg)) => (h, Source::Venv(cfg.clone())),
        _ => (PathBuf::from(embedded.prefix), Source::Build),
    };
    // `home` names the folder of the base interpreter (`<prefix>/bin`): look for the landmark
    // there and one folder up, not further (CPython would walk up to `/`, and on a merged-/usr
    // system find another Python's library in `/lib`). PYTHONHOME is the prefix itself.
    let levels = if matches!(source, Source::Venv(_)) {
        2
    } else {
        1
    };
    let found = start
        .ancestors()
        .take(levels)
        .find(|p| stdlib(p).join("os.py").is_file())
        .map(Path::to_owned);
    match found {
        Some(path) => Ok(Home { path, source }),
        None => Err(InterpreterError::NoStdlib {
            looked: stdlib(match source {
                Source::Venv(_) => start.parent().unwrap_or(&start),
                Source::PythonHome | Source::Build => &start,
            }),
            chosen_by: source,
            embedded: embedded.version,
        }),
    }
}

/// `key = value` lines of a `pyvenv.cfg`, keys lower-cased.
fn parse_cfg(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}

/// `[3, 11, 7]` of `3.11.7` or `3.11.7.final.0`.
fn numbers(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map_while(|p| p.parse().ok())
        .take(3)
        .collect()
}

/// `3.11` of `3.11.7` or `3.11.7.final.0`.
fn minor(version: &str) -> &str {
    let mut dots = version.match_indices('.').map(|(i, _)| i);
    match (dots.next(), dots.next()) {
        (Some(_), Some(second)) => &version[..second],
        _ => version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: Embedded = Embedded {
        version: "3.11.7",
        prefix: "/nonexistent/python-prefix",
    };

    fn install(root: &Path, minor: &str) -> PathBuf {
        let prefix = root.join("python");
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        std::fs::create_dir_all(prefix.join(format!("lib/python{minor}"))).unwrap();
        std::fs::write(prefix.join(format!("lib/python{minor}/os.py")), "").unwrap();
        prefix
    }

    fn venv(root: &Path, home: &Path, version: &str) -> PathBuf {
        let v = root.join("venv");
        std::fs::create_dir_all(&v).unwrap();
        std::fs::write(
            v.join("pyvenv.cfg"),
            format!(
                "home = {}\ninclude-system-site-packages = false\nversion = {version}\n",
                home.display()
            ),
        )
        .unwrap();
        v
    }

    #[test]
    fn the_home_of_a_venv_is_found_from_its_bin_folder() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = install(dir.path(), "3.11");
        let v = venv(dir.path(), &prefix.join("bin"), "3.11.2");
        let home = locate(E, Some(&v), None).unwrap();
        assert_eq!(home.path, prefix);
        assert_eq!(home.source, Source::Venv(v.join("pyvenv.cfg")));
    }

    #[test]
    fn another_minor_version_is_refused_before_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = install(dir.path(), "3.12");
        let v = venv(dir.path(), &prefix.join("bin"), "3.12.1");
        let err = locate(E, Some(&v), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the Python environment `{}` is Python 3.12.1, but this expert-cli embeds Python 3.11.7",
                v.display()
            )
        );
        // virtualenv and uv write `version_info`
        std::fs::write(v.join("pyvenv.cfg"), "version_info = 3.10.4.final.0\n").unwrap();
        assert!(matches!(
            locate(E, Some(&v), None),
            Err(InterpreterError::Version { found, .. }) if found == "3.10.4.final.0"
        ));
    }

    #[test]
    fn a_missing_standard_library_is_an_error_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let v = venv(dir.path(), &gone.join("bin"), "3.11.7");
        let err = locate(E, Some(&v), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`train` needs the standard library of Python 3.11.7 and it is not in `{}` (`home` in `{}`)",
                gone.join("lib/python3.11").display(),
                v.join("pyvenv.cfg").display()
            )
        );
        // no venv: the build-time prefix, which is gone too
        let err = locate(E, None, None).unwrap_err();
        assert!(matches!(
            err,
            InterpreterError::NoStdlib {
                chosen_by: Source::Build,
                ..
            }
        ));
    }

    #[test]
    fn pythonhome_wins_and_is_checked_as_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = install(dir.path(), "3.11");
        let v = venv(dir.path(), &dir.path().join("elsewhere/bin"), "3.11.7");
        let home = locate(E, Some(&v), Some(&prefix)).unwrap();
        assert_eq!(
            (home.path, home.source),
            (prefix.clone(), Source::PythonHome)
        );
        assert!(locate(E, Some(&v), Some(&prefix.join("bin"))).is_err());
    }

    #[test]
    fn a_folder_without_pyvenv_cfg_falls_back_to_the_build_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = install(dir.path(), "3.11");
        let e = Embedded {
            version: "3.11.7",
            prefix: Box::leak(prefix.display().to_string().into_boxed_str()),
        };
        let home = locate(e, Some(dir.path()), None).unwrap();
        assert_eq!((home.path, home.source), (prefix, Source::Build));
    }

    #[test]
    fn a_later_patch_release_is_refused_an_earlier_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = install(dir.path(), "3.11");
        let v = venv(dir.path(), &prefix.join("bin"), "3.11.8");
        assert!(matches!(
            locate(E, Some(&v), None),
            Err(InterpreterError::Newer { found, .. }) if found == "3.11.8"
        ));
        let v = venv(dir.path(), &prefix.join("bin"), "3.11.7.final.0");
        assert!(locate(E, Some(&v), None).is_ok());
        let v = venv(dir.path(), &prefix.join("bin"), "3.11.2");
        assert!(locate(E, Some(&v), None).is_ok());
        assert!(numbers("3.11.10") > numbers("3.11.7"));
    }

    #[test]
    fn minor_versions() {
        assert_eq!(minor("3.11.7"), "3.11");
        assert_eq!(minor("3.11.7.final.0"), "3.11");
        assert_eq!(minor("3.11"), "3.11");
    }
}
