#!/usr/bin/env bash
# Reading benchmark (issue #4): our hardened reader (`archive::read_members_keeping` through
# `bench-read`, benches/bin/read.rs: every member decompressed, checked and hashed) against
# `gzip -dc PKG | sha256sum` (decompression and one hash of the whole tar stream, no checks).
#
# Usage: benches/verify_bench.sh [PACKAGE]
#   default PACKAGE: target/bench-data/out/ours.expert, left by `benches/package_bench.sh 1024`
#   RUNS=3   runs per tool; the median wall time and the largest peak RSS are kept
#
# Also `expert-cli verify` itself (the package is signed first with a throw-away key; it reads
# the package once through the same reader) and `minisign -V` on the same file (Debian's
# minisign; a detached signature of the whole file, prehashed with BLAKE2b).
# `verify`'s own fast path by such a detached signature (`sign --minisig`) is timed against
# `minisign -V` by benches/minisig_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PKG=${1:-target/bench-data/out/ours.expert}
[ -f "$PKG" ] || { echo "error: \`$PKG\` not found; run benches/package_bench.sh 1024 first" >&2; exit 2; }
for tool in time minisign; do
    if ! command -v "$tool" >/dev/null && [ ! -x "/usr/bin/$tool" ]; then
        if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null
        else echo "error: $tool missing (apt-get install $tool)" >&2; exit 2; fi
    fi
done
cargo build --release --quiet --bin expert-cli --example bench-read
CLI=target/release/expert-cli
KEYS=$(mktemp -d)
trap 'rm -rf "$KEYS"' EXIT
SIGNED="$KEYS/signed.expert"
cp "$PKG" "$SIGNED"
"$CLI" -q keygen --output "$KEYS/k.pem" >/dev/null
"$CLI" -q sign --expert "$SIGNED" --key "$KEYS/k.pem" >/dev/null
minisign -G -W -p "$KEYS/m.pub" -s "$KEYS/m.key" >/dev/null
minisign -S -m "$SIGNED" -s "$KEYS/m.key" -x "$KEYS/signed.minisig" >/dev/null

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
read -r v_wall v_rss < <(measure verify "'$CLI' -q verify --expert '$SIGNED' --pubkey '$KEYS/k.pub'")
read -r s_wall s_rss < <(measure read "target/release/examples/bench-read '$PKG'")
read -r g_wall g_rss < <(measure gzip "gzip -dc '$PKG' | sha256sum")
read -r n_wall n_rss < <(measure minisign "minisign -V -q -m '$SIGNED' -x '$KEYS/signed.minisig' -p '$KEYS/m.pub'")
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), runs=$RUNS" >&2
echo "| package | tool | wall (s) | MB/s (tar stream) | peak RSS (MiB) | time ours/gzip |"
echo "|---|---|---|---|---|---|"
for r in "expert-cli verify|$v_wall|$v_rss" "archive::read_members_keeping (bench-read)|$s_wall|$s_rss" "gzip -dc \| sha256sum|$g_wall|$g_rss" "minisign -V|$n_wall|$n_rss"; do
    IFS='|' read -r name w m <<<"${r//\\|/@}"
    awk -v name="${name//@/\\|}" -v w="$w" -v m="$m" -v size="$size" -v ts="$tar_size" -v gw="$g_wall" 'BEGIN {
        printf "| %d bytes | %s | %.2f | %.1f | %.1f | %.2f |\n", size, name, w, ts / w / 1e6, m / 1024, w / gw }'
done
