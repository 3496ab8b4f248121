"""Benchmark: batched BPB scoring vs a naive one-document-at-a-time loop, in one run.

Many short documents and a few long ones are scored three ways with the same random model:

* naive   — each document alone, each window its own forward pass (what a first attempt does);
* batched — `HFCausalLMScorer.score` (windows of all documents length-sorted and packed);
* forward — the time spent in the model's forward passes *within* the batched run: the floor.

Reported per document set: wall seconds, tokens/s, speedup of batched over naive, padding
efficiency (real tokens / padded tokens) and overhead of batched over the pure forward passes.
It also checks that batched and naive NLL agree. Targets: ≥ 2× on short documents, padding
efficiency ≥ 90 %, overhead ≤ 15 %.

    python benchmarks/bench_bpb.py            # GPT-2-small-sized random model (124M parameters)
    python benchmarks/bench_bpb.py --small    # a 2-layer model, seconds instead of minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from segpile_lab._torch_utils import synchronize
from segpile_lab.bpb.demo_lm import byte_level_tokenizer
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer, load_tokenizer
from segpile_lab.bpb.windows import window_token_pairs

ROOT = Path(__file__).resolve().parents[1]
GPT2_TOKENIZER = ROOT.parent / "shared" / "data" / "tokenizers" / "gpt2-tokenizer.json"


def make_documents(count: int, low: int, high: int, seed: int) -> list[str]:
    """`count` slices of the synthetic demo Pile text, each `low`–`high` bytes long."""
    from segpile_lab.pile.demo import demo_pile_sample
    from segpile_lab.pile.reader import read_pile

    corpus = "\n\n".join(read_pile(demo_pile_sample(), progress=False)["text"].to_list())
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        size = rng.randint(low, high)
        start = rng.randrange(0, len(corpus) - size)
        docs.append(corpus[start : start + size])
    return docs


def naive_nll(scorer: HFCausalLMScorer, texts: list[str]) -> np.ndarray:
    """One document at a time, one window per forward pass, no padding."""
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        tokens = scorer.tokenizer(text, add_special_tokens=False)["input_ids"]
        for context, continuation in window_token_pairs(
            tokens, scorer.prefix_token, scorer.max_length, scorer.stride
        ):
            inputs = torch.tensor([(context + continuation)[:-1]], device=scorer.device)
            with torch.inference_mode():
                logits = scorer.model(input_ids=inputs).logits[0, -len(continuation) :]
                target = torch.tensor(continuation, device=scorer.device)
                out[i] += float(F.cross_entropy(logits.float(), target, reduction="sum"))
    return out


def timed(fn):
    """``(value, wall seconds, CPU seconds of this process)``; on a shared machine the CPU time
    is the steadier measure of work, the wall time the one a user waits."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - start, time.process_time() - cpu


