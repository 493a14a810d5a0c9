//! A stable-Rust stand-in for libFuzzer: loops over mutations of the seed corpus for a while,
//! calling one target, and saves any input that panics under `fuzz/artifacts/<target>/`.
//! No coverage feedback, so it finds shallow bugs only; use `cargo +nightly fuzz run` for depth.
//!
//! Usage: `driver TARGET SECONDS [SEED]` (run from `fuzz/`; `run.sh` does that).
//! Seeds: `corpus/<target>/*`, plus built-in ones (a valid package, its tar stream re-gzipped
//! after mutation, the fixtures' manifests and signature). For `canonical`, inputs are a flag
//! byte and the tar stream of a valid package, mutated mostly in its headers
//! (`canonical::mutate_headers`, which keeps checksums valid).

use std::io::Write;
use std::panic;
use std::path::Path;
use std::time::{Duration, Instant};

use expert_cli::archive::{ArchiveWriter, ContentKind, WriteOptions};
use expert_cli_fuzz::{canonical, TARGETS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"/",
    b"..",
    b"../",
    b"\\",
    b"\n",
    b"\r\n",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"00000000000",
    b"77777777777",
    b"\x80",
    b"\xc3\xa9",
    b"ustar\0",
    b"ustar  \0",
    b"path=",
    b"size=",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"null",
    b"true",
];

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let s = INTERESTING[rng.below(INTERESTING.len())];
                data.splice(i..i, s.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                data.drain(i..i + n);
            }
            4 if len > 0 => data.truncate(rng.below(len)),
            5 if len > 0 => {
                // Duplicate a chunk (repeated members, headers, keys).
                let i = rng.below(len);
                let n = rng.below((len - i).min(1024)) + 1;
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            6 if !pool.is_empty() => {
                // Splice in part of another seed.
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = rng.below(other.len() - i) + 1;
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            7 if len > 0 => {
                // Overwrite with an ASCII digit (tar octal fields, JSON numbers).
                let i = rng.below(len);
                data[i] = b'0' + rng.below(10) as u8;
            }
            _ => {}
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn package() -> Vec<u8> {
    let opts = WriteOptions {
        threads: 1,
        ..WriteOptions::default()
    };
    let mut w = ArchiveWriter::new(Vec::new(), opts).expect("writing to memory");
    let members: [(&str, &[u8]); 4] = [
        ("manifest.json", b"{\"name\": \"x\"}\n"),
        ("adapter_model.safetensors", &[0x3c, 0xbc, 0x12, 0x3d, 0, 0, 0x80, 0xbf]),
        ("signature.sig", b"expert-signature v1\n"),
        // Over 100 bytes: written with a GNU long-name entry.
        ("tests/a-long-directory-name/that-goes-on-for-a-while/and-then-some-more/and-more/and-yet-more/file.json", b"{}"),
    ];
    for (name, data) in members {
        w.append(
            name,
            data.len() as u64,
            &mut &data[..],
            ContentKind::for_path(name),
        )
        .expect("writing to memory");
    }
    w.finish().expect("writing to memory")
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(Path::new("corpus").join(target)) {
        for e in dir.flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                out.push(b);
            }
        }
    }
    let fixtures = Path::new("../fixtures");
    let files: &[&str] = match target {
        "manifest" => &[
            "manifests/valid-v1.json",
            "manifests/valid-v2.json",
            "manifests/valid-v1.migrated.json",
        ],
        "signing" => &["signing/signature.sig", "signing/statement.txt"],
        "minisign" => &[
            "signing/minisign-message.txt.minisig",
            "signing/seed0-31.minisign.pub",
            "signing/seed0-31.pem",
            "signing/seed0-31.pub",
        ],
        _ => &[],
    };
    for f in files {
        if let Ok(b) = std::fs::read(fixtures.join(f)) {
            out.push(b);
        }
    }
    if target == "read" {
        out.push(package());
    }
    if target == "canonical" {
        let tar = gunzip(&package()).expect("our own package");
        for flag in [0u8, 1] {
            out.push([&[flag][..], &tar].concat());
        }
        // Packages from the corpus (fuzz/seed.sh), as tar streams.
        let packages: Vec<Vec<u8>> = seeds("read").iter().filter_map(|p| gunzip(p)).collect();
        out.extend(packages.into_iter().map(|t| [&[1u8][..], &t].concat()));
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: driver TARGET SECONDS [SEED]";
    let (Some(name), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("{usage}; targets: manifest, read, signing, dataset, minisign, canonical");
        std::process::exit(2);
    };
    let Some(&(_, target)) = TARGETS.iter().find(|(n, _)| n == name) else {
        eprintln!("unknown target `{name}`; targets: manifest, read, signing, dataset, minisign, canonical");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let mut rng = Rng(seed | 1);
    let pool = seeds(name);
    // For `read`, mutating compressed bytes mostly breaks the deflate stream; also mutate the
    // tar stream and gzip it again, to reach the tar parser.
    let tars: Vec<Vec<u8>> = pool.iter().filter_map(|p| gunzip(p)).collect();
    panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    for s in &pool {
        run_one(name, target, s);
    }
    while Instant::now() < deadline {
        for _ in 0..100 {
            let input = if name == "canonical" && rng.below(4) != 0 {
                // Mostly header mutations that keep checksums valid, to get past them.
                let mut d = pool[rng.below(pool.len())].clone();
                let mut header_rng = canonical::Rng(rng.next() | 1);
                let mut tar = d.split_off(1);
                canonical::mutate_headers(&mut header_rng, &mut tar);
                d.extend_from_slice(&tar);
                d
            } else if name == "read" && !tars.is_empty() && rng.below(2) == 0 {
                let mut t = tars[rng.below(tars.len())].clone();
                mutate(&mut rng, &mut t, &tars);
                gzip(&t)
            } else {
                let mut d = pool[rng.below(pool.len())].clone();
                mutate(&mut rng, &mut d, &pool);
                d
            };
            run_one(name, target, &input);
            runs += 1;
        }
    }
    println!("{name}: {runs} inputs in {secs} s, no panic (seed {seed})");
}

fn run_one(name: &str, target: fn(&[u8]), input: &[u8]) {
    if panic::catch_unwind(|| target(input)).is_err() {
        let _ = panic::take_hook();
        let dir = Path::new("artifacts").join(name);
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("crash-{}", expert_cli::digest::sha256_hex(input)));
        let _ = std::fs::write(&path, input);
        eprintln!("{name}: panic; input saved to fuzz/{}", path.display());
        // Run it again with the default hook, to show the message.
        target(input);
        std::process::exit(1);
    }
}
