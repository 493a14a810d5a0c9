"""The expert-cli LoRA trainer: runs a training plan built by `expert-cli train`.

The plan (JSON, layout version `PLAN_VERSION`, written by src/train/plan.rs) names the base model, the adapter,
every hyperparameter and the *rendered* examples: each example is one text (the conversation as the
model's chat template renders it, produced by expert-cli's template registry, so this package has no
prompt templates of its own) with its trained character ranges. Before training it renders the
first conversations with the base model's own chat template and refuses on any difference
(`check_template`). It tokenises each text in one piece, as at inference, labels the tokens that
overlap a trained range (the rest get -100), trains a peft adapter (LoRA, DoRA, IA3, LoKr) with
transformers' Trainer, and reports progress as JSON events through `emit(line) -> stop_requested`.
`emit(None)` only asks whether to stop.

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
        if log_path and _is_main_process():
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


def _uses_bos(tokenizer):
    """The BOS token the tokenizer puts first by default, or None."""
    bos = tokenizer.bos_token
    if bos is None or tokenizer.bos_token_id is None:
        return None
    return bos if tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id] else None


def assemble(record, tokenizer, bos=None):
    """One rendered example → (text, trained ranges) as the tokenizer sees it.

    `record` is a line of the rendered JSONL: `text`, `train` ([start, end) character ranges),
    optional `tokenizer_eos_at` (character offsets where the tokenizer's EOS token goes, trained:
    alpaca) and `tokenizer_bos` (put the tokenizer's BOS token `bos` first when the text does not
    start with it: alpaca and plain text rows; chat templates write their own).
    """
    text = record["text"]
    spans = [(a, b) for a, b in record.get("train", [])]
    eos_at = sorted(record.get("tokenizer_eos_at") or [])
    if eos_at:
        eos = tokenizer.eos_token
        if not eos:
            raise TrainerError(
                "the prompt template needs the tokenizer's EOS token after every answer, but the tokenizer has none",
                "choose the prompt template of the model's family, or a tokenizer with an eos_token",
            )
        n = len(eos)
        shift = lambda o: o + n * sum(1 for p in eos_at if p < o)  # noqa: E731
        pieces, last = [], 0
        for p in eos_at:
            pieces += [text[last:p], eos]
            last = p
        text = "".join(pieces) + text[last:]
        spans = [(shift(a), shift(b)) for a, b in spans]
        spans += [(shift(p), shift(p) + n) for p in eos_at]
    if record.get("tokenizer_bos") and bos and not text.startswith(bos):
        text = bos + text
        spans = [(a + len(bos), b + len(bos)) for a, b in spans]
    merged = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return text, merged


def _labels(ids, offsets, spans):
    """Labels: a token's id when its characters overlap a trained range, else -100."""
    labels = []
    for tok, (a, b) in zip(ids, offsets):
        if a == b:
            trained = any(s <= a < e for s, e in spans)
        else:
            trained = any(a < e and b > s for s, e in spans)
        labels.append(tok if trained else -100)
    return labels


def tokenize_records(tokenizer, records, max_len):
    """Rendered records → (examples [{input_ids, labels}], truncated count, untrained count).

    Each text is tokenised in one piece (`add_special_tokens=False`: the text carries its special
    tokens, as `apply_chat_template` renders them), so the ids are those of inference; the answer
    mask comes from the fast tokenizer's character offsets."""
    if not getattr(tokenizer, "is_fast", False):
        raise TrainerError(
            "the base model's tokenizer is not a fast tokenizer, so it has no character offsets to mask the prompt with",
            "use a model folder with a tokenizer.json (a fast tokenizer)",
        )
    bos = _uses_bos(tokenizer)
    examples, truncated, empty = [], 0, 0
    for start in range(0, len(records), 1024):
        chunk = [assemble(r, tokenizer, bos) for r in records[start : start + 1024]]
        enc = tokenizer(
            [t for t, _ in chunk], add_special_tokens=False, return_offsets_mapping=True
        )
        for (text, spans), ids, offsets in zip(chunk, enc["input_ids"], enc["offset_mapping"]):
            labels = _labels(ids, offsets, spans)
            if len(ids) > max_len:
                truncated += 1
                ids, labels = ids[:max_len], labels[:max_len]
            if all(l == -100 for l in labels):
                empty += 1
                continue
            examples.append({"input_ids": list(ids), "labels": labels})
    return examples, truncated, empty


def _read_records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _tokenize(tokenizer, path, max_len, events):
    """Rendered JSONL → list of {input_ids, labels}; untrained characters get label -100."""
    examples, truncated, empty = tokenize_records(tokenizer, _read_records(path), max_len)
    if truncated:
        events("warning", message=f"{truncated} example(s) of {path} cut to max_seq_length {max_len} tokens")
    if empty:
        events("warning", message=f"{empty} example(s) of {path} have no trained token left and are skipped")
    return examples


