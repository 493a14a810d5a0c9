#!/usr/bin/env bash
# Measures (1) the bridge overhead: the same training run driven directly in Python
# (`python -m expert_trainer plan.json`, plan written by `expert-cli train --emit-plan`) against
# `expert-cli train` (pyo3, in-process), wall time of the whole command, best of RUNS; and
# (2) `train --dry-run` on a 100k-line JSONL. Prints the numbers; docs/PERFORMANCE.md records them.
# Needs .venv (scripts/python-env.sh) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${STEPS:-300}"
RUNS="${RUNS:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1
unset VIRTUAL_ENV || true
cargo build --release -q
bin=target/release/expert-cli
py=.venv/bin/python
$py fixtures/tiny-model/make.py "$work/model" >/dev/null 2>&1
cp fixtures/tiny-expert/manifest.json fixtures/tiny-expert/train.jsonl "$work/"

best() { sort -n | head -1; }
now() { date +%s.%N; }

$bin -q train -m "$work/manifest.json" --base-model "$work/model" --device cpu --max-steps "$STEPS" \
  --epochs 1000 --output "$work/out-py" --emit-plan "$work/plan.json" >/dev/null
py_times=() ; rs_times=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/out-py" "$work/out-rs"
  t0=$(now); PYTHONPATH=python $py -m expert_trainer "$work/plan.json" >/dev/null; t1=$(now)
  py_times+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now)
  $bin -q train -m "$work/manifest.json" --base-model "$work/model" --device cpu --max-steps "$STEPS" \
    --epochs 1000 --output "$work/out-rs" --python-env .venv >/dev/null
  t1=$(now)
  rs_times+=("$(echo "$t1 - $t0" | bc)")
done
py_best=$(printf '%s\n' "${py_times[@]}" | best)
rs_best=$(printf '%s\n' "${rs_times[@]}" | best)
echo "steps=$STEPS runs=$RUNS"
echo "python -m expert_trainer: ${py_times[*]} (best $py_best s)"
echo "expert-cli train:         ${rs_times[*]} (best $rs_best s)"
echo "overhead: $(echo "scale=2; ($rs_best - $py_best) * 100 / $py_best" | bc) %"

$py - "$work/big.jsonl" <<'PY'
import json, random, sys
random.seed(1)
words = "alpha beta gamma delta person movie actor rated directed year name title".split()
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        q = " ".join(random.choice(words) for _ in range(20))
        f.write(json.dumps({"instruction": f"Question {i}: {q}?",
                            "input": "(:Person {name, age})-[:ACTED_IN]->(:Movie {title})",
                            "output": "MATCH (p:Person)-[:ACTED_IN]->(m:Movie) WHERE p.name = 'x' RETURN m.title"}) + "\n")
PY
dry=()
for i in $(seq "$RUNS"); do
  t0=$(now); $bin train --dry-run -m "$work/manifest.json" --dataset "$work/big.jsonl" >/dev/null; t1=$(now)
  dry+=("$(echo "$t1 - $t0" | bc)")
done
echo "dry-run 100k lines ($(du -h "$work/big.jsonl" | cut -f1)): ${dry[*]} (best $(printf '%s\n' "${dry[@]}" | best) s)"
