//! The hardened streaming reader: one pass over gzip + tar with fixed buffers, in one of two
//! [`ReadMode`]s.
//!
//! - [`ReadMode::Canonical`] (what `verify` and `sign` use, and what [`read_members`] and
//!   [`read_members_keeping`] do):
//!   only the bytes our writer can produce are accepted. The gzip header must be the writer's
//!   fixed 10 bytes, the member the only one; every tar header must be byte for byte the header
//!   [`header::member_headers`] builds for that member's name, size and mtime (one mtime for the
//!   whole archive), members in the writer's order, padding zero, and the archive must end with
//!   exactly the writer's two zero blocks. Anything else is a [`ReadError::NonCanonical`] naming
//!   the member and the field. The reason (issue #10): a signature binds the members *as this
//!   reader sees them*, and on any other byte sequence GNU tar, Python's `tarfile` and this
//!   reader can see different files.
//! - [`ReadMode::Lenient`] (what `validate` uses): well-formed tar from other tools is read (GNU
//!   long names, pax `path`/`size`, ustar prefixes, directory entries), and the first
//!   difference from the canonical form is reported in [`Listing::non_canonical`] instead of
//!   refusing.
//!
//! Both modes refuse, each with its own [`ReadError`] variant, what is unsafe whatever the
//! form: a bad name, a link, a device, a duplicate, a size over the [`Limits`], a truncated or
//! corrupt stream, data after the gzip member. Neither ever writes to the file system or
//! repairs. SPEC §0 and §6, `reference/upstream-packaging.md` §7 items 8 and 9, §8.4 V10–V13.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read};

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::gzip::{GzFault, GzipReader, SourceError, GZIP_HEADER};
use super::header::{self, BLOCK, NAME_FIELD};
use crate::names::{check_member_name, display_bytes, display_name, NameProblem, MAX_NAME_LEN};

/// Largest pax extended header or GNU long-name entry accepted.
const MAX_EXTENSION: u64 = 64 * 1024;
/// Most extension headers accepted before one real entry.
const MAX_EXTENSIONS_IN_A_ROW: usize = 8;
/// Most zero bytes accepted after the end-of-archive marker (tar pads to its record size).
const MAX_END_PADDING: u64 = 1 << 20;
const DATA_BUF: usize = 64 * 1024;

/// How strictly a package is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Only what our writer produces; any other byte is a [`ReadError::NonCanonical`]. For
    /// every decision about trust (`verify`, `sign`).
    Canonical,
    /// Well-formed tar from other tools too; the first difference from the canonical form is
    /// reported in [`Listing::non_canonical`]. For explaining a package (`validate`).
    Lenient,
}

/// Bounds on what [`read_members`] and [`read_members_keeping`] accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files and directories).
    pub max_members: usize,
    /// Largest single member, in bytes.
    pub max_member_size: u64,
    /// Largest sum of member sizes, in bytes: the decompression-bomb bound.
    pub max_total_size: u64,
    /// Largest member whose bytes [`read_members_keeping`] keeps in memory ([`read_members`]
    /// ignores it: its callback decides what to hold).
    pub max_kept_size: u64,
}

impl Default for Limits {
    /// 10,000 members, 32 GiB per member, 64 GiB in total, 16 MiB per kept member. A LoRA adapter
    /// for a 70B model is a few GiB; the bounds leave room for full fine-tunes while stopping a
    /// bomb before it fills a disk or runs for hours.
    fn default() -> Self {
        Limits {
            max_members: 10_000,
            max_member_size: 32 << 30,
            max_total_size: 64 << 30,
            max_kept_size: 16 << 20,
        }
    }
}

/// One member as found in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Name inside the archive.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes (lower-case hex).
    pub sha256: String,
}

/// What [`read_members`] tells its callback about a member before the callback reads its
/// bytes.
///
/// Only names and sizes that passed every check reach the callback: the name rule, the entry
/// type, the duplicate check, the [`Limits`] and, in canonical mode, the header comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHead {
    /// Name inside the archive.
    pub path: String,
    /// Size in bytes: exactly what the callback's reader yields.
    pub size: u64,
}

/// Why [`read_members`] stopped: the package was refused, or the callback failed.
#[derive(Debug, Error)]
pub enum ReadMembersError<E: std::error::Error + 'static> {
    /// The package was refused. Takes precedence over a callback error caused by it (a callback
    /// whose read failed because the stream was truncated gets [`ReadError::Truncated`] here).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The callback returned an error for member `path`.
    #[error("processing member `{}` failed: {source}", display_name(path))]
    Member {
        /// The member the callback was given.
        path: String,
        /// The callback's error.
        #[source]
        source: E,
    },
}

