//! Issue #10: "verified" must mean the same files for every unpacker. From a package made and
//! signed by the real binary, a generator builds every attack variant of the issue and more;
//! for each, `verify` refuses it naming the member (or the gzip/tar field), or else GNU tar and
//! Python's `tarfile` (`extractall(filter="data")`) both unpack exactly the signed (path, bytes)
//! set. `validate` reports an error on every non-canonical variant and `sign` refuses it.
//!
//! The second half runs the canonical-form property of the `canonical` fuzz target (the same
//! source file, `fuzz/src/canonical.rs`) over a few thousand seeded header mutations.

#[path = "../../fuzz/src/canonical.rs"]
mod canonical;

use crate::common::{cmd, copy_dir, fixture, read, skip};
use canonical::{gunzip, gzip_canonical};
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

const B: usize = 512;
const EPOCH: &str = "1764072000";
const M: &str = "manifest.json";
const R: &str = "README.md";
const C: &str = "adapter_config.json";
const A: &str = "adapter_model.safetensors";

// ---- a small tar model, for building variants ---------------------------------------------

#[derive(Clone)]
struct Entry {
    header: [u8; B],
    data: Vec<u8>,
}

/// The entries of a tar stream before its end blocks (long-name and pax entries are entries).
#[derive(Clone)]
struct Tar(Vec<Entry>);

impl Tar {
    fn parse(tar: &[u8]) -> Tar {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let header: [u8; B] = tar[at..at + B].try_into().unwrap();
            if header.iter().all(|&b| b == 0) {
                assert_eq!(&tar[at..], &[0u8; 2 * B][..], "the writer's end blocks");
                return Tar(out);
            }
            let size = tar::Header::from_byte_slice(&header).size().unwrap() as usize;
            out.push(Entry {
                header,
                data: tar[at + B..at + B + size].to_vec(),
            });
            at += B + size.next_multiple_of(B);
        }
    }

    /// The entries, each padded with zeros, without end blocks.
    fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.0 {
            out.extend_from_slice(&e.header);
            out.extend_from_slice(&e.data);
            out.resize(out.len().next_multiple_of(B), 0);
        }
        out
    }

    /// The whole stream, ended as the writer ends it.
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&[0u8; 2 * B]);
        out
    }

    fn find(&self, name: &str) -> usize {
        self.0
            .iter()
            .position(|e| e.header[156] == b'0' && name_field(&e.header) == name.as_bytes())
            .unwrap_or_else(|| panic!("no member `{name}`"))
    }
}

fn name_field(h: &[u8; B]) -> &[u8] {
    let end = h[..100].iter().position(|&b| b == 0).unwrap_or(100);
    &h[..end]
}

fn set(h: &mut [u8; B], range: Range<usize>, value: &[u8]) {
    h[range.clone()].fill(0);
    h[range.start..range.start + value.len()].copy_from_slice(value);
}

fn set_size(h: &mut [u8; B], size: usize) {
    set(h, 124..136, format!("{size:011o}\0").as_bytes());
}

/// A valid checksum in the writer's format (seven octal digits, NUL).
fn cksum(h: &mut [u8; B]) {
    let mut t = tar::Header::new_old();
    t.as_mut_bytes().copy_from_slice(h);
    t.set_cksum();
    h.copy_from_slice(t.as_bytes());
}

/// An entry laid out like the writer's headers (copied from `template`) with another name, type
/// and data.
fn entry(template: &[u8; B], name: &[u8], typeflag: u8, data: &[u8]) -> Entry {
    let mut header = *template;
    set(&mut header, 0..100, name);
    set_size(&mut header, data.len());
    header[156] = typeflag;
    cksum(&mut header);
    Entry {
        header,
        data: data.to_vec(),
    }
}

fn pax(template: &[u8; B], typeflag: u8, records: &[(&str, &[u8])]) -> Entry {
    let mut data = Vec::new();
    for (key, value) in records {
        let body = [key.as_bytes(), b"=", value, b"\n"].concat();
        // The length counts itself.
        let mut len = body.len() + 2;
        while format!("{len} ").len() + body.len() != len {
            len += 1;
        }
        data.extend_from_slice(format!("{len} ").as_bytes());
        data.extend_from_slice(&body);
    }
    entry(template, b"././@PaxHeader", typeflag, &data)
}

fn gz_with(builder: flate2::GzBuilder, tar: &[u8]) -> Vec<u8> {
    let mut e = builder.write(Vec::new(), flate2::Compression::default());
    e.write_all(tar).unwrap();
    e.finish().unwrap()
}

