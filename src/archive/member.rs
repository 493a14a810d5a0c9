//! Package members: the sorted list of [`Member`]s (name, source, size, digest, kind) that both
//! `package --list-contents` shows and [`write_members`](super::write_members) writes, so a dry
//! run cannot show something the real run would not write (the cargo `package` pattern,
//! STYLE.md §1); and where their bytes may come from: regular files reached without following
//! a symbolic link.
//!
//! In `archive` this module depends only on [`super::header`] (the member order): the writer
//! ([`super::write`]) uses its [`ContentKind`], and [`super::pack`] writes its members; never the
//! other way round.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::header::member_order;
use crate::digest::HashingReader;

/// How a member's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    /// Tensor data (`.safetensors`, `.bin`, `.pt`, `.pth`, `.gguf`, `.ckpt`, `.npy`, `.onnx`):
    /// Huffman coding only, since LZ77 matching finds almost nothing in floats and costs most
    /// of the time (SPEC §9).
    Weights,
    /// Everything else (JSON, tokenizers, README, grammar files): LZ77 + Huffman at the
    /// configured level.
    Text,
}

impl ContentKind {
    /// Classifies a member by the extension of its last path component, case-insensitively.
    pub fn for_path(path: &str) -> ContentKind {
        let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let ext = match file.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
            _ => return ContentKind::Text,
        };
        match ext.as_str() {
            "safetensors" | "bin" | "pt" | "pth" | "gguf" | "ckpt" | "npy" | "onnx" => {
                ContentKind::Weights
            }
            _ => ContentKind::Text,
        }
    }
}

/// Where a member's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A regular file on disk, read when the archive is written.
    File(PathBuf),
    /// Bytes generated in memory (e.g. the packaged `manifest.json`).
    Bytes(Vec<u8>),
}

/// One planned archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The name inside the archive (relative, `/`-separated).
    pub path: String,
    /// Where the bytes come from.
    pub source: Source,
    /// Size in bytes, as planned.
    pub size: u64,
    /// SHA-256 of the bytes (lower-case hex), as planned.
    pub sha256: String,
    /// How the bytes are compressed.
    pub kind: ContentKind,
}

impl Member {
    /// A member whose bytes are in memory; size and digest are computed here.
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Member {
        let path = path.into();
        Member {
            kind: ContentKind::for_path(&path),
            size: bytes.len() as u64,
            sha256: crate::digest::sha256_hex(&bytes),
            source: Source::Bytes(bytes),
            path,
        }
    }

    /// A member read from `file`, hashed now with [`hash_file`].
    ///
    /// # Errors
    ///
    /// As [`hash_file`].
    pub fn from_file(
        path: impl Into<String>,
        file: impl Into<PathBuf>,
    ) -> Result<Member, MemberError> {
        let path = path.into();
        let file = file.into();
        let (sha256, size) = hash_file(&file)?;
        Ok(Member {
            kind: ContentKind::for_path(&path),
            size,
            sha256,
            source: Source::File(file),
            path,
        })
    }
}

/// Why a member's source cannot be used.
#[derive(Debug, Error)]
pub enum MemberError {
    /// The source path is a symlink, or a folder on the way to it is; packages hold regular
    /// files only.
    #[error("`{}` is a symbolic link; packages hold regular files only", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The source path is a directory, device, FIFO or socket.
    #[error("`{}` is not a regular file", path.display())]
    NotRegularFile {
        /// The source path.
        path: PathBuf,
    },
    /// A relative path that would leave its folder (`..`, absolute).
    #[error("`{rel}` leaves the folder `{}`", base.display())]
    Outside {
        /// The folder it is relative to.
        base: PathBuf,
        /// The relative path as written.
        rel: String,
    },
    /// Opening or reading the source failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The source path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The source's size or digest differs from the plan.
    #[error("`{}` changed while packaging (planned {planned_size} bytes, sha256 {planned_sha256}; now {size} bytes, sha256 {sha256})", path.display())]
    Changed {
        /// The source path.
        path: PathBuf,
        /// Size in the plan.
        planned_size: u64,
        /// Digest in the plan.
        planned_sha256: String,
        /// Size found while writing.
        size: u64,
        /// Digest found while writing (empty when the size alone already differed).
        sha256: String,
    },
}

