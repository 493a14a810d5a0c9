#!/usr/bin/env bash
# Manifest reading benchmark (issue #10.3): `expert-cli validate` on the three hostile shapes
# that were quadratic, on one core (`taskset -c 0`), beside Python's `json.load` of the same
# file (the reference: a plain JSON parse, no validation, no diagnostics).
#
# Usage: benches/manifest_bench.sh [limit|issue]...
#   limit  (default) each shape filled up to the 16 MiB manifest limit
#   issue  the sizes measured in issue #10: 160,000 keys one per line, 40,000 keys on one
#          line, one 2 MiB key holding an array of 200,000 zeros
#   CLI=path     the binary to time (default: target/release/expert-cli, built first)
#   RUNS=3       runs per tool; the median wall time and the largest peak RSS are kept
#   TIMEOUT=120  seconds before a run is stopped and reported as "> TIMEOUT s"
#   SHAPES="lines wide deep quiet"  the shapes to run
#
# The shapes (generated under target/bench-data/manifest/, git-ignored):
#   lines  one object, one distinct key per line:   {"k0000000": 0,\n "k0000001": 0, …}
#   wide   the same keys on one single line:          {"k0000000": 0, "k0000001": 0, …}
#   deep   one huge key whose value is an array of zeros: {"kkkk…": [0,0,0,…]}
#   quiet  the `lines` keys inside `quality_metrics`, a free-form object: no diagnostic per key
# Every key of `lines` and `wide` is unknown, so each gets a warning (W0201) with its line and
# column: those runs measure a million diagnostics as well as the parse; `quiet` is the parse
# and the checks alone.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-120}
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(limit)
if [ -z "${CLI:-}" ]; then
    cargo build --release --quiet --bin expert-cli
    CLI=target/release/expert-cli
fi
DATA=target/bench-data/manifest
mkdir -p "$DATA"

# gen SCALE SHAPE FILE: writes the shape; at `limit` the file is as close to 16 MiB as it gets.
gen() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
scale, shape, out = sys.argv[1:]
LIMIT = 16 * 1024 * 1024
with open(out, "w") as f:
    if shape in ("lines", "wide", "quiet"):
        sep = ", " if shape == "wide" else ",\n"
        head, tail = ("{\"quality_metrics\": {\n", "\n}}\n") if shape == "quiet" else ("{", "}\n")
        if shape == "lines":
            head, tail = "{\n", "\n}\n"
        item = len('"k0000000": 0') + len(sep)
        n = {"lines": 160_000, "wide": 40_000, "quiet": 160_000}[shape] if scale == "issue" \
            else (LIMIT - len(head) - len(tail)) // item
        f.write(head)
        f.write(sep.join('"k%07d": 0' % i for i in range(n)))
        f.write(tail)
    else:
        key, zeros = (2 * 1024 * 1024, 200_000) if scale == "issue" else (8 * 1024 * 1024, 0)
        if scale != "issue":
            zeros = (LIMIT - key - len('{"": []}\n')) // 2
        f.write('{"' + "k" * key + '": [' + ",".join(["0"] * zeros) + "]}\n")
EOF
}

measure() { # NAME CMD -> "wall_s rss_kib" (wall ">TIMEOUT" when stopped)
    local name=$1 cmd=$2 walls=() rss=0 t rc
    for _ in $(seq "$RUNS"); do
        t=$(mktemp)
        rc=0
        /usr/bin/time -f '%e %M' -o "$t" timeout "$TIMEOUT" taskset -c 0 bash -c "$cmd" >/dev/null 2>&1 || rc=$?
        read -r w m < <(tail -n1 "$t")
        rm -f "$t"
        [ "$rc" = 124 ] && w=">$TIMEOUT"
        walls+=("$w")
        [ "$m" -gt "$rss" ] && rss=$m
        echo "  $name: ${w}s ${m} KiB (exit $rc)" >&2
        [ "$rc" = 124 ] && break # one timeout is enough to know
    done
    echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((${#walls[@]} + 1) / 2))p") $rss"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), runs=$RUNS, binary=$CLI" >&2
echo "| scale | shape | bytes | expert-cli validate (s) | peak RSS (MiB) | python3 json.load (s) | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|"
for scale in "${SCALES[@]}"; do
    for shape in ${SHAPES:-lines wide deep quiet}; do
        file="$DATA/$scale-$shape.json"
        [ -f "$file" ] || gen "$scale" "$shape" "$file"
        size=$(stat -c %s "$file")
        read -r v_wall v_rss < <(measure "validate $scale-$shape" "'$CLI' validate '$file'")
        read -r p_wall p_rss < <(measure "python $scale-$shape" "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$file'")
        awk -v sc="$scale" -v sh="$shape" -v n="$size" -v vw="$v_wall" -v vm="$v_rss" -v pw="$p_wall" -v pm="$p_rss" 'BEGIN {
            printf "| %s | %s | %d | %s | %.1f | %s | %.1f |\n", sc, sh, n, vw, vm / 1024, pw, pm / 1024 }'
    done
done
