//! The canonical-form property of issue #10, shared word for word by the `canonical` fuzz target
//! (`fuzz/src/lib.rs`) and the test suite (`tests/cli/differential.rs` includes this file with
//! `#[path]`), so the two cannot drift apart. Depends only on `expert_cli`, `flate2` and std.
//!
//! Property: whatever the canonical reader (`archive::read_members_keeping`, what `verify` and `sign` use)
//! accepts is exactly what our writer produces for those members: reading the members and
//! writing them again with `ArchiveWriter` (same order, the archive's mtime) gives the identical
//! tar stream. So a package `verify` accepts has one byte sequence per set of (path, bytes), and
//! every unpacker that reads our writer's output (GNU tar, Python's tarfile; tested in
//! `tests/cli/archive.rs`) sees exactly the members `verify` saw.

use std::io::{Read, Write};

use expert_cli::archive::{read_members_keeping, ArchiveWriter, ContentKind, Limits, WriteOptions};

const BLOCK: usize = 512;

/// Gzips a tar stream with the writer's fixed 10-byte header (flate2 writes MTIME 0, OS 255,
/// and XFL 0 at the default level), so that a mutation of the tar stream reaches the tar layer
/// of the canonical reader instead of stopping at the gzip header.
pub fn gzip_canonical(tar: &[u8]) -> Vec<u8> {
    let mut e = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    e.write_all(tar).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// The uncompressed tar stream of a gzip file.
pub fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// A tar numeric field: base-256 (high bit set; the last 8 bytes) or octal with NUL/space ends.
fn number(field: &[u8]) -> Option<u64> {
    if field.first()? & 0x80 != 0 {
        let tail = &field[field.len().saturating_sub(8)..];
        return Some(tail.iter().fold(0u64, |n, &b| n << 8 | u64::from(b)));
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c| c == '\0' || c == ' ');
    u64::from_str_radix(text, 8).ok()
}

/// Checks the property on one tar stream; panics when it does not hold.
pub fn check(tar: &[u8]) {
    let limits = Limits {
        max_members: 64,
        max_member_size: 1 << 20,
        max_total_size: 4 << 20,
        max_kept_size: 1 << 20,
    };
    let gz = gzip_canonical(tar);
    let Ok(listing) = read_members_keeping(&gz[..], &limits, &|_| true) else {
        return;
    };
    // The archive's mtime is in its first header (a long-name entry carries the same one).
    let mtime = if listing.members.is_empty() {
        0
    } else {
        number(&tar[136..148]).expect("an accepted header has a readable mtime")
    };
    let opts = WriteOptions {
        mtime,
        threads: 1,
        ..WriteOptions::default()
    };
    let mut w = ArchiveWriter::new(Vec::new(), opts).expect("writing to memory");
    for m in &listing.members {
        let data = &listing.kept[&m.path];
        if let Err(e) = w.append(
            &m.path,
            data.len() as u64,
            &mut &data[..],
            ContentKind::for_path(&m.path),
        ) {
            panic!("the canonical reader accepted a member the writer refuses: {e}");
        }
    }
    let again = gunzip(&w.finish().expect("writing to memory")).expect("our own gzip");
    if again != tar {
        let at = again
            .iter()
            .zip(tar)
            .position(|(a, b)| a != b)
            .unwrap_or(again.len().min(tar.len()));
        panic!(
            "the canonical reader accepted a tar stream the writer does not produce: \
             first difference at byte {at} (block {}, offset {}), lengths {} and {}",
            at / BLOCK,
            at % BLOCK,
            tar.len(),
            again.len()
        );
    }
}

/// Byte offsets of the header blocks of a tar stream (walking sizes as a reader would, stopping
/// at a zero block or anything unreadable).
pub fn header_offsets(tar: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + BLOCK <= tar.len() && out.len() < 1000 {
        let h = &tar[at..at + BLOCK];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        out.push(at);
        let Some(size) = number(&h[124..136]) else {
            break;
        };
        let Some(next) = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_next_multiple_of(BLOCK))
            .and_then(|s| (at + BLOCK).checked_add(s))
        else {
            break;
        };
        at = next;
    }
    out
}

/// Writes a valid checksum (as the `tar` crate and our writer format it: seven octal digits and
/// a NUL) into the header block at `at`.
pub fn fix_checksum(tar: &mut [u8], at: usize) {
    let h = &mut tar[at..at + BLOCK];
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:07o}\0").as_bytes());
}

/// A small deterministic PRNG (xorshift64).
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Values worth writing into header fields: other tools' spellings of what the writer writes.
const FIELD_VALUES: &[&[u8]] = &[
    b"ustar\0",
    b"00",
    b"ustar  \0",
    b" \0",
    b"0000644\0",
    b"000644 \0",
    b"0100644\0",
    b"0000755\0",
    b"0001750\0",
    b"     0 \0",
    b"root",
    b"yy",
    b"././@LongLink",
    b"././@PaxHeader",
    b"zz/",
    b"adapter_model.safetensors",
    b"manifest.json",
    b"../x",
    b"\x80\0\0\0\0\0\0\0\0\0\0\x05",
    b"\x80\x01\0\0\0\0\0\0\0\0\0\x05",
    b"\xff\xff\xff\xff\xff\xff\xff\xff",
    b"00000000000\0",
    b"00000000012 ",
    b"12 ",
    b"\0",
];

