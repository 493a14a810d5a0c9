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
//! - [`read_members`]: the reader, streaming each member to a callback;
//!   [`read_members_keeping`] on top of it, keeping chosen members in memory. Both return a
//!   [`Listing`], are bounded by [`Limits`] and canonical: they accept only what the writer
//!   produces ([`ReadMode`]; [`read_members_in`] and [`read_members_keeping_in`] take the mode).
//! - [`open_package`], [`open_gzip`], [`why_not_a_package`]: the package file before reading,
//!   and whether a refused file is a package at all.
//! - [`validate`]: what `expert-cli validate` checks in a package or an expert folder, and what
//!   `sign` checks before signing.
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
mod member;
mod open;
mod pack;
pub mod package;
mod read;
mod sidecar;
pub mod validate;
mod write;

/// The member-name rule lives in [`crate::names`], below the manifest, which checks the paths it
/// names by it too; the writer and the reader apply it.
pub use crate::names::{check_member_name, display_name, DisplayName, NameProblem, MAX_NAME_LEN};
pub use header::{member_order, MANIFEST_NAME, SIGNATURE_MEMBER};
pub use member::{hash_file, sort_members, ContentKind, Member, MemberError, Source};
pub use open::{open_gzip, open_package, why_not_a_package, NotPackage, OpenError};
pub use pack::{write_members, WriteMembersError, WriteSummary, WrittenMember};
pub use package::{package, PackageError, PackageEvents, PackageOptions, PackageReport};
pub use read::{
    read_members, read_members_in, read_members_keeping, read_members_keeping_in, Difference,
    HeaderBlock, Limits, Listing, MemberHead, MemberInfo, NonCanonical, ReadError, ReadErrorKind,
    ReadMembersError, ReadMode,
};
pub use sidecar::{check_sidecar_name, sidecar_path, write_sidecar, SidecarError};
pub use write::{ArchiveWriter, WriteError, WriteOptions, DEFAULT_LEVEL, DEFAULT_MTIME};
