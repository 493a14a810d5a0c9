"""The expert-cli LoRA trainer: runs a training plan built by `expert-cli train`.

The plan (JSON, layout version `PLAN_VERSION`, written by src/train/plan.rs) names the base model, the adapter,
every hyperparameter and the *rendered* examples: each example is a list of `[text, trained]`
segments produced by expert-cli's template registry, so this package has no prompt templates of its
own. It tokenises the segments, masks the untrained ones (labels -100), trains a peft adapter
(LoRA, DoRA, IA3, LoKr) with transformers' Trainer, and reports progress as JSON events through
`emit(line) -> stop_requested`. `emit(None)` only asks whether to stop.

Used two ways: in-process from the expert-cli binary (pyo3, `run(plan_json, emit)`), or as
`python -m expert_trainer plan.json` (also under `accelerate launch` / `torchrun` for multi-GPU:
only rank 0 reports events and writes the adapter and the log).

Every setting arrives decided (src/train/decide.rs): the optimiser is a torch one, the attention
is `sdpa` or `eager`, precision is `auto`, `bf16`, `fp16` or `fp32`. Loss is reported from step 1,
every ceil(total steps / max_loss_events) steps and at the last step, with the learning rate and
the throughput since the previous report.
"""

import inspect
import json
import os
import time

PLAN_VERSION = 2
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")


class TrainerError(Exception):
    """A failure the user can act on: `str(e)` says what failed, `e.hint` what to do."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint


def _is_main_process():
    return int(os.environ.get("RANK", "0")) == 0


def _world_size():
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


class _Events:
    """Sends events to expert-cli and appends them to training_log.jsonl."""

    def __init__(self, emit, log_path):
        self._emit = emit
        self.stop = False
        self._log = None
        if _is_main_process():
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
            self._log = open(log_path, "a", encoding="utf-8")

    def __call__(self, event, **fields):
        record = {"event": event, **fields}
        line = json.dumps(record)
        if self._log is not None:
            self._log.write(json.dumps({"time": round(time.time(), 3), **record}) + "\n")
            self._log.flush()
        if _is_main_process() and self._emit(line):
            self.stop = True

    def poll(self):
        if self._emit(None):
            self.stop = True
        return self.stop

    def close(self):
        if self._log is not None:
            self._log.close()


def _pick_device(torch, wanted):
    has_cuda = torch.cuda.is_available()
    if wanted == "cuda" and not has_cuda:
        raise TrainerError(
            "--device cuda was asked for, but torch sees no CUDA device",
            "use --device cpu or --device auto",
        )
    return "cuda" if wanted in ("cuda", "auto") and has_cuda else "cpu"


def _pick_precision(torch, device, wanted, events):
    if device == "cpu":
        if wanted in ("bf16", "fp16"):
            events("warning", message=f"{wanted} mixed precision is not used on CPU; training in fp32")
        return "fp32"
    bf16_ok = torch.cuda.is_bf16_supported()
    if wanted == "auto":
        return "bf16" if bf16_ok else "fp32"
    if wanted == "bf16" and not bf16_ok:
        events("warning", message="this GPU has no bf16; training in fp16")
        return "fp16"
    return wanted


def _tokenize(tokenizer, path, max_len, events):
    """Rendered JSONL → list of {input_ids, labels}; prompt segments get label -100."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    texts = [seg[0] for row in rows for seg in row["segments"]]
    ids = []
    for start in range(0, len(texts), 2048):
        chunk = texts[start : start + 2048]
        ids.extend(tokenizer(chunk, add_special_tokens=False)["input_ids"])
    bos = tokenizer.bos_token_id
    if bos is not None and tokenizer("x")["input_ids"][:1] != [bos]:
        bos = None  # this tokenizer does not start sequences with BOS
    eos = tokenizer.eos_token_id
    examples, truncated, empty, k = [], 0, 0, 0
    for row in rows:
        input_ids, labels = ([bos], [-100]) if bos is not None else ([], [])
        for text, trained in row["segments"]:
            piece = ids[k]
            k += 1
            input_ids.extend(piece)
            labels.extend(piece if trained else [-100] * len(piece))
        if row.get("eos") and eos is not None:
            input_ids.append(eos)
            labels.append(eos)
        if len(input_ids) > max_len:
            truncated += 1
            input_ids, labels = input_ids[:max_len], labels[:max_len]
        if all(l == -100 for l in labels):
            empty += 1
            continue
        examples.append({"input_ids": input_ids, "labels": labels})
    if truncated:
        events("warning", message=f"{truncated} example(s) of {path} cut to max_seq_length {max_len} tokens")
    if empty:
        events("warning", message=f"{empty} example(s) of {path} have no trained token left and are skipped")
    return examples


