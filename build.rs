//! Build script: links the Python interpreter that `train` embeds, so that no other command
//! needs Python on the machine (#12.1, SPEC §0 "No libpython at start").
//!
//! With the `python` feature, `.cargo/config.toml` points PyO3 at `.cargo/pyo3-static.cfg`: a
//! static CPython 3.11 and no link lines from PyO3. This script then finds that Python's static
//! library (`libpython3.11.a`, or Debian's position-independent `libpython3.11-pic.a`) through
//! `sysconfig` of `$PYO3_PYTHON`, `python3` or `python3.11`, links all of it, and exports the
//! `Py*` symbols so the extension modules Python loads at run time (its `lib-dynload`, torch)
//! resolve against the interpreter inside the binary. It also records the interpreter's version
//! and prefix, which `train` checks before starting Python (src/train/interpreter.rs).
//!
//! No static library found: a warning, and the binary is built without the trainer (`train`
//! says so and how to get it; `--dry-run` and `--emit-plan` still work). Nothing here ever makes
//! the binary depend on `libpython*.so`, except a PyO3 configuration this script does not own
//! (no `PYO3_CONFIG_FILE`, e.g. `cargo install --git` run outside this repository), which gets a
//! warning naming the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cfg the bridge is compiled under: set only when the interpreter is linked.
const CFG: &str = "embedded_python";

fn main() {
    println!("cargo::rustc-check-cfg=cfg({CFG})");
    println!("cargo::rerun-if-changed=build.rs");
    for var in ["PYO3_CONFIG_FILE", "PYO3_PYTHON", "CARGO_FEATURE_PYTHON"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    // For `--version`: which Python `train` runs, if any.
    let trainer = match configure() {
        Some(version) => format!("Python {version} linked in"),
        None => "built without the trainer".to_owned(),
    };
    println!("cargo::rustc-env=EXPERT_CLI_TRAINER={trainer}");
}

/// Links the interpreter when the `python` feature asks for it; returns its version.
fn configure() -> Option<String> {
    std::env::var_os("CARGO_FEATURE_PYTHON")?;
    let Some(config) = std::env::var_os("PYO3_CONFIG_FILE").map(PathBuf::from) else {
        // PyO3 finds and links a Python by itself: the shared library, as before #12.1.
        warn("PYO3_CONFIG_FILE is not set, so PyO3 links libpython dynamically and every command will need it at start; build inside the repository (its .cargo/config.toml sets it), or pass --no-default-features for a binary without `train`");
        println!("cargo::rustc-cfg={CFG}");
        let python = find_python(None)?;
        record(&python);
        return Some(python.full_version);
    };
    println!("cargo::rerun-if-changed={}", config.display());
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .map(str::to_owned)
    };
    if value("suppress_build_script_link_lines").as_deref() != Some("true") {
        // Someone else's configuration: PyO3 links what it describes.
        if value("shared").as_deref() != Some("false") {
            warn(&format!(
                "`{}` makes PyO3 link libpython dynamically: every command will need it at start",
                config.display()
            ));
        }
        println!("cargo::rustc-cfg={CFG}");
        let python = find_python(None)?;
        record(&python);
        return Some(python.full_version);
    }
    let version = value("version").unwrap_or_else(|| "3.11".to_owned());
    let Some(python) = find_python(Some(&version)) else {
        warn(&format!(
            "no static library of Python {version} was found (libpython{version}.a of $PYO3_PYTHON, python3 or python{version}): building without the trainer, `train` will say so; install one (Debian: apt-get install libpython{version}-dev) and rebuild"
        ));
        return None;
    };
    let archive = python
        .static_library()
        .expect("find_python keeps only Pythons with a static library");
    println!("cargo::rerun-if-changed={}", archive.display());
    let dir = archive.parent().expect("a file has a parent folder");
    let name = archive
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("lib"))
        .expect("the name was built as lib<name>.a");
    println!("cargo::rustc-link-search=native={}", dir.display());
    // All of it: extension modules call C API functions the binary itself never does.
    println!("cargo::rustc-link-lib=static:+whole-archive,-bundle={name}");
    // What libpython itself links against (libm, libdl, and on Debian zlib and expat).
    let mut seen = Vec::new();
    for flag in python.libs.split_whitespace() {
        if let Some(lib) = flag.strip_prefix("-l") {
            if !seen.contains(&lib) {
                seen.push(lib);
                println!("cargo::rustc-link-lib={lib}");
            }
        }
    }
    // Export the C API (Py*, _Py*) for extension modules; Rust's own symbols stay local.
    for glob in ["Py*", "_Py*"] {
        println!("cargo::rustc-link-arg=-Wl,--export-dynamic-symbol={glob}");
    }
    record(&python);
    println!("cargo::rustc-cfg={CFG}");
    Some(python.full_version)
}

