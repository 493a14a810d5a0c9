//! #12.1: every command but `train` starts on a machine without Python. The binary links no
//! libpython (`train`'s interpreter is linked in statically, build.rs); validate, package, sign
//! and verify run where every libpython on the machine is unloadable; and `train` checks its
//! Python before starting it and names the one it needs, instead of a Python fatal error.

use crate::common::{cmd, copy_dir, root, skip, tiny_expert};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_expert-cli"))
}

#[test]
fn the_binary_needs_no_libpython_to_start() {
    // What the ELF file asks for (readelf comes with binutils, which links every Rust binary).
    match Command::new("readelf").arg("-d").arg(bin()).output() {
        Ok(out) => {
            assert!(out.status.success(), "{out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            let needed: Vec<&str> = text.lines().filter(|l| l.contains("(NEEDED)")).collect();
            assert!(!needed.is_empty(), "{text}");
            assert!(
                !needed.iter().any(|l| l.contains("python")),
                "the binary needs libpython to start:\n{}",
                needed.join("\n")
            );
        }
        Err(_) => skip("readelf (binutils) is not installed"),
    }
    // And what the loader actually loads, dependencies of dependencies included.
    let out = Command::new(bin())
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let loaded = String::from_utf8_lossy(&out.stdout);
    assert!(loaded.contains("libc.so"), "{loaded}");
    assert!(!loaded.contains("python"), "{loaded}");
}

/// Every `libpython*.so*` where the loader or a Python install would find one.
fn libpythons() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        "/lib",
        "/lib64",
        "/usr/lib",
        "/usr/lib64",
        "/usr/local/lib",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let versions = Path::new(&home).join(".pyenv/versions");
        for v in std::fs::read_dir(versions).into_iter().flatten().flatten() {
            dirs.push(v.path().join("lib"));
        }
    }
    let mut found = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("libpython") && name.contains(".so") {
                if let Ok(real) = e.path().canonicalize() {
                    if !found.contains(&real) {
                        found.push(real);
                    }
                }
            }
        }
    }
    found
}

#[test]
fn validate_package_sign_verify_run_where_no_libpython_loads() {
    // A private mount namespace where every libpython reads as an empty file, as on a machine
    // without Python (a binary that needs one fails there with "file too short", exit 127).
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        skip("`unshare --user --mount` is not available to hide libpython");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("expert-cli");
    std::fs::copy(bin(), &copy).unwrap();
    copy_dir(
        &root().join("examples/multi-model-expert"),
        &dir.path().join("expert"),
    );
    let hidden = libpythons();
    let mut script = String::from("set -eu\n");
    for lib in &hidden {
        script.push_str(&format!(
            "mount --bind /dev/null '{0}'\n[ ! -s '{0}' ]\n",
            lib.display()
        ));
    }
    script.push_str(
        "B=./expert-cli\n\
         $B --version\n\
         $B validate expert\n\
         $B package --manifest expert/manifest.json --model qwen3-0.6b --output p.expert\n\
         $B keygen --output k.pem\n\
         $B sign --expert p.expert --key k.pem\n\
         $B verify --expert p.expert --pubkey k.pub\n\
         $B --format json validate p.expert >/dev/null\n\
         $B completions bash >/dev/null\n",
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", "/usr/bin:/bin")
        .env_remove("PYTHONHOME")
        .env_remove("VIRTUAL_ENV")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "with {} libpython file(s) hidden:\n{}\n{}",
        hidden.len(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("verified"), "{stdout}");
}

/// `train` with `venv` and `PYTHONHOME`; returns (exit code, stderr). Skips when this build has
/// no trainer.
fn train(dir: &Path, venv: &Path, python_home: Option<&str>) -> Option<(i32, String)> {
    let m = tiny_expert(dir);
    let mut c = cmd();
    c.args(["train", "--device", "cpu", "--manifest"])
        .arg(&m)
        .arg("--python-env")
        .arg(venv)
        .env_remove("VIRTUAL_ENV")
        .env_remove("PYTHONHOME");
    if let Some(h) = python_home {
        c.env("PYTHONHOME", h);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    if err.contains("built without the Python trainer") {
        skip("this build has no trainer: no static libpython3.11 was found when it was built");
        return None;
    }
    assert!(
        !err.contains("Fatal Python error"),
        "Python aborted instead of a clear error:\n{err}"
    );
    // Checked before anything is rendered or created.
    assert!(!m.parent().unwrap().join("weights").exists(), "{err}");
    Some((out.status.code().unwrap_or(-1), err))
}

fn fake_venv(dir: &Path, home: &Path, version: &str) -> PathBuf {
    let v = dir.join("venv");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(
        v.join("pyvenv.cfg"),
        format!("home = {}\nversion = {version}\n", home.display()),
    )
    .unwrap();
    v
}

#[test]
fn train_names_the_python_it_needs_for_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fake_venv(dir.path(), Path::new("/usr/bin"), "3.12.1");
    let Some((code, err)) = train(dir.path(), &venv, None) else {
        return;
    };
    assert_eq!(code, 8, "{err}");
    assert!(
        err.contains(&format!(
            "error: the Python environment `{}` is Python 3.12.1, but this expert-cli embeds Python 3.11.",
            venv.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: make one with Python 3.11"), "{err}");

    // A later patch release's extension modules need functions an earlier interpreter lacks.
    let later = tempfile::tempdir().unwrap();
    let venv = fake_venv(later.path(), Path::new("/usr/bin"), "3.11.99");
    let (code, err) = train(later.path(), &venv, None).unwrap();
    assert_eq!(code, 8, "{err}");
    assert!(
        err.contains("is Python 3.11.99, newer than the Python 3.11.")
            && err.contains("hint: make the environment with Python 3.11."),
        "{err}"
    );
}

#[test]
fn train_names_the_python_it_needs_when_its_library_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("uninstalled-python");
    let venv = fake_venv(dir.path(), &gone.join("bin"), "3.11.7");
    let Some((code, err)) = train(dir.path(), &venv, None) else {
        return;
    };
    assert_eq!(code, 8, "{err}");
    assert!(
        err.contains("error: `train` needs the standard library of Python 3.11.")
            && err.contains(&format!(
                "it is not in `{}` (`home` in `{}`)",
                gone.join("lib/python3.11").display(),
                venv.join("pyvenv.cfg").display()
            )),
        "{err}"
    );
    assert!(err.contains("hint: the Python this environment was made with is gone"));

    // PYTHONHOME wins, and is checked the same way.
    let other = tempfile::tempdir().unwrap();
    let venv = fake_venv(other.path(), Path::new("/usr/bin"), "3.11.2");
    let Some((code, err)) = train(other.path(), &venv, Some("/nonexistent/python")) else {
        return;
    };
    assert_eq!(code, 8, "{err}");
    assert!(
        err.contains("it is not in `/nonexistent/python/lib/python3.11` (PYTHONHOME)"),
        "{err}"
    );
}