/// A gzip member with the FHCRC flag and a header CRC that is wrong.
fn gz_bad_header_crc(tar: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad];
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(tar).unwrap();
    out.extend_from_slice(&e.finish().unwrap());
    let mut crc = flate2::Crc::new();
    crc.update(tar);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(tar.len() as u32).to_le_bytes());
    out
}

// ---- the signed package and the unpackers -------------------------------------------------

/// fixtures/expert-tiny packaged and signed by the real binary, in a scratch folder.
struct Signed {
    dir: tempfile::TempDir,
    package: Vec<u8>,
}

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("expert-tiny"), dir.path());
        let s = Signed {
            dir,
            package: Vec::new(),
        };
        for args in [
            &["package", "--output", "p.expert"][..],
            &["keygen", "--output", "keys/k.pem"],
            &["sign", "--expert", "p.expert", "--key", "keys/k.pem"],
        ] {
            let (code, out) = s.run(args);
            assert_eq!(code, 0, "{args:?}: {out}");
        }
        Signed {
            package: read(&s.path("p.expert")),
            ..s
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Runs the binary in the scratch folder: exit code, stdout and stderr.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = cmd()
            .current_dir(self.dir.path())
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

/// What an unpacker left in `dir`: regular files by relative path; anything else (symlinks,
/// devices) as a marker, so that it never equals the signed set.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.insert(rel, std::fs::read(e.path()).unwrap());
            } else {
                out.insert(rel, b"<not a regular file>".to_vec());
            }
        }
    }
    out
}

/// GNU tar's view: `tar -xzf` into a fresh folder (an error is a view of its own).
fn gnu_tar(pkg: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("tar")
        .arg("-xzf")
        .arg(pkg)
        .arg("-C")
        .arg(out.path())
        .output()
        .unwrap();
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(tree(out.path()))
}

/// Python's view: `tarfile.open(pkg).extractall(dir, filter="data")`.
fn python_tarfile(pkg: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("python3")
        .arg("-c")
        .arg("import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t:\n    t.extractall(sys.argv[2], filter='data')\n")
        .arg(pkg)
        .arg(out.path())
        .output()
        .unwrap();
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(tree(out.path()))
}

fn tools_available() -> bool {
    for tool in ["tar", "python3"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            skip(&format!("`{tool}` is not installed"));
            return false;
        }
    }
    true
}

// ---- the variants -------------------------------------------------------------------------

struct Variant {
    name: &'static str,
    bytes: Vec<u8>,
    /// Whether our writer could have produced these bytes.
    canonical: bool,
    /// What `verify`'s message must say (the member or field), or `None` when it must verify.
    says: Option<&'static str>,
    /// An attack of the issue: GNU tar and Python unpack something other than what was signed.
    attack: bool,
}

