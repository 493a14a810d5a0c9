#!/usr/bin/env bash
# Runs the fuzz targets on stable Rust: the mutation driver (src/bin/driver.rs) for SECONDS
# each. Use `cargo +nightly fuzz run TARGET` (cargo install cargo-fuzz) for coverage-guided runs;
# both share the bodies in src/lib.rs.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     (default: 60 s; manifest read signing dataset minisign canonical)
# A panicking input is saved to fuzz/artifacts/TARGET/crash-<sha256> and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(manifest read signing dataset minisign canonical)
cargo build --release --quiet --no-default-features --bin driver
for t in "${TARGETS[@]}"; do
    target/release/driver "$t" "$SECS"
done