def bench_set(scorer: HFCausalLMScorer, texts: list[str]) -> dict:
    sequences = scorer.tokenize(texts)
    tokens = sum(len(s) - 1 for s in sequences)
    batches = list(scorer.batches(sequences))
    padded = sum(b.input_ids.numel() for b in batches)
    real = sum(b.n_real for b in batches)

    # time the model's forward passes inside the batched run itself (same run, same load), so
    # the overhead figure does not drift with the shared machine's load between phases
    forward_seconds = []
    model_forward = scorer.forward

    def timed_forward(batch):
        start = time.perf_counter()
        logits = model_forward(batch)
        synchronize(scorer.device)
        forward_seconds.append(time.perf_counter() - start)
        return logits

    naive, naive_s, naive_cpu = timed(lambda: naive_nll(scorer, texts))
    scorer.forward = timed_forward
    try:
        batched, batched_s, batched_cpu = timed(
            lambda: scorer.score(texts, progress=False).nll_nats
        )
    finally:
        del scorer.forward
    forward_s = sum(forward_seconds)
    return {
        "documents": len(texts),
        "bytes": sum(len(t.encode()) for t in texts),
        "tokens": tokens,
        "batches": len(batches),
        "naive_s": naive_s,
        "batched_s": batched_s,
        "forward_in_batched_s": forward_s,
        "naive_tokens_per_s": tokens / naive_s,
        "batched_tokens_per_s": tokens / batched_s,
        "speedup_vs_naive": naive_s / batched_s,
        "naive_cpu_s": naive_cpu,
        "batched_cpu_s": batched_cpu,
        "speedup_vs_naive_cpu_time": naive_cpu / batched_cpu,
        "padding_efficiency": real / padded,
        "overhead_vs_forward": batched_s / forward_s - 1,
        "max_relative_nll_difference": float(np.max(np.abs(batched - naive) / naive)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2-layer, 128-wide model")
    parser.add_argument("--short-docs", type=int, default=48)
    parser.add_argument("--long-docs", type=int, default=2)
    parser.add_argument("--long-bytes", type=int, default=12_000)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--dtype", default=None, help="bf16 / fp16 autocast; default fp32 on CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bpb.json"))
    args = parser.parse_args()

    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer_note = "GPT-2 tokenizer.json (../shared/data)"
    if GPT2_TOKENIZER.is_file():
        tokenizer = load_tokenizer(str(GPT2_TOKENIZER))
    else:
        tokenizer, tokenizer_note = byte_level_tokenizer(), "byte-level tokenizer (no GPT-2 file)"
    size = {"n_layer": 2, "n_embd": 128, "n_head": 4} if args.small else {}
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=args.max_length, **size)
    torch.manual_seed(args.seed)
    model = GPT2LMHeadModel(config).eval()
    scorer = HFCausalLMScorer(
        model, tokenizer, max_length=args.max_length, batch_size=args.batch_size,
        batch_tokens=args.batch_tokens, device=args.device, dtype=args.dtype, name="random-gpt2",
    )  # fmt: skip
    short = make_documents(args.short_docs, 200, 1_500, args.seed)
    long = make_documents(args.long_docs, args.long_bytes, 2 * args.long_bytes, args.seed + 1)
    results = {"short": bench_set(scorer, short), "long": bench_set(scorer, long)}

    header = f"{'set':6} {'docs':>5} {'tokens':>7} {'naive s':>8} {'batched s':>10} "
    header += f"{'forward s':>10} {'speedup':>8} {'cpu-time':>9} {'padding':>8} {'overhead':>9} "
    header += f"{'rel diff':>9}"
    print(scorer.description, "|", tokenizer_note)
    print(header)
    for name, r in results.items():
        print(f"{name:6} {r['documents']:>5} {r['tokens']:>7} {r['naive_s']:>8.2f} "
              f"{r['batched_s']:>10.2f} {r['forward_in_batched_s']:>10.2f} "
              f"{r['speedup_vs_naive']:>7.2f}× {r['speedup_vs_naive_cpu_time']:>8.2f}× "
              f"{r['padding_efficiency']:>7.1%} "
              f"{r['overhead_vs_forward']:>+8.1%} "
              f"{r['max_relative_nll_difference']:>9.1e}")  # fmt: skip

    record = {
        "benchmark": "bpb scoring: batched HFCausalLMScorer vs naive per-document loop",
        "model": "random GPT-2 " + ("(2 layers, 128 wide)" if args.small else "small (124M)"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokenizer": tokenizer_note,
        "scorer": scorer.description,
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "batch_tokens": args.batch_tokens,
        "device": str(scorer.device),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "machine": platform.platform(),
        "note": "load_average_at_end says how busy the 2-core machine was; naive and batched "
        "run one after the other, so their ratio carries any load drift between them; the "
        "overhead is measured within one run",
        "targets": {"speedup_short": 2.0, "padding_efficiency": 0.9, "overhead": 0.15},
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
