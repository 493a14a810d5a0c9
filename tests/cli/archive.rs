//! The `.expert` archive format end to end: determinism, round trips, other tools reading what
//! we write, and hostile archives refused with their own errors.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use expert_cli::archive::{
    read_members, read_members_keeping, read_members_keeping_in, sort_members, write_members,
    ArchiveWriter, ContentKind, Difference, Limits, Member, MemberHead, MemberInfo, NonCanonical,
    ReadError, ReadMembersError, ReadMode, WriteError, WriteOptions, DEFAULT_MTIME,
};
use expert_cli::progress::NoProgress;

const LONG_NAME: &str = "tests/a-very-long-directory-name-that-keeps-going-and-going/and-a-nested-directory-too/with-a-file-name-over-100-bytes.json";

fn opts() -> WriteOptions {
    WriteOptions {
        threads: 2,
        ..WriteOptions::default()
    }
}

/// bf16-like bytes: normal(0, 0.02) floats truncated to bf16, little-endian.
fn bf16_like(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u1, u2) = (next().max(1e-300), next());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let bits = ((z * 0.02) as f32).to_bits() >> 16;
        out.extend_from_slice(&(bits as u16).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// An expert directory on disk with a manifest, weights, text files and a long name.
fn expert_dir(dir: &Path) -> Vec<Member> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("adapter_model.safetensors", bf16_like(3 << 20, 7)),
        (
            "adapter_config.json",
            b"{\"r\": 8, \"lora_alpha\": 16}\n".to_vec(),
        ),
        (
            "tokenizer.json",
            b"{\"vocab\": {\"a\": 1, \"b\": 2}}\n".repeat(1000),
        ),
        ("README.md", b"# expert\n".to_vec()),
        (LONG_NAME, b"{}\n".to_vec()),
    ];
    let mut members = vec![Member::from_bytes(
        "manifest.json",
        b"{\"name\": \"expert-x\"}\n".to_vec(),
    )];
    for (name, bytes) in files {
        let path = dir.join(name.replace('/', "_"));
        std::fs::write(&path, bytes).unwrap();
        members.push(Member::from_file(name, &path).unwrap());
    }
    sort_members(&mut members);
    members
}

fn package(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    let summary = write_members(members, &mut out, &opts(), &mut NoProgress).unwrap();
    assert_eq!(summary.size, out.len() as u64);
    assert_eq!(summary.sha256, expert_cli::digest::sha256_hex(&out));
    out
}

#[test]
fn same_members_give_identical_bytes_whatever_the_file_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let members = expert_dir(dir.path());
    let first = package(&members);
    assert_eq!(first, package(&members));

    // Touch mtimes and permissions on disk: the archive must not change.
    #[cfg(unix)]
    for m in &members {
        if let expert_cli::archive::Source::File(p) = &m.source {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
            let f = std::fs::File::options().write(true).open(p).unwrap();
            f.set_modified(
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1234),
            )
            .unwrap();
        }
    }
    assert_eq!(first, package(&members));
    let single = {
        let mut out = Vec::new();
        let o = WriteOptions {
            threads: 1,
            ..opts()
        };
        write_members(&members, &mut out, &o, &mut NoProgress).unwrap();
        out
    };
    assert_eq!(first, single, "thread count must not change the bytes");
}

#[test]
fn write_then_read_round_trips_names_sizes_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let members = expert_dir(dir.path());
    let bytes = package(&members);
    let listing =
        read_members_keeping(&bytes[..], &Limits::default(), &|p| p == "manifest.json").unwrap();
    let got: Vec<(&str, u64, &str)> = listing
        .members
        .iter()
        .map(|m| (m.path.as_str(), m.size, m.sha256.as_str()))
        .collect();
    let want: Vec<(&str, u64, &str)> = members
        .iter()
        .map(|m| (m.path.as_str(), m.size, m.sha256.as_str()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(listing.members[0].path, "manifest.json");
    assert_eq!(listing.kept.len(), 1);
    assert_eq!(listing.kept["manifest.json"], b"{\"name\": \"expert-x\"}\n");
}

fn tool_available(name: &str) -> bool {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::common::skip(&format!("`{name}` is not installed"));
    }
    ok
}

