#!/usr/bin/env bash
# Runs every test of expert-cli, preparing what the tests need first.
# The same command runs on a developer machine and in CI (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python trainer's pinned packages in ./.venv (idempotent; the first run installs ~6 GB).
scripts/python-env.sh

# Tools the tests drive for real: GNU tar, gzip, sha256sum (coreutils), openssl, python3,
# minisign (detached-signature interop, tests/cli/minisign.rs).
missing=""
for tool in tar gzip sha256sum openssl python3 minisign; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq tar gzip coreutils openssl python3 minisign >/dev/null
  else
    echo "error: missing tools:$missing (install them and run again)" >&2
    exit 1
  fi
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"
# One closing line for the whole run, summed over every test binary and the doc tests.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
