#!/usr/bin/python3
"""The peer a user would otherwise write: a plain eager PyTorch Llama (RMSNorm, RoPE, GQA, SwiGLU,
LoRA r8 on every projection), same sizes as the engine's presets. Generation keeps a KV cache by
torch.cat-ing each new key/value onto it (the usual hand-written loop); training is one forward and
backward of the policy-gradient loss on sequences of 128 with AdamW on the LoRA parameters.

Needs Debian's python3-torch with libopenblas0-pthread (see NOTES.md). Prints one JSON object.

    /usr/bin/python3 bench/peer/llama_peer.py --preset tiny
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "tiny": dict(hidden=192, layers=4, heads=6, kv_heads=2, ffn=512),
    "small-25m": dict(hidden=512, layers=8, heads=8, kv_heads=4, ffn=1536),
}
VOCAB = 264


class LoraLinear(nn.Module):
    def __init__(self, fan_in, fan_out, r=8, alpha=16):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in) * 0.02, requires_grad=False)
        self.lora_A = nn.Parameter(torch.randn(r, fan_in) / math.sqrt(fan_in))
        self.lora_B = nn.Parameter(torch.zeros(fan_out, r))
        self.scale = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, hd = c["hidden"], c["hidden"] // c["heads"]
        self.heads, self.kv_heads, self.hd = c["heads"], c["kv_heads"], hd
        self.q_proj = LoraLinear(h, c["heads"] * hd)
        self.k_proj = LoraLinear(h, c["kv_heads"] * hd)
        self.v_proj = LoraLinear(h, c["kv_heads"] * hd)
        self.o_proj = LoraLinear(c["heads"] * hd, h)
        self.gate_proj = LoraLinear(h, c["ffn"])
        self.up_proj = LoraLinear(h, c["ffn"])
        self.down_proj = LoraLinear(c["ffn"], h)
        self.n1, self.n2 = RMSNorm(h), RMSNorm(h)

    def forward(self, x, cos, sin, cache=None):
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q_proj(h).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat([cache[0], k], dim=2)
                v = torch.cat([cache[1], v], dim=2)
            cache[0], cache[1] = k, v
        g = self.heads // self.kv_heads
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)     # no SDPA in torch 1.13: written out
        if t > 1:
            tk = k.shape[2]
            mask = torch.ones(t, tk, dtype=torch.bool).tril(tk - t)
            att = att.masked_fill(~mask, float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o_proj(y)
        h = self.n2(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(VOCAB, c["hidden"]) * 0.02, requires_grad=False)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"])
        hd = c["hidden"] // c["heads"]
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(1024).float(), inv)
        emb = torch.cat([freqs, freqs], -1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def forward(self, ids, start=0, caches=None):
        t = ids.shape[1]
        cos, sin = self.cos[start:start + t], self.sin[start:start + t]
        x = F.embedding(ids, self.embed)
        for i, blk in enumerate(self.blocks):
            x = blk(x, cos, sin, None if caches is None else caches[i])
        return F.linear(self.norm(x), self.embed)


def generate(model, batch, prompt_len, new_tokens):
    ids = torch.randint(0, 256, (batch, prompt_len))
    caches = [[None, None] for _ in model.blocks]
    with torch.no_grad():
        logits = model(ids, 0, caches)[:, -1]
        for step in range(new_tokens):
            nxt = torch.multinomial(logits.softmax(-1), 1)
            logits = model(nxt, prompt_len + step, caches)[:, -1]


def train_step(model, opt, batch, seq):
    ids = torch.randint(0, 256, (batch, seq))
    logp = model(ids[:, :-1]).log_softmax(-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    adv = torch.randn(batch, 1)
    ratio = torch.exp(logp - logp.detach())
    loss = -torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="tiny")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="1,16,64")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = 2048
    x, y = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        x @ y  # warm-up beyond timed()'s own, as the engine bench does
    mm = timed(lambda: x @ y, 9)
    model = Model(PRESETS[a.preset])
    result = {"preset": a.preset, "torch": torch.__version__, "matmul_gflops": 2 * n ** 3 / mm / 1e9, "generation": {}}
    for b in [int(s) for s in a.batches.split(",")]:
        s = timed(lambda: generate(model, b, 32, 64), a.repeats)
        result["generation"][str(b)] = b * 64 / s
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    s = timed(lambda: train_step(model, opt, 16, 128), a.repeats)
    result["training_tokens_per_s"] = 16 * 127 / s
    print(json.dumps(result))


if __name__ == "__main__":
    main()