/// A Python installation as its `sysconfig` describes it.
struct Python {
    version: String,
    full_version: String,
    prefix: String,
    dirs: Vec<PathBuf>,
    library: String,
    libs: String,
}

impl Python {
    /// The position-independent static library, when this installation has one.
    fn static_library(&self) -> Option<PathBuf> {
        let pic = self.library.replace(".a", "-pic.a");
        for dir in &self.dirs {
            for name in [&pic, &self.library] {
                let path = dir.join(name);
                if name.ends_with(".a") && path.is_file() {
                    return Some(path);
                }
            }
        }
        None
    }
}

/// The first of `$PYO3_PYTHON`, `python3`, `python<version>` that is `version` (when given)
/// and, when a version is asked for, has a static library.
fn find_python(version: Option<&str>) -> Option<Python> {
    let mut candidates: Vec<String> = Vec::new();
    if let Some(p) = std::env::var_os("PYO3_PYTHON") {
        candidates.push(p.to_string_lossy().into_owned());
    }
    candidates.push("python3".to_owned());
    if let Some(v) = version {
        candidates.push(format!("python{v}"));
    }
    candidates.into_iter().find_map(|exe| {
        let python = query(&exe)?;
        match version {
            None => Some(python),
            Some(v) if python.version == v && python.static_library().is_some() => Some(python),
            Some(_) => None,
        }
    })
}

/// Asks `exe` for its version, prefix, library folders and link flags.
fn query(exe: &str) -> Option<Python> {
    const SCRIPT: &str = "import sys, sysconfig as s\n\
        v = lambda k: s.get_config_var(k) or ''\n\
        print(v('VERSION'))\n\
        print('%d.%d.%d' % sys.version_info[:3])\n\
        print(sys.base_prefix)\n\
        print(v('LIBPL'))\n\
        print(v('LIBDIR'))\n\
        print(v('LIBDIR') + '/' + v('MULTIARCH') if v('MULTIARCH') else '')\n\
        print(v('LIBRARY'))\n\
        print(' '.join([v('LIBS'), v('SYSLIBS'), v('MODLIBS')]))";
    let out = Command::new(exe).args(["-c", SCRIPT]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let [version, full_version, prefix, libpl, libdir, multiarch, library, libs] = lines[..] else {
        return None;
    };
    Some(Python {
        version: version.to_owned(),
        full_version: full_version.to_owned(),
        prefix: prefix.to_owned(),
        dirs: [libpl, libdir, multiarch]
            .iter()
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).to_owned())
            .collect(),
        library: library.to_owned(),
        libs: libs.to_owned(),
    })
}

/// The embedded interpreter's version and home, for `train`'s check before starting Python.
fn record(python: &Python) {
    println!(
        "cargo::rustc-env=EXPERT_CLI_PYTHON_VERSION={}",
        python.full_version
    );
    println!(
        "cargo::rustc-env=EXPERT_CLI_PYTHON_PREFIX={}",
        python.prefix
    );
}

fn warn(message: &str) {
    println!("cargo::warning={message}");
}
