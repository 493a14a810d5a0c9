#!/usr/bin/env bash
# Runs every test of expert-cli, preparing what the tests need first.
# The same command runs on a developer machine and in CI (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python trainer's pinned packages in ./.venv (idempotent; the first run installs ~6 GB).
scripts/python-env.sh

# Tools the tests drive for real: GNU tar, gzip, sha256sum (coreutils), openssl, python3; the
# shells whose completions are tested (bash, zsh, fish); readelf (binutils) and unshare
# (util-linux) for the no-libpython start-up test; minisign (detached-signature interop,
# tests/cli/minisign.rs). Debian package of each, in the same order.
tools="tar gzip sha256sum openssl python3 bash zsh fish readelf unshare minisign"
packages="tar gzip coreutils openssl python3 bash zsh fish binutils util-linux minisign"
# The static libpython3.11 that build.rs links into `train` (docs/CLI.md#python): Debian's
# python3 has it only with libpython3.11-dev (pyenv and python.org builds include it).
static_libpython() {
  python3 - <<'PY' 2>/dev/null
import sys, sysconfig as s, os
v = lambda k: s.get_config_var(k) or ""
dirs = [v("LIBPL"), v("LIBDIR"), os.path.join(v("LIBDIR"), v("MULTIARCH"))]
lib = v("LIBRARY")
found = any(os.path.isfile(os.path.join(d, n)) for d in dirs if d for n in (lib.replace(".a", "-pic.a"), lib))
sys.exit(0 if found and v("VERSION") == "3.11" else 1)
PY
}
missing=""
set -- $packages
for tool in $tools; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $1"
  shift
done
static_libpython || missing="$missing libpython3.11-dev"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086 # one word per package
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
  else
    echo "error: missing packages:$missing (install them and run again)" >&2
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