/// What reading a package found: every member with its digest, the bytes of the members
/// [`read_members_keeping`] was asked to keep, and how the package differs from the canonical
/// form. One type for both readers ([`read_members`] keeps nothing itself: its callback sees
/// the bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Every regular-file member, in archive order.
    pub members: Vec<MemberInfo>,
    /// The bytes of the members selected by `keep` ([`read_members_keeping`]); empty for
    /// [`read_members`].
    pub kept: BTreeMap<String, Vec<u8>>,
    /// [`ReadMode::Lenient`]: the first way in which the package differs from what our writer
    /// produces, if it does. Always `None` in canonical mode, which refuses instead.
    pub non_canonical: Option<NonCanonical>,
    /// The mtime of the first member's header: in canonical mode the one mtime of every header
    /// (what the writer was given), so a rewrite with it leaves every header as it was. `None`
    /// for an archive without members.
    pub mtime: Option<u64>,
}

/// The broad reason a package was refused, for callers that map refusals to outcomes (the
/// signing layer: "not a package" is bad input, everything else an invalid package).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// Not a package at all: empty, not gzip, not a tar archive (or, decided by the caller,
    /// no `manifest.json`).
    NotAPackage,
    /// A well-formed archive that our writer did not produce: another tool's, or an altered
    /// one (other header fields, pax or directory entries, trailing data).
    NonCanonical,
    /// An archive holding what no package may hold, whoever made it: links, devices, names that
    /// leave the folder or are not valid, a name twice. Refused as hostile, not as foreign.
    Unsafe,
    /// Damaged: corrupt compressed data, a checksum that does not match, a truncated stream, a
    /// malformed tar header.
    Corrupt,
    /// Over the [`Limits`].
    OverLimits,
    /// Reading the input failed.
    Io,
}

/// Which header block of a member differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderBlock {
    /// The member's own header.
    Member,
    /// The GNU long-name (`././@LongLink`) header before it.
    LongName,
}

/// How a package differs from what our writer produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The gzip header is not the writer's fixed 10 bytes.
    GzipHeader {
        /// The first 10 bytes found.
        found: [u8; 10],
    },
    /// A directory entry (the writer adds none).
    Directory,
    /// A pax extended header (`x`), which the writer never uses.
    PaxHeader,
    /// A pax global header (`g`), which the writer never uses.
    PaxGlobalHeader,
    /// A GNU long link name (`K`), which the writer never uses.
    LongLinkName,
    /// A header field differs from what the writer writes for this name, size and mtime.
    HeaderField {
        /// The header block.
        block: HeaderBlock,
        /// The field's name (`magic`, `uid`, `prefix`, … as in `header::FIELDS`).
        field: &'static str,
        /// Its bytes in the archive.
        found: Vec<u8>,
        /// The writer's bytes.
        expected: Vec<u8>,
    },
    /// A GNU long-name entry whose data is not exactly the name, one NUL and zero padding.
    LongNameData,
    /// A GNU long-name entry for a name that fits the 100-byte name field.
    UnneededLongName,
    /// A GNU long-name entry that is not followed by a regular-file header.
    LongNameAlone,
    /// Non-zero bytes in the padding after a member's data.
    Padding,
    /// A member out of the writer's order.
    Order {
        /// The member before it.
        previous: String,
    },
    /// The end-of-archive marker is a single zero block.
    OneEndBlock,
    /// More zero bytes than the two end blocks, or data after them.
    AfterEnd,
}

/// A difference from the canonical form, and the member it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonCanonical {
    /// The member (its name as found), when the difference is in or before one.
    pub member: Option<String>,
    /// What differs.
    pub difference: Difference,
}

