"""The baby GPT of infra/bench/gpu.sh in PyTorch, for a side-by-side figure on the same GPU: nanoGPT's model
(model.py: pre-LayerNorm blocks with bias, scaled_dot_product_attention with dropout, 4x GELU MLP, tied head),
AdamW (betas 0.9/0.99, weight decay 0.1 on matrices, fused), bf16 autocast, batch 64 x block 256, dropout 0.2.
    python3 infra/bench/gpu_reference.py infra/demo/tinyshakespeare.txt [steps] [peak-tflops] [eager|compile]
Prints ms/iter (the first 5 iterations are warm-up), tokens/s and MFU by nanoGPT's estimate, as the C# benchmark does.
"""
import sys, time, math
import torch, torch.nn as nn, torch.nn.functional as F

path, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
peak = float(sys.argv[3]) if len(sys.argv) > 3 else 989.0
mode = sys.argv[4] if len(sys.argv) > 4 else "eager"
text = open(path, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
train = data[: int(0.9 * len(data))]
V, B, T, L, H, C, P = len(chars), 64, 256, 6, 6, 384, 0.2
dev = "cuda"
torch.manual_seed(1337)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True

class Attention(nn.Module):
    def __init__(s):
        super().__init__(); s.c_attn = nn.Linear(C, 3 * C); s.c_proj = nn.Linear(C, C); s.drop = nn.Dropout(P)
    def forward(s, x):
        b, t, c = x.shape
        q, k, v = s.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=P if s.training else 0.0, is_causal=True)
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
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99), fused=True)
run = torch.compile(model) if mode == "compile" else model

def batch():
    ix = torch.randint(len(train) - T - 1, (B,))
    x = torch.stack([train[i:i + T] for i in ix]); y = torch.stack([train[i + 1:i + 1 + T] for i in ix])
    return x.pin_memory().to(dev, non_blocking=True), y.pin_memory().to(dev, non_blocking=True)

times = []
for step in range(steps):
    t0 = time.perf_counter()
    x, y = batch()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = run(x, y)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); opt.zero_grad(set_to_none=True)
    last = loss.item()
    times.append((time.perf_counter() - t0) * 1000)
ms = sum(times[5:]) / len(times[5:])
tps = B * T * 1000 / ms
flops = 6.0 * (params - T * C) + 12.0 * L * H * (C // H) * T
print(f"== PyTorch {torch.__version__} baby GPT ({mode}, bf16 autocast): {params / 1e6:.2f} M parameters, {steps} iterations")
print(f"   {ms:.1f} ms/iter, {tps:,.0f} tokens/s, {flops * tps / 1e12:.1f} TFLOP/s model FLOPs, MFU {flops * tps / 1e12 / peak:.1%} of {peak:g}, last loss {last:.4f}")