def _collator(pad_id):
    import torch

    def collate(batch):
        n = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), n), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for i, b in enumerate(batch):
            m = len(b["input_ids"])
            ids[i, :m] = torch.tensor(b["input_ids"])
            labels[i, :m] = torch.tensor(b["labels"])
            mask[i, :m] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    return collate


def _peft_config(peft, adapter, hyper):
    kind = adapter["type"]
    targets = adapter.get("target_modules")
    if kind in ("lora", "dora"):
        return peft.LoraConfig(
            task_type="CAUSAL_LM",
            r=adapter.get("rank") or 8,
            lora_alpha=adapter.get("alpha") or 2 * (adapter.get("rank") or 8),
            lora_dropout=adapter.get("dropout", 0.05),
            target_modules=targets,
            bias="none",
            use_dora=kind == "dora",
        )
    if kind == "ia3":
        ff = adapter.get("feedforward_modules")
        if ff is None and targets:
            ff = [t for t in targets if any(k in t for k in ("mlp", "up", "down", "gate", "fc"))]
        return peft.IA3Config(task_type="CAUSAL_LM", target_modules=targets, feedforward_modules=ff)
    if kind == "lokr":
        return peft.LoKrConfig(
            task_type="CAUSAL_LM",
            r=adapter.get("rank") or 8,
            alpha=adapter.get("alpha") or 2 * (adapter.get("rank") or 8),
            module_dropout=adapter.get("dropout", 0.0),
            target_modules=targets,
        )
    raise TrainerError(f"adapter type `{kind}` is not supported", "use lora, dora, ia3 or lokr")


def _training_args(transformers, plan, out, device, precision, has_eval, events):
    h = plan["hyper"]
    save_strategy = h.get("save_strategy") or ("steps" if h.get("save_steps") else "epoch")
    eval_strategy = h.get("eval_strategy") or ("epoch" if has_eval else "no")
    if not has_eval:
        eval_strategy = "no"
    warmup = h.get("warmup_steps") or 0
    if not warmup and h.get("warmup_ratio"):
        warmup = float(h["warmup_ratio"])  # transformers 5: a float in [0, 1) is a ratio
    kwargs = dict(
        output_dir=os.path.join(out, "checkpoints"),
        optim=h["optim"],
        logging_strategy="steps",
        logging_first_step=True,
        logging_steps=1,  # the real interval is set when the step count is known (on_train_begin)
        include_num_input_tokens_seen="non_padding",
        ddp_find_unused_parameters=False,
        torch_compile=bool(h.get("torch_compile")),
        num_train_epochs=h["epochs"],
        max_steps=h.get("max_steps") or -1,
        per_device_train_batch_size=h["batch_size"],
        per_device_eval_batch_size=h["batch_size"],
        gradient_accumulation_steps=h["gradient_accumulation_steps"],
        learning_rate=h["learning_rate"],
        warmup_steps=warmup,
        lr_scheduler_type=h["lr_scheduler"],
        lr_scheduler_kwargs=h.get("lr_scheduler_kwargs") or {},
        save_strategy=save_strategy,
        save_total_limit=h.get("save_total_limit") or 2,
        eval_strategy=eval_strategy,
        seed=h["seed"],
        data_seed=h["seed"],
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
    )
    accepted = set(inspect.signature(transformers.TrainingArguments.__init__).parameters)
    # transformers 5 renamed gradient_checkpointing to activation_checkpointing
    ckpt = "activation_checkpointing" if "activation_checkpointing" in accepted else "gradient_checkpointing"
    kwargs[ckpt] = bool(h.get("gradient_checkpointing"))
    optional = {
        "save_steps": h.get("save_steps"),
        "eval_steps": h.get("eval_steps"),
        "load_best_model_at_end": h.get("load_best_model_at_end") if has_eval else None,
        "metric_for_best_model": h.get("metric_for_best_model"),
        "greater_is_better": h.get("greater_is_better"),
        "weight_decay": h.get("weight_decay"),
        "max_grad_norm": h.get("max_grad_norm"),
        "tf32": True if device == "cuda" and h.get("tf32") else None,
        ckpt + "_kwargs": h.get("gradient_checkpointing_kwargs")
        or ({"use_reentrant": False} if h.get("gradient_checkpointing") else None),
        "dataloader_num_workers": h.get("dataloader_num_workers"),
        "dataloader_pin_memory": h.get("dataloader_pin_memory"),
        "dataloader_prefetch_factor": h.get("dataloader_prefetch_factor") if h.get("dataloader_num_workers") else None,
        "dataloader_persistent_workers": h.get("dataloader_persistent_workers") if h.get("dataloader_num_workers") else None,
        "torch_compile_backend": h.get("torch_compile_backend") if h.get("torch_compile") else None,
        "torch_compile_mode": h.get("torch_compile_mode") if h.get("torch_compile") else None,
    }
    if h.get("group_by_length"):
        optional["train_sampling_strategy"] = "group_by_length"
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    for key in sorted(set(kwargs) - accepted):
        events("warning", message=f"this transformers version has no TrainingArguments.{key}; it is not used")
        del kwargs[key]
    return transformers.TrainingArguments(**kwargs)


