//! The tar layout of an `.expert` package, written once: the reserved member names, the member
//! order, the header block(s) the writer emits for a member, the padding and the end-of-archive
//! marker.
//!
//! The writer ([`ArchiveWriter`](super::ArchiveWriter)) emits exactly [`member_headers`]; the
//! canonical reader (`read.rs`, the mode `verify` and `sign` use) rebuilds the same bytes from the
//! name, size and mtime it found and refuses any header that differs by one byte (SPEC §0,
//! issue #10). There is no second copy of these rules: a change here changes both sides.
//! `docs/ARCHIVE_FORMAT.md` ("Members and headers", "Canonical form") describes the result.

use std::cmp::Ordering;
use std::ops::Range;

/// The member that must come first in every package.
pub const MANIFEST_NAME: &str = "manifest.json";

/// The member that holds a package's signature (`signing::sigfile` reads and writes its
/// content). The writer and the reader treat it like any other member; `integrity.files` lists
/// every member but it and [`MANIFEST_NAME`].
pub const SIGNATURE_MEMBER: &str = "signature.sig";

/// Tar block size.
pub(crate) const BLOCK: usize = 512;

/// Length of the header's name field: longer names get a GNU long-name entry first.
pub(crate) const NAME_FIELD: usize = 100;

/// The name field of the GNU long-name entry that precedes a member whose name is longer than
/// [`NAME_FIELD`] bytes.
pub(crate) const LONG_NAME_MARKER: &[u8] = b"././@LongLink";

/// The end of the archive as the writer writes it: two zero blocks, nothing after them.
pub(crate) const END_OF_ARCHIVE: [u8; 2 * BLOCK] = [0; 2 * BLOCK];

/// Zero bytes needed after `size` bytes of data to reach a block boundary.
pub(crate) fn padding(size: u64) -> usize {
    let rest = (size % BLOCK as u64) as usize;
    if rest == 0 {
        0
    } else {
        BLOCK - rest
    }
}

/// A GNU header with every field fixed except name, size, type and mtime.
fn fixed_header(size: u64, mtime: u64, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(size);
    // uname, gname, linkname, devmajor, devminor and the prefix area stay all-zero from `new_gnu`.
    h
}

fn set_name(header: &mut tar::Header, name: &[u8]) {
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name);
}

/// The bytes the writer emits before a member's data: a GNU `././@LongLink` entry (header, the
/// name plus a NUL, zero padding) when the name does not fit the 100-byte name field, then the
/// member's own header, whose name field holds the first 100 bytes of the name. GNU tar, Python's
/// tarfile and our reader all read this.
///
/// `path` must already have passed [`check_member_name`](super::check_member_name); this only
/// lays out bytes.
pub(crate) fn member_headers(path: &str, size: u64, mtime: u64) -> Vec<u8> {
    let name = path.as_bytes();
    let mut out = Vec::with_capacity(3 * BLOCK);
    if name.len() > NAME_FIELD {
        let long_len = name.len() as u64 + 1; // NUL-terminated, like GNU tar
        let mut long = fixed_header(long_len, mtime, tar::EntryType::GNULongName);
        set_name(&mut long, LONG_NAME_MARKER);
        long.set_cksum();
        out.extend_from_slice(long.as_bytes());
        out.extend_from_slice(name);
        out.push(0);
        out.resize(out.len() + padding(long_len), 0);
    }
    let mut header = fixed_header(size, mtime, tar::EntryType::Regular);
    set_name(&mut header, &name[..name.len().min(NAME_FIELD)]);
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out
}

/// The order of members in a package: `manifest.json` first, then by the bytes of their names.
/// The one ordering rule: [`sort_members`](super::sort_members) sorts with it and the canonical
/// reader checks it.
pub fn member_order(a: &str, b: &str) -> Ordering {
    (a != MANIFEST_NAME, a.as_bytes()).cmp(&(b != MANIFEST_NAME, b.as_bytes()))
}

