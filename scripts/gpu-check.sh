#!/usr/bin/env bash
# Ready for a GPU: trains the tiny test model (fixtures/tiny-model/make.py) on CUDA for 20 steps
# with bf16, TF32, SDPA attention and gradient checkpointing, checks from the trainer's events
# that each of them was really used and that the loss went down, then packages, signs and
# verifies the adapter. Without a CUDA device it prints one line, `skipped: no CUDA device`, and
# exits 0. Usage: scripts/gpu-check.sh   (uses ./.venv, or $VENV; builds the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
py="$venv/bin/python"

# Cheap checks first: no NVIDIA device node, no CUDA.
if [ ! -e /dev/nvidiactl ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "skipped: no CUDA device"
  exit 0
fi
if [ ! -x "$py" ]; then
  echo "error: no Python environment at $venv (run scripts/python-env.sh)" >&2
  exit 1
fi
if ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  echo "skipped: no CUDA device"
  exit 0
fi

cargo build --quiet
bin="$PWD/target/debug/expert-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1

"$py" fixtures/tiny-model/make.py "$work/model" >/dev/null 2>&1
mkdir -p "$work/expert"
cp fixtures/tiny-expert/train.jsonl "$work/expert/"
"$py" - "$work/expert/manifest.json" <<'PY'
import json, sys
m = json.load(open("fixtures/tiny-expert/manifest.json"))
m["training"]["config"].update(
    bf16=True, fp16=False, use_tf32=True, use_sdpa=True, gradient_checkpointing=True,
    save_steps=10, logging_steps=1,
)
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY

"$bin" --format json train --manifest "$work/expert/manifest.json" --base-model "$work/model" \
  --device cuda --max-steps 20 --python-env "$venv" > "$work/events.jsonl"

summary="$("$py" - "$work/events.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
start = next(e for e in events if e["event"] == "start")
done = next(e for e in events if e["event"] == "done")
logs = [e for e in events if e["event"] == "log"]
want = {"device": "cuda", "precision": "bf16", "tf32": True, "attention": "sdpa",
        "gradient_checkpointing": True}
wrong = {k: start.get(k) for k, v in want.items() if start.get(k) != v}
if wrong:
    sys.exit(f"error: the run did not use {wrong} (wanted {want})")
if done["step"] != 20 or len(logs) != 20:
    sys.exit(f"error: {done['step']} steps and {len(logs)} loss reports, wanted 20 of each")
if not done["last_loss"] < done["first_loss"]:
    sys.exit(f"error: the loss did not go down: {done['first_loss']} -> {done['last_loss']}")
import torch
print(f"{torch.cuda.get_device_name(0)}: 20 bf16 steps, loss {done['first_loss']:.4f} -> {done['last_loss']:.4f}")
PY
)"

cd "$work/expert"
"$bin" --quiet package --output gpu.expert >/dev/null
"$bin" --quiet keygen --output k.pem >/dev/null
"$bin" --quiet sign --expert gpu.expert --key k.pem >/dev/null
"$bin" --quiet verify --expert gpu.expert --pubkey k.pub >/dev/null
echo "ok: $summary; packaged, signed and verified"