def _first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def check_template(tokenizer, plan, events, model):
    """Renders the plan's first conversations with the tokenizer's own chat template and compares
    them with expert-cli's text. Returns the result (also sent as a `template_check` event); raises
    TrainerError on a difference unless the plan allows it."""
    template = plan["template"]
    check = template.get("check") or {}
    name = template["name"]
    examples = check.get("examples") or []
    result = {"template": name, "tokenizer": model, "examples": 0}
    if not getattr(tokenizer, "chat_template", None):
        result.update(status="skipped", reason="the tokenizer has no chat_template")
    elif not examples:
        result.update(status="skipped", reason="the dataset has no conversations (plain text rows only)")
    else:
        bos = _uses_bos(tokenizer)
        kwargs = check.get("kwargs") or {}
        result["status"] = "match"
        for ex in examples:
            ours, _ = assemble(ex, tokenizer, bos)
            try:
                theirs = tokenizer.apply_chat_template(
                    ex["messages"], tokenize=False, add_generation_prompt=False, **kwargs
                )
            except Exception as e:  # the model's template refuses the conversation
                theirs = None
                detail = f"the chat template of `{model}` refuses the conversation of line {ex['line']}: {e}"
            else:
                if theirs == ours:
                    result["examples"] += 1
                    continue
                i = _first_difference(ours, theirs)
                lo = max(0, i - 20)
                detail = (
                    f"line {ex['line']} of `{plan['dataset']['path']}` differs at character {i}: "
                    f"prompt template `{name}` writes {ours[lo:i + 30]!r}, "
                    f"the chat template of `{model}` writes {theirs[lo:i + 30]!r}"
                )
            result.update(status="mismatch", line=ex["line"], message=detail)
            if check.get("allow_mismatch"):
                result["allowed"] = True
                events("warning", message=f"{detail} (training anyway: --allow-template-mismatch)")
                break
            events("template_check", **result)
            raise TrainerError(
                f"the prompt template `{name}` does not match the chat template of the base model: {detail}",
                "set base_models[].prompt_template to the template of this model's family (docs/TRAINING.md "
                "lists them), or pass --allow-template-mismatch to train on expert-cli's text anyway",
            )
    events("template_check", **result)
    return result


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
    only = bool((plan["template"].get("check") or {}).get("only"))
    events = _Events(emit, None if only else os.path.join(out, "training_log.jsonl"))
    try:
        if only:
            return _check_only(plan, events)
        return _train(plan, out, events)
    finally:
        events.close()


def _load_tokenizer(transformers, base):
    local = bool(base.get("local"))
    if local and not os.path.isdir(base["load"]):
        raise TrainerError(
            f"the base model folder `{base['load']}` does not exist",
            "pass --base-model with a local copy of the model (config.json, weights, tokenizer)",
        )
    try:
        return transformers.AutoTokenizer.from_pretrained(base["load"], local_files_only=local)
    except (OSError, ValueError) as e:
        raise TrainerError(
            f"cannot load the tokenizer of `{base['load']}`: {e}",
            "pass --base-model PATH to a local copy, or make the model available in the Hugging Face cache",
        ) from e


def _check_only(plan, events):
    """`train --dry-run --base-model PATH`: the template check alone; writes nothing."""
    events("status", message="checking the prompt template against the tokenizer's chat template")
    import transformers

    transformers.logging.set_verbosity_error()
    base = plan["base_model"]
    tokenizer = _load_tokenizer(transformers, base)
    result = check_template(tokenizer, plan, events, base["load"])
    return json.dumps({"event": "done", "step": 0, "output_dir": plan["output_dir"], "first_loss": None,
                       "last_loss": None, "seconds": 0.0, "interrupted": False, "checkpoint": None,
                       "template_check": result})


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
    for warning in plan["dataset"].get("warnings") or []:
        events("warning", message=warning)
    tokenizer = _load_tokenizer(transformers, base)
    template_check = check_template(tokenizer, plan, events, base["load"])
    try:
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
    # adapter_config.json names the manifest's base model (a hub id), not the folder it was
    # loaded from: `package` and `validate` compare it with the manifest by slug (#11).
    model.peft_config["default"].base_model_name_or_path = base["name"]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    events("status", message="tokenising the rendered examples")
    max_len = plan["hyper"]["max_seq_length"]
    train_set = _tokenize(tokenizer, plan["dataset"]["rendered_train"], max_len, events)
    eval_path = plan["dataset"].get("rendered_eval")
    eval_set = _tokenize(tokenizer, eval_path, max_len, events) if eval_path else None
    if not train_set:
        raise TrainerError("no training example has a trained token", "check max_seq_length and the dataset")

    args = _training_args(transformers, plan, out, device, precision, bool(eval_set), events)
    state = {"first": None, "last": None, "checkpoint": None, "template_check": template_check}
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
        "template_check": state.get("template_check"),
    }
    events("done", **{k: v for k, v in done.items() if k != "event"})
    _leave_process_group()
    return json.dumps(done)


def _leave_process_group():
    """Under torchrun: wait until rank 0 has saved, then leave the process group. A rank that
    exits with gloo's threads still running aborts ("terminate called without an active
    exception", SIGABRT; pytorch/pytorch#190489) and torchrun then fails the whole run. Only on
    success: after an error another rank may never reach the barrier."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


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