/// Opens `path` for reading if, and only if, it is a regular file reached without following a
/// symlink. The handle is checked to be the same file that `lstat` saw.
pub(super) fn open_regular(path: &Path) -> Result<(File, fs::Metadata), MemberError> {
    let read_err = |source| MemberError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(read_err)?;
    if meta.file_type().is_symlink() {
        return Err(MemberError::Symlink {
            path: path.to_owned(),
        });
    }
    if !meta.is_file() {
        return Err(MemberError::NotRegularFile {
            path: path.to_owned(),
        });
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Refuse a symlink (ELOOP) and never block on a FIFO swapped in after the lstat.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|source| {
        #[cfg(unix)]
        if source.raw_os_error() == Some(libc::ELOOP) {
            return MemberError::Symlink {
                path: path.to_owned(),
            };
        }
        MemberError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    let opened = file.metadata().map_err(read_err)?;
    if !opened.is_file() {
        return Err(MemberError::NotRegularFile {
            path: path.to_owned(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(MemberError::Changed {
                path: path.to_owned(),
                planned_size: meta.len(),
                planned_sha256: String::new(),
                size: opened.len(),
                sha256: String::new(),
            });
        }
    }
    Ok((file, opened))
}

/// Streams the regular file at `path` through SHA-256 and returns `(sha256 hex, size)`.
///
/// # Errors
///
/// [`MemberError::Symlink`], [`MemberError::NotRegularFile`] or [`MemberError::Read`].
pub fn hash_file(path: &Path) -> Result<(String, u64), MemberError> {
    let (file, _) = open_regular(path)?;
    let mut reader = HashingReader::new(file);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(MemberError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
    Ok(reader.finish())
}

/// Sorts members into archive order: `manifest.json` first, then by the bytes of their names
/// (`header::member_order`, the order the canonical reader checks).
pub fn sort_members(members: &mut [Member]) {
    members.sort_by(|a, b| member_order(&a.path, &b.path));
}

/// `base/rel` for a `/`-separated relative path, refusing `..`, an absolute path, and any
/// component that exists as a symbolic link. Components that do not exist are fine: the
/// caller finds out whether the whole path exists.
///
/// # Errors
///
/// [`MemberError::Outside`] or [`MemberError::Symlink`].
pub fn safe_join(base: &Path, rel: &str) -> Result<PathBuf, MemberError> {
    let outside = || MemberError::Outside {
        base: base.to_owned(),
        rel: rel.to_owned(),
    };
    if rel.starts_with('/') || rel.starts_with('\\') || rel.as_bytes().get(1) == Some(&b':') {
        return Err(outside());
    }
    let mut path = base.to_owned();
    for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(outside());
        }
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(MemberError::Symlink { path });
        }
    }
    Ok(path)
}

/// `Some(path)` when `path` is a regular file, `None` when nothing (or a folder) is there.
///
/// # Errors
///
/// [`MemberError::Symlink`] for a link, [`MemberError::NotRegularFile`] for a device, FIFO or
/// socket, [`MemberError::Read`] when it cannot be looked at.
pub fn optional_file(path: &Path) -> Result<Option<PathBuf>, MemberError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(MemberError::Symlink {
            path: path.to_owned(),
        }),
        Ok(m) if m.is_file() => Ok(Some(path.to_owned())),
        Ok(m) if m.is_dir() => Ok(None),
        Ok(_) => Err(MemberError::NotRegularFile {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MemberError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Checks that `path` is a regular file (not a link).
///
/// # Errors
///
/// As [`optional_file`], and [`MemberError::Read`] with `NotFound` when nothing is there.
pub fn regular_file(path: &Path) -> Result<(), MemberError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(MemberError::Symlink {
            path: path.to_owned(),
        }),
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(MemberError::NotRegularFile {
            path: path.to_owned(),
        }),
        Err(source) => Err(MemberError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_extension() {
        for w in [
            "adapter_model.safetensors",
            "a/B.BIN",
            "x.pt",
            "m.gguf",
            "w.pth",
        ] {
            assert_eq!(ContentKind::for_path(w), ContentKind::Weights, "{w}");
        }
        for t in [
            "manifest.json",
            "tokenizer.json",
            "README.md",
            "LICENSE",
            ".bin",
            "bin",
            "a.bin/x",
        ] {
            assert_eq!(ContentKind::for_path(t), ContentKind::Text, "{t}");
        }
    }

    #[test]
    fn sorts_manifest_first_then_bytes() {
        let mut members: Vec<Member> = ["b", "Z", "manifest.json", "a/b", "a"]
            .into_iter()
            .map(|p| Member::from_bytes(p, Vec::new()))
            .collect();
        sort_members(&mut members);
        let order: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(order, ["manifest.json", "Z", "a", "a/b", "b"]);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        fs::write(&target, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(hash_file(&link), Err(MemberError::Symlink { .. })));
        assert!(matches!(
            hash_file(dir.path()),
            Err(MemberError::NotRegularFile { .. })
        ));
        assert_eq!(hash_file(&target).unwrap().1, 1);
        assert!(matches!(
            safe_join(dir.path(), "l/x"),
            Err(MemberError::Symlink { .. })
        ));
        assert!(matches!(
            optional_file(&link),
            Err(MemberError::Symlink { .. })
        ));
    }

    #[test]
    fn safe_join_stays_inside() {
        let base = Path::new("/e");
        assert_eq!(
            safe_join(base, "./weights//a").unwrap(),
            Path::new("/e/weights/a")
        );
        for bad in ["../x", "a/../../x", "/etc", "C:/x"] {
            assert!(
                matches!(safe_join(base, bad), Err(MemberError::Outside { .. })),
                "{bad}"
            );
        }
    }
}
