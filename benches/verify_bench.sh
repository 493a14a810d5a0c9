#!/usr/bin/env bash
# Reading benchmark (issue #4): our hardened reader (`archive::scan` through `bench-scan`,
# benches/bin/scan.rs: every member decompressed, checked and hashed) against
# `gzip -dc PKG | sha256sum` (decompression and one hash of the whole tar stream, no checks).
#
# Usage: benches/verify_bench.sh [PACKAGE]
#   default PACKAGE: target/bench-data/out/ours.expert, left by `benches/package_bench.sh 1024`
#   RUNS=3   runs per tool; the median wall time and the largest peak RSS are kept
#
# TODO(#4): switch to `expert-cli verify` once it exists (it will read through `archive::visit`).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PKG=${1:-target/bench-data/out/ours.expert}
[ -f "$PKG" ] || { echo "error: \`$PKG\` not found; run benches/package_bench.sh 1024 first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet --example bench-scan

measure() { # NAME CMD -> "wall_s rss_kib"
    local name=$1 cmd=$2 walls=() rss=0 t
    for _ in $(seq "$RUNS"); do
        t=$(mktemp)
        /usr/bin/time -f '%e %M' -o "$t" bash -c "$cmd" >/dev/null
        read -r w m <"$t"
        rm -f "$t"
        walls+=("$w")
        [ "$m" -gt "$rss" ] && rss=$m
        echo "  $name: ${w}s ${m} KiB" >&2
    done
    echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p") $rss"
}

size=$(stat -c %s "$PKG")
tar_size=$(gzip -dc "$PKG" | wc -c)
read -r s_wall s_rss < <(measure scan "target/release/examples/bench-scan '$PKG'")
read -r g_wall g_rss < <(measure gzip "gzip -dc '$PKG' | sha256sum")
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), runs=$RUNS" >&2
echo "| package | tool | wall (s) | MB/s (tar stream) | peak RSS (MiB) | time ours/gzip |"
echo "|---|---|---|---|---|---|"
for r in "archive::scan (bench-scan)|$s_wall|$s_rss" "gzip -dc \| sha256sum|$g_wall|$g_rss"; do
    IFS='|' read -r name w m <<<"${r//\\|/@}"
    awk -v name="${name//@/\\|}" -v w="$w" -v m="$m" -v size="$size" -v ts="$tar_size" -v gw="$g_wall" 'BEGIN {
        printf "| %d bytes | %s | %.2f | %.1f | %.1f | %.2f |\n", size, name, w, ts / w / 1e6, m / 1024, w / gw }'
done