/// Renders a header field's bytes for a message: `nothing (all zero bytes)`, or the bytes in
/// backticks with NUL as `\0` and other non-printing bytes as `\xNN`. Short fields (numbers,
/// magic, version) are shown whole; long ones (names, prefix) up to their last non-zero byte.
fn field_text(bytes: &[u8]) -> String {
    let Some(last) = bytes.iter().rposition(|&b| b != 0) else {
        return "nothing (all zero bytes)".to_owned();
    };
    let shown = if bytes.len() <= 12 {
        bytes
    } else {
        &bytes[..=last]
    };
    let mut out = String::from("`");
    for (i, &b) in shown.iter().enumerate() {
        match b {
            0 if shown.get(i + 1).is_some_and(u8::is_ascii_digit) => out.push_str("\\x00"),
            0 => out.push_str("\\0"),
            b'\\' => out.push_str("\\\\"),
            b'`' => out.push_str("\\x60"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('`');
    out
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::GzipHeader { found } => {
                let hex = |b: &[u8]| {
                    b.iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let mut what = Vec::new();
                for (bit, name) in [
                    (0x01, "the FTEXT flag"),
                    (0x02, "a header CRC (FHCRC)"),
                    (0x04, "an extra field (FEXTRA)"),
                    (0x08, "a stored file name (FNAME)"),
                    (0x10, "a comment (FCOMMENT)"),
                ] {
                    if found[3] & bit != 0 {
                        what.push(name.to_owned());
                    }
                }
                let mtime = u32::from_le_bytes([found[4], found[5], found[6], found[7]]);
                if mtime != 0 {
                    what.push(format!("MTIME {mtime}"));
                }
                if found[8] != GZIP_HEADER[8] {
                    what.push(format!("XFL {}", found[8]));
                }
                if found[9] != GZIP_HEADER[9] {
                    what.push(format!("OS {}", found[9]));
                }
                write!(
                    f,
                    "the gzip header is `{}` where the writer writes `{}`",
                    hex(found),
                    hex(&GZIP_HEADER)
                )?;
                if !what.is_empty() {
                    write!(f, " (it has {})", what.join(", "))?;
                }
                Ok(())
            }
            Difference::Directory => {
                f.write_str("directory entries are not part of an .expert package")
            }
            Difference::PaxHeader => {
                f.write_str("pax extended headers (`x`) are not part of an .expert package")
            }
            Difference::PaxGlobalHeader => {
                f.write_str("pax global headers (`g`) are not part of an .expert package")
            }
            Difference::LongLinkName => {
                f.write_str("GNU long link names (`K`) are not part of an .expert package")
            }
            Difference::HeaderField {
                block,
                field,
                found,
                expected,
            } => {
                let block = match block {
                    HeaderBlock::Member => "header",
                    HeaderBlock::LongName => "long-name header",
                };
                write!(
                    f,
                    "{block} field `{field}` is {} where the writer writes {}",
                    field_text(found),
                    field_text(expected)
                )
            }
            Difference::LongNameData => f.write_str(
                "the GNU long-name entry does not hold exactly the name, one NUL and zero padding",
            ),
            Difference::UnneededLongName => f.write_str(
                "has a GNU long-name entry, which the writer uses only for names over 100 bytes",
            ),
            Difference::LongNameAlone => {
                f.write_str("a GNU long-name entry is not followed by a regular file")
            }
            Difference::Padding => {
                f.write_str("the padding after the member's data is not all zero bytes")
            }
            Difference::Order { previous } => write!(
                f,
                "comes after `{}`; the writer puts `manifest.json` first, then the other members \
                 in byte order of their names, each once",
                display_name(previous)
            ),
            Difference::OneEndBlock => f.write_str(
                "the end-of-archive marker is one zero block where the writer writes two",
            ),
            Difference::AfterEnd => {
                f.write_str("data follows the two zero blocks that end the archive")
            }
        }
    }
}

impl fmt::Display for NonCanonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.member {
            Some(m) => write!(f, "`{}`: {}", display_name(m), self.difference),
            None => write!(f, "{}", self.difference),
        }
    }
}