def run(plan_json, emit):
    """Trains the adapter the plan describes. Returns the final `done` event as JSON text."""
    plan = json.loads(plan_json)
    if plan.get("plan_version") != PLAN_VERSION:
        raise TrainerError(
            f"plan version {plan.get('plan_version')} is not {PLAN_VERSION}",
            "write the plan with the expert-cli this trainer came with",
        )
    out = plan["output_dir"]
    events = _Events(emit, os.path.join(out, "training_log.jsonl"))
    try:
        return _train(plan, out, events)
    finally:
        events.close()


def _train(plan, out, events):
    events("status", message="importing torch, transformers and peft")
    import torch
    import transformers
    import peft

    import warnings

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    device = _pick_device(torch, plan["device"])
    precision = _pick_precision(torch, device, plan["hyper"]["precision"], events)
    if device == "cuda" and plan["hyper"].get("tf32"):
        torch.backends.cuda.matmul.allow_tf32 = True
    transformers.set_seed(plan["hyper"]["seed"])

    base = plan["base_model"]
    events("status", message=f"loading {base['load']}")
    local = bool(base.get("local"))
    if local and not os.path.isdir(base["load"]):
        raise TrainerError(
            f"the base model folder `{base['load']}` does not exist",
            "pass --base-model with a local copy of the model (config.json, weights, tokenizer)",
        )
    if local and not os.path.isfile(os.path.join(base["load"], "config.json")):
        raise TrainerError(
            f"cannot load the base model `{base['load']}`: the folder has no config.json",
            "pass --base-model PATH to a folder saved with save_pretrained (config, weights, tokenizer)",
        )
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(base["load"], local_files_only=local)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
        model_kwargs = {"dtype": dtype, "local_files_only": local}
        model_kwargs["attn_implementation"] = plan["hyper"].get("attention") or "sdpa"
        model = transformers.AutoModelForCausalLM.from_pretrained(base["load"], **model_kwargs)
    except (OSError, ValueError) as e:
        raise TrainerError(
            f"cannot load the base model `{base['load']}`: {e}",
            "pass --base-model PATH to a local copy, or make the model available in the Hugging Face cache",
        ) from e
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if plan["hyper"].get("gradient_checkpointing"):
        model.enable_input_require_grads()
    if events.poll():
        return _finish(events, out, None, model=None, tokenizer=None, step=0, started=time.time(), interrupted=True)

    model = peft.get_peft_model(model, _peft_config(peft, plan["adapter"], plan["hyper"]))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    events("status", message="tokenising the rendered examples")
    max_len = plan["hyper"]["max_seq_length"]
    train_set = _tokenize(tokenizer, plan["dataset"]["rendered_train"], max_len, events)
    eval_path = plan["dataset"].get("rendered_eval")
    eval_set = _tokenize(tokenizer, eval_path, max_len, events) if eval_path else None
    if not train_set:
        raise TrainerError("no training example has a trained token", "check max_seq_length and the dataset")

    args = _training_args(transformers, plan, out, device, precision, bool(eval_set), events)
    state = {"first": None, "last": None, "checkpoint": None}
    hyper = plan["hyper"]
    world = _world_size()
    samples_per_step = hyper["batch_size"] * hyper["gradient_accumulation_steps"] * world
    tf32 = bool(device == "cuda" and hyper.get("tf32"))

    class Progress(transformers.TrainerCallback):
        def on_train_begin(self, a, s, control, **kw):
            # Loss from step 1, then at most max_loss_events reports (every step of a short run).
            cap = max(1, int(hyper.get("max_loss_events") or 100))
            s.logging_steps = max(1, -(-s.max_steps // cap))
            self.mark = (time.time(), s.global_step, s.num_input_tokens_seen or 0)
            events("start", total_steps=s.max_steps, examples=len(train_set), device=device,
                   precision=precision, trainable_params=trainable, optim=hyper["optim"],
                   attention=getattr(model.config, "_attn_implementation", None) or hyper["attention"],
                   tf32=tf32, gradient_checkpointing=bool(hyper.get("gradient_checkpointing")),
                   world_size=world, log_every=s.logging_steps)

        def on_log(self, a, s, control, logs=None, **kw):
            logs = logs or {}
            if "loss" in logs:
                loss = float(logs["loss"])
                state["last"] = loss
                if state["first"] is None:
                    state["first"] = loss
                now, tokens = time.time(), s.num_input_tokens_seen or 0
                then, step0, tokens0 = self.mark
                self.mark = (now, s.global_step, tokens)
                elapsed = max(now - then, 1e-9)
                samples_s = (s.global_step - step0) * samples_per_step / elapsed
                # num_input_tokens_seen is gathered over every process
                tokens_s = (tokens - tokens0) / elapsed if tokens > tokens0 else None
                events("log", step=s.global_step, total_steps=s.max_steps, loss=loss,
                       learning_rate=logs.get("learning_rate"), epoch=logs.get("epoch"),
                       grad_norm=_number(logs.get("grad_norm")),
                       samples_per_second=round(samples_s, 3),
                       tokens_per_second=round(tokens_s, 1) if tokens_s is not None else None)
            if "eval_loss" in logs:
                events("eval", step=s.global_step, eval_loss=logs["eval_loss"])

        def on_step_end(self, a, s, control, **kw):
            if events.poll():
                control.should_training_stop = True
                control.should_save = True
                control.should_log = True
            if s.global_step >= s.max_steps:
                control.should_log = True  # the last step always reports its loss

        def on_save(self, a, s, control, **kw):
            path = os.path.join(a.output_dir, f"checkpoint-{s.global_step}")
            state["checkpoint"] = path
            events("checkpoint", step=s.global_step, path=path)

    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=_collator(tokenizer.pad_token_id),
        callbacks=[Progress()],
    )
    trainer.remove_callback(transformers.PrinterCallback)  # events replace its printed dicts
    started = time.time()
    result = trainer.train(resume_from_checkpoint=plan.get("resume"))
    if state["last"] is None and trainer.state.global_step > 0:
        # no logging step ran (e.g. resumed at the last step): the run's mean loss
        state["first"] = state["last"] = _number(getattr(result, "training_loss", None))
    return _finish(events, out, state, model, tokenizer, trainer.state.global_step, started, events.stop)


def _number(value):
    """A finite float, or None (JSON has no NaN)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def _finish(events, out, state, model, tokenizer, step, started, interrupted):
    if model is not None and _is_main_process():
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        card = os.path.join(out, "README.md")
        if os.path.exists(card):
            os.remove(card)  # peft's generated model card; the expert's README is the manifest's
    state = state or {}
    done = {
        "event": "done",
        "step": step,
        "output_dir": out,
        "first_loss": state.get("first"),
        "last_loss": state.get("last"),
        "seconds": round(time.time() - started, 3),
        "interrupted": bool(interrupted),
        "checkpoint": state.get("checkpoint"),
    }
    events("done", **{k: v for k, v in done.items() if k != "event"})
    return json.dumps(done)


def main(argv=None):
    """`python -m expert_trainer plan.json`: events on stdout as JSON lines; Ctrl-C stops cleanly."""
    import signal
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m expert_trainer PLAN.json  (write one with `expert-cli train --emit-plan`)",
              file=sys.stderr)
        return 2
    stop = {"flag": False}

    def on_sigint(signum, frame):
        if stop["flag"]:
            raise KeyboardInterrupt
        stop["flag"] = True
        print("stopping after this step (Ctrl-C again to abort)", file=sys.stderr)

    signal.signal(signal.SIGINT, on_sigint)

    def emit(line):
        if line is not None:
            print(line, flush=True)
        return stop["flag"]

    try:
        with open(argv[0], encoding="utf-8") as f:
            plan_json = f.read()
        done = json.loads(run(plan_json, emit))
    except TrainerError as e:
        print(f"error: {e}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 8
    except OSError as e:
        print(f"error: cannot read `{argv[0]}`: {e.strerror}", file=sys.stderr)
        return 7
    return 130 if done.get("interrupted") else 0
