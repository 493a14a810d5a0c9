"""Makes the example's three small adapters in real PEFT safetensors format.

    .venv/bin/python examples/multi-model-expert/make_adapters.py

For each base model of manifest.json, a tiny model of the Qwen3 architecture stands in for the
real one (nothing is downloaded): its width grows with the real model's size, its vocabulary is
bytes. A LoRA (or DoRA) adapter with the manifest's rank, alpha and target modules is trained for
a few steps on datasets/train.jsonl, then saved with `save_pretrained` into weights/<slug>/ —
where `expert-cli package` looks by default — and checks that the saved adapter_config.json says
what the manifest says (type, r, alpha, target modules, base model), which `package` requires.
The outputs are committed, so packaging the example needs no Python; rerun this script only to
regenerate them (the seed makes it repeatable on one machine; another torch build may differ in
the last float bits).
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import Qwen3Config, Qwen3ForCausalLM  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH = {"qwen306b": 32, "qwen317b": 48, "qwen34b": 64}


def slug(name):
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return "".join(c for c in base.lower() if c not in ".-_ " and not c.isspace())


def batches(path, n):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    text = [f"{r['instruction']}\n{r['input']}\n{r['output']}" for r in rows]
    ids = [list(t.encode("utf-8"))[:96] for t in text]
    for i in range(n):
        seq = ids[i % len(ids)]
        t = torch.tensor([seq])
        yield t


def check(path, model, adapter):
    """`expert-cli package` refuses an adapter_config.json that contradicts the manifest
    (docs/PACKAGING.md): make sure what was saved says what the manifest says."""
    cfg = json.load(open(path, encoding="utf-8"))
    want_dora = adapter["type"] == "dora"
    assert cfg["peft_type"] == "LORA" and bool(cfg.get("use_dora")) == want_dora, cfg["peft_type"]
    assert cfg["r"] == adapter["r"] and cfg["lora_alpha"] == adapter["alpha"], (cfg["r"], cfg["lora_alpha"])
    assert sorted(cfg["target_modules"]) == sorted(adapter["target_modules"]), cfg["target_modules"]
    assert slug(cfg["base_model_name_or_path"]) == slug(model["name"]), cfg["base_model_name_or_path"]


def main():
    manifest = json.load(open(os.path.join(HERE, "manifest.json"), encoding="utf-8"))
    data = os.path.join(HERE, manifest["training"]["dataset"]["path"])
    for model in manifest["base_models"]:
        torch.manual_seed(42)
        s = slug(model["name"])
        hidden = WIDTH.get(s, 32)
        cfg = Qwen3Config(
            vocab_size=256, hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4,
            max_position_embeddings=128, tie_word_embeddings=True,
        )
        base = Qwen3ForCausalLM(cfg)
        base.config._name_or_path = model["name"]
        base.name_or_path = model["name"]  # what get_peft_model records in adapter_config.json
        adapter = model["adapters"][0]
        lora = LoraConfig(
            r=adapter["r"], lora_alpha=adapter["alpha"], lora_dropout=0.0,
            target_modules=adapter["target_modules"], use_dora=adapter["type"] == "dora",
            task_type="CAUSAL_LM", base_model_name_or_path=model["name"],
        )
        peft_model = get_peft_model(base, lora)
        opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
        first = last = None
        for batch in batches(data, 30):
            loss = peft_model(input_ids=batch, labels=batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            first = first if first is not None else loss.item()
            last = loss.item()
        out = os.path.join(HERE, "weights", s)
        peft_model.save_pretrained(out)
        os.remove(os.path.join(out, "README.md"))  # peft's model-card stub: not ours to ship
        check(os.path.join(out, "adapter_config.json"), model, adapter)
        print(f"{model['name']}: {out} (loss {first:.3f} -> {last:.3f})", file=sys.stderr)


if __name__ == "__main__":
    main()