/// Field ranges of a header block (as `archive::header::FIELDS`).
const FIELDS: &[(usize, usize)] = &[
    (0, 100),
    (100, 108),
    (108, 116),
    (116, 124),
    (124, 136),
    (136, 148),
    (148, 156),
    (156, 157),
    (157, 257),
    (257, 263),
    (263, 265),
    (265, 297),
    (297, 329),
    (329, 337),
    (337, 345),
    (345, 500),
    (500, 512),
];

/// Writes `value` into `field`, zero-filled, cut to the field's length.
fn put(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// Mutates the header blocks of a tar stream (and sometimes its structure), fixing the changed
/// header's checksum most of the time so the mutation gets past the checksum check.
pub fn mutate_headers(rng: &mut Rng, tar: &mut Vec<u8>) {
    let headers = header_offsets(tar);
    for _ in 0..=rng.below(3) {
        if headers.is_empty() || tar.len() < BLOCK {
            return;
        }
        let at = headers[rng.below(headers.len())];
        if at + BLOCK > tar.len() {
            return;
        }
        let (start, end) = FIELDS[rng.below(FIELDS.len())];
        match rng.below(10) {
            0 => {
                let i = at + rng.below(BLOCK);
                tar[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = at + start + rng.below(end - start);
                tar[i] = rng.next() as u8;
            }
            2 | 3 => {
                // Another tool's spelling of a field.
                let v = FIELD_VALUES[rng.below(FIELD_VALUES.len())];
                put(&mut tar[at + start..at + end], v);
            }
            4 => {
                // Another entry type.
                let types = b"0\x001234567LKxgSDVM";
                tar[at + 156] = types[rng.below(types.len())];
            }
            5 => {
                // A size a little off, or the same size spelled otherwise.
                let size = number(&tar[at + 124..at + 136]).unwrap_or(0);
                let new = match rng.below(4) {
                    0 => size.saturating_add(1 + rng.below(600) as u64),
                    1 => size.saturating_sub(1 + rng.below(600) as u64),
                    2 => size,
                    _ => size.saturating_add(512),
                };
                let text = match rng.below(3) {
                    0 => format!("{new:011o}\0"),
                    1 => format!("{new:11o} "),
                    _ => format!("{new:o}\0"),
                };
                put(&mut tar[at + 124..at + 136], text.as_bytes());
            }
            6 => {
                // Structure: insert, drop or duplicate a block; insert a zero block.
                let block_at = (rng.below(tar.len() / BLOCK + 1) * BLOCK).min(tar.len());
                match rng.below(4) {
                    0 if block_at + BLOCK <= tar.len() => {
                        let b: Vec<u8> = tar[block_at..block_at + BLOCK].to_vec();
                        let to = headers[rng.below(headers.len())];
                        tar.splice(to..to, b);
                    }
                    1 if block_at + BLOCK <= tar.len() => {
                        tar.drain(block_at..block_at + BLOCK);
                    }
                    2 => {
                        tar.splice(block_at..block_at, [0u8; BLOCK]);
                    }
                    _ => {
                        let h: Vec<u8> = tar[at..at + BLOCK].to_vec();
                        tar.splice(block_at..block_at, h);
                    }
                }
                return;
            }
            7 => {
                // Bytes after the end, or fewer end bytes.
                if rng.below(2) == 0 {
                    let n = rng.below(1100);
                    tar.extend((0..n).map(|i| if i % 7 == 0 { 1 } else { 0 }));
                } else {
                    let n = rng.below(1025).min(tar.len());
                    tar.truncate(tar.len() - n);
                }
                return;
            }
            8 => {
                // Non-zero data padding after some member.
                if let Some(&next) = headers.iter().find(|&&h| h > at) {
                    tar[next - 1] = b'x';
                }
            }
            _ => {
                // An mtime a little off.
                let m = number(&tar[at + 136..at + 148])
                    .unwrap_or(0)
                    .saturating_add(1 + rng.below(3) as u64);
                put(
                    &mut tar[at + 136..at + 148],
                    format!("{m:011o}\0").as_bytes(),
                );
            }
        }
        if rng.below(10) != 0 {
            fix_checksum(tar, at);
        }
    }
}

/// The fuzz body: the first byte says whether to fix every header's checksum first (odd) so that
/// coverage-guided mutation reaches the fields behind the checksum; the rest is a tar stream.
pub fn check_input(data: &[u8]) {
    let Some((&flag, tar)) = data.split_first() else {
        return;
    };
    let mut tar = tar.to_vec();
    if flag & 1 == 1 {
        for at in header_offsets(&tar) {
            fix_checksum(&mut tar, at);
        }
    }
    check(&tar);
}