#[test]
fn gnu_tar_lists_and_extracts_what_we_write() {
    if !tool_available("tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let members = expert_dir(dir.path());
    let pkg = dir.path().join("x.expert");
    std::fs::write(&pkg, package(&members)).unwrap();
    let list = Command::new("tar").arg("-tzvf").arg(&pkg).output().unwrap();
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listing = String::from_utf8(list.stdout).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), members.len());
    assert!(lines[0].starts_with("-rw-r--r-- 0/0"), "{}", lines[0]);
    assert!(
        lines[0].contains("1980-01-01") && lines[0].ends_with("manifest.json"),
        "{}",
        lines[0]
    );
    assert!(listing.contains(LONG_NAME));

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let x = Command::new("tar")
        .arg("-xzf")
        .arg(&pkg)
        .arg("-C")
        .arg(&out)
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    for m in &members {
        let bytes = std::fs::read(out.join(&m.path)).unwrap();
        assert_eq!(
            expert_cli::digest::sha256_hex(&bytes),
            m.sha256,
            "{}",
            m.path
        );
    }
    // gzip itself agrees on the CRC and length.
    if tool_available("gzip") {
        let t = Command::new("gzip").arg("-t").arg(&pkg).output().unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    }
}

#[test]
fn python_tarfile_lists_and_extracts_what_we_write() {
    if !tool_available("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let members = expert_dir(dir.path());
    let pkg = dir.path().join("x.expert");
    std::fs::write(&pkg, package(&members)).unwrap();
    let out = dir.path().join("py");
    let script = r#"
import hashlib, sys, tarfile
pkg, out = sys.argv[1], sys.argv[2]
with tarfile.open(pkg, "r:gz") as t:
    for m in t.getmembers():
        assert m.isreg() and m.mode == 0o644 and m.uid == 0 and m.gid == 0, m
        assert m.mtime == 315532800 and m.uname == "" and m.gname == "", m
        data = t.extractfile(m).read()
        print(m.name, len(data), hashlib.sha256(data).hexdigest())
    t.extractall(out, filter="data")
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&pkg)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listing = String::from_utf8(o.stdout).unwrap();
    let want: String = members
        .iter()
        .map(|m| format!("{} {} {}\n", m.path, m.size, m.sha256))
        .collect();
    assert_eq!(listing, want);
    assert!(out.join(LONG_NAME).is_file());
}

// ---- hostile archives ---------------------------------------------------------------------

/// One raw tar entry: a header laid out like the writer's (GNU magic, mode 0644, owner 0,
/// `DEFAULT_MTIME`) but with an arbitrary name, type and data, so that the canonical and the
/// lenient reader both reach the entry's own problem.
struct Raw<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
    link: &'a [u8],
}

