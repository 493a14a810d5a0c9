//! The package file before reading: opening it safely, and telling a file that is not an
//! `.expert` package at all from a damaged or altered one. Both are the reader's decisions, so
//! `verify`, `sign` and `validate` ask here instead of deciding for themselves (issue #10: "not
//! a package" is bad input, exit 1; an altered package is invalid, exit 5).

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

use thiserror::Error;

use super::gzip::GZIP_HEADER;
use super::header::MANIFEST_NAME;
use super::read::{read_members_keeping_in, Limits, ReadError, ReadErrorKind, ReadMode};

/// Why a file is not an `.expert` package at all (not the same as an altered one).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NotPackage {
    /// No gzip magic at the start.
    #[error("it is not gzip-compressed")]
    NotGzip,
    /// gzip, but what it holds is not a tar archive.
    #[error("it is gzip-compressed but holds no tar archive ({0})")]
    NotTar(String),
    /// A tar archive without `manifest.json`.
    #[error("it has no manifest.json")]
    NoManifest,
}

/// Why [`open_gzip`] failed.
#[derive(Debug)]
pub enum OpenError {
    /// Opening or reading the file failed (or it is a folder, a FIFO, a device: see
    /// [`open_package`]).
    Io(io::Error),
    /// The file does not start with the gzip magic bytes.
    NotGzip,
}

/// Opens a package file for [`read_members`](super::read_members) or
/// [`read_members_keeping`](super::read_members_keeping): it must be a regular file (a symlink
/// to one is followed). On Unix it is opened with `O_NONBLOCK`, so a FIFO or a device given as
/// the package is refused instead of blocking forever on `open`; the check is made on the
/// opened handle, so nothing can be swapped in between.
///
/// # Errors
///
/// The `io::Error` of opening, or one of kind `InvalidInput` saying "it is a directory" / "it
/// is not a regular file".
pub fn open_package(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() {
        Ok(file)
    } else if meta.is_dir() {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a directory",
        ))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ))
    }
}

/// Opens `path` as a package: a regular file (see [`open_package`]) that starts with the gzip
/// magic bytes, positioned at its start; also returns its length.
///
/// # Errors
///
/// [`OpenError::Io`] when it cannot be opened or read, [`OpenError::NotGzip`] when it does not
/// start with the gzip magic.
pub fn open_gzip(path: &Path) -> Result<(File, u64), OpenError> {
    let mut file = open_package(path).map_err(OpenError::Io)?;
    let len = file.metadata().map_err(OpenError::Io)?.len();
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(OpenError::Io(e)),
        }
    }
    if magic[..got] != GZIP_HEADER[..2] {
        return Err(OpenError::NotGzip);
    }
    file.rewind().map_err(OpenError::Io)?;
    Ok((file, len))
}

/// Tells a file that is not an `.expert` package at all from a damaged or altered one, by
/// reading it again leniently ([`ReadMode::Lenient`], as `validate` does): `Some` when the
/// reader's refusal is of the kind "not a package" (empty, no tar archive inside) or when the
/// archive, read as other tools read it, has no `manifest.json`. For callers whose canonical
/// read refused the file.
pub fn why_not_a_package(path: &Path, limits: &Limits) -> Option<NotPackage> {
    let file = open_package(path).ok()?;
    let lenient =
        read_members_keeping_in(ReadMode::Lenient, io::BufReader::new(file), limits, &|_| {
            false
        });
    match lenient {
        Err(ReadError::NotTar) => Some(NotPackage::NotTar(
            "its first 512 bytes are not a tar header".to_owned(),
        )),
        Err(e) => match e.kind() {
            ReadErrorKind::NotAPackage => Some(NotPackage::NotTar(e.to_string())),
            ReadErrorKind::NonCanonical
            | ReadErrorKind::Unsafe
            | ReadErrorKind::Corrupt
            | ReadErrorKind::OverLimits
            | ReadErrorKind::Io => None,
        },
        Ok(listing) if !listing.members.iter().any(|m| m.path == MANIFEST_NAME) => {
            Some(NotPackage::NoManifest)
        }
        Ok(_) => None,
    }
}
