//! Shared test helpers: the binary, fixtures, and the shared corpus (skipped when absent).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// `../shared/corpus` beside the checkout, or None (the test then says so and passes).
pub fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/corpus is not beside this checkout");
        None
    }
}

pub fn cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("expert-cli").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1");
    c
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The v2 fixture with `from` replaced by `to` (exactly once).
pub fn v2_with(from: &str, to: &str) -> String {
    let text = String::from_utf8(read(&fixture("manifests/valid-v2.json"))).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in valid-v2.json"
    );
    text.replacen(from, to, 1)
}

/// The v1 fixture with `from` replaced by `to` (exactly once).
pub fn v1_with(from: &str, to: &str) -> String {
    let text = String::from_utf8(read(&fixture("manifests/valid-v1.json"))).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in valid-v1.json"
    );
    text.replacen(from, to, 1)
}
