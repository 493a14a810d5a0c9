//! The package plan: the sorted list of [`Member`]s (name, source, size, digest, kind) that both
//! `package --list-contents` shows and [`write_members`] writes, so a dry run cannot show
//! something the real run would not write (the cargo `package` pattern, STYLE.md §1).
//!
//! Sources on disk are opened without following symlinks and must be regular files; their size
//! and SHA-256 are checked again while writing, so a file that changes between planning and
//! writing fails the run instead of silently disagreeing with the manifest's digests.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::write::{ArchiveWriter, WriteError, WriteOptions};
use crate::digest::{HashingReader, HashingWriter};
use crate::progress::Progress;

/// The member that must come first in every package.
pub const MANIFEST_NAME: &str = "manifest.json";

/// How a member's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    ) -> Result<Member, PlanError> {
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

/// Why planning or writing members failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The source path is a symlink; packages hold regular files only.
    #[error("`{path}` is a symbolic link; only regular files can be packaged")]
    Symlink {
        /// The source path.
        path: PathBuf,
    },
    /// The source path is a directory, device, FIFO or socket.
    #[error("`{path}` is not a regular file")]
    NotRegularFile {
        /// The source path.
        path: PathBuf,
    },
    /// Opening or reading the source failed.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The source path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The source's size or digest differs from the plan.
    #[error("`{path}` changed while packaging (planned {planned_size} bytes, sha256 {planned_sha256}; now {size} bytes, sha256 {sha256})")]
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
    /// An in-memory member's size or digest field does not describe its bytes.
    #[error("planned member `{path}` has a size or digest that does not match its bytes")]
    Inconsistent {
        /// The member name.
        path: String,
    },
    /// The archive writer failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One written member, as recorded in [`WriteSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenMember {
    /// Name inside the archive.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (lower-case hex).
    pub sha256: String,
}

/// What [`write_members`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// SHA-256 (lower-case hex) of the whole `.expert` file.
    pub sha256: String,
    /// Size in bytes of the whole `.expert` file.
    pub size: u64,
    /// The members, in archive order.
    pub members: Vec<WrittenMember>,
}

/// Opens `path` for reading if, and only if, it is a regular file reached without following a
/// symlink. The handle is checked to be the same file that `lstat` saw.
fn open_regular(path: &Path) -> Result<(File, fs::Metadata), PlanError> {
    let read_err = |source| PlanError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(read_err)?;
    if meta.file_type().is_symlink() {
        return Err(PlanError::Symlink {
            path: path.to_owned(),
        });
    }
    if !meta.is_file() {
        return Err(PlanError::NotRegularFile {
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
            return PlanError::Symlink {
                path: path.to_owned(),
            };
        }
        PlanError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    let opened = file.metadata().map_err(read_err)?;
    if !opened.is_file() {
        return Err(PlanError::NotRegularFile {
            path: path.to_owned(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(PlanError::Changed {
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
/// [`PlanError::Symlink`], [`PlanError::NotRegularFile`] or [`PlanError::Read`].
pub fn hash_file(path: &Path) -> Result<(String, u64), PlanError> {
    let (file, _) = open_regular(path)?;
    let mut reader = HashingReader::new(file);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(PlanError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
    Ok(reader.finish())
}

/// Sorts members into archive order: `manifest.json` first, then by the bytes of their names.
pub fn sort_members(members: &mut [Member]) {
    members.sort_by(|a, b| {
        (a.path != MANIFEST_NAME, a.path.as_bytes())
            .cmp(&(b.path != MANIFEST_NAME, b.path.as_bytes()))
    });
}

/// Reports bytes read to a [`Progress`].
struct ProgressReader<'a, R> {
    inner: R,
    progress: &'a mut dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Writes `members`, in the given order, as a `.expert` archive to `out` and returns what was
/// written. Call [`sort_members`] first. Progress is reported in member bytes under the label
/// `"packaging"`.
///
/// # Errors
///
/// [`PlanError::Changed`] when a file's size or digest differs from the plan (the archive is
/// then incomplete and must be discarded, which [`AtomicFile`](super::AtomicFile) does on drop);
/// open and read errors; [`PlanError::Write`] for the writer's errors.
pub fn write_members<W: Write>(
    members: &[Member],
    out: W,
    opts: &WriteOptions,
    progress: &mut dyn Progress,
) -> Result<WriteSummary, PlanError> {
    let total = members.iter().map(|m| m.size).sum();
    progress.start("packaging", total);
    let mut writer = ArchiveWriter::new(HashingWriter::new(out), opts.clone())?;
    let mut written = Vec::with_capacity(members.len());
    for member in members {
        let sha256 = match &member.source {
            Source::Bytes(bytes) => {
                if bytes.len() as u64 != member.size {
                    return Err(PlanError::Inconsistent {
                        path: member.path.clone(),
                    });
                }
                let mut reader = ProgressReader {
                    inner: &bytes[..],
                    progress: &mut *progress,
                };
                let sha256 = writer.append(&member.path, member.size, &mut reader, member.kind)?;
                if sha256 != member.sha256.to_ascii_lowercase() {
                    return Err(PlanError::Inconsistent {
                        path: member.path.clone(),
                    });
                }
                sha256
            }
            Source::File(path) => {
                let (file, meta) = open_regular(path)?;
                let changed = |size, sha256| PlanError::Changed {
                    path: path.clone(),
                    planned_size: member.size,
                    planned_sha256: member.sha256.clone(),
                    size,
                    sha256,
                };
                if meta.len() != member.size {
                    return Err(changed(meta.len(), String::new()));
                }
                let mut reader = ProgressReader {
                    inner: file,
                    progress: &mut *progress,
                };
                let sha256 =
                    match writer.append(&member.path, member.size, &mut reader, member.kind) {
                        Ok(sha256) => sha256,
                        Err(WriteError::SizeMismatch { actual, .. }) => {
                            return Err(changed(actual, String::new()))
                        }
                        Err(e) => return Err(e.into()),
                    };
                if sha256 != member.sha256.to_ascii_lowercase() {
                    return Err(changed(member.size, sha256));
                }
                sha256
            }
        };
        written.push(WrittenMember {
            path: member.path.clone(),
            size: member.size,
            sha256,
        });
    }
    let (_, sha256, size) = writer.finish()?.finish();
    progress.finish();
    Ok(WriteSummary {
        sha256,
        size,
        members: written,
    })
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
        assert!(matches!(hash_file(&link), Err(PlanError::Symlink { .. })));
        assert!(matches!(
            hash_file(dir.path()),
            Err(PlanError::NotRegularFile { .. })
        ));
        assert_eq!(hash_file(&target).unwrap().1, 1);
    }

    #[test]
    fn detects_a_file_changed_after_planning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("adapter_model.safetensors");
        fs::write(&file, b"0123456789").unwrap();
        let member = Member::from_file("adapter_model.safetensors", &file).unwrap();
        fs::write(&file, b"0123456780").unwrap(); // same size, other bytes
        let opts = WriteOptions {
            threads: 1,
            ..WriteOptions::default()
        };
        let err = write_members(
            std::slice::from_ref(&member),
            io::sink(),
            &opts,
            &mut crate::progress::NoProgress,
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::Changed { .. }), "{err}");
        assert!(err.to_string().contains("changed while packaging"));
        fs::write(&file, b"01234").unwrap(); // other size
        let err = write_members(
            &[member],
            io::sink(),
            &opts,
            &mut crate::progress::NoProgress,
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::Changed { size: 5, .. }), "{err}");
    }
}
