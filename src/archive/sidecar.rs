//! The `<output>.sha256` sidecar in `sha256sum` format.
//!
//! Naming rule: `.sha256` is appended to the *whole* file name (`x.v1.expert` →
//! `x.v1.expert.sha256`, `foo` → `foo.sha256`, `foo.tar.gz` → `foo.tar.gz.sha256`), unlike
//! upstream, which replaced the last extension (`reference/upstream-packaging.md` §3.1). The
//! content is `<64 hex>  <basename>\n`, so `sha256sum -c` passes when run in the file's
//! directory. It is written atomically and always replaces an older sidecar, since it describes
//! the file just written.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fs::{AtomicError, AtomicFile};

/// Why the sidecar could not be written.
#[derive(Debug, Error)]
pub enum SidecarError {
    /// The digest is not 64 hex digits.
    #[error("`{digest}` is not a SHA-256 digest (64 hex digits)")]
    BadDigest {
        /// The value given.
        digest: String,
    },
    /// The output's file name cannot be written in a plain `sha256sum` line.
    #[error("`{path}` has no file name usable in a checksum file (empty, or contains a newline or backslash)")]
    UnsupportedName {
        /// The output path.
        path: PathBuf,
    },
    /// Writing the sidecar failed.
    #[error(transparent)]
    Write(#[from] AtomicError),
}

/// The sidecar path for `output`: `.sha256` appended to the full file name.
pub fn sidecar_path(output: &Path) -> PathBuf {
    let mut name: OsString = output.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Checks that `output`'s file name can be written in a sidecar (no newline, carriage return or
/// backslash, which `sha256sum` would need its escape syntax for). Commands call it before
/// writing `output`, so a name the sidecar cannot hold is refused before anything is written.
///
/// # Errors
///
/// [`SidecarError::UnsupportedName`].
pub fn check_sidecar_name(output: &Path) -> Result<(), SidecarError> {
    sidecar_name(output).map(|_| ())
}

fn sidecar_name(output: &Path) -> Result<&[u8], SidecarError> {
    let unsupported = || SidecarError::UnsupportedName {
        path: output.to_owned(),
    };
    let base = output.file_name().ok_or_else(unsupported)?;
    let base = base.as_encoded_bytes();
    if base.is_empty() || base.iter().any(|b| matches!(b, b'\n' | b'\r' | b'\\')) {
        return Err(unsupported());
    }
    Ok(base)
}

/// Writes `<sidecar_path(output)>` containing `<sha256>  <basename of output>\n`, atomically,
/// replacing any older sidecar. Returns the sidecar's path.
///
/// # Errors
///
/// [`SidecarError::BadDigest`], [`SidecarError::UnsupportedName`] (the `sha256sum` escape syntax
/// is not produced), or [`SidecarError::Write`].
pub fn write_sidecar(output: &Path, sha256: &str) -> Result<PathBuf, SidecarError> {
    if !crate::digest::is_sha256_hex(sha256) {
        return Err(SidecarError::BadDigest {
            digest: sha256.to_owned(),
        });
    }
    let base = sidecar_name(output)?;
    let mut line = Vec::with_capacity(base.len() + 67);
    line.extend_from_slice(sha256.to_ascii_lowercase().as_bytes());
    line.extend_from_slice(b"  ");
    line.extend_from_slice(base);
    line.push(b'\n');
    let path = sidecar_path(output);
    let io_err = |source| AtomicError::Io {
        path: path.clone(),
        source,
    };
    let mut file = AtomicFile::create(&path, true)?;
    file.write_all(&line).map_err(io_err)?;
    file.commit()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_to_the_whole_name() {
        assert_eq!(
            sidecar_path(Path::new("d/x.v1.expert")),
            Path::new("d/x.v1.expert.sha256")
        );
        assert_eq!(sidecar_path(Path::new("foo")), Path::new("foo.sha256"));
        assert_eq!(
            sidecar_path(Path::new("foo.tar.gz")),
            Path::new("foo.tar.gz.sha256")
        );
    }

    #[test]
    fn writes_sha256sum_format_and_passes_sha256sum_check() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("e.v0.1.0.expert");
        std::fs::write(&out, b"abc").unwrap();
        let digest = crate::digest::sha256_hex(b"abc");
        let side = write_sidecar(&out, &digest).unwrap();
        let text = std::fs::read_to_string(&side).unwrap();
        assert_eq!(text, format!("{digest}  e.v0.1.0.expert\n"));
        // When sha256sum is missing, the exact-content check above still ran. (No print here:
        // library sources stay free of print macros, tests/cli/layering.rs.)
        if let Ok(o) = std::process::Command::new("sha256sum")
            .arg("-c")
            .arg(&side)
            .current_dir(dir.path())
            .output()
        {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        }
        assert!(matches!(
            write_sidecar(&out, "xyz"),
            Err(SidecarError::BadDigest { .. })
        ));
        let bad = dir.path().join("a\nb");
        assert!(matches!(
            write_sidecar(&bad, &digest),
            Err(SidecarError::UnsupportedName { .. })
        ));
        assert!(check_sidecar_name(&bad).is_err());
        assert!(check_sidecar_name(&dir.path().join("a\\b")).is_err());
        assert!(check_sidecar_name(&out).is_ok());
    }
}
