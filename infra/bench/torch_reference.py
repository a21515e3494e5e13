"""nanoGPT in PyTorch, for side-by-side figures against infra/bench/train.sh (CPU) and infra/bench/gpu.sh (GPU):
nanoGPT's model.py (pre-LayerNorm blocks with bias, causal attention, 4x GELU MLP, tied head; attention through
scaled_dot_product_attention where the PyTorch has it, else written out with a mask, as model.py does) and the
loop of train.py (random windows, autocast context, backward, clip 1.0, AdamW betas 0.9/0.99 with weight decay 0.1
on matrices, zero_grad(set_to_none=True)).
    python3 infra/bench/torch_reference.py CORPUS [--config small|baby] [--device cpu|cuda] [--precision bf16|fp32]
                                             [--steps N] [--threads N] [--mode eager|compile] [--peak TFLOPS]
small is nanoGPT README's CPU run (4x4x128, block 64, batch 12, dropout 0); baby is its baby GPT (6x6x384, block
256, batch 64, dropout 0.2). bf16 runs under torch.autocast(device, dtype=torch.bfloat16), as train.py's ctx does.
Prints ms/iter (mean and median after 5 warm-up iterations, evaluation not included, like nanoGPT's "time"),
tokens/s and, on a GPU, MFU by nanoGPT's estimate.
"""
import argparse, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

args = argparse.ArgumentParser()
args.add_argument("corpus")
args.add_argument("--config", choices=["small", "baby"], default="baby")
args.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
args.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
args.add_argument("--steps", type=int, default=300)
args.add_argument("--threads", type=int, default=0)
args.add_argument("--mode", choices=["eager", "compile"], default="eager")
args.add_argument("--peak", type=float, default=989.0)
a = args.parse_args()

text = open(a.corpus, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
train = data[: int(0.9 * len(data))]
V = len(chars)
B, T, L, H, C, P = (12, 64, 4, 4, 128, 0.0) if a.config == "small" else (64, 256, 6, 6, 384, 0.2)
dev = a.device
if a.threads > 0:
    torch.set_num_threads(a.threads)
torch.manual_seed(1337)
if dev == "cuda":
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
flash = hasattr(F, "scaled_dot_product_attention")

class Attention(nn.Module):
    def __init__(s):
        super().__init__(); s.c_attn = nn.Linear(C, 3 * C); s.c_proj = nn.Linear(C, C)
        s.attn_drop = nn.Dropout(P); s.drop = nn.Dropout(P)
        if not flash:
            s.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))
    def forward(s, x):
        b, t, c = x.shape
        q, k, v = s.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v))
        if flash:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=P if s.training else 0.0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / (k.size(-1) ** 0.5))
            att = F.softmax(att.masked_fill(s.mask[:, :, :t, :t] == 0, float("-inf")), dim=-1)
            y = s.attn_drop(att) @ v
        return s.drop(s.c_proj(y.transpose(1, 2).contiguous().view(b, t, c)))

class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = nn.LayerNorm(C); s.attn = Attention(); s.ln_2 = nn.LayerNorm(C)
        s.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C), nn.Dropout(P))
    def forward(s, x):
        x = x + s.attn(s.ln_1(x)); return x + s.mlp(s.ln_2(x))

class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = nn.Embedding(V, C); s.wpe = nn.Embedding(T, C); s.drop = nn.Dropout(P)
        s.h = nn.ModuleList(Block() for _ in range(L)); s.ln_f = nn.LayerNorm(C)
        s.lm_head = nn.Linear(C, V, bias=False); s.wte.weight = s.lm_head.weight
    def forward(s, idx, targets):
        x = s.drop(s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=idx.device)))
        for b in s.h: x = b(x)
        logits = s.lm_head(s.ln_f(x))
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))

model = GPT().to(dev)
params = sum(p.numel() for p in model.parameters())
decay = [p for p in model.parameters() if p.dim() >= 2]; rest = [p for p in model.parameters() if p.dim() < 2]
extra = {"fused": True} if dev == "cuda" else {}
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.99), **extra)
run = torch.compile(model) if a.mode == "compile" else model

def batch():
    ix = torch.randint(len(train) - T - 1, (B,))
    x = torch.stack([train[i:i + T] for i in ix]); y = torch.stack([train[i + 1:i + 1 + T] for i in ix])
    if dev == "cuda":
        return x.pin_memory().to(dev, non_blocking=True), y.pin_memory().to(dev, non_blocking=True)
    return x, y

autocast = (lambda: torch.autocast(dev, dtype=torch.bfloat16)) if a.precision == "bf16" else None
times = []
for step in range(a.steps):
    t0 = time.perf_counter()
    x, y = batch()
    if autocast:
        with autocast():
            loss = run(x, y)
    else:
        loss = run(x, y)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); opt.zero_grad(set_to_none=True)
    last = loss.item()
    times.append((time.perf_counter() - t0) * 1000)
steady = times[5:]
ms, median = sum(steady) / len(steady), statistics.median(steady)
tps = B * T * 1000 / ms
print(f"== PyTorch {torch.__version__} {a.config} ({L}x{H}x{C}, block {T}, batch {B}) on {dev}, {a.precision}"
      f"{' autocast' if autocast else ''}, {a.mode}, {torch.get_num_threads()} thread(s): "
      f"{params / 1e6:.2f} M parameters, {a.steps} iterations")
line = f"   {ms:.1f} ms/iter (median {median:.1f}), {tps:,.0f} tokens/s, last loss {last:.4f}"
if dev == "cuda":
    flops = 6.0 * (params - T * C) + 12.0 * L * H * (C // H) * T
    line += f", {flops * tps / 1e12:.1f} TFLOP/s model FLOPs, MFU {flops * tps / 1e12 / a.peak:.1%} of {a.peak:g}"
print(line)
