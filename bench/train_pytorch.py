#!/usr/bin/env python3
"""Plain PyTorch baseline for bench/train.ts: the same llama config, batch and optimiser (AdamW, f32),
LoRA (r, alpha on q/k/v/o/gate/up/down, base frozen) or full fine-tuning; f32 throughout, or with
--autocast bf16 PyTorch's own mixed precision. Prints one JSON line:
{"tokensPerSecond": ..., "peakMemoryBytes": ..., "stepSeconds": [...]}.

Run with Debian's python3-torch; with libopenblas0-pthread installed torch uses OpenBLAS (the
reference BLAS alone is ~20x slower and would make the comparison meaningless).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LoraLinear(nn.Module):
    """y = W x + (alpha / r) B A x with W frozen, A kaiming-uniform, B zero (as PEFT)."""

    def __init__(self, base: nn.Linear, rank, alpha):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.a = nn.Parameter(torch.empty(rank, base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


def rope(x, positions, base):
    # x: [B, H, T, D]; NeoX-style halves (the cost is what matters here)
    d = x.shape[-1]
    freqs = base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)
    angles = positions[:, None].float() * freqs[None, :]
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, e, h, f, eps):
        super().__init__()
        self.h = h
        self.attn_norm = RMSNorm(e, eps)
        self.q = nn.Linear(e, e, bias=False)
        self.k = nn.Linear(e, e, bias=False)
        self.v = nn.Linear(e, e, bias=False)
        self.o = nn.Linear(e, e, bias=False)
        self.ffn_norm = RMSNorm(e, eps)
        self.gate = nn.Linear(e, f, bias=False)
        self.up = nn.Linear(e, f, bias=False)
        self.down = nn.Linear(f, e, bias=False)

    def forward(self, x, positions, mask):
        b, t, e = x.shape
        d = e // self.h
        h = self.attn_norm(x)
        q = self.q(h).view(b, t, self.h, d).transpose(1, 2)
        k = self.k(h).view(b, t, self.h, d).transpose(1, 2)
        v = self.v(h).view(b, t, self.h, d).transpose(1, 2)
        q, k = rope(q, positions, 10000.0), rope(k, positions, 10000.0)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d) + mask
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, e)
        x = x + self.o(attended)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, e, layers, h, f, eps=1e-5):
        super().__init__()
        self.embed = nn.Embedding(vocab, e)
        self.blocks = nn.ModuleList([Block(e, h, f, eps) for _ in range(layers)])
        self.norm = RMSNorm(e, eps)
        self.output = nn.Linear(e, vocab, bias=False)

    def forward(self, tokens):
        b, t = tokens.shape
        positions = torch.arange(t, device=tokens.device)
        mask = torch.full((t, t), float("-inf"), device=tokens.device).triu(1)
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, positions, mask)
        return self.output(self.norm(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["lora", "full"], required=True)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--ffn", type=int, default=1280)
    parser.add_argument("--ctx", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32)
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    parser.add_argument(
        "--tf32", action="store_true", help="CUDA: f32 matmuls as TF32 (ggml's CUDA backend does so by default)"
    )
    parser.add_argument(
        "--autocast",
        choices=["none", "bf16"],
        default="none",
        help="bf16: torch.autocast mixed precision (bf16 products, f32 weights, gradients and AdamW)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    # On CUDA, time finished kernels (launches are asynchronous); f32 matmuls stay f32 unless --tf32.
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = Llama(args.vocab, args.hidden, args.layers, args.heads, args.ffn)
    if args.mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for block in model.blocks:
            for name in ["q", "k", "v", "o", "gate", "up", "down"]:
                setattr(block, name, LoraLinear(getattr(block, name), args.rank, args.alpha))
    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    generator = torch.Generator().manual_seed(1)
    step_seconds = []
    for _ in range(args.steps):
        tokens = torch.randint(0, args.vocab, (args.batch, args.ctx + 1), generator=generator).to(device)
        synchronize()
        started = time.perf_counter()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.autocast == "bf16"):
            logits = model(tokens[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, args.vocab), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        synchronize()
        step_seconds.append(time.perf_counter() - started)
    measured = step_seconds[1:] if len(step_seconds) > 1 else step_seconds
    tokens_per_step = args.batch * args.ctx
    print(
        json.dumps(
            {
                "tokensPerSecond": tokens_per_step * len(measured) / sum(measured),
                "peakMemoryBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "peakDeviceMemoryBytes": torch.cuda.max_memory_allocated() if device.type == "cuda" else 0,
                "stepSeconds": step_seconds,
                "trainableValues": sum(p.numel() for p in trainable),
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        )
    )


if __name__ == "__main__":
    main()