fn variants(package: &[u8]) -> Vec<Variant> {
    let tar = gunzip(package).unwrap();
    let t = Tar::parse(&tar);
    assert_eq!(
        gzip_canonical(&tar)[..10],
        package[..10],
        "flate2 writes the writer's gzip header"
    );
    let template = t.0[0].header;
    let evil = b"attacker weights\n".repeat(20);
    let member = |name: &str, data: &[u8]| entry(&template, name.as_bytes(), b'0', data);
    let with = |edit: &dyn Fn(&mut Vec<Entry>)| {
        let mut e = t.0.clone();
        edit(&mut e);
        gzip_canonical(&Tar(e).bytes())
    };
    let header = |name: &str, edit: &dyn Fn(&mut [u8; B])| {
        let i = t.find(name);
        with(&|e| {
            edit(&mut e[i].header);
            cksum(&mut e[i].header);
        })
    };
    let insert_before = |name: &str, new: Vec<Entry>| {
        let i = t.find(name);
        with(&move |e| {
            e.splice(i..i, new.clone());
        })
    };
    let append = |new: Vec<Entry>| with(&move |e| e.extend(new.clone()));
    let raw = |tar: Vec<u8>| gzip_canonical(&tar);
    let v = |name, bytes, canonical, says, attack| Variant {
        name,
        bytes,
        canonical,
        says,
        attack,
    };

    // The manifest's checksum spelled as GNU tar spells it (six digits, NUL, space).
    let gnu_checksum = {
        let mut e = t.0.clone();
        let h = &mut e[0].header;
        let stored = tar::Header::from_byte_slice(h).cksum().unwrap();
        set(h, 148..156, format!("{stored:06o}\0 ").as_bytes());
        gzip_canonical(&Tar(e).bytes())
    };
    let hidden = Tar(vec![member(A, &evil)]).body();
    let mut dir = entry(&template, b"zz/", b'5', &[]);
    set_size(&mut dir.header, hidden.len());
    cksum(&mut dir.header);
    dir.data = hidden;

    vec![
        // The variants of issue #10.
        v("directory-hides-member", append(vec![dir]), false, Some("`zz/`: directory entries are not part of an .expert package"), true),
        v("pax-global-path", insert_before(C, vec![pax(&template, b'g', &[("path", A.as_bytes())])]), false, Some("pax global headers (`g`)"), true),
        v("pax-gnu-sparse-name", insert_before(C, vec![pax(&template, b'x', &[("GNU.sparse.name", A.as_bytes())])]), false, Some("pax extended headers (`x`)"), false),
        v("longname-then-pax-path", insert_before(C, vec![entry(&template, b"././@LongLink", b'L', b"adapter_model.safetensors\0"), pax(&template, b'x', &[("path", C.as_bytes())])]), false, Some("pax extended headers (`x`)"), false),
        v("ustar-magic-version-prefix", header(C, &|h| { set(h, 257..263, b"ustar\0"); set(h, 263..265, b" \0"); set(h, 345..500, b"yy"); }), false, Some("`adapter_config.json`: header field `magic` is `ustar\\0` where the writer writes `ustar `"), false),
        v("gnu-magic-prefix", header(C, &|h| set(h, 345..500, b"yy")), false, Some("`adapter_config.json`: header field `prefix` is `yy` where the writer writes nothing"), false),
        v("base256-size-high-bytes", header(A, &|h| { let size = tar::Header::from_byte_slice(h).size().unwrap(); let mut f = [0u8; 12]; f[0] = 0x80; f[1] = 0x01; f[4..].copy_from_slice(&size.to_be_bytes()); set(h, 124..136, &f); }), false, Some("`adapter_model.safetensors`: header field `size`"), false),
        v("gzip-fhcrc-wrong", gz_bad_header_crc(&tar), false, Some("(it has a header CRC (FHCRC))"), false),
        v("gzip-fname", gz_with(flate2::GzBuilder::new().operating_system(255).filename("p.tar"), &tar), false, Some("a stored file name (FNAME)"), false),
        v("gzip-fcomment", gz_with(flate2::GzBuilder::new().operating_system(255).comment("hi"), &tar), false, Some("a comment (FCOMMENT)"), false),
        v("gzip-fextra", gz_with(flate2::GzBuilder::new().operating_system(255).extra(&b"AB\x02\0hi"[..]), &tar), false, Some("an extra field (FEXTRA)"), false),
        // More of our own.
        v("gzip-mtime-os", gz_with(flate2::GzBuilder::new().mtime(1_764_072_000).operating_system(3), &tar), false, Some("MTIME 1764072000, OS 3"), false),
        v("trailing-garbage", [gzip_canonical(&tar), b"garbage\n".to_vec()].concat(), false, Some("unexpected data after the gzip member"), false),
        v("second-gzip-member", [gzip_canonical(&tar), gzip_canonical(&Tar(vec![member(A, &evil)]).bytes())].concat(), false, Some("unexpected data after the gzip member"), false),
        v("one-end-block", raw([t.body(), vec![0; B]].concat()), false, Some("one zero block where the writer writes two"), false),
        v("record-padding", raw([t.body(), vec![0; 10240]].concat()), false, Some("data follows the two zero blocks"), false),
        v("member-after-end", raw([t.bytes(), Tar(vec![member("zz.txt", b"appended\n")]).bytes()].concat()), false, Some("data follows the two zero blocks"), false),
        v("nonzero-padding", raw({ let mut b = t.bytes(); let n = t.0[0].data.len(); assert!(n % B != 0); b[B + n] = b'x'; b }), false, Some("`manifest.json`: the padding after the member's data"), false),
        v("checksum-gnu-format", gnu_checksum, false, Some("`manifest.json`: header field `chksum`"), false),
        v("mode-0755", header(A, &|h| set(h, 100..108, b"0000755\0")), false, Some("`adapter_model.safetensors`: header field `mode`"), false),
        v("uid-gid-1000", header(C, &|h| { set(h, 108..116, b"0001750\0"); set(h, 116..124, b"0001750\0"); }), false, Some("`adapter_config.json`: header field `uid`"), false),
        v("uname-root", header(R, &|h| { set(h, 265..297, b"root"); set(h, 297..329, b"root"); }), false, Some("`README.md`: header field `uname` is `root`"), false),
        v("mtime-one-member", header(R, &|h| set(h, 136..148, format!("{:011o}\0", 1_764_072_001).as_bytes())), false, Some("`README.md`: header field `mtime`"), false),
        v("octal-with-spaces", header(M, &|h| { let size = tar::Header::from_byte_slice(h).size().unwrap(); set(h, 124..136, format!("{size:>11o} ").as_bytes()); }), false, Some("`manifest.json`: header field `size`"), false),
        v("typeflag-nul", header(M, &|h| h[156] = 0), false, Some("`manifest.json`: header field `typeflag`"), false),
        v("name-junk-after-nul", header(C, &|h| set(h, 0..100, b"adapter_config.json\0junk")), false, Some("`adapter_config.json`: header field `name`"), false),
        v("devmajor-devminor", header(A, &|h| { set(h, 329..337, b"0000000\0"); set(h, 337..345, b"0000000\0"); }), false, Some("`adapter_model.safetensors`: header field `devmajor`"), false),
        v("linkname-on-regular", header(C, &|h| set(h, 157..257, A.as_bytes())), false, Some("`adapter_config.json`: header field `linkname`"), false),
        v("unneeded-long-name", insert_before(R, vec![entry(&template, b"././@LongLink", b'L', b"README.md\0")]), false, Some("`README.md`: has a GNU long-name entry"), false),
        v("long-link-name", insert_before(R, vec![entry(&template, b"././@LongLink", b'K', b"target\0")]), false, Some("GNU long link names (`K`)"), false),
        v("order-swapped", with(&|e| { let (c, a) = (t.find(C), t.find(A)); e.swap(c, a); }), false, Some("`adapter_config.json`: comes after `adapter_model.safetensors`"), false),
        v("duplicate-member", append(vec![member(A, &evil)]), false, Some("member `adapter_model.safetensors` appears more than once"), true),
        v("hard-link", append(vec![{ let mut l = entry(&template, b"zz-link", b'1', &[]); set(&mut l.header, 157..257, A.as_bytes()); cksum(&mut l.header); l }]), false, Some("member `zz-link` is a hard link"), false),
        v("symlink", append(vec![{ let mut l = entry(&template, b"zz-link", b'2', &[]); set(&mut l.header, 157..257, b"/etc/passwd"); cksum(&mut l.header); l }]), false, Some("member `zz-link` is a symbolic link"), false),
        v("fifo", append(vec![entry(&template, b"zz-fifo", b'6', &[])]), false, Some("member `zz-fifo` is a FIFO"), false),
        v("contiguous-file", header(R, &|h| h[156] = b'7'), false, Some("member `README.md` has unsupported tar entry type '7'"), false),
        v("parent-dir-name", insert_before(R, vec![member("../evil", &evil)]), false, Some("member `../evil` has a `..` component"), false),
        v("absolute-name", insert_before(R, vec![member("/tmp/expert-cli-differential-evil", &evil)]), false, Some("member `/tmp/expert-cli-differential-evil` has an absolute path"), false),
        v("bidi-name", insert_before("signature.sig", vec![member("adapter\u{202e}nosj.json", b"{}")]), false, Some("member `adapter\\u{202e}nosj.json` has an invalid name"), false),
        v("pax-path-like-python", insert_before(M, vec![pax(&template, b'x', &[("path", M.as_bytes())])]), false, Some("pax extended headers (`x`)"), false),
        // Canonical, but not what was signed: refused by the signature, naming the member.
        v("case-variant-member", insert_before(R, vec![member("Adapter_model.safetensors", &evil)]), true, Some("Adapter_model.safetensors"), false),
        // Canonical and what was signed: the same tar stream compressed otherwise. Verifies,
        // and every unpacker sees the signed set.
        v("recompressed", gzip_canonical(&tar), true, None, false),
    ]
}

