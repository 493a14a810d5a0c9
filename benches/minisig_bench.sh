#!/usr/bin/env bash
# Detached-signature benchmark (issue #12.7): `expert-cli verify` on its fast path (the package's
# `PACKAGE.minisig`: one BLAKE2b-512 pass over the file plus `manifest.json`) against stock
# `minisign -V` checking the very same `.minisig`, side by side in one run. Goal: the fast path
# at most 1.5x the wall time of `minisign -V` on a 256 MiB package. For context: `bench-prehash`
# (benches/bin/prehash.rs: the library's BLAKE2b-512 of the file and nothing else, the part both
# tools must do) and `verify --full` (every member decompressed and hashed, the `.minisig` too).
#
# Usage: benches/minisig_bench.sh [PACKAGE]
#   default PACKAGE: made once under target/bench-data/minisig-${WEIGHTS_MIB}m/ (git-ignored)
#                    from WEIGHTS_MIB MiB of bf16-like LoRA weights (benches/bin/gen_weights.rs)
#   WEIGHTS_MIB=328  size of the generated adapter; such weights compress to 0.78 of their
#                    size, so the default gives a package of 256 MiB
#   RUNS=7           runs per tool, interleaved (A B C, A B C, ...) so load changes hit all
#                    tools alike; the median and the best wall time are kept
#   CPU=0            the CPU every run is pinned to with `taskset` (empty: no pinning)
#
# The package is copied and signed with `sign --minisig` and a throw-away key first; the page
# cache is warmed before the first run, so every tool reads from memory.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-7}
WEIGHTS_MIB=${WEIGHTS_MIB:-328}
CPU=${CPU-0}
for tool in time minisign; do
    if [ ! -x "/usr/bin/$tool" ] && ! command -v "$tool" >/dev/null; then
        if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null
        else echo "error: $tool missing (apt-get install $tool)" >&2; exit 2; fi
    fi
done
PIN=()
if [ -n "$CPU" ] && command -v taskset >/dev/null; then PIN=(taskset -c "$CPU"); fi

cargo build --release --quiet --bin expert-cli --example bench-gen-weights --example bench-prehash
CLI=$PWD/target/release/expert-cli

# ---- the package ------------------------------------------------------------------------------
if [ $# -gt 0 ]; then
    PKG=$1
else
    DIR=target/bench-data/minisig-${WEIGHTS_MIB}m
    PKG=$DIR/expert-bench-qwen306b.v0.1.0.expert
    if [ ! -f "$PKG" ]; then
        mkdir -p "$DIR/expert"
        echo "generating $PKG ..." >&2
        target/release/examples/bench-gen-weights "$DIR/expert/adapter_model.safetensors" $((WEIGHTS_MIB << 20)) 42
        cat >"$DIR/expert/adapter_config.json" <<'JSON'
{
  "peft_type": "LORA",
  "base_model_name_or_path": "Qwen/Qwen3-0.6B",
  "r": 16,
  "lora_alpha": 32,
  "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
  "task_type": "CAUSAL_LM"
}
JSON
        cat >"$DIR/expert/manifest.json" <<JSON
{
  "name": "expert-bench",
  "version": "0.1.0",
  "schema_version": "2.0",
  "description": "Benchmark expert: ${WEIGHTS_MIB} MiB of bf16-like LoRA weights.",
  "author": "benches/minisig_bench.sh",
  "base_models": [
    {
      "name": "Qwen/Qwen3-0.6B",
      "prompt_template": "qwen3",
      "adapters": [
        { "type": "lora", "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "r": 16, "alpha": 32 }
      ]
    }
  ],
  "capabilities": ["tech:bench"],
  "training": {
    "dataset": { "path": "datasets/train.jsonl" },
    "config": { "method": "sft", "adapter_type": "lora", "rank": 16, "alpha": 32,
      "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "epochs": 1,
      "learning_rate": 0.0002, "batch_size": 1, "gradient_accumulation_steps": 1, "lr_scheduler": "linear" }
  },
  "license": "MIT"
}
JSON
        "$CLI" -q package --manifest "$DIR/expert/manifest.json" --weights "$DIR/expert" --output "$PKG" >/dev/null
    fi
fi
[ -f "$PKG" ] || { echo "error: \`$PKG\` not found" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SIGNED=$WORK/$(basename "$PKG")
cp "$PKG" "$SIGNED"
"$CLI" -q keygen --output "$WORK/k.pem" >/dev/null
"$CLI" -q sign "$SIGNED" --key "$WORK/k.pem" --minisig >/dev/null
cat "$SIGNED" "$SIGNED.minisig" >/dev/null # warm the page cache

declare -A CMDS=(
    [fast]="'$CLI' -q verify '$SIGNED' --pubkey '$WORK/k.pub'"
    [minisign]="minisign -V -q -p '$WORK/k.minisign.pub' -m '$SIGNED'"
    [hash]="'$PWD/target/release/examples/bench-prehash' '$SIGNED'"
    [full]="'$CLI' -q verify --full '$SIGNED' --pubkey '$WORK/k.pub'"
)
ORDER=(fast minisign hash full)
declare -A WALLS CPUS RSS
echo "== $RUNS interleaved runs, pinned: ${PIN[*]:-no}; load average before: $(cut -d' ' -f1-3 /proc/loadavg) ==" >&2
for i in $(seq "$RUNS"); do
    for name in "${ORDER[@]}"; do
        t=$(mktemp)
        "${PIN[@]}" /usr/bin/time -f '%e %U %S %M' -o "$t" bash -c "${CMDS[$name]}" >/dev/null
        read -r w u s m <"$t"
        rm -f "$t"
        WALLS[$name]+="$w "
        CPUS[$name]+="$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') "
        [ "${RSS[$name]:-0}" -gt "$m" ] || RSS[$name]=$m
        echo "  run $i $name: ${w}s wall, $u+$s s CPU, $m KiB" >&2
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

median() { printf '%s\n' $1 | sort -n | sed -n "$(((RUNS + 1) / 2))p"; }
best() { printf '%s\n' $1 | sort -n | head -1; }
size=$(stat -c %s "$SIGNED")
m_wall=$(median "${WALLS[minisign]}")
m_best=$(best "${WALLS[minisign]}")
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), runs=$RUNS" >&2
echo "| package | tool | wall median (s) | wall best (s) | CPU median (s) | MB/s (median) | peak RSS (MiB) | median / minisign -V | best / minisign -V |"
echo "|---|---|---|---|---|---|---|---|---|"
for name in "${ORDER[@]}"; do
    case $name in
        fast) label="expert-cli verify (fast path, .minisig)" ;;
        minisign) label="minisign -V" ;;
        hash) label="BLAKE2b-512 alone (bench-prehash)" ;;
        full) label="expert-cli verify --full" ;;
    esac
    awk -v label="$label" -v size="$size" -v w="$(median "${WALLS[$name]}")" -v b="$(best "${WALLS[$name]}")" \
        -v c="$(median "${CPUS[$name]}")" -v m="${RSS[$name]}" -v mw="$m_wall" -v mb="$m_best" 'BEGIN {
        printf "| %d bytes | %s | %.2f | %.2f | %.2f | %.0f | %.1f | %.2f | %.2f |\n",
            size, label, w, b, c, size / w / 1e6, m / 1024, w / mw, b / mb }'
done
