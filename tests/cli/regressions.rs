//! Regression tests for bugs found while hardening (issue #7), one per bug.

use crate::common::{cmd, fixture};

fn tiny(dir: &std::path::Path) {
    for f in ["manifest.json", "README.md"] {
        std::fs::copy(fixture("expert-tiny").join(f), dir.join(f)).unwrap();
    }
    let w = dir.join("weights/qwen306b");
    std::fs::create_dir_all(&w).unwrap();
    for f in ["adapter_model.safetensors", "adapter_config.json"] {
        std::fs::copy(fixture("expert-tiny/weights/qwen306b").join(f), w.join(f)).unwrap();
    }
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `package --output 'a\nb.expert'` wrote the package, then failed on its sidecar (exit 7) and
/// left the package behind. The name is now refused before anything is written.
#[test]
fn an_output_name_the_sidecar_cannot_hold_is_refused_before_writing() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    let before = names(d.path());
    for bad in ["bad\nname.expert", "bad\\name.expert", "bad\rname.expert"] {
        let out = cmd()
            .current_dir(d.path())
            .args(["package", "--output", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("cannot be named in its .sha256 sidecar") && err.lines().count() <= 3,
            "{err}"
        );
        assert_eq!(names(d.path()), before, "{bad:?} left files behind");
    }
}

/// `sign` on a package whose name the sidecar cannot hold rewrote the package and then failed;
/// it is now refused first, with the package unchanged.
#[test]
fn sign_refuses_a_package_name_the_sidecar_cannot_hold_before_rewriting() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "ok.expert"])
        .assert()
        .success();
    std::fs::rename(d.path().join("ok.expert"), d.path().join("a\nb.expert")).unwrap();
    std::fs::remove_file(d.path().join("ok.expert.sha256")).unwrap();
    let bytes = std::fs::read(d.path().join("a\nb.expert")).unwrap();
    let before = names(d.path());
    let key = fixture("signing/seed0-31.pem");
    cmd()
        .current_dir(d.path())
        .args(["sign", "--expert", "a\nb.expert", "--key"])
        .arg(key)
        .assert()
        .code(2);
    assert_eq!(std::fs::read(d.path().join("a\nb.expert")).unwrap(), bytes);
    assert_eq!(names(d.path()), before);
}

/// `verify --trusted-keys DIR` warned about a skipped entry with Rust Debug output
/// ("…: Symlink"); it now says why in words.
#[cfg(unix)]
#[test]
fn a_skipped_trusted_key_is_explained_in_words() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .success();
    let keys = d.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::copy(fixture("signing/seed0-31.pub"), keys.join("a.pub")).unwrap();
    std::os::unix::fs::symlink(fixture("signing/seed0-31.pub"), keys.join("link.pub")).unwrap();
    std::fs::create_dir(keys.join("dir.pub")).unwrap();
    let out = cmd()
        .current_dir(d.path())
        .args(["verify", "--expert", "p.expert", "--trusted-keys", "keys"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("it is a symbolic link"), "{err}");
    assert!(err.contains("it is not a regular file"), "{err}");
    assert!(
        !err.contains("Symlink") && !err.contains("NotAFile"),
        "{err}"
    );
}

/// `verify --trusted-keys FILE` said only "cannot list the trusted-keys directory"; it now
/// gives the reason and what to pass instead.
#[test]
fn trusted_keys_given_a_file_says_why_and_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd()
        .current_dir(d.path())
        .args(["verify", "--expert", "p.expert", "--trusted-keys"])
        .arg(fixture("signing/seed0-31.pub"))
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains("not a directory") && err.contains("hint: "),
        "{err}"
    );
}

/// A FIFO given as the package (`validate x.expert`, `verify`, `sign`) or as a key file blocked
/// forever in `open`; a directory given to `sign` or `verify` was reported as an unusable name
/// or as an altered package (exit 5). All are now "cannot read …" (exit 7) at once.
#[cfg(unix)]
#[test]
fn fifos_and_folders_as_packages_or_keys_are_refused_without_blocking() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    for fifo in ["f.expert", "f.pem", "f.pub"] {
        let c = std::ffi::CString::new(dir.join(fifo).to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }
    std::fs::create_dir(dir.join("folder.expert")).unwrap();
    let key = fixture("signing/seed0-31.pem");
    let key = key.to_str().unwrap();
    let pubkey = fixture("signing/seed0-31.pub");
    let pubkey = pubkey.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["validate", "f.expert"],
            "cannot read `f.expert`: it is not a regular file",
        ),
        (
            &["verify", "--expert", "f.expert", "--pubkey", pubkey],
            "cannot read `f.expert`: it is not a regular file",
        ),
        (
            &["sign", "--expert", "f.expert", "--key", key],
            "cannot read `f.expert`: it is not a regular file",
        ),
        (
            &["sign", "--expert", "f.expert", "--key", "f.pem"],
            "cannot read `f.pem`: it is not a regular file",
        ),
        (
            &["verify", "--expert", "f.expert", "--pubkey", "f.pub"],
            "cannot read `f.pub`: it is not a regular file",
        ),
        (
            &["sign", "--expert", "folder.expert", "--key", key],
            "cannot read `folder.expert`: it is a directory",
        ),
        (
            &["verify", "--expert", "folder.expert", "--pubkey", pubkey],
            "cannot read `folder.expert`: it is a directory",
        ),
    ];
    for (args, want) in cases {
        let out = cmd()
            .current_dir(dir)
            .args(*args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {want}")),
            "{args:?}: {err}"
        );
    }
}

/// `verify --expert manifest.json` said the file "differs from what was signed" (exit 5), and
/// `sign --key k.pub` said only "cannot use key file" (#10.5). A file that is no package now
/// exits 1 saying so, and the key error says what the file holds and what `sign` needs.
#[test]
fn not_a_package_and_a_public_key_for_sign_say_what_they_are() {
    let d = tempfile::tempdir().unwrap();
    tiny(d.path());
    let pubkey = fixture("signing/seed0-31.pub");
    let out = cmd()
        .current_dir(d.path())
        .args(["verify", "--expert", "manifest.json", "--pubkey"])
        .arg(&pubkey)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(
            "error: `manifest.json` is not an .expert package: it is not gzip-compressed\nhint: "
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    cmd()
        .current_dir(d.path())
        .args(["package", "--output", "p.expert"])
        .assert()
        .success();
    let out = cmd()
        .current_dir(d.path())
        .args(["sign", "--expert", "p.expert", "--key"])
        .arg(&pubkey)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is a public key; `sign` needs the secret key")
            && err.contains("seed0-31.pem"),
        "{err}"
    );
}
