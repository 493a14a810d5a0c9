#!/usr/bin/env bash
# Packaging benchmark (issue #3): `expert-cli package` against `tar | pigz -6` and `tar | gzip -6`,
# each followed by a SHA-256 of the output, on bf16-like LoRA weights. Reports wall time, output
# size and peak RSS; docs/PERFORMANCE.md holds the results and how to read them.
#
# Usage: benches/package_bench.sh [SIZE_MIB...]       (default: 256 1024)
#   RUNS=3          runs per tool and size; the median wall time and the largest peak RSS are kept
#   MODE=auto|cli|lib   cli: `expert-cli package`; lib: the library through `bench-package`
#                       (benches/bin/package.rs); auto: cli when the command exists
#
# Generated inputs are cached under target/bench-data/ (ignored by git); outputs go to
# target/bench-data/out/ and are overwritten. The results table is printed and also written to
# target/bench-data/package-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
MODE=${MODE:-auto}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(256 1024)
DATA=target/bench-data
OUT=$DATA/out
MTIME=315532800 # DEFAULT_MTIME, 1980-01-01

# ---- tools ----------------------------------------------------------------------------------
missing=()
command -v pigz >/dev/null || missing+=(pigz)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
        exit 2
    fi
fi

cargo build --release --quiet --bin expert-cli --example bench-gen-weights --example bench-package
CLI=target/release/expert-cli

# ---- inputs ---------------------------------------------------------------------------------
# One expert folder per size: manifest.json, adapter_model.safetensors (SIZE MiB of weights),
# adapter_config.json, tokenizer.json (~2 MiB of BPE-like JSON).
make_expert() {
    local mib=$1 dir=$DATA/${1}m
    mkdir -p "$dir"
    if [ ! -f "$dir/.done" ]; then
        echo "generating $dir ..." >&2
        target/release/examples/bench-gen-weights "$dir/adapter_model.safetensors" $((mib << 20)) 42
        cat >"$dir/adapter_config.json" <<'JSON'
{
  "peft_type": "LORA",
  "base_model_name_or_path": "Qwen/Qwen3-0.6B",
  "r": 16,
  "lora_alpha": 32,
  "lora_dropout": 0.05,
  "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
  "bias": "none",
  "task_type": "CAUSAL_LM"
}
JSON
        python3 - "$dir/tokenizer.json" <<'PY'
import json, random, sys
random.seed(7)
letters = "etaoinshrdlucmfwypvbgkqjxz"
vocab, merges = {}, []
while len(vocab) < 60000:
    w = "".join(random.choice(letters[: random.randint(5, 26)]) for _ in range(random.randint(1, 9)))
    if random.random() < 0.4:
        w = "\u0120" + w
    vocab.setdefault(w, len(vocab))
words = list(vocab)
for i in range(50000):
    merges.append(f"{random.choice(words)[:4]} {random.choice(words)[:4]}")
tok = {"version": "1.0", "truncation": None, "padding": None,
       "added_tokens": [{"id": 151643 + i, "content": f"<|special_{i}|>", "special": True} for i in range(20)],
       "normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False},
       "model": {"type": "BPE", "dropout": None, "unk_token": None, "vocab": vocab, "merges": merges}}
with open(sys.argv[1], "w") as f:
    json.dump(tok, f, ensure_ascii=False, indent=2)
PY
        cat >"$dir/manifest.json" <<JSON
{
  "name": "expert-bench",
  "version": "0.1.0",
  "schema_version": "2.0",
  "description": "Benchmark expert: ${mib} MiB of bf16-like LoRA weights.",
  "author": "benches/package_bench.sh",
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
  "constraints": { "load_order": 1 },
  "training": {
    "dataset": { "path": "datasets/train.jsonl" },
    "config": { "method": "sft", "adapter_type": "lora", "rank": 16, "alpha": 32,
      "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "epochs": 1,
      "learning_rate": 0.0002, "batch_size": 1, "gradient_accumulation_steps": 1, "lr_scheduler": "linear" }
  },
  "license": "MIT"
}
JSON
        touch "$dir/.done"
    fi
}