/// Why a package was refused.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Reading the input failed.
    #[error("reading the package failed: {0}")]
    Io(#[source] io::Error),
    /// The input is empty.
    #[error("the package is an empty file")]
    Empty,
    /// The input does not start with a gzip header.
    #[error("the package is not gzip-compressed (it does not start with the gzip magic bytes)")]
    NotGzip,
    /// The gzip data does not hold a tar archive.
    #[error("the package is gzip-compressed but does not hold a tar archive")]
    NotTar,
    /// The gzip header is malformed or uses an unsupported feature.
    #[error("the package has a bad gzip header: {0}")]
    BadGzipHeader(String),
    /// The deflate data is corrupt.
    #[error("the package is corrupt: {0}")]
    CorruptGzip(String),
    /// The CRC-32 or length in the gzip trailer does not match the data.
    #[error(
        "the package is corrupt: the CRC-32 or length in the gzip trailer does not match the data"
    )]
    ChecksumMismatch,
    /// The gzip or tar stream ends early.
    #[error("the package is truncated: {0}")]
    Truncated(&'static str),
    /// Bytes follow the gzip member, or non-zero bytes follow the tar end-of-archive marker.
    #[error("the package has unexpected data after {0}")]
    TrailingData(&'static str),
    /// A tar header is malformed.
    #[error("the package has a malformed tar header: {0}")]
    BadTarHeader(String),
    /// Canonical mode: the package is not what our writer produces.
    #[error("the package is not in the form `expert-cli package` writes: {0}")]
    NonCanonical(NonCanonical),
    /// A member name is not valid UTF-8.
    #[error("member `{shown}` has a name that is not valid UTF-8")]
    NonUtf8Name {
        /// The name, invalid bytes shown as `\xNN`.
        shown: String,
    },
    /// A member name is empty.
    #[error("the package has a member with an empty name")]
    EmptyName,
    /// A member name is an absolute path.
    #[error("member `{}` has an absolute path", display_name(path))]
    AbsolutePath {
        /// The name.
        path: String,
    },
    /// A member name has a `..` component.
    #[error(
        "member `{}` has a `..` component that would leave the expert directory",
        display_name(path)
    )]
    ParentDirComponent {
        /// The name.
        path: String,
    },
    /// Another member-name rule is broken (`.` or empty component, backslash, control or
    /// bidirectional character, length).
    #[error("member `{}` has an invalid name: {problem}", display_name(path))]
    InvalidName {
        /// The name.
        path: String,
        /// What is wrong.
        problem: NameProblem,
    },
    /// A symbolic link entry.
    #[error(
        "member `{}` is a symbolic link; packages may hold regular files only",
        display_name(path)
    )]
    Symlink {
        /// The name.
        path: String,
    },
    /// A hard link entry.
    #[error(
        "member `{}` is a hard link; packages may hold regular files only",
        display_name(path)
    )]
    Hardlink {
        /// The name.
        path: String,
    },
    /// A character device entry.
    #[error(
        "member `{}` is a character device; packages may hold regular files only",
        display_name(path)
    )]
    CharDevice {
        /// The name.
        path: String,
    },
    /// A block device entry.
    #[error(
        "member `{}` is a block device; packages may hold regular files only",
        display_name(path)
    )]
    BlockDevice {
        /// The name.
        path: String,
    },
    /// A FIFO entry.
    #[error(
        "member `{}` is a FIFO; packages may hold regular files only",
        display_name(path)
    )]
    Fifo {
        /// The name.
        path: String,
    },
    /// Any other entry type (sparse, contiguous, volume label, unknown).
    #[error(
        "member `{}` has unsupported tar entry type {typeflag:?}",
        display_name(path)
    )]
    UnsupportedType {
        /// The name.
        path: String,
        /// The typeflag byte, as a character.
        typeflag: char,
    },
    /// Two members share a name.
    #[error("member `{}` appears more than once", display_name(path))]
    DuplicateMember {
        /// The name.
        path: String,
    },
    /// More entries than [`Limits::max_members`].
    #[error("the package has more than {limit} members")]
    TooManyMembers {
        /// The limit.
        limit: usize,
    },
    /// A member over [`Limits::max_member_size`].
    #[error(
        "member `{}` is {size} bytes, over the limit of {limit} bytes",
        display_name(path)
    )]
    MemberTooLarge {
        /// The name.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Members adding up to more than [`Limits::max_total_size`].
    #[error("the package's members add up to more than {limit} bytes")]
    TotalTooLarge {
        /// The limit.
        limit: u64,
    },
    /// A member to keep is over [`Limits::max_kept_size`].
    #[error(
        "member `{}` is {size} bytes, too large to load (limit {limit} bytes)",
        display_name(path)
    )]
    KeptTooLarge {
        /// The name.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

impl ReadError {
    /// The broad reason, see [`ReadErrorKind`].
    pub fn kind(&self) -> ReadErrorKind {
        match self {
            ReadError::Io(_) => ReadErrorKind::Io,
            ReadError::Empty | ReadError::NotGzip | ReadError::NotTar => ReadErrorKind::NotAPackage,
            ReadError::BadGzipHeader(_)
            | ReadError::CorruptGzip(_)
            | ReadError::ChecksumMismatch
            | ReadError::Truncated(_)
            | ReadError::BadTarHeader(_) => ReadErrorKind::Corrupt,
            ReadError::TrailingData(_) | ReadError::NonCanonical(_) => ReadErrorKind::NonCanonical,
            ReadError::NonUtf8Name { .. }
            | ReadError::EmptyName
            | ReadError::AbsolutePath { .. }
            | ReadError::ParentDirComponent { .. }
            | ReadError::InvalidName { .. }
            | ReadError::Symlink { .. }
            | ReadError::Hardlink { .. }
            | ReadError::CharDevice { .. }
            | ReadError::BlockDevice { .. }
            | ReadError::Fifo { .. }
            | ReadError::UnsupportedType { .. }
            | ReadError::DuplicateMember { .. } => ReadErrorKind::Unsafe,
            ReadError::TooManyMembers { .. }
            | ReadError::MemberTooLarge { .. }
            | ReadError::TotalTooLarge { .. }
            | ReadError::KeptTooLarge { .. } => ReadErrorKind::OverLimits,
        }
    }
}

fn from_io(e: io::Error) -> ReadError {
    let kind = e.kind();
    let Some(inner) = e.into_inner() else {
        return ReadError::Io(io::Error::from(kind));
    };
    let inner = match inner.downcast::<GzFault>() {
        Ok(f) => {
            return match *f {
                GzFault::Empty => ReadError::Empty,
                GzFault::NotGzip => ReadError::NotGzip,
                GzFault::BadHeader(s) => ReadError::BadGzipHeader(s),
                GzFault::Corrupt(s) => ReadError::CorruptGzip(s),
                GzFault::Checksum => ReadError::ChecksumMismatch,
                GzFault::Truncated(s) => ReadError::Truncated(s),
                GzFault::Trailing => ReadError::TrailingData("the gzip member"),
            }
        }
        Err(other) => other,
    };
    match inner.downcast::<SourceError>() {
        Ok(source) => ReadError::Io(source.0),
        Err(other) => ReadError::Io(io::Error::new(kind, other)),
    }
}

/// What the reader knows about the canonical form so far: the archive's mtime (from its first
/// header), the previous member (order), and in lenient mode the first difference found.
struct Form {
    mode: ReadMode,
    mtime: Option<u64>,
    previous: Option<String>,
    first: Option<NonCanonical>,
}

impl Form {
    /// A difference from the canonical form: refused in canonical mode, remembered (the first
    /// one) in lenient mode.
    fn differ(&mut self, member: Option<&str>, difference: Difference) -> Result<(), ReadError> {
        let found = NonCanonical {
            member: member.map(str::to_owned),
            difference,
        };
        match self.mode {
            ReadMode::Canonical => Err(ReadError::NonCanonical(found)),
            ReadMode::Lenient => {
                self.first.get_or_insert(found);
                Ok(())
            }
        }
    }

    /// Compares what the archive holds before a member's data (`long`: the GNU long-name
    /// header and its data with padding; `block`: the member's header) with what the writer
    /// emits for this name, size and mtime: [`header::member_headers`], the writer's own
    /// function, so the two cannot drift apart.
    fn check_headers(
        &mut self,
        path: &str,
        size: u64,
        long: Option<&LongName>,
        block: &[u8; BLOCK],
    ) -> Result<(), ReadError> {
        let header = tar::Header::from_byte_slice(block);
        let mtime = match self.mtime {
            Some(m) => m,
            None => match header.mtime() {
                Ok(m) => *self.mtime.insert(m),
                Err(_) => {
                    let (_, range) = header::field_at(136);
                    let expected = header::member_headers(path, size, 0);
                    return self.differ(
                        Some(path),
                        Difference::HeaderField {
                            block: HeaderBlock::Member,
                            field: "mtime",
                            found: block[range.clone()].to_vec(),
                            expected: expected[expected.len() - BLOCK..][range].to_vec(),
                        },
                    );
                }
            },
        };
        let expected = header::member_headers(path, size, mtime);
        let (want_long, want_block) = expected.split_at(expected.len() - BLOCK);
        let want_block: &[u8; BLOCK] = want_block.try_into().expect("a header is one block");
        let difference = match (long, want_long.is_empty()) {
            (Some(_), true) => Some(Difference::UnneededLongName),
            (Some(long), false) => {
                let want_header: &[u8; BLOCK] = want_long[..BLOCK]
                    .try_into()
                    .expect("a header is one block");
                if let Some(d) = field_difference(HeaderBlock::LongName, &long.header, want_header)
                {
                    Some(d)
                } else if long.data != want_long[BLOCK..] {
                    Some(Difference::LongNameData)
                } else {
                    field_difference(HeaderBlock::Member, block, want_block)
                }
            }
            (None, _) => field_difference(HeaderBlock::Member, block, want_block),
        };
        match difference {
            Some(d) => self.differ(Some(path), d),
            None => Ok(()),
        }
    }
}

fn field_difference(
    which: HeaderBlock,
    found: &[u8; BLOCK],
    expected: &[u8; BLOCK],
) -> Option<Difference> {
    header::first_difference(found, expected).map(|(field, range)| Difference::HeaderField {
        block: which,
        field,
        found: found[range.clone()].to_vec(),
        expected: expected[range].to_vec(),
    })
}

/// A GNU long-name entry waiting for the header it names.
struct LongName {
    /// Its header block.
    header: [u8; BLOCK],
    /// Its data with the block padding, as read.
    data: Vec<u8>,
    /// The name: the data up to the first NUL.
    name: Vec<u8>,
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, ReadError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(from_io(e)),
        }
    }
    Ok(got)
}

