//! The fuzz targets' bodies, shared by the libFuzzer entry points (`fuzz_targets/`) and the
//! stable driver (`src/bin/driver.rs`). Each must return normally on any input; a panic is a bug.
//! Besides "no panic", each checks a property that must hold whenever parsing succeeds.

pub mod canonical;

use expert_cli::archive::{
    check_member_name, read_members_in, read_members_keeping_in, Limits, ReadMode,
};
use expert_cli::manifest::{check_bytes, Role};
use expert_cli::manifest::source::Source;
use expert_cli::signing::minisign;
use expert_cli::signing::{read_public_key, read_secret_key, SignatureFile, SignedIntegrity};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("manifest", manifest),
    ("read", archive_read),
    ("signing", signing),
    ("dataset", dataset),
    ("minisign", minisign_files),
    ("canonical", canonical_form),
];

/// The canonical-form property of issue #10 (`canonical::check_input`): the input is a flag byte
/// and a tar stream, gzipped with the writer's header; whatever the canonical reader accepts
/// must re-encode through our writer to the identical tar stream.
pub fn canonical_form(data: &[u8]) {
    canonical::check_input(data);
}

/// minisign's signature and public key parsers and the key readers: never panic; a parsed
/// signature or key writes back to text that parses to the same value, and a signature given
/// with LF ends and a final newline writes back to the same bytes. (The secret key reader is
/// never given a passphrase, so it never runs a KDF.)
pub fn minisign_files(data: &[u8]) {
    if let Ok(sig) = minisign::Signature::parse(data) {
        let text = sig.to_text();
        let again = minisign::Signature::parse(text.as_bytes()).expect("our own output parses");
        assert_eq!(again, sig, "minisig round trip");
        if !data.contains(&b'\r') && data.ends_with(b"\n") {
            assert_eq!(text.as_bytes(), data, "minisig bytes round trip");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(pk) = minisign::parse_public_key(text) {
            let file = minisign::public_key_file(&pk);
            let back = minisign::parse_public_key(&file).expect("our own key file parses");
            assert_eq!(back, pk, "minisign public key round trip");
            assert_eq!(back.minisign_keynum(), pk.minisign_keynum());
        }
    }
    let _ = read_public_key(data);
    let _ = read_secret_key(data);
}

/// `train::dataset::scan_reader` (the JSONL line parser, field mapping and template rendering)
/// with each mapping style: never panics; every line is either an example or a listed bad line.
pub fn dataset(data: &[u8]) {
    use expert_cli::train::{dataset, fields::Mapping, templates};
    let template = templates::get("chatml").expect("chatml is registered");
    let mappings = [
        Mapping::default(),
        Mapping { columns: vec![("text".into(), "text".into())] },
        Mapping {
            columns: vec![
                ("instruction".into(), "q".into()),
                ("input".into(), "ctx".into()),
                ("response".into(), "a".into()),
            ],
        },
    ];
    for mapping in &mappings {
        let path = std::path::Path::new("fuzz.jsonl");
        let mut seen = 0u64;
        let result = dataset::scan_reader(data, path, mapping, template, Default::default(), 2, |_, _| {
            seen += 1;
            Ok(())
        });
        if let Ok(scan) = result {
            assert_eq!(scan.examples, seen, "examples counted and handed out differ");
            assert!(scan.examples + scan.bad_total <= scan.lines, "more results than lines");
        }
    }
}

/// `manifest::check_bytes` in both roles: never panics; a manifest comes back only without
/// errors.
pub fn manifest(data: &[u8]) {
    for role in [Role::Authored, Role::Packaged] {
        let checked = check_bytes(data, role);
        if checked.manifest.is_some() {
            assert!(
                !checked.diagnostics.fails(false),
                "a manifest was returned along with errors"
            );
        }
    }
}

/// `archive::read_members_keeping_in` with small limits, and `archive::read_members_in` reading
/// each member in odd-sized pieces, in both reading modes: they agree, and what they accept has valid, unique
/// names and sizes in the limits; what the canonical mode accepts, the lenient one accepts
/// with no difference noted.
pub fn archive_read(data: &[u8]) {
    let canonical = archive_read_in(ReadMode::Canonical, data);
    let lenient = archive_read_in(ReadMode::Lenient, data);
    if let Some(members) = canonical {
        let (lenient, difference) = lenient.expect("the lenient reader refused a canonical package");
        assert_eq!(members.0, lenient, "the two modes read different members");
        assert_eq!(difference, None, "a canonical package has a difference");
    }
}

/// One mode of [`archive_read`]: the members and the difference noted, when accepted.
#[allow(clippy::type_complexity)]
fn archive_read_in(
    mode: ReadMode,
    data: &[u8],
) -> Option<(Vec<expert_cli::archive::MemberInfo>, Option<expert_cli::archive::NonCanonical>)> {
    let limits = Limits {
        max_members: 64,
        max_member_size: 1 << 20,
        max_total_size: 4 << 20,
        max_kept_size: 1 << 16,
    };
    let keeping = read_members_keeping_in(mode, data, &limits, &|p| p.len() % 2 == 0);
    let mut sizes = Vec::new();
    let streamed = read_members_in(mode, data, &limits, &mut |head, r| {
        let mut buf = [0u8; 333];
        let mut n = 0u64;
        loop {
            let got = r.read(&mut buf)?;
            if got == 0 {
                break;
            }
            n += got as u64;
        }
        sizes.push((head.path.clone(), n));
        Ok::<(), std::io::Error>(())
    });
    let streamed = streamed.map(|v| v.members);
    match (&keeping, &streamed) {
        (Ok(s), Ok(v)) => {
            assert_eq!(&s.members, v, "read_members_keeping and read_members disagree");
            let mut names: Vec<&str> = v.iter().map(|m| m.path.as_str()).collect();
            for (m, (path, n)) in v.iter().zip(&sizes) {
                assert_eq!(
                    (&m.path, m.size),
                    (path, *n),
                    "read_members' reader gave the wrong size"
                );
                assert!(check_member_name(&m.path).is_ok(), "accepted `{}`", m.path);
                assert!(m.size <= limits.max_member_size);
            }
            for (path, bytes) in &s.kept {
                let m = v
                    .iter()
                    .find(|m| &m.path == path)
                    .expect("kept an unknown member");
                assert_eq!(m.size, bytes.len() as u64);
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), v.len(), "accepted a duplicate name");
            Some((v.clone(), s.non_canonical.clone()))
        }
        (Err(_), Err(_)) => None,
        // read_members_keeping may also refuse a kept member over `max_kept_size`.
        (Err(expert_cli::archive::ReadError::KeptTooLarge { .. }), Ok(_)) => None,
        (s, v) => panic!(
            "read_members_keeping and read_members disagree: {:?} vs {:?}",
            s.as_ref()
                .map(|s| s.members.len())
                .map_err(|e| e.to_string()),
            v.as_ref().map(Vec::len).map_err(|e| e.to_string())
        ),
    }
}

/// `SignatureFile::parse` and `SignedIntegrity::read`: never panic; what parses writes back to
/// the same bytes, and a signed `integrity` section read back after splicing is the same.
pub fn signing(data: &[u8]) {
    if let Ok(sig) = SignatureFile::parse(data) {
        assert_eq!(sig.to_bytes(), data, "signature.sig round trip");
    }
    if let Ok(source) = Source::parse(data) {
        if let Ok(integrity) = SignedIntegrity::read(source.root()) {
            let spliced = integrity.splice(&source);
            let again = Source::parse(spliced.as_bytes()).expect("a spliced manifest parses");
            assert_eq!(
                SignedIntegrity::read(again.root()).as_ref(),
                Ok(&integrity),
                "integrity round trip"
            );
        }
    }
}
