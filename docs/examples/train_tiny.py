#!/usr/bin/env python3
"""A training script of your own, tracked by the platform: a character-level language model trained in plain
Python, its parameters, loss and files logged to a run, and the result registered as a model the platform serves.

    PLATFORM_URL=http://127.0.0.1:8080 PLATFORM_API_KEY=... python3 docs/examples/train_tiny.py corpus.txt

The model is a one-layer GPT in nanoGPT's layout whose only trained weights are the token embeddings (tied to the
output, as GPT-2's are): a bigram model, small enough to train without NumPy. Its attention and MLP are written as
zeros, so it loads as any GPT does.
"""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import platform_tracking as pt  # noqa: E402

corpus_path = sys.argv[1]
name = sys.argv[2] if len(sys.argv) > 2 else "tiny-bigram"
steps, batch, lr, width, eps = 300, 16, 0.5, 16, 1e-5

text = open(corpus_path, encoding="utf-8").read()
chars = sorted(set(text))  # ids in code-point order, as the platform's character tokenizer has them
ids = [chars.index(c) for c in text]
vocab = len(chars)
random.seed(0)
E = [[random.gauss(0, 0.3) for _ in range(width)] for _ in range(vocab)]


def norm(x):
    """LayerNorm without scale or shift (they stay 1 and 0): the normalised vector and 1/sigma."""
    mean = sum(x) / width
    var = sum((v - mean) ** 2 for v in x) / width
    inv = 1 / math.sqrt(var + eps)
    return [(v - mean) * inv for v in x], inv


def step_loss(pairs, update):
    """Mean cross-entropy of next-character prediction over (current, next) pairs; one SGD step if update."""
    grads = {} if update else None
    total = 0.0
    for current, target in pairs:
        h, inv = norm(E[current])
        logits = [sum(hi * ei for hi, ei in zip(h, row)) for row in E]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        s = sum(exps)
        total += math.log(s) - (logits[target] - top)
        if not update:
            continue
        dz = [e / s for e in exps]
        dz[target] -= 1
        dh = [0.0] * width
        for j, g in enumerate(dz):
            row = E[j]
            out = grads.setdefault(j, [0.0] * width)
            for k in range(width):
                out[k] += g * h[k]
                dh[k] += g * row[k]
        mean_dh = sum(dh) / width
        mean_dhh = sum(a * b for a, b in zip(dh, h)) / width
        into = grads.setdefault(current, [0.0] * width)
        for k in range(width):
            into[k] += inv * (dh[k] - mean_dh - h[k] * mean_dhh)
    if update:
        for j, g in grads.items():
            E[j] = [e - lr * gk / len(pairs) for e, gk in zip(E[j], g)]
    return total / len(pairs)


def sample_pairs(n, start, end):
    return [(ids[i], ids[i + 1]) for i in (random.randrange(start, end - 1) for _ in range(n))]


split = int(len(ids) * 0.9)
held_out = sample_pairs(256, split, len(ids))
client = pt.Client()
client.create_experiment("tiny-bigrams", "Character bigram models trained in plain Python")
params = {"steps": steps, "batch": batch, "lr": lr, "width": width, "vocab": vocab, "corpus": corpus_path}
with client.start_run(name, experiment="tiny-bigrams", params=params, tags={"team": "nlp", "kind": "bigram"}) as run:
    for step in range(steps + 1):
        if step % 25 == 0:
            run.log_metric("val_loss", step_loss(held_out, update=False), step)
        if step < steps:
            run.log_metric("loss", step_loss(sample_pairs(batch, 0, split), update=True), step)

    # The weights in nanoGPT's layout: a 1-layer, 1-head GPT with a block of 8 whose blocks add nothing.
    zeros = lambda *shape: (list(shape), [0.0] * math.prod(shape))  # noqa: E731
    ones = lambda n: ([n], [1.0] * n)  # noqa: E731
    tensors = {"transformer.wte.weight": ([vocab, width], [v for row in E for v in row]),
               "transformer.wpe.weight": zeros(8, width),
               "transformer.ln_f.weight": ones(width), "transformer.ln_f.bias": zeros(width)}
    for part, shape in {"attn.c_attn": (3 * width, width), "attn.c_proj": (width, width),
                        "mlp.c_fc": (4 * width, width), "mlp.c_proj": (width, 4 * width)}.items():
        tensors[f"transformer.h.0.{part}.weight"] = zeros(*shape)
        tensors[f"transformer.h.0.{part}.bias"] = zeros(shape[0])
    for norm_name in ("ln_1", "ln_2"):
        tensors[f"transformer.h.0.{norm_name}.weight"] = ones(width)
        tensors[f"transformer.h.0.{norm_name}.bias"] = zeros(width)
    pt.save_safetensors("model.safetensors", tensors)
    with open("config.json", "w", encoding="utf-8") as file:
        json.dump({"n_head": 1, "activation_function": "gelu"}, file)
    with open("tokenizer.json", "w", encoding="utf-8") as file:  # the platform's character-level tokenizer.json
        json.dump({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
                   "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated",
                                     "invert": False},
                   "post_processor": None, "decoder": {"type": "Fuse"},
                   "model": {"type": "WordLevel", "vocab": {c: i for i, c in enumerate(chars)},
                             "unk_token": "[UNK]"}}, file, ensure_ascii=False)
    for file_name in ("model.safetensors", "tokenizer.json", "config.json"):
        run.log_artifact(file_name)
    version = run.register_model(name, weights="model.safetensors", tokenizer="tokenizer.json",
                                 config="config.json")
    print(f"run {run.id}: registered {version['name']} v{version['version']}")