/// Reads exactly `buf.len()` bytes.
fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<(), ReadError> {
    if read_up_to(r, buf)? < buf.len() {
        return Err(ReadError::Truncated(what));
    }
    Ok(())
}

/// Reads an extension entry's data with its block padding (bounded by [`MAX_EXTENSION`]).
fn read_extension(r: &mut impl Read, size: u64) -> Result<Vec<u8>, ReadError> {
    if size > MAX_EXTENSION {
        return Err(ReadError::BadTarHeader(format!(
            "an extension header of {size} bytes is over the {MAX_EXTENSION}-byte limit"
        )));
    }
    let mut data = vec![0u8; size as usize + header::padding(size)];
    read_exact(r, &mut data, "a member's data ends early")?;
    Ok(data)
}

fn header_checksum_ok(block: &[u8; BLOCK], stored: u32) -> bool {
    let (mut unsigned, mut signed) = (0u32, 0i32);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i32::from(b as i8);
    }
    stored == unsigned || i64::from(stored) == i64::from(signed)
}

/// Parses pax records (`"<len> <key>=<value>\n"`), returning the name (`path`, else
/// `GNU.sparse.name`, which GNU tar and Python's tarfile also take as the name) and `size` when
/// present.
fn parse_pax(data: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), ReadError> {
    let bad = |what: &str| ReadError::BadTarHeader(format!("malformed pax record: {what}"));
    let (mut path, mut sparse_name, mut size) = (None, None, None);
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("no length"))?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad length"))?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad("bad length"));
        }
        let record = &rest[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("no `=`"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => path = Some(value.to_vec()),
            b"GNU.sparse.name" => sparse_name = Some(value.to_vec()),
            b"size" => {
                let v = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                size = Some(v.ok_or_else(|| bad("bad size"))?);
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok((path.or(sparse_name), size))
}

fn name_error(path: &str, problem: NameProblem) -> ReadError {
    let path = path.to_owned();
    match problem {
        NameProblem::Empty => ReadError::EmptyName,
        NameProblem::Absolute => ReadError::AbsolutePath { path },
        NameProblem::ParentDir => ReadError::ParentDirComponent { path },
        problem @ (NameProblem::CurrentDir
        | NameProblem::EmptyComponent
        | NameProblem::Backslash
        | NameProblem::ControlCharacter
        | NameProblem::BidiControl
        | NameProblem::TooLong) => ReadError::InvalidName { path, problem },
    }
}

/// Reads a `.expert` archive once, in canonical mode, from start to end, and returns every
/// member's name, size and SHA-256, plus the bytes of the members for which `keep(path)` is
/// true. [`read_members_keeping_in`] with [`ReadMode::Canonical`].
///
/// # Errors
///
/// As [`read_members_keeping_in`].
pub fn read_members_keeping<R: Read>(
    input: R,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Listing, ReadError> {
    read_members_keeping_in(ReadMode::Canonical, input, limits, keep)
}

/// Reads a `.expert` archive once, from start to end, and returns every member's name, size and
/// SHA-256, plus the bytes of the members for which `keep(path)` is true, and in lenient mode
/// the first difference from the canonical form.
///
/// Memory is bounded by the buffers, the member list and the kept members (each at most
/// [`Limits::max_kept_size`]), whatever the input. Built on [`read_members_in`].
///
/// # Errors
///
/// A [`ReadError`] variant for each reason a package is refused; see the type.
/// [`ReadError::KeptTooLarge`] when a member to keep is over [`Limits::max_kept_size`].
pub fn read_members_keeping_in<R: Read>(
    mode: ReadMode,
    input: R,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Listing, ReadError> {
    let mut kept = BTreeMap::new();
    let listing = read_members_in(mode, input, limits, &mut |head, data| {
        if !keep(&head.path) {
            return Ok(());
        }
        if head.size > limits.max_kept_size {
            return Err(ReadError::KeptTooLarge {
                path: head.path.clone(),
                size: head.size,
                limit: limits.max_kept_size,
            });
        }
        // `size` is at most `max_kept_size`, so this allocation is bounded.
        let mut bytes = Vec::with_capacity(head.size as usize);
        // A failed read is a stream fault, which `read_members_in` reports in place of this
        // error.
        data.read_to_end(&mut bytes).map_err(ReadError::Io)?;
        kept.insert(head.path.clone(), bytes);
        Ok(())
    })
    .map_err(|e| match e {
        ReadMembersError::Read(e) | ReadMembersError::Member { source: e, .. } => e,
    })?;
    Ok(Listing { kept, ..listing })
}

/// Reads a `.expert` archive once, in canonical mode, calling `on_member` for every member:
/// [`read_members_in`] with [`ReadMode::Canonical`].
///
/// # Errors
///
/// As [`read_members_in`].
pub fn read_members<R: Read, E: std::error::Error + 'static>(
    input: R,
    limits: &Limits,
    on_member: &mut dyn FnMut(&MemberHead, &mut dyn Read) -> Result<(), E>,
) -> Result<Listing, ReadMembersError<E>> {
    read_members_in(ReadMode::Canonical, input, limits, on_member)
}

/// Reads a `.expert` archive once, from start to end, calling `on_member` for every regular-file
/// member in archive order with its name and size and a reader of exactly its bytes, and returns
/// every member's name, size and SHA-256 (and in lenient mode the first difference from the
/// canonical form).
///
/// The callback streams the bytes (e.g. into an [`ArchiveWriter`](super::ArchiveWriter)); bytes
/// it does not read are skipped, but every byte is still decompressed, checked and hashed, so the
/// returned list is the same as [`read_members_keeping_in`]'s whatever the callback does. A member reaches the
/// callback only once its header, name, type, uniqueness, size and (canonical mode) form have
/// passed; its padding and the end of the stream (end marker, gzip trailer, nothing after it)
/// are checked afterwards. A callback that has already acted on earlier members must therefore
/// treat its work as provisional until `read_members_in` returns `Ok` (write to an
/// [`AtomicFile`](crate::fs::AtomicFile) and commit afterwards).
///
/// Memory is bounded by fixed buffers and the member list, whatever the input.
///
/// # Errors
///
/// [`ReadMembersError::Read`] with a [`ReadError`] variant for each reason a package is refused (see
/// the type), including a fault met while the callback was reading: the callback's reader then
/// returns an `io::Error` and the fault is reported here, whatever the callback returned.
/// [`ReadMembersError::Member`] when the callback returns an error; reading stops there.
pub fn read_members_in<R: Read, E: std::error::Error + 'static>(
    mode: ReadMode,
    input: R,
    limits: &Limits,
    on_member: &mut dyn FnMut(&MemberHead, &mut dyn Read) -> Result<(), E>,
) -> Result<Listing, ReadMembersError<E>> {
    let mut r = GzipReader::new(input).map_err(from_io)?;
    let mut form = Form {
        mode,
        mtime: None,
        previous: None,
        first: None,
    };
    if r.header() != GZIP_HEADER {
        form.differ(None, Difference::GzipHeader { found: r.header() })?;
    }
    let canonical = mode == ReadMode::Canonical;
    let mut block = [0u8; BLOCK];
    let mut buf = vec![0u8; DATA_BUF];
    let mut members = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut entries, mut total) = (0usize, 0u64);
    let mut long: Option<LongName> = None;
    let (mut pax_path, mut pax_size, mut global_path) =
        (None::<Vec<u8>>, None::<u64>, None::<Vec<u8>>);
    let mut extensions = 0usize;
    let mut first_header = true;

    loop {
        match read_up_to(&mut r, &mut block)? {
            BLOCK => {}
            // A complete gzip stream whose content is not even one tar header.
            _ if first_header => return Err(ReadError::NotTar.into()),
            0 => {
                return Err(ReadError::Truncated("the tar end-of-archive marker is missing").into())
            }
            _ => return Err(ReadError::Truncated("a tar header ends early").into()),
        }
        if block.iter().all(|&b| b == 0) {
            if long.is_some() {
                form.differ(None, Difference::LongNameAlone)?;
            }
            finish_after_end_marker(&mut r, &mut buf, &mut form)?;
            return Ok(Listing {
                members,
                kept: BTreeMap::new(),
                non_canonical: form.first,
                mtime: form.mtime,
            });
        }
        let header = tar::Header::from_byte_slice(&block);
        let checksum_ok = header
            .cksum()
            .is_ok_and(|stored| header_checksum_ok(&block, stored));
        if !checksum_ok {
            // A first block that is neither a valid header nor marked as ustar/GNU: some other
            // gzip-compressed file.
            if first_header && &block[257..262] != b"ustar" {
                return Err(ReadError::NotTar.into());
            }
            return Err(ReadError::BadTarHeader("header checksum mismatch".into()).into());
        }
        first_header = false;
        let typeflag = block[156];
        // Parsed only for the entry types we accept: `tar` refuses the size of a non-GNU sparse
        // header, which must be reported as an unsupported type instead.
        let header_size = || {
            header
                .size()
                .map_err(|e| ReadError::BadTarHeader(format!("unreadable size field ({e})")))
        };
        // The name field alone (a ustar prefix is not part of the name in the canonical form).
        let name_field = || {
            let end = block[..NAME_FIELD]
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(NAME_FIELD);
            block[..end].to_vec()
        };

        // Extension headers describe the next entry.
        if matches!(typeflag, b'L' | b'K' | b'x' | b'g') {
            extensions += 1;
            if extensions > MAX_EXTENSIONS_IN_A_ROW {
                return Err(
                    ReadError::BadTarHeader("too many extension headers in a row".into()).into(),
                );
            }
            let difference = match typeflag {
                b'L' if long.is_some() => Some(Difference::LongNameAlone),
                b'L' => None,
                b'K' => Some(Difference::LongLinkName),
                b'x' => Some(Difference::PaxHeader),
                _ => Some(Difference::PaxGlobalHeader),
            };
            if let Some(d) = difference {
                let shown = String::from_utf8_lossy(&name_field()).into_owned();
                form.differ(Some(&shown), d)?;
            }
            let size = header_size()?;
            let data = read_extension(&mut r, size)?;
            let content = &data[..size as usize];
            match typeflag {
                b'L' => {
                    let end = content
                        .iter()
                        .position(|&b| b == 0)
                        .unwrap_or(content.len());
                    let name = content[..end].to_vec();
                    if name.len() > MAX_NAME_LEN {
                        let shown = display_bytes(&name[..64]);
                        return Err(name_error(&shown, NameProblem::TooLong).into());
                    }
                    long = Some(LongName {
                        header: block,
                        data,
                        name,
                    });
                }
                b'x' => {
                    let (path, size) = parse_pax(content)?;
                    pax_path = path.or(pax_path);
                    pax_size = size.or(pax_size);
                }
                b'g' => {
                    // Global: GNU tar and Python's tarfile apply its `path` to every later entry.
                    let (path, _) = parse_pax(content)?;
                    global_path = path.or(global_path);
                }
                _ => {} // 'K' (long link target: a link is refused below)
            }
            continue;
        }
        extensions = 0;

        let long = long.take();
        let name = match pax_path.take().or_else(|| global_path.clone()) {
            Some(p) => p,
            None => match &long {
                Some(l) => l.name.clone(),
                None if canonical => name_field(),
                None => header.path_bytes().into_owned(),
            },
        };
        let pax_size = pax_size.take();
        let path = match String::from_utf8(name) {
            Ok(p) => p,
            Err(e) => {
                return Err(ReadError::NonUtf8Name {
                    shown: display_bytes(e.as_bytes()),
                }
                .into())
            }
        };
        entries += 1;
        if entries > limits.max_members {
            return Err(ReadError::TooManyMembers {
                limit: limits.max_members,
            }
            .into());
        }
        let is_dir = typeflag == b'5';
        let checked = if is_dir {
            path.strip_suffix('/').unwrap_or(&path)
        } else {
            &path
        };
        check_member_name(checked).map_err(|p| name_error(checked, p))?;
        match typeflag {
            b'0' | 0 | b'5' => {}
            b'1' => return Err(ReadError::Hardlink { path }.into()),
            b'2' => return Err(ReadError::Symlink { path }.into()),
            b'3' => return Err(ReadError::CharDevice { path }.into()),
            b'4' => return Err(ReadError::BlockDevice { path }.into()),
            b'6' => return Err(ReadError::Fifo { path }.into()),
            other => {
                return Err(ReadError::UnsupportedType {
                    path,
                    typeflag: char::from(other),
                }
                .into())
            }
        }
        if is_dir {
            form.differ(Some(&path), Difference::Directory)?;
            // Lenient: like GNU tar and Python's tarfile, a directory's size field announces no
            // data; the next header follows at once.
            continue;
        }
        let size = match pax_size {
            Some(size) => size,
            None => header_size()?,
        };
        form.check_headers(&path, size, long.as_ref(), &block)?;
        if seen.contains(&path) {
            return Err(ReadError::DuplicateMember { path }.into());
        }
        if let Some(previous) = &form.previous {
            if header::member_order(previous, &path).is_ge() {
                let previous = previous.clone();
                form.differ(Some(&path), Difference::Order { previous })?;
            }
        }
        if size > limits.max_member_size {
            return Err(ReadError::MemberTooLarge {
                path,
                size,
                limit: limits.max_member_size,
            }
            .into());
        }
        total = total.saturating_add(size);
        if total > limits.max_total_size {
            return Err(ReadError::TotalTooLarge {
                limit: limits.max_total_size,
            }
            .into());
        }
        seen.insert(path.clone());
        form.previous = Some(path.clone());
        let head = MemberHead { path, size };
        let mut data = MemberData {
            inner: &mut r,
            left: size,
            hasher: Sha256::new(),
            fault: None,
        };
        let outcome = on_member(&head, &mut data);
        // A stream fault wins over the callback's view of it; then the callback's own error.
        if let Some(fault) = data.fault.take() {
            return Err(fault.into());
        }
        if let Err(source) = outcome {
            return Err(ReadMembersError::Member {
                path: head.path,
                source,
            });
        }
        // Skip (and hash) what the callback left unread, then the block padding.
        while data.left > 0 {
            let n = data.left.min(buf.len() as u64) as usize;
            match data.read(&mut buf[..n]) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // the fault is in `data.fault`
            }
        }
        if let Some(fault) = data.fault.take() {
            return Err(fault.into());
        }
        let sha256 = hex::encode(data.hasher.finalize());
        let padding = header::padding(size);
        read_exact(&mut r, &mut buf[..padding], "a member's data ends early")?;
        if buf[..padding].iter().any(|&b| b != 0) {
            form.differ(Some(&head.path), Difference::Padding)?;
        }
        members.push(MemberInfo {
            path: head.path,
            size,
            sha256,
        });
    }
}