FILES=(manifest.json adapter_config.json adapter_model.safetensors tokenizer.json)

# ---- measuring ------------------------------------------------------------------------------
# measure NAME OUTPUT CMD: runs CMD (bash) RUNS times under /usr/bin/time; prints
# "wall_s rss_kib out_bytes" (median wall, largest peak RSS). For a pipeline, GNU time reports the
# largest peak RSS of any one process in it (getrusage RUSAGE_CHILDREN), not their sum.
measure() {
    local name=$1 output=$2 cmd=$3 walls=() rss=0 t
    for _ in $(seq "$RUNS"); do
        rm -f "$output" "$output.sha256"
        t=$(mktemp)
        /usr/bin/time -f '%e %M' -o "$t" bash -c "$cmd" >/dev/null
        read -r w m <"$t"
        rm -f "$t"
        walls+=("$w")
        [ "$m" -gt "$rss" ] && rss=$m
        echo "  $name: ${w}s ${m} KiB" >&2
    done
    local median
    median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    echo "$median $rss $(stat -c %s "$output")"
}

mkdir -p "$OUT"
RESULTS=$DATA/package-results.md
{
    echo "| input | tool | wall (s) | output (bytes) | output/input | peak RSS (MiB) | time ours/pigz | size ours/pigz |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$RESULTS"

for mib in "${SIZES[@]}"; do
    make_expert "$mib"
    dir=$DATA/${mib}m
    if [ "$MODE" = auto ]; then
        # The command exists (as a stub) before it works: ask it for a dry run.
        if "$CLI" -q package --manifest "$dir/manifest.json" --weights "$dir" --list-contents \
            >/dev/null 2>&1; then MODE=cli; else MODE=lib; fi
        echo "mode: $MODE" >&2
    fi
    input=0
    for f in "${FILES[@]}"; do input=$((input + $(stat -c %s "$dir/$f"))); done
    tarcmd="tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$MTIME -cf - -C '$dir' ${FILES[*]}"
    if [ "$MODE" = cli ]; then
        ours_cmd="'$CLI' -q package --manifest '$dir/manifest.json' --weights '$dir' --output '$OUT/ours.expert' --force"
        ours_name="expert-cli package"
    else
        specs=""
        for f in "${FILES[@]}"; do specs+=" '$f=$dir/$f'"; done
        ours_cmd="target/release/examples/bench-package '$OUT/ours.expert' $specs"
        ours_name="library (bench-package)"
    fi
    echo "== ${mib} MiB, $RUNS runs each; load average before: $(cut -d" " -f1-3 /proc/loadavg) ==" >&2
    read -r o_wall o_rss o_size < <(measure ours "$OUT/ours.expert" "$ours_cmd")
    read -r p_wall p_rss p_size < <(measure pigz "$OUT/pigz.tgz" "$tarcmd | pigz -6 > '$OUT/pigz.tgz' && sha256sum '$OUT/pigz.tgz'")
    read -r g_wall g_rss g_size < <(measure gzip "$OUT/gzip.tgz" "$tarcmd | gzip -6 > '$OUT/gzip.tgz' && sha256sum '$OUT/gzip.tgz'")
    row() { # name wall rss size
        awk -v mib="$mib" -v name="$1" -v w="$2" -v rss="$3" -v size="$4" -v input="$input" \
            -v pw="$p_wall" -v ps="$p_size" 'BEGIN {
                printf "| %s MiB | %s | %.2f | %d | %.4f | %.1f | %.2f | %.4f |\n",
                    mib, name, w, size, size / input, rss / 1024, w / pw, size / ps }'
    }
    {
        row "$ours_name" "$o_wall" "$o_rss" "$o_size"
        row "tar \| pigz -6 + sha256sum" "$p_wall" "$p_rss" "$p_size"
        row "tar \| gzip -6 + sha256sum" "$g_wall" "$g_rss" "$g_size"
    } >>"$RESULTS"
done

echo >&2
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), mode=$MODE, runs=$RUNS" >&2
cat "$RESULTS"