fn raw(name: &str, data: &'static [u8]) -> Raw<'static> {
    Raw {
        name: Box::leak(name.as_bytes().to_vec().into_boxed_slice()),
        kind: tar::EntryType::Regular,
        data,
        link: b"",
    }
}

fn tar_bytes(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut h = tar::Header::new_gnu();
        // Write the name field directly so `..`, `/abs` and other bad names get through.
        let name = &mut h.as_old_mut().name;
        name[..e.name.len()].copy_from_slice(e.name);
        h.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link);
        h.set_entry_type(e.kind);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(DEFAULT_MTIME);
        h.set_size(e.data.len() as u64);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(e.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gz(tar: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(tar).unwrap();
    e.finish().unwrap()
}

/// The canonical and the lenient reader's errors for `bytes`; both must refuse.
fn read_errs(bytes: &[u8], limits: &Limits) -> (ReadError, ReadError) {
    let mut errors = [ReadMode::Canonical, ReadMode::Lenient].map(|mode| {
        match read_members_keeping_in(mode, bytes, limits, &|_| true) {
            Ok(s) => panic!("{mode:?}: expected an error, got {:?}", s.members),
            Err(e) => Some(e),
        }
    });
    let canonical = errors[0].take().expect("set above");
    let lenient = errors[1].take().expect("set above");
    (canonical, lenient)
}

/// The error both readers give for `bytes` (the same variant).
fn read_err(bytes: &[u8], limits: &Limits) -> ReadError {
    let (canonical, lenient) = read_errs(bytes, limits);
    assert_eq!(
        std::mem::discriminant(&canonical),
        std::mem::discriminant(&lenient),
        "canonical: {canonical}; lenient: {lenient}"
    );
    lenient
}

fn refused(entries: &[Raw]) -> ReadError {
    read_err(&gz(&tar_bytes(entries)), &Limits::default())
}

#[test]
fn refuses_path_traversal_and_absolute_names() {
    let e = refused(&[raw("../x", b"x")]);
    assert!(
        matches!(e, ReadError::ParentDirComponent { ref path } if path == "../x"),
        "{e}"
    );
    let e = refused(&[raw("a/../../x", b"x")]);
    assert!(matches!(e, ReadError::ParentDirComponent { .. }), "{e}");
    let e = refused(&[raw("/etc/x", b"x")]);
    assert!(
        matches!(e, ReadError::AbsolutePath { ref path } if path == "/etc/x"),
        "{e}"
    );
    let e = refused(&[raw("a\\b", b"x")]);
    assert!(matches!(e, ReadError::InvalidName { .. }), "{e}");
    let e = refused(&[Raw {
        name: b"bad\xff",
        ..raw("", b"x")
    }]);
    assert!(matches!(e, ReadError::NonUtf8Name { .. }), "{e}");
    assert!(e.to_string().contains("not valid UTF-8"));
}

#[test]
fn refuses_links_and_special_files() {
    let e = refused(&[Raw {
        kind: tar::EntryType::Symlink,
        link: b"/",
        ..raw("root", b"")
    }]);
    assert!(
        matches!(e, ReadError::Symlink { ref path } if path == "root"),
        "{e}"
    );
    let e = refused(&[
        raw("a", b"x"),
        Raw {
            kind: tar::EntryType::Link,
            link: b"a",
            ..raw("b", b"")
        },
    ]);
    assert!(matches!(e, ReadError::Hardlink { .. }), "{e}");
    let e = refused(&[Raw {
        kind: tar::EntryType::Char,
        ..raw("tty", b"")
    }]);
    assert!(matches!(e, ReadError::CharDevice { .. }), "{e}");
    let e = refused(&[Raw {
        kind: tar::EntryType::Block,
        ..raw("sda", b"")
    }]);
    assert!(matches!(e, ReadError::BlockDevice { .. }), "{e}");
    let e = refused(&[Raw {
        kind: tar::EntryType::Fifo,
        ..raw("p", b"")
    }]);
    assert!(matches!(e, ReadError::Fifo { .. }), "{e}");
    let e = refused(&[Raw {
        kind: tar::EntryType::GNUSparse,
        ..raw("s", b"")
    }]);
    assert!(
        matches!(e, ReadError::UnsupportedType { typeflag: 'S', .. }),
        "{e}"
    );
}

#[test]
fn directory_entries_are_refused_in_canonical_mode_and_skipped_in_lenient_mode() {
    let dir = Raw {
        kind: tar::EntryType::Directory,
        ..raw("tests/", b"")
    };
    let bytes = gz(&tar_bytes(&[dir, raw("tests/a", b"x")]));
    let s = read_members_keeping_in(ReadMode::Lenient, &bytes[..], &Limits::default(), &|_| {
        false
    })
    .unwrap();
    assert_eq!(s.members.len(), 1);
    assert_eq!(
        s.non_canonical,
        Some(NonCanonical {
            member: Some("tests/".into()),
            difference: Difference::Directory
        })
    );
    let e = read_members_keeping(&bytes[..], &Limits::default(), &|_| false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the package is not in the form `expert-cli package` writes: \
         `tests/`: directory entries are not part of an .expert package"
    );
    let e = refused(&[Raw {
        kind: tar::EntryType::Directory,
        ..raw("../d/", b"")
    }]);
    assert!(matches!(e, ReadError::ParentDirComponent { .. }), "{e}");
}

/// A pax header entry (`x` or `g`) with the given records, laid out like [`tar_bytes`]' others.
fn pax_raw(kind: tar::EntryType, records: &[(&str, &str)]) -> Raw<'static> {
    let mut data = String::new();
    for (key, value) in records {
        let body = format!("{key}={value}\n");
        let mut len = body.len() + 2;
        while format!("{len} ").len() + body.len() != len {
            len += 1;
        }
        data.push_str(&format!("{len} {body}"));
    }
    Raw {
        kind,
        ..raw(
            "././@PaxHeader",
            Box::leak(data.into_bytes().into_boxed_slice()),
        )
    }
}

/// The lenient reader reads what GNU tar and Python's tarfile read, so `validate` reports the
/// files they would unpack (issue #10); the canonical reader refuses each of these outright.
#[test]
fn the_lenient_reader_sees_what_other_unpackers_see() {
    let names = |bytes: &[u8]| -> Result<Vec<String>, ReadError> {
        read_members_keeping_in(ReadMode::Lenient, bytes, &Limits::default(), &|_| false)
            .map(|s| s.members.into_iter().map(|m| m.path).collect())
    };
    // A directory whose size covers a whole member: the member is read, not skipped.
    let hidden = tar_bytes(&[raw("b", b"hidden")]);
    let hidden = &hidden[..hidden.len() - 1024];
    let dir = Raw {
        kind: tar::EntryType::Directory,
        data: Box::leak(hidden.to_vec().into_boxed_slice()),
        ..raw("zz/", b"")
    };
    let bytes = gz(&tar_bytes(&[raw("a", b"1"), dir]));
    assert_eq!(names(&bytes).unwrap(), ["a", "b"]);
    assert!(matches!(
        read_members_keeping(&bytes[..], &Limits::default(), &|_| false),
        Err(ReadError::NonCanonical(NonCanonical {
            difference: Difference::Directory,
            ..
        }))
    ));
    // A global `path` names every later entry.
    let g = pax_raw(tar::EntryType::XGlobalHeader, &[("path", "b")]);
    let bytes = gz(&tar_bytes(&[raw("a", b"1"), g, raw("c", b"2")]));
    assert_eq!(names(&bytes).unwrap(), ["a", "b"]);
    let g = pax_raw(tar::EntryType::XGlobalHeader, &[("path", "b")]);
    let bytes = gz(&tar_bytes(&[g, raw("c", b"2"), raw("d", b"3")]));
    assert!(matches!(
        names(&bytes),
        Err(ReadError::DuplicateMember { ref path }) if path == "b"
    ));
    // `GNU.sparse.name` names the next entry.
    let x = pax_raw(tar::EntryType::XHeader, &[("GNU.sparse.name", "b")]);
    let bytes = gz(&tar_bytes(&[raw("a", b"1"), x, raw("c", b"2")]));
    assert_eq!(names(&bytes).unwrap(), ["a", "b"]);
    let e = read_members_keeping(&bytes[..], &Limits::default(), &|_| false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the package is not in the form `expert-cli package` writes: \
         `././@PaxHeader`: pax extended headers (`x`) are not part of an .expert package"
    );
}

#[test]
fn refuses_duplicates_and_too_many_members() {
    let e = refused(&[raw("a", b"1"), raw("b", b"2"), raw("a", b"3")]);
    assert!(
        matches!(e, ReadError::DuplicateMember { ref path } if path == "a"),
        "{e}"
    );
    let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<Raw> = names.iter().map(|n| raw(n, b"")).collect();
    let limits = Limits {
        max_members: 10,
        ..Limits::default()
    };
    let e = read_err(&gz(&tar_bytes(&entries)), &limits);
    assert!(matches!(e, ReadError::TooManyMembers { limit: 10 }), "{e}");
}

#[test]
fn refuses_members_over_the_size_limits() {
    let archive = gz(&tar_bytes(&[
        raw("a", b"0123456789"),
        raw("b", b"0123456789"),
    ]));
    let e = read_err(
        &archive,
        &Limits {
            max_member_size: 9,
            ..Limits::default()
        },
    );
    assert!(
        matches!(
            e,
            ReadError::MemberTooLarge {
                size: 10,
                limit: 9,
                ..
            }
        ),
        "{e}"
    );
    let e = read_err(
        &archive,
        &Limits {
            max_total_size: 15,
            ..Limits::default()
        },
    );
    assert!(matches!(e, ReadError::TotalTooLarge { limit: 15 }), "{e}");
    let e = read_err(
        &archive,
        &Limits {
            max_kept_size: 5,
            ..Limits::default()
        },
    );
    assert!(matches!(e, ReadError::KeptTooLarge { size: 10, .. }), "{e}");

    // A header that claims a huge size is refused before any data is read (bomb defence).
    let mut tar = tar_bytes(&[raw("big", b"")]);
    let mut h = tar::Header::new_gnu();
    h.as_mut_bytes().copy_from_slice(&tar[..512]);
    h.set_size(1 << 40);
    h.set_cksum();
    tar[..512].copy_from_slice(h.as_bytes());
    let e = read_err(&gz(&tar), &Limits::default());
    assert!(
        matches!(
            e,
            ReadError::MemberTooLarge {
                size: 1_099_511_627_776,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn truncated_streams_give_a_clean_truncated_error() {
    let dir = tempfile::tempdir().unwrap();
    let whole = package(&expert_dir(dir.path()));
    assert!(read_members_keeping(&whole[..], &Limits::default(), &|_| false).is_ok());
    let cuts = [
        0,
        5,
        10,
        11,
        100,
        1000,
        whole.len() / 3,
        whole.len() / 2,
        whole.len() - 9,
        whole.len() - 1,
    ];
    for cut in cuts {
        let e = read_err(&whole[..cut], &Limits::default());
        if cut == 0 {
            assert!(matches!(e, ReadError::Empty), "cut at {cut}: {e}");
        } else {
            assert!(matches!(e, ReadError::Truncated(_)), "cut at {cut}: {e}");
        }
    }
    // A complete gzip stream around an incomplete tar stream.
    let tar = tar_bytes(&[raw("a", b"hello")]);
    for cut in [512, 600, 1024] {
        let e = read_err(&gz(&tar[..cut]), &Limits::default());
        assert!(
            matches!(e, ReadError::Truncated(_)),
            "tar cut at {cut}: {e}"
        );
    }
    // Less than one tar header: not a tar archive at all.
    for cut in [0, 100] {
        let e = read_err(&gz(&tar[..cut]), &Limits::default());
        assert!(matches!(e, ReadError::NotTar), "tar cut at {cut}: {e}");
    }
}

#[test]
fn refuses_trailing_garbage_and_corrupt_checksums() {
    let good = gz(&tar_bytes(&[raw("a", b"hello")]));
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    let e = read_err(&trailing, &Limits::default());
    assert!(matches!(e, ReadError::TrailingData(_)), "{e}");
    let mut twice = good.clone();
    twice.extend_from_slice(&good);
    assert!(matches!(
        read_err(&twice, &Limits::default()),
        ReadError::TrailingData(_)
    ));

    let n = good.len();
    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 0xff;
    let e = read_err(&bad_crc, &Limits::default());
    assert!(matches!(e, ReadError::ChecksumMismatch), "{e}");
    let mut bad_len = good.clone();
    bad_len[n - 4] ^= 0x01;
    assert!(matches!(
        read_err(&bad_len, &Limits::default()),
        ReadError::ChecksumMismatch
    ));

    // Non-zero data after the tar end-of-archive marker: refused by both, the canonical reader
    // as a difference from the writer's form.
    let mut tar = tar_bytes(&[raw("a", b"hello")]);
    tar.extend_from_slice(&[1u8; 512]);
    let (canonical, lenient) = read_errs(&gz(&tar), &Limits::default());
    assert!(matches!(lenient, ReadError::TrailingData(_)), "{lenient}");
    assert!(
        matches!(
            canonical,
            ReadError::NonCanonical(NonCanonical {
                difference: Difference::AfterEnd,
                ..
            })
        ),
        "{canonical}"
    );

    assert!(matches!(
        read_err(b"PK\x03\x04 zip", &Limits::default()),
        ReadError::NotGzip
    ));
    // A gzip file that is not a tar archive.
    let e = read_err(&gz(&[b'{'; 4000]), &Limits::default());
    assert!(matches!(e, ReadError::NotTar), "{e}");
    let mut corrupt = good.clone();
    corrupt[12] ^= 0xff;
    let e = read_err(&corrupt, &Limits::default());
    assert!(
        matches!(
            e,
            ReadError::CorruptGzip(_) | ReadError::ChecksumMismatch | ReadError::BadTarHeader(_)
        ),
        "{e}"
    );
}

#[test]
fn reads_gnu_long_names_and_pax_paths_from_other_tools() {
    // GNU long names, as the `tar` crate's Builder writes them.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, LONG_NAME, &b"{}"[..]).unwrap();
    let bytes = gz(&b.into_inner().unwrap());
    let s = read_members_keeping_in(ReadMode::Lenient, &bytes[..], &Limits::default(), &|_| {
        false
    })
    .unwrap();
    assert_eq!(s.members[0].path, LONG_NAME);
    // Not the writer's form (mtime 0, no 0644 in the long-name header …): noted, and refused
    // by the canonical reader.
    assert!(s.non_canonical.is_some());
    assert!(matches!(
        read_members_keeping(&bytes[..], &Limits::default(), &|_| false),
        Err(ReadError::NonCanonical(_))
    ));

    // Pax, as Python's tarfile writes by default.
    if tool_available("python3") {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("py.tar.gz");
        let script = format!(
            "import io, tarfile\nwith tarfile.open({:?}, 'w:gz', format=tarfile.PAX_FORMAT) as t:\n    i = tarfile.TarInfo({LONG_NAME:?}); i.size = 3; t.addfile(i, io.BytesIO(b'abc'))\n    i = tarfile.TarInfo('ünï.txt'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))\n",
            pkg.to_str().unwrap()
        );
        let o = Command::new("python3")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(&pkg).unwrap();
        let s =
            read_members_keeping_in(ReadMode::Lenient, &bytes[..], &Limits::default(), &|_| true)
                .unwrap();
        let names: Vec<&str> = s.members.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(names, [LONG_NAME, "ünï.txt"]);
        assert_eq!(s.kept[LONG_NAME], b"abc");
        // Python's gzip header names the file and its time: the first difference.
        let found = s.non_canonical.expect("python's package is not canonical");
        assert!(
            matches!(found.difference, Difference::GzipHeader { found } if found[3] & 0x08 != 0),
            "{found}"
        );
        assert!(found.to_string().contains("(FNAME)"), "{found}");
        assert!(matches!(
            read_members_keeping(&bytes[..], &Limits::default(), &|_| true),
            Err(ReadError::NonCanonical(_))
        ));
    }
}

#[test]
fn writer_refuses_what_the_reader_would_refuse() {
    let mut w = ArchiveWriter::new(Vec::new(), opts()).unwrap();
    for bad in ["../x", "/etc/x", "a/./b"] {
        assert!(
            w.append(bad, 0, &mut std::io::empty(), ContentKind::Text)
                .is_err(),
            "{bad}"
        );
    }
}

// ---- read_members: the streaming reader ---------------------------------------------------------

/// Reads `bytes`, recording the heads the callback saw; the callback itself reads nothing.
fn heads_read(
    bytes: &[u8],
    limits: &Limits,
) -> (Vec<MemberHead>, Result<Vec<MemberInfo>, ReadError>) {
    let mut heads = Vec::new();
    let r = read_members(bytes, limits, &mut |h, _| {
        heads.push(h.clone());
        Ok::<(), std::io::Error>(())
    });
    let r = r.map(|listing| listing.members).map_err(|e| match e {
        ReadMembersError::Read(e) => e,
        other => panic!("unexpected callback error: {other}"),
    });
    (heads, r)
}

#[test]
fn read_members_streams_a_20_mib_member_into_a_new_archive() {
    // What `sign` does: copy every member except `signature.sig` into a new archive.
    let weights = bf16_like(20 << 20, 3);
    let mut members = vec![
        Member::from_bytes("manifest.json", b"{\"name\": \"expert-x\"}\n".to_vec()),
        Member::from_bytes("adapter_model.safetensors", weights.clone()),
        Member::from_bytes("signature.sig", b"old signature\n".to_vec()),
        Member::from_bytes("tokenizer.json", b"{\"vocab\": {}}\n".repeat(100)),
    ];
    sort_members(&mut members);
    let original = package(&members);

    let mut writer = ArchiveWriter::new(Vec::new(), opts()).unwrap();
    let mut copied = Vec::new();
    let infos = read_members(&original[..], &Limits::default(), &mut |head, data| {
        if head.path == "signature.sig" {
            return Ok(()); // skipped unread: still hashed below
        }
        let kind = ContentKind::for_path(&head.path);
        let sha = writer.append(&head.path, head.size, data, kind)?;
        copied.push((head.path.clone(), head.size, sha));
        Ok::<(), WriteError>(())
    })
    .unwrap()
    .members;
    let copy = writer.finish().unwrap();

    // `read_members` reports every member, the skipped one included, with the digest of its bytes.
    let want: Vec<(String, u64, String)> = members
        .iter()
        .map(|m| match &m.source {
            expert_cli::archive::Source::Bytes(b) => (
                m.path.clone(),
                b.len() as u64,
                expert_cli::digest::sha256_hex(b),
            ),
            other => panic!("unexpected source {other:?}"),
        })
        .collect();
    let got: Vec<(String, u64, String)> = infos
        .iter()
        .map(|m| (m.path.clone(), m.size, m.sha256.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        infos,
        read_members_keeping(&original[..], &Limits::default(), &|_| false)
            .unwrap()
            .members
    );

    // The copy holds the same members, minus the signature, with the same digests.
    let want_copy: Vec<(String, u64, String)> = want
        .into_iter()
        .filter(|m| m.0 != "signature.sig")
        .collect();
    assert_eq!(copied, want_copy);
    let reread: Vec<(String, u64, String)> =
        read_members_keeping(&copy[..], &Limits::default(), &|_| false)
            .unwrap()
            .members
            .into_iter()
            .map(|m| (m.path, m.size, m.sha256))
            .collect();
    assert_eq!(reread, want_copy);
}

#[test]
fn read_members_hashes_what_the_callback_leaves_unread() {
    let data = bf16_like(300_000, 5);
    let mut members = vec![
        Member::from_bytes("manifest.json", b"{}\n".to_vec()),
        Member::from_bytes("w.bin", data.clone()),
    ];
    sort_members(&mut members);
    let bytes = package(&members);
    let mut first = Vec::new();
    let infos = read_members(&bytes[..], &Limits::default(), &mut |h, d| {
        if h.path == "w.bin" {
            // Read a little, then stop.
            let mut buf = [0u8; 1000];
            d.read_exact(&mut buf)?;
            first.extend_from_slice(&buf);
        }
        Ok::<(), std::io::Error>(())
    })
    .unwrap()
    .members;
    assert_eq!(first, data[..1000]);
    assert_eq!(infos[1].sha256, expert_cli::digest::sha256_hex(&data));
    assert_eq!(infos[1].size, data.len() as u64);
}

#[derive(Debug, thiserror::Error)]
#[error("the callback gave up")]
struct GaveUp;

#[test]
fn read_members_propagates_callback_errors_and_stops() {
    let bytes = gz(&tar_bytes(&[
        raw("a", b"1"),
        raw("b", b"2"),
        raw("c", b"3"),
    ]));
    let mut calls = Vec::new();
    let e = read_members(&bytes[..], &Limits::default(), &mut |h, _| {
        calls.push(h.path.clone());
        if h.path == "b" {
            Err(GaveUp)
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(
        matches!(e, ReadMembersError::Member { ref path, source: GaveUp } if path == "b"),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "processing member `b` failed: the callback gave up"
    );
    assert_eq!(calls, ["a", "b"]);
}

#[test]
fn read_members_reports_a_truncated_member_even_if_the_callback_hides_it() {
    let big = vec![7u8; 100_000];
    let tar = tar_bytes(&[raw("a.bin", Box::leak(big.into_boxed_slice()))]);
    let cut = gz(&tar[..512 + 50_000]);
    // The callback swallows its read error and returns Ok; or returns its own error instead.
    for swallow in [true, false] {
        let e = read_members(&cut[..], &Limits::default(), &mut |_, d| {
            let r = std::io::copy(d, &mut std::io::sink());
            match r {
                Err(_) if swallow => Ok(()),
                Err(_) => Err(GaveUp),
                Ok(n) => panic!("read {n} bytes of a truncated member without error"),
            }
        })
        .unwrap_err();
        assert!(
            matches!(e, ReadMembersError::Read(ReadError::Truncated(_))),
            "swallow={swallow}: {e}"
        );
    }
    // A callback that reads nothing still gets the error.
    let (heads, r) = heads_read(&cut, &Limits::default());
    assert_eq!(heads.len(), 1);
    assert!(matches!(r, Err(ReadError::Truncated(_))), "{r:?}");
}

#[test]
fn read_members_refuses_hostile_entries_before_the_callback_sees_them() {
    let cases: Vec<(Vec<u8>, Limits)> = vec![
        (
            gz(&tar_bytes(&[raw("ok", b"1"), raw("../x", b"x")])),
            Limits::default(),
        ),
        (
            gz(&tar_bytes(&[raw("ok", b"1"), raw("/etc/x", b"x")])),
            Limits::default(),
        ),
        (
            gz(&tar_bytes(&[
                raw("ok", b"1"),
                Raw {
                    kind: tar::EntryType::Symlink,
                    link: b"/etc/passwd",
                    ..raw("l", b"")
                },
            ])),
            Limits::default(),
        ),
        (
            gz(&tar_bytes(&[raw("ok", b"1"), raw("ok", b"2")])),
            Limits::default(),
        ),
        (
            gz(&tar_bytes(&[
                raw("ok", b"1"),
                raw("the-big-one", b"0123456789"),
            ])),
            Limits {
                max_member_size: 5,
                ..Limits::default()
            },
        ),
    ];
    for (bytes, limits) in cases {
        let (heads, r) = heads_read(&bytes, &limits);
        let names: Vec<&str> = heads.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(names, ["ok"]);
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::ParentDirComponent { .. }
                    | ReadError::AbsolutePath { .. }
                    | ReadError::Symlink { .. }
                    | ReadError::DuplicateMember { .. }
                    | ReadError::MemberTooLarge { .. }
            ),
            "{e}"
        );
    }
    // Trailing garbage is found after the members: the callback has run, the result is an error.
    let mut trailing = gz(&tar_bytes(&[raw("ok", b"1")]));
    trailing.extend_from_slice(b"junk");
    let (heads, r) = heads_read(&trailing, &Limits::default());
    assert_eq!(heads.len(), 1);
    assert!(matches!(r, Err(ReadError::TrailingData(_))), "{r:?}");
}

/// Throughput on 256 MiB of bf16-like weights; run with
/// `cargo test --release --test cli -- --ignored --nocapture archive::throughput`.
#[test]
#[ignore = "benchmark: run by hand in release mode"]
fn throughput() {
    let data = bf16_like(256 << 20, 42);
    for (kind, threads) in [
        (ContentKind::Weights, 1),
        (ContentKind::Weights, 2),
        (ContentKind::Text, 1),
        (ContentKind::Text, 2),
    ] {
        let start = std::time::Instant::now();
        let mut out = std::io::sink();
        let mut counter = CountingWriter(&mut out, 0);
        let o = WriteOptions {
            threads,
            ..WriteOptions::default()
        };
        let mut w = ArchiveWriter::new(&mut counter, o).unwrap();
        w.append("w.safetensors", data.len() as u64, &mut &data[..], kind)
            .unwrap();
        w.finish().unwrap();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{kind:?} threads={threads}: {:.1} MB/s, ratio {:.4}, {secs:.2} s",
            data.len() as f64 / 1e6 / secs,
            counter.1 as f64 / data.len() as f64
        );
    }
}

struct CountingWriter<'a, W>(&'a mut W, u64);

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1 += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
