//! The `.expert` package format: a deterministic, streaming writer and a hardened, streaming
//! reader (SPEC §5, §6), and the `package` operation on top of them.
//!
//! A package is one gzip member holding a tar stream of regular files: `manifest.json` first,
//! then the other members in byte order of their names. The layout, header fields, determinism
//! rules, per-member compression and reader limits are specified in `docs/ARCHIVE_FORMAT.md`.
//!
//! - [`package()`](package::package): the operation behind `expert-cli package`; [`adapter`]:
//!   where a base model's adapter is and whether it matches the manifest.
//! - [`Member`], [`sort_members`]: the planned member list; [`write_members`]: writing it.
//!   Dependencies go one way: `pack` → `write` → `member` → `header`.
//! - [`MANIFEST_NAME`], [`SIGNATURE_MEMBER`], [`member_order`]: the reserved members and the one
//!   order, shared by the writer, the canonical reader and `sign`.
//! - [`ArchiveWriter`]: the low-level incremental writer.
//! - [`visit`]: the reader, streaming each member to a callback; [`scan`] on top of it, keeping
//!   chosen members in memory. Both bounded by [`Limits`] and canonical: they accept only what
//!   the writer produces ([`ReadMode`]; [`visit_in`] and [`scan_in`] take the mode).
//! - [`display_name`]: how a member name is shown to people (invisible characters escaped).
//! - [`sidecar_path`], [`write_sidecar`]: the `sha256sum`-format sidecar.
//!
//! This module owns the `tar`, `flate2` and `zlib-rs` dependencies: no other module uses them.
//! Like the rest of the library it never prints, exits or reads the environment; the caller
//! passes `SOURCE_DATE_EPOCH` in through [`WriteOptions::mtime`] and
//! [`PackageOptions::created_at`].

pub mod adapter;
mod gzip;
mod header;
pub mod inspect;
mod member;
mod name;
mod pack;
pub mod package;
mod read;
mod sidecar;
mod write;

pub use header::{member_order, MANIFEST_NAME, SIGNATURE_MEMBER};
pub use member::{hash_file, sort_members, ContentKind, Member, MemberError, Source};
pub use name::{check_member_name, display_name, DisplayName, NameProblem, MAX_NAME_LEN};
pub(crate) use name::{is_forbidden_in_name, is_zero_width};
pub use pack::{write_members, WriteMembersError, WriteSummary, WrittenMember};
pub use package::{package, PackageError, PackageEvents, PackageOptions, PackageReport};
pub use read::{
    open_package, scan, scan_in, visit, visit_in, Difference, HeaderBlock, Limits, MemberHead,
    MemberInfo, NonCanonical, ReadError, ReadErrorKind, ReadMode, Scanned, VisitError, Visited,
};
pub use sidecar::{check_sidecar_name, sidecar_path, write_sidecar, SidecarError};
pub use write::{ArchiveWriter, WriteError, WriteOptions, DEFAULT_LEVEL, DEFAULT_MTIME};