#[test]
fn every_variant_is_refused_or_unpacks_as_signed() {
    if !tools_available() {
        return;
    }
    let s = Signed::new();
    let signed_pkg = s.path("p.expert");
    let signed = gnu_tar(&signed_pkg).unwrap();
    assert_eq!(
        python_tarfile(&signed_pkg).unwrap(),
        signed,
        "GNU tar and Python agree on the signed package"
    );
    assert_eq!(signed.len(), 5, "{:?}", signed.keys());
    let all = variants(&s.package);
    assert!(all.len() >= 40);
    let mut names: Vec<&str> = all.iter().map(|v| v.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "variant names are unique");

    let pubkey = s.path("keys/k.pub");
    let mut problems = Vec::new();
    for v in &all {
        let file = format!("{}.expert", v.name);
        let path = s.path(&file);
        std::fs::write(&path, &v.bytes).unwrap();
        let (code, out) = s.run(&[
            "verify",
            "--expert",
            &file,
            "--pubkey",
            pubkey.to_str().unwrap(),
        ]);
        eprintln!(
            "{}: exit {code}: {}",
            v.name,
            out.lines().next().unwrap_or("")
        );
        match (code, v.says) {
            (0, None) => {
                let views = [
                    ("GNU tar", gnu_tar(&path)),
                    ("Python", python_tarfile(&path)),
                ];
                for (tool, view) in views {
                    if view.as_ref() != Ok(&signed) {
                        problems.push(format!(
                            "{}: verified, but {tool} unpacks {:?}",
                            v.name,
                            view.map(|t| t.into_keys().collect::<Vec<_>>())
                        ));
                    }
                }
            }
            (0, Some(_)) => problems.push(format!("{}: verified (exit 0): {out}", v.name)),
            (_, None) => problems.push(format!("{}: not verified (exit {code}): {out}", v.name)),
            (_, Some(says)) => {
                if code != 5 || !out.contains(says) {
                    problems.push(format!(
                        "{}: verify exit {code} without `{says}`: {out}",
                        v.name
                    ));
                }
            }
        }
        if v.attack {
            // The variant is a real attack: the unpackers see something else than was signed.
            for (tool, view) in [
                ("GNU tar", gnu_tar(&path)),
                ("Python", python_tarfile(&path)),
            ] {
                if view.as_ref() == Ok(&signed) {
                    problems.push(format!("{}: {tool} unpacks the signed set", v.name));
                }
            }
        }
        if !v.canonical {
            let (code, out) = s.run(&["validate", &file]);
            if code == 0 || !out.contains("error[E07") {
                problems.push(format!("{}: validate exit {code}: {out}", v.name));
            }
            let (code, out) = s.run(&["sign", "--expert", &file, "--key", "keys/k.pem"]);
            if code == 0 || read(&path) != v.bytes || s.path(&format!("{file}.sha256")).exists() {
                problems.push(format!("{}: sign exit {code}, or wrote: {out}", v.name));
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(!Path::new("/tmp/expert-cli-differential-evil").exists());
}

/// The canonical-form property of the fuzz target, over seeded header mutations of a package
/// made and signed by the real binary and of one with a GNU long name: whatever the canonical
/// reader accepts re-encodes through our writer to the identical tar stream.
#[test]
fn canonical_reader_accepts_only_what_the_writer_writes() {
    let s = Signed::new();
    let mut long = expert_cli::archive::ArchiveWriter::new(
        Vec::new(),
        expert_cli::archive::WriteOptions {
            threads: 1,
            ..expert_cli::archive::WriteOptions::default()
        },
    )
    .unwrap();
    let long_name = format!("tests/{}/case.json", "a-long-directory-name".repeat(6));
    for (name, data) in [(M, &b"{}\n"[..]), (long_name.as_str(), b"{\"x\": 1}\n")] {
        long.append(
            name,
            data.len() as u64,
            &mut &data[..],
            expert_cli::archive::ContentKind::Text,
        )
        .unwrap();
    }
    let bases = [
        gunzip(&s.package).unwrap(),
        gunzip(&long.finish().unwrap()).unwrap(),
    ];
    let (mut accepted, mut refused) = (0, 0);
    for (i, base) in bases.iter().enumerate() {
        canonical::check(base);
        for seed in 0..1500u64 {
            let mut rng = canonical::Rng(0x9e37_79b9_7f4a_7c15 ^ (seed * 2 + i as u64 + 1));
            let mut t = base.clone();
            canonical::mutate_headers(&mut rng, &mut t);
            canonical::check(&t);
            // As the fuzz target runs it: every header's checksum made valid first.
            canonical::check_input(&[&[1u8][..], &t].concat());
            let gz = gzip_canonical(&t);
            match expert_cli::archive::read_members_keeping(
                &gz[..],
                &expert_cli::archive::Limits::default(),
                &|_| false,
            ) {
                Ok(_) => accepted += 1,
                Err(_) => refused += 1,
            }
        }
    }
    eprintln!("{accepted} mutations accepted, {refused} refused");
    // The mutations reach the reader on both sides of the rule.
    assert!(
        accepted > 10 && refused > 1000,
        "{accepted} accepted, {refused} refused"
    );
}
