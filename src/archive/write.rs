//! The deterministic, streaming `.expert` writer: GNU tar headers with fixed fields inside one
//! gzip member whose compression follows each member's [`ContentKind`].
//!
//! The writer never looks at the file system, the clock or the environment: every byte it writes
//! comes from its arguments, so the same calls give the same bytes (`docs/ARCHIVE_FORMAT.md`).

use std::collections::BTreeSet;
use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::gzip::{GzError, Mode, SegmentedGzip};
use super::header::{member_headers, padding, BLOCK, END_OF_ARCHIVE};
use super::member::ContentKind;
use crate::names::{check_member_name, display_name, NameProblem};

/// The default member mtime: 1980-01-01T00:00:00Z.
///
/// Not zero, following cargo's `cargo package`: some tools treat an mtime of 0 as "unset" and
/// replace it with the current time on extraction, which breaks reproducible rebuilds
/// (rust-lang/cargo#9512). 1980 is also the earliest time a ZIP can store.
pub const DEFAULT_MTIME: u64 = 315_532_800;

/// The default zlib level for [`ContentKind::Text`] members.
pub const DEFAULT_LEVEL: u32 = 6;

/// Size of the buffer member data is read through.
const READ_BUF: usize = 256 * 1024;

/// How an archive is written. Nothing here changes which bytes are written except `mtime` and
/// `level`; `threads` only changes how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// The mtime stored in every header, in seconds since the Unix epoch. Callers pass
    /// `SOURCE_DATE_EPOCH` when it is set, else [`DEFAULT_MTIME`].
    pub mtime: u64,
    /// zlib level (1..=9) for [`ContentKind::Text`] members; clamped into that range.
    pub level: u32,
    /// Compression threads; 0 or 1 compresses on the calling thread.
    pub threads: usize,
}

impl Default for WriteOptions {
    /// [`DEFAULT_MTIME`], [`DEFAULT_LEVEL`], and one thread per core up to 4.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        WriteOptions {
            mtime: DEFAULT_MTIME,
            level: DEFAULT_LEVEL,
            threads: cores.min(4),
        }
    }
}