/// The fields of a header block, by byte range, as GNU tar lays them out. The writer fills the
/// ustar `prefix` area (GNU's atime, ctime, offset and sparse fields) with zeros; the name is
/// what readers disagree on when it is not, hence the ustar name.
pub(crate) const FIELDS: &[(&str, Range<usize>)] = &[
    ("name", 0..100),
    ("mode", 100..108),
    ("uid", 108..116),
    ("gid", 116..124),
    ("size", 124..136),
    ("mtime", 136..148),
    ("chksum", 148..156),
    ("typeflag", 156..157),
    ("linkname", 157..257),
    ("magic", 257..263),
    ("version", 263..265),
    ("uname", 265..297),
    ("gname", 297..329),
    ("devmajor", 329..337),
    ("devminor", 337..345),
    ("prefix", 345..500),
    ("padding", 500..512),
];

/// The field that holds byte `offset` of a header block.
pub(crate) fn field_at(offset: usize) -> (&'static str, Range<usize>) {
    FIELDS
        .iter()
        .find(|(_, r)| r.contains(&offset))
        .map(|(name, r)| (*name, r.clone()))
        .unwrap_or(("padding", 500..BLOCK))
}

/// The first field in which two header blocks differ, leaving the checksum last: it differs
/// whenever anything else does, so it is named only when it is the one difference (a checksum
/// written in another format).
pub(crate) fn first_difference(
    found: &[u8; BLOCK],
    expected: &[u8; BLOCK],
) -> Option<(&'static str, Range<usize>)> {
    let differs = |r: &Range<usize>| found[r.clone()] != expected[r.clone()];
    FIELDS
        .iter()
        .filter(|(name, _)| *name != "chksum")
        .chain(FIELDS.iter().filter(|(name, _)| *name == "chksum"))
        .find(|(_, r)| differs(r))
        .map(|(name, r)| (*name, r.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_have_fixed_fields() {
        let h = member_headers("manifest.json", 10, super::super::DEFAULT_MTIME);
        let header = tar::Header::from_byte_slice(&h);
        assert_eq!(header.mode().unwrap(), 0o644);
        assert_eq!(header.uid().unwrap(), 0);
        assert_eq!(header.gid().unwrap(), 0);
        assert_eq!(header.mtime().unwrap(), super::super::DEFAULT_MTIME);
        assert_eq!(header.username_bytes(), Some(&b""[..]));
        assert_eq!(header.entry_type(), tar::EntryType::Regular);
        assert_eq!(&h[257..265], b"ustar  \0");
        let long = "d/".repeat(80) + "file";
        let h = member_headers(&long, 1, 0);
        assert_eq!(h.len(), 512 + 512 + 512);
        assert_eq!(
            tar::Header::from_byte_slice(&h[..512]).entry_type(),
            tar::EntryType::GNULongName
        );
        assert_eq!(&h[..13], LONG_NAME_MARKER);
        assert_eq!(&h[512..512 + long.len()], long.as_bytes());
        assert_eq!(h[512 + long.len()], 0);
    }

    #[test]
    fn fields_cover_the_block_once() {
        let mut next = 0;
        for (_, r) in FIELDS {
            assert_eq!(r.start, next);
            next = r.end;
        }
        assert_eq!(next, BLOCK);
        assert_eq!(field_at(0).0, "name");
        assert_eq!(field_at(124).0, "size");
        assert_eq!(field_at(345).0, "prefix");
    }

    #[test]
    fn the_checksum_is_named_only_when_alone() {
        let a: [u8; BLOCK] = member_headers("a", 1, 0).try_into().unwrap();
        let b: [u8; BLOCK] = member_headers("a", 2, 0).try_into().unwrap();
        assert_eq!(first_difference(&a, &b).unwrap().0, "size");
        let mut c = a;
        c[150] = b' ';
        assert_eq!(first_difference(&c, &a).unwrap().0, "chksum");
        assert_eq!(first_difference(&a, &a), None);
    }
}
