//! The hardened streaming reader: one pass over gzip + tar with fixed buffers, refusing anything
//! that is not a plain, bounded set of uniquely named regular files (SPEC §6 last bullet,
//! `reference/upstream-packaging.md` §7 items 8 and 9, §8.4 V10–V13).
//!
//! It never writes to the file system and never repairs: a bad name, a link, a device, a
//! duplicate, a size over the [`Limits`], a truncated or corrupt stream each stop the scan with
//! their own [`ReadError`] variant. Directory entries are skipped (their names are still
//! checked), since other tools add them; GNU long names and pax `path`/`size` records are read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::name::{check_member_name, NameProblem, MAX_NAME_LEN};

const BLOCK: usize = 512;
/// Largest pax extended header or GNU long-name entry accepted.
const MAX_EXTENSION: u64 = 64 * 1024;
/// Most extension headers accepted before one real entry.
const MAX_EXTENSIONS_IN_A_ROW: usize = 8;
/// Most zero bytes accepted after the end-of-archive marker (tar pads to its record size).
const MAX_END_PADDING: u64 = 1 << 20;
/// Longest gzip header FNAME / FCOMMENT accepted.
const MAX_GZIP_STRING: usize = 64 * 1024;
const IN_BUF: usize = 64 * 1024;
const DATA_BUF: usize = 64 * 1024;

/// Bounds on what [`visit`] and [`scan`] accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files and directories).
    pub max_members: usize,
    /// Largest single member, in bytes.
    pub max_member_size: u64,
    /// Largest sum of member sizes, in bytes: the decompression-bomb bound.
    pub max_total_size: u64,
    /// Largest member whose bytes [`scan`] keeps in memory ([`visit`] ignores it: its callback
    /// decides what to hold).
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

/// What [`visit`] tells its callback about a member before the callback reads its bytes.
///
/// Only names and sizes that passed every check reach the callback: the name rule, the entry
/// type, the duplicate check and the [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberHead {
    /// Name inside the archive.
    pub path: String,
    /// Size in bytes: exactly what the callback's reader yields.
    pub size: u64,
}

/// Why [`visit`] stopped: the package was refused, or the callback failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VisitError<E: std::error::Error + 'static> {
    /// The package was refused. Takes precedence over a callback error caused by it (a callback
    /// whose read failed because the stream was truncated gets [`ReadError::Truncated`] here).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The callback returned an error for member `path`.
    #[error("processing member `{path}` failed: {source}")]
    Member {
        /// The member the callback was given.
        path: String,
        /// The callback's error.
        #[source]
        source: E,
    },
}

/// What [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Every regular-file member, in archive order.
    pub members: Vec<MemberInfo>,
    /// The bytes of the members selected by `keep`.
    pub kept: BTreeMap<String, Vec<u8>>,
}

