//! Writing small output files (migrated manifests) atomically: a temp file in the target's
//! folder, then a rename that refuses to replace an existing file unless --force.

use crate::error::CliError;
use crate::exit::ExitStatus;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".expert-cli-")
        .tempfile_in(dir)
        .map_err(|e| CliError::io("write in", dir, &e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| CliError::io("write", path, &e))?;
    let result = if force {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    result.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            CliError::io("write", path, &e.error)
        }
    })
}

fn exists(path: &Path) -> CliError {
    CliError::new(
        ExitStatus::Exists,
        format!("`{}` already exists", path.display()),
    )
    .hint("pass --force to replace it, or choose another --output")
}
