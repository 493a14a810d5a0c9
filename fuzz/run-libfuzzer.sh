#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (cargo-fuzz, nightly toolchain) for SECONDS each, from
# the seeds of fuzz/seed.sh. A crash stops the script; libFuzzer saves the input under
# fuzz/artifacts/TARGET/. Needs `rustup toolchain install nightly` and `cargo install cargo-fuzz`.
#
# Usage: fuzz/run-libfuzzer.sh [SECONDS] [TARGET...]   (default: 600 s; manifest read signing dataset minisign canonical)
# JOBS=2 runs two targets at a time.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(manifest read signing dataset minisign canonical)
JOBS=${JOBS:-1}
./seed.sh
cargo +nightly fuzz build -O
run() {
    cargo +nightly fuzz run -O "$1" -- -max_total_time="$SECS" -rss_limit_mb=2048 -print_final_stats=1 \
        >"artifacts-$1.log" 2>&1 || { echo "$1: CRASH, see fuzz/artifacts-$1.log and fuzz/artifacts/$1/" >&2; return 1; }
    grep -E '^stat::number_of_executed_units' "artifacts-$1.log" | sed "s/^/$1: /"
}
pids=()
for t in "${TARGETS[@]}"; do
    run "$t" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