/// Why a package was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading the input failed.
    #[error("reading the package failed: {0}")]
    Io(#[source] io::Error),
    /// The input does not start with a gzip header.
    #[error("the package is not gzip-compressed (it does not start with the gzip magic bytes)")]
    NotGzip,
    /// The gzip header is malformed or uses an unsupported feature.
    #[error("the package has a bad gzip header: {0}")]
    BadGzipHeader(String),
    /// The deflate data is corrupt.
    #[error("the package is corrupt: {0}")]
    CorruptGzip(String),
    /// The CRC-32 or length in the gzip trailer does not match the data.
    #[error("the package is corrupt: the gzip {0} check failed")]
    ChecksumMismatch(&'static str),
    /// The gzip or tar stream ends early.
    #[error("the package is truncated: {0}")]
    Truncated(&'static str),
    /// Bytes follow the gzip stream, or non-zero bytes follow the tar end-of-archive marker.
    #[error("the package has unexpected data after {0}")]
    TrailingData(&'static str),
    /// A tar header is malformed.
    #[error("the package has a malformed tar header: {0}")]
    BadTarHeader(String),
    /// A member name is not valid UTF-8.
    #[error("member `{lossy}` has a name that is not valid UTF-8")]
    NonUtf8Name {
        /// The name with invalid bytes replaced.
        lossy: String,
    },
    /// A member name is empty.
    #[error("the package has a member with an empty name")]
    EmptyName,
    /// A member name is an absolute path.
    #[error("member `{path}` has an absolute path")]
    AbsolutePath {
        /// The name.
        path: String,
    },
    /// A member name has a `..` component.
    #[error("member `{path}` has a `..` component that would leave the expert directory")]
    ParentDirComponent {
        /// The name.
        path: String,
    },
    /// Another member-name rule is broken (`.` or empty component, backslash, control
    /// character, length).
    #[error("member `{path}` has an invalid name: {problem}")]
    InvalidName {
        /// The name (control characters escaped).
        path: String,
        /// What is wrong.
        problem: NameProblem,
    },
    /// A symbolic link entry.
    #[error("member `{path}` is a symbolic link; packages may hold regular files only")]
    Symlink {
        /// The name.
        path: String,
    },
    /// A hard link entry.
    #[error("member `{path}` is a hard link; packages may hold regular files only")]
    Hardlink {
        /// The name.
        path: String,
    },
    /// A character device entry.
    #[error("member `{path}` is a character device; packages may hold regular files only")]
    CharDevice {
        /// The name.
        path: String,
    },
    /// A block device entry.
    #[error("member `{path}` is a block device; packages may hold regular files only")]
    BlockDevice {
        /// The name.
        path: String,
    },
    /// A FIFO entry.
    #[error("member `{path}` is a FIFO; packages may hold regular files only")]
    Fifo {
        /// The name.
        path: String,
    },
    /// Any other entry type (sparse, contiguous, volume label, unknown).
    #[error("member `{path}` has unsupported tar entry type {typeflag:?}")]
    UnsupportedType {
        /// The name.
        path: String,
        /// The typeflag byte, as a character.
        typeflag: char,
    },
    /// Two members share a name.
    #[error("member `{path}` appears more than once")]
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
    #[error("member `{path}` is {size} bytes, over the limit of {limit} bytes")]
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
    #[error("member `{path}` is {size} bytes, too large to load (limit {limit} bytes)")]
    KeptTooLarge {
        /// The name.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Faults found inside the gzip layer travel through `io::Error` (the tar layer reads through
/// `Read`) and are turned back into [`ReadError`] by [`from_io`].
#[derive(Debug)]
enum Fault {
    NotGzip,
    Header(String),
    Corrupt(String),
    Checksum(&'static str),
    Truncated(&'static str),
    Trailing,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Fault {}

fn fault(f: Fault) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, f)
}

fn from_io(e: io::Error) -> ReadError {
    let kind = e.kind();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<Fault>() {
            Ok(f) => match *f {
                Fault::NotGzip => ReadError::NotGzip,
                Fault::Header(s) => ReadError::BadGzipHeader(s),
                Fault::Corrupt(s) => ReadError::CorruptGzip(s),
                Fault::Checksum(s) => ReadError::ChecksumMismatch(s),
                Fault::Truncated(s) => ReadError::Truncated(s),
                Fault::Trailing => ReadError::TrailingData("the end of the gzip stream"),
            },
            Err(other) => ReadError::Io(io::Error::new(kind, other)),
        },
        None => ReadError::Io(io::Error::from(kind)),
    }
}

/// A single-member gzip decoder with exact end handling: CRC-32 and ISIZE are checked, and any
/// byte after the trailer is an error (a second gzip member included).
struct GzipReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    inflate: Decompress,
    crc: crc32fast::Hasher,
    len: u64,
    done: bool,
}

impl<R: Read> GzipReader<R> {
    fn new(inner: R) -> io::Result<Self> {
        let mut r = GzipReader {
            inner,
            buf: vec![0; IN_BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            inflate: Decompress::new(false),
            crc: crc32fast::Hasher::new(),
            len: 0,
            done: false,
        };
        r.read_header()?;
        Ok(r)
    }

    /// Makes input available; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        while self.pos == self.end && !self.eof {
            match self.inner.read(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.pos < self.end)
    }

    fn byte(&mut self, what: &'static str) -> io::Result<u8> {
        if !self.fill()? {
            return Err(fault(Fault::Truncated(what)));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn read_header(&mut self) -> io::Result<()> {
        const IN_HEADER: &str = "the gzip header is incomplete";
        if !self.fill()? {
            return Err(fault(Fault::Truncated("the file is empty")));
        }
        if self.byte(IN_HEADER)? != 0x1f || self.byte(IN_HEADER)? != 0x8b {
            return Err(fault(Fault::NotGzip));
        }
        if self.byte(IN_HEADER)? != 8 {
            return Err(fault(Fault::Header(
                "the compression method is not deflate".into(),
            )));
        }
        let flags = self.byte(IN_HEADER)?;
        if flags & 0xe0 != 0 {
            return Err(fault(Fault::Header("reserved flag bits are set".into())));
        }
        for _ in 0..6 {
            self.byte(IN_HEADER)?; // MTIME, XFL, OS
        }
        if flags & 0x04 != 0 {
            let xlen = u16::from(self.byte(IN_HEADER)?) | u16::from(self.byte(IN_HEADER)?) << 8;
            for _ in 0..xlen {
                self.byte(IN_HEADER)?;
            }
        }
        for flag in [0x08, 0x10] {
            if flags & flag != 0 {
                let mut n = 0;
                while self.byte(IN_HEADER)? != 0 {
                    n += 1;
                    if n > MAX_GZIP_STRING {
                        return Err(fault(Fault::Header(
                            "the file name or comment is too long".into(),
                        )));
                    }
                }
            }
        }
        if flags & 0x02 != 0 {
            self.byte(IN_HEADER)?;
            self.byte(IN_HEADER)?;
        }
        Ok(())
    }

    fn read_trailer(&mut self) -> io::Result<()> {
        const IN_TRAILER: &str = "the gzip trailer is missing";
        let mut t = [0u8; 8];
        for b in &mut t {
            *b = self.byte(IN_TRAILER)?;
        }
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let actual = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
        if crc != actual {
            return Err(fault(Fault::Checksum("CRC-32")));
        }
        if u64::from(isize) != self.len & 0xffff_ffff {
            return Err(fault(Fault::Checksum("length")));
        }
        if self.fill()? {
            return Err(fault(Fault::Trailing));
        }
        Ok(())
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let has_input = self.fill()?;
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(&self.buf[self.pos..self.end], out, FlushDecompress::None)
                .map_err(|e| fault(Fault::Corrupt(format!("bad deflate data ({e})"))))?;
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            self.pos += consumed;
            self.crc.update(&out[..produced]);
            self.len += produced as u64;
            if status == Status::StreamEnd {
                self.done = true;
                self.read_trailer()?;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if !has_input {
                return Err(fault(Fault::Truncated("the compressed data ends early")));
            }
            if consumed == 0 {
                return Err(fault(Fault::Corrupt(
                    "the deflate decoder made no progress".into(),
                )));
            }
        }
    }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` when the input ended before the first byte.
fn read_full(r: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<bool, ReadError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(ReadError::Truncated(what)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(from_io(e)),
        }
    }
    Ok(true)
}

/// Reads `size` bytes of entry data (plus block padding), passing them to `each`.
fn read_data(
    r: &mut impl Read,
    size: u64,
    buf: &mut [u8],
    mut each: impl FnMut(&[u8]),
) -> Result<(), ReadError> {
    let mut left = size.div_ceil(BLOCK as u64) * BLOCK as u64;
    let mut data_left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        if !read_full(r, &mut buf[..n], "a member's data ends early")? {
            return Err(ReadError::Truncated("a member's data ends early"));
        }
        let d = data_left.min(n as u64) as usize;
        each(&buf[..d]);
        data_left -= d as u64;
        left -= n as u64;
    }
    Ok(())
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

/// Parses pax records (`"<len> <key>=<value>\n"`), returning `path` and `size` when present.
fn parse_pax(data: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), ReadError> {
    let bad = |what: &str| ReadError::BadTarHeader(format!("malformed pax record: {what}"));
    let (mut path, mut size) = (None, None);
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
            b"size" => {
                let v = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                size = Some(v.ok_or_else(|| bad("bad size"))?);
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok((path, size))
}

fn name_error(path: &str, problem: NameProblem) -> ReadError {
    let path = path.escape_debug().to_string();
    match problem {
        NameProblem::Empty => ReadError::EmptyName,
        NameProblem::Absolute => ReadError::AbsolutePath { path },
        NameProblem::ParentDir => ReadError::ParentDirComponent { path },
        problem => ReadError::InvalidName { path, problem },
    }
}

/// Reads a `.expert` archive once, from start to end, and returns every member's name, size and
/// SHA-256, plus the bytes of the members for which `keep(path)` is true.
///
/// Memory is bounded by the buffers, the member list and the kept members (each at most
/// [`Limits::max_kept_size`]), whatever the input. Built on [`visit`].
///
/// # Errors
///
/// A [`ReadError`] variant for each reason a package is refused; see the type.
/// [`ReadError::KeptTooLarge`] when a member to keep is over [`Limits::max_kept_size`].
pub fn scan<R: Read>(
    input: R,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Scanned, ReadError> {
    let mut kept = BTreeMap::new();
    let members = visit(input, limits, &mut |head, data| {
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
        // A failed read is a stream fault, which `visit` reports in place of this error.
        data.read_to_end(&mut bytes).map_err(ReadError::Io)?;
        kept.insert(head.path.clone(), bytes);
        Ok(())
    })
    .map_err(|e| match e {
        VisitError::Read(e) | VisitError::Member { source: e, .. } => e,
    })?;
    Ok(Scanned { members, kept })
}

/// Reads a `.expert` archive once, from start to end, calling `on_member` for every regular-file
/// member in archive order with its name and size and a reader of exactly its bytes, and returns
/// every member's name, size and SHA-256.
///
/// The callback streams the bytes (e.g. into an [`ArchiveWriter`](super::ArchiveWriter)); bytes
/// it does not read are skipped, but every byte is still decompressed, checked and hashed, so the
/// returned list is the same as [`scan`]'s whatever the callback does. All of [`scan`]'s checks
/// apply: a member reaches the callback only once its header, name, type, uniqueness and size
/// have passed, and the result is returned only once the whole stream (end marker, gzip trailer,
/// nothing after it) has. A callback that has already acted on earlier members must therefore
/// treat its work as provisional until `visit` returns `Ok` (write to an
/// [`AtomicFile`](super::AtomicFile) and commit afterwards).
///
/// Memory is bounded by fixed buffers and the member list, whatever the input.
///
/// # Errors
///
/// [`VisitError::Read`] with a [`ReadError`] variant for each reason a package is refused (see
/// the type), including a fault met while the callback was reading: the callback's reader then
/// returns an `io::Error` and the fault is reported here, whatever the callback returned.
/// [`VisitError::Member`] when the callback returns an error; reading stops there.
pub fn visit<R: Read, E: std::error::Error + 'static>(
    input: R,
    limits: &Limits,
    on_member: &mut dyn FnMut(&MemberHead, &mut dyn Read) -> Result<(), E>,
) -> Result<Vec<MemberInfo>, VisitError<E>> {
    let mut r = GzipReader::new(input).map_err(from_io)?;
    let mut block = [0u8; BLOCK];
    let mut buf = vec![0u8; DATA_BUF];
    let mut members = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut entries, mut total) = (0usize, 0u64);
    let (mut long_name, mut pax_path, mut pax_size) =
        (None::<Vec<u8>>, None::<Vec<u8>>, None::<u64>);
    let mut extensions = 0usize;

    loop {
        if !read_full(&mut r, &mut block, "a tar header ends early")? {
            return Err(ReadError::Truncated("the tar end-of-archive marker is missing").into());
        }
        if block.iter().all(|&b| b == 0) {
            finish_after_end_marker(&mut r, &mut buf)?;
            return Ok(members);
        }
        let header = tar::Header::from_byte_slice(&block);
        let stored = header
            .cksum()
            .map_err(|e| ReadError::BadTarHeader(format!("unreadable checksum ({e})")))?;
        if !header_checksum_ok(&block, stored) {
            return Err(ReadError::BadTarHeader("header checksum mismatch".into()).into());
        }
        let typeflag = block[156];
        // Parsed only for the entry types we accept: `tar` refuses the size of a non-GNU sparse
        // header, which must be reported as an unsupported type instead.
        let header_size = || {
            header
                .size()
                .map_err(|e| ReadError::BadTarHeader(format!("unreadable size field ({e})")))
        };

        // Extension headers describe the next entry.
        if matches!(typeflag, b'L' | b'K' | b'x' | b'g') {
            extensions += 1;
            let header_size = header_size()?;
            if extensions > MAX_EXTENSIONS_IN_A_ROW {
                return Err(
                    ReadError::BadTarHeader("too many extension headers in a row".into()).into(),
                );
            }
            if header_size > MAX_EXTENSION {
                return Err(ReadError::BadTarHeader(format!(
                    "an extension header of {header_size} bytes is over the {MAX_EXTENSION}-byte limit"
                ))
                .into());
            }
            let mut data = Vec::with_capacity(header_size as usize);
            read_data(&mut r, header_size, &mut buf, |d| data.extend_from_slice(d))?;
            match typeflag {
                b'L' => {
                    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                    data.truncate(end);
                    if data.len() > MAX_NAME_LEN {
                        let lossy = String::from_utf8_lossy(&data[..64]).into_owned();
                        return Err(name_error(&lossy, NameProblem::TooLong).into());
                    }
                    long_name = Some(data);
                }
                b'x' => {
                    let (path, size) = parse_pax(&data)?;
                    pax_path = path.or(pax_path);
                    pax_size = size.or(pax_size);
                }
                _ => {} // 'K' (long link target: a link is refused below), 'g' (global, ignored)
            }
            continue;
        }
        extensions = 0;

        let name = pax_path
            .take()
            .or(long_name.take())
            .unwrap_or_else(|| header.path_bytes().into_owned());
        let pax_size = pax_size.take();
        let path = match String::from_utf8(name) {
            Ok(p) => p,
            Err(e) => {
                return Err(ReadError::NonUtf8Name {
                    lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
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
        let path = checked.to_owned();
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
        let size = match pax_size {
            Some(size) => size,
            None => header_size()?,
        };
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
        if is_dir {
            read_data(&mut r, size, &mut buf, |_| {})?;
            continue;
        }
        if !seen.insert(path.clone()) {
            return Err(ReadError::DuplicateMember { path }.into());
        }
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
            return Err(VisitError::Member {
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
        let padding = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        if !read_full(&mut r, &mut buf[..padding], "a member's data ends early")? && padding > 0 {
            return Err(ReadError::Truncated("a member's data ends early").into());
        }
        members.push(MemberInfo {
            path: head.path,
            size,
            sha256,
        });
    }
}

/// The reader a [`visit`] callback gets: exactly one member's bytes, hashed as they pass. A
/// stream fault is kept in `fault` for `visit` to report as its [`ReadError`], and the callback
/// sees an `io::Error` with the same message.
struct MemberData<'a, R> {
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

/// After the first zero block: only zero padding may follow, up to [`MAX_END_PADDING`], and the
/// gzip stream must then end cleanly (the reader checks its trailer on the way).
fn finish_after_end_marker(r: &mut impl Read, buf: &mut [u8]) -> Result<(), ReadError> {
    let mut padding = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(from_io(e)),
        };
        padding += n as u64;
        if padding > MAX_END_PADDING || buf[..n].iter().any(|&b| b != 0) {
            return Err(ReadError::TrailingData("the tar end-of-archive marker"));
        }
    }
}

/// Opens a package file for [`visit`] or [`scan`]: it must be a regular file (a symlink to one
/// is followed). On Unix it is opened with `O_NONBLOCK`, so a FIFO or a device given as the
/// package is refused instead of blocking forever on `open`; the check is made on the opened
/// handle, so nothing can be swapped in between.
///
/// # Errors
///
/// The `io::Error` of opening, or one of kind `InvalidInput` saying "it is a directory" / "it
/// is not a regular file".
pub fn open_package(path: &std::path::Path) -> io::Result<std::fs::File> {
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