/// The reader a [`read_members`] callback gets: exactly one member's bytes, hashed as they
/// pass. A stream fault is kept in `fault` for `read_members_in` to report as its
/// [`ReadError`], and the callback
/// sees an `io::Error` with the same message.
struct MemberData<'a, R: Read> {
    inner: &'a mut GzipReader<R>,
    left: u64,
    hasher: Sha256,
    fault: Option<ReadError>,
}

impl<R: Read> MemberData<'_, R> {
    fn fail(&mut self, e: ReadError) -> io::Error {
        let err = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        self.fault = Some(e);
        err
    }
}

impl<R: Read> Read for MemberData<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.fault {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
        }
        if self.left == 0 || out.is_empty() {
            return Ok(0);
        }
        let n = self.left.min(out.len() as u64) as usize;
        match self.inner.read(&mut out[..n]) {
            Ok(0) => Err(self.fail(ReadError::Truncated("a member's data ends early"))),
            Ok(got) => {
                self.hasher.update(&out[..got]);
                self.left -= got as u64;
                Ok(got)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let e = from_io(e);
                Err(self.fail(e))
            }
        }
    }
}

/// After the first zero block: the writer writes exactly one more, then the gzip stream ends
/// (its trailer is checked on the way, and nothing may follow it). Lenient mode also accepts
/// one zero block alone, or up to [`MAX_END_PADDING`] zero bytes (tar pads to its record size),
/// noting the difference; non-zero bytes are refused in both modes.
fn finish_after_end_marker(
    r: &mut impl Read,
    buf: &mut [u8],
    form: &mut Form,
) -> Result<(), ReadError> {
    let mut after = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(from_io(e)),
        };
        if buf[..n].iter().any(|&b| b != 0) {
            form.differ(None, Difference::AfterEnd)?;
            return Err(ReadError::TrailingData("the tar end-of-archive marker"));
        }
        after += n as u64;
        if after > BLOCK as u64 {
            form.differ(None, Difference::AfterEnd)?;
        }
        if after > MAX_END_PADDING {
            return Err(ReadError::TrailingData("the tar end-of-archive marker"));
        }
    }
    match after {
        0 => form.differ(None, Difference::OneEndBlock),
        512 => Ok(()),
        _ => form.differ(None, Difference::AfterEnd),
    }
}
