//! Writing planned [`Member`]s into an archive: each file is streamed once more (read → hash →
//! compress → write) and must still be what the plan hashed, so a file that changes between
//! planning and writing fails the run instead of silently disagreeing with the manifest's
//! digests.
//!
//! Depends on [`super::member`] (what to write) and [`super::write`] (how bytes become an
//! archive); neither depends on this module.

use std::io::{self, Read, Write};

use thiserror::Error;

use super::member::{open_regular, Member, MemberError, Source};
use super::write::{ArchiveWriter, WriteError, WriteOptions};
use crate::digest::HashingWriter;
use crate::progress::Progress;

/// Why writing members failed. The archive is then incomplete and must be discarded, which
/// [`AtomicFile`](crate::fs::AtomicFile) does when dropped uncommitted.
#[derive(Debug, Error)]
pub enum WriteMembersError {
    /// A source file is not usable any more, or changed since it was planned.
    #[error(transparent)]
    Member(#[from] MemberError),
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
/// written. Call [`sort_members`](super::sort_members) first. Progress is reported in member
/// bytes under the label `"packaging"`.
///
/// # Errors
///
/// [`MemberError::Changed`] when a file's size or digest differs from the plan; open and read
/// errors; [`WriteMembersError::Write`] for the writer's errors.
pub fn write_members<W: Write>(
    members: &[Member],
    out: W,
    opts: &WriteOptions,
    progress: &mut dyn Progress,
) -> Result<WriteSummary, WriteMembersError> {
    let total = members.iter().map(|m| m.size).sum();
    progress.start("packaging", total);
    let mut writer = ArchiveWriter::new(HashingWriter::new(out), opts.clone())?;
    let mut written = Vec::with_capacity(members.len());
    for member in members {
        let sha256 = match &member.source {
            Source::Bytes(bytes) => {
                if bytes.len() as u64 != member.size {
                    return Err(WriteMembersError::Inconsistent {
                        path: member.path.clone(),
                    });
                }
                let mut reader = ProgressReader {
                    inner: &bytes[..],
                    progress: &mut *progress,
                };
                let sha256 = writer.append(&member.path, member.size, &mut reader, member.kind)?;
                if sha256 != member.sha256.to_ascii_lowercase() {
                    return Err(WriteMembersError::Inconsistent {
                        path: member.path.clone(),
                    });
                }
                sha256
            }
            Source::File(path) => {
                let (file, meta) = open_regular(path)?;
                let changed = |size, sha256| MemberError::Changed {
                    path: path.clone(),
                    planned_size: member.size,
                    planned_sha256: member.sha256.clone(),
                    size,
                    sha256,
                };
                if meta.len() != member.size {
                    return Err(changed(meta.len(), String::new()).into());
                }
                let mut reader = ProgressReader {
                    inner: file,
                    progress: &mut *progress,
                };
                let sha256 =
                    match writer.append(&member.path, member.size, &mut reader, member.kind) {
                        Ok(sha256) => sha256,
                        Err(WriteError::SizeMismatch { actual, .. }) => {
                            return Err(changed(actual, String::new()).into())
                        }
                        Err(e) => return Err(e.into()),
                    };
                if sha256 != member.sha256.to_ascii_lowercase() {
                    return Err(changed(member.size, sha256).into());
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
    use std::fs;

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
        assert!(
            matches!(err, WriteMembersError::Member(MemberError::Changed { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("changed while packaging"));
        fs::write(&file, b"01234").unwrap(); // other size
        let err = write_members(
            &[member],
            io::sink(),
            &opts,
            &mut crate::progress::NoProgress,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                WriteMembersError::Member(MemberError::Changed { size: 5, .. })
            ),
            "{err}"
        );
    }
}