/// Why writing an archive failed.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The member name breaks the member-name rule.
    #[error("cannot add `{}` to the package: {problem}", display_name(path))]
    InvalidName {
        /// The refused name.
        path: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// The member name was already added.
    #[error("cannot add `{}` to the package twice", display_name(path))]
    DuplicateName {
        /// The repeated name.
        path: String,
    },
    /// The data reader gave more or fewer bytes than the size passed to `append`.
    #[error("`{path}` gave {actual} bytes where {expected} were expected; did it change while packaging?")]
    SizeMismatch {
        /// The member.
        path: String,
        /// The size passed to `append`.
        expected: u64,
        /// How many bytes the reader gave (when too many: the count at which reading stopped).
        actual: u64,
    },
    /// Reading a member's data failed.
    #[error("reading `{path}` failed: {source}")]
    Read {
        /// The member.
        path: String,
        /// The reader's error.
        source: io::Error,
    },
    /// Writing the compressed output failed.
    #[error("writing the package failed: {0}")]
    Write(#[source] io::Error),
    /// The deflate encoder failed.
    #[error("compressing the package failed: {0}")]
    Compress(String),
    /// An earlier `append` failed part-way, so the archive is incomplete.
    #[error("the package is incomplete after an earlier error and cannot be continued")]
    Broken,
}

impl From<GzError> for WriteError {
    fn from(e: GzError) -> Self {
        match e {
            GzError::Io(e) => WriteError::Write(e),
            GzError::Compress(e) => WriteError::Compress(e),
        }
    }
}

/// An incremental writer of deterministic `.expert` archives (tar inside gzip).
///
/// Members are written in the order [`append`](Self::append) is called; callers order them with
/// [`sort_members`](super::sort_members) first. Nothing is buffered beyond a few MiB.
pub struct ArchiveWriter<W: Write> {
    gz: SegmentedGzip<W>,
    mtime: u64,
    text_mode: Mode,
    names: BTreeSet<String>,
    buf: Vec<u8>,
    broken: bool,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive on `out` (the gzip header is written at once).
    ///
    /// # Errors
    ///
    /// [`WriteError::Write`] if the header cannot be written or a thread cannot be started.
    pub fn new(out: W, opts: WriteOptions) -> Result<Self, WriteError> {
        let level = opts.level.clamp(1, 9) as i32;
        Ok(ArchiveWriter {
            gz: SegmentedGzip::new(out, opts.threads)?,
            mtime: opts.mtime,
            text_mode: Mode::Lz(level),
            names: BTreeSet::new(),
            buf: vec![0; READ_BUF],
            broken: false,
        })
    }

    /// Appends one regular-file member named `path` with `size` bytes read from `data`, and
    /// returns the SHA-256 (lower-case hex) of those bytes.
    ///
    /// # Errors
    ///
    /// [`WriteError::InvalidName`] and [`WriteError::DuplicateName`] leave the archive usable.
    /// Any other error ([`WriteError::SizeMismatch`] when `data` gives a different number of bytes
    /// than `size`, read, write or compression errors) leaves it incomplete: later calls return
    /// [`WriteError::Broken`].
    pub fn append(
        &mut self,
        path: &str,
        size: u64,
        data: &mut dyn Read,
        kind: ContentKind,
    ) -> Result<String, WriteError> {
        if self.broken {
            return Err(WriteError::Broken);
        }
        check_member_name(path).map_err(|problem| WriteError::InvalidName {
            path: path.to_owned(),
            problem,
        })?;
        if self.names.contains(path) {
            return Err(WriteError::DuplicateName {
                path: path.to_owned(),
            });
        }
        self.broken = true;
        let digest = self.append_unchecked(path, size, data, kind)?;
        self.broken = false;
        self.names.insert(path.to_owned());
        Ok(digest)
    }

    fn append_unchecked(
        &mut self,
        path: &str,
        size: u64,
        data: &mut dyn Read,
        kind: ContentKind,
    ) -> Result<String, WriteError> {
        let headers = member_headers(path, size, self.mtime);
        self.gz.push(&headers, self.text_mode)?;
        let mode = match kind {
            ContentKind::Weights => Mode::HuffmanOnly,
            ContentKind::Text => self.text_mode,
        };
        let mut hasher = Sha256::new();
        let mut done: u64 = 0;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(WriteError::Read {
                        path: path.to_owned(),
                        source,
                    })
                }
            };
            let chunk = &self.buf[..n];
            done += n as u64;
            if done > size {
                return Err(WriteError::SizeMismatch {
                    path: path.to_owned(),
                    expected: size,
                    actual: done,
                });
            }
            hasher.update(chunk);
            self.gz.push(chunk, mode)?;
        }
        if done != size {
            return Err(WriteError::SizeMismatch {
                path: path.to_owned(),
                expected: size,
                actual: done,
            });
        }
        let pad = padding(size);
        self.gz.push(&[0u8; BLOCK][..pad], self.text_mode)?;
        Ok(hex::encode(hasher.finalize()))
    }

    /// Ends the archive (two zero blocks, the last deflate block, the gzip trailer), flushes and
    /// returns the output.
    ///
    /// # Errors
    ///
    /// [`WriteError::Broken`] after a failed `append`; write or compression errors.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.broken {
            return Err(WriteError::Broken);
        }
        self.gz.push(&END_OF_ARCHIVE, self.text_mode)?;
        Ok(self.gz.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(threads: usize) -> WriteOptions {
        WriteOptions {
            threads,
            ..WriteOptions::default()
        }
    }

    fn build(threads: usize, members: &[(&str, &[u8], ContentKind)]) -> Vec<u8> {
        let mut w = ArchiveWriter::new(Vec::new(), opts(threads)).unwrap();
        for (path, data, kind) in members {
            let mut r = *data;
            w.append(path, data.len() as u64, &mut r, *kind).unwrap();
        }
        w.finish().unwrap()
    }

    fn pseudo_weights(n: usize) -> Vec<u8> {
        let mut s: u32 = 12345;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if i % 2 == 1 {
                    0x3c + ((s >> 30) as u8)
                } else {
                    (s >> 16) as u8
                }
            })
            .collect()
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let weights = pseudo_weights(3 * super::super::gzip::SEGMENT_SIZE + 777);
        let members: Vec<(&str, &[u8], ContentKind)> = vec![
            ("manifest.json", b"{\"name\": \"x\"}\n", ContentKind::Text),
            ("adapter_model.safetensors", &weights, ContentKind::Weights),
            ("z.txt", b"hello hello hello", ContentKind::Text),
        ];
        let one = build(1, &members);
        assert_eq!(one, build(2, &members));
        assert_eq!(one, build(4, &members));
        // and it is a gzip stream flate2 decodes, with the tar payload inside
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&one[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain.len() % BLOCK, 0);
        assert_eq!(&plain[..13], b"manifest.json");
    }

    #[test]
    fn size_mismatch_is_reported_and_breaks_the_archive() {
        let mut w = ArchiveWriter::new(Vec::new(), opts(1)).unwrap();
        let err = w
            .append("a", 5, &mut &b"abc"[..], ContentKind::Text)
            .unwrap_err();
        assert!(
            matches!(
                err,
                WriteError::SizeMismatch {
                    expected: 5,
                    actual: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = w
            .append("b", 1, &mut &b"x"[..], ContentKind::Text)
            .unwrap_err();
        assert!(matches!(err, WriteError::Broken));
        let mut w = ArchiveWriter::new(Vec::new(), opts(1)).unwrap();
        let err = w
            .append("a", 2, &mut &b"abc"[..], ContentKind::Text)
            .unwrap_err();
        assert!(
            matches!(err, WriteError::SizeMismatch { expected: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn bad_and_duplicate_names_are_refused_without_breaking() {
        let mut w = ArchiveWriter::new(Vec::new(), opts(1)).unwrap();
        for bad in ["../x", "/etc/x", "", "a\\b", "a//b"] {
            let err = w
                .append(bad, 0, &mut io::empty(), ContentKind::Text)
                .unwrap_err();
            assert!(
                matches!(err, WriteError::InvalidName { .. }),
                "{bad:?}: {err}"
            );
        }
        w.append("a", 0, &mut io::empty(), ContentKind::Text)
            .unwrap();
        let err = w
            .append("a", 0, &mut io::empty(), ContentKind::Text)
            .unwrap_err();
        assert!(matches!(err, WriteError::DuplicateName { .. }));
        w.finish().unwrap();
    }
}
