"""Benchmark: batched BPB scoring vs a naive one-document-at-a-time loop, in one run.

Three document sets (many short, many medium, a few long) are scored with the same random
GPT-2-small-sized model, four ways:

* naive fp32 — each document alone, each window its own forward pass, full ``(T, V)`` logits
  and ``cross_entropy`` (what a first attempt does): the baseline;
* naive bf16 — the same loop on the same model with bf16 weights (an equal-precision baseline
  for the bf16 row, so that batching and precision are not credited to each other);
* batched fp32 / batched bf16 — `HFCausalLMScorer.score` (windows of all documents
  length-sorted and packed, the output layer on scored positions only, cache-sized losses).

Each way runs twice, alternating, and the faster run counts (the first run of a new input
shape also pays oneDNN's kernel generation, for either way). Reported per set: seconds,
tokens/s, ratios, padding efficiency (real / padded tokens), overhead of batched scoring over
its own model work (forward passes, output layer and loss, timed inside the same run) and the
largest relative NLL difference from the naive fp32 loop. Targets: ≥ 2× on short documents,
padding efficiency ≥ 90 %, overhead ≤ 15 %. On a CPU the 2× is reached against the naive fp32
loop with bf16 weights; at equal precision batching alone stays below it (the "×naive same"
column says by how much), and the JSON records both under "targets".

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
WAYS = ("naive fp32", "naive bf16", "batched fp32", "batched bf16")


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
    """One document at a time, one window per forward pass, no padding, full logits."""
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        tokens = scorer.tokenizer(text, add_special_tokens=False)["input_ids"]
        for context, continuation in window_token_pairs(
            tokens, scorer.prefix_token, scorer.max_length, scorer.stride
        ):
            inputs = torch.tensor([(context + continuation)[:-1]], device=scorer.device)
            with torch.inference_mode(), scorer.autocast():
                logits = scorer.model(input_ids=inputs).logits[0, -len(continuation) :]
                target = torch.tensor(continuation, device=scorer.device)
                out[i] += float(F.cross_entropy(logits.float(), target, reduction="sum"))
    return out


class ModelClock:
    """Times the scorer's model work (`token_losses`: forward, output layer, loss)."""

    def __init__(self, scorer: HFCausalLMScorer) -> None:
        self.seconds = 0.0
        self._scorer, self._token_losses = scorer, scorer.token_losses

    def __enter__(self) -> ModelClock:
        def timed(batch):
            start = time.perf_counter()
            losses = self._token_losses(batch)
            synchronize(self._scorer.device)
            self.seconds += time.perf_counter() - start
            return losses

        self._scorer.token_losses = timed
        return self

    def __exit__(self, *exc: object) -> None:
        del self._scorer.token_losses


def bench_set(scorers: dict[str, HFCausalLMScorer], texts: list[str], repeat: int) -> dict:
    fp32 = scorers["fp32"]
    sequences = fp32.tokenize(texts)
    tokens = sum(len(s) - 1 for s in sequences)
    ways = {
        "naive fp32": lambda: naive_nll(fp32, texts),
        "naive bf16": lambda: naive_nll(scorers["bf16"], texts),
        "batched fp32": lambda: fp32.score(texts, progress=False).nll_nats,
        "batched bf16": lambda: scorers["bf16"].score(texts, progress=False).nll_nats,
    }
    runs: dict[str, list[tuple[float, float, np.ndarray]]] = {way: [] for way in WAYS}
    for _ in range(repeat):
        for way in WAYS:
            scorer = scorers["bf16" if way.endswith("bf16") else "fp32"]
            with ModelClock(scorer) as clock:
                start = time.perf_counter()
                nll = ways[way]()
                seconds = time.perf_counter() - start
            runs[way].append((seconds, clock.seconds, nll))
    best = {way: min(r, key=lambda run: run[0]) for way, r in runs.items()}
    reference = best["naive fp32"][2]
    result = {
        "documents": len(texts),
        "bytes": sum(len(t.encode()) for t in texts),
        "tokens": tokens,
        "ways": {},
    }
    for way, (seconds, model_seconds, nll) in best.items():
        entry = {
            "seconds": seconds,
            "all_seconds": [round(r[0], 3) for r in runs[way]],
            "tokens_per_s": tokens / seconds,
            "vs_naive_fp32": best["naive fp32"][0] / seconds,
            "max_relative_nll_difference_vs_naive_fp32": float(
                np.max(np.abs(nll - reference) / reference)
            ),
        }
        if way.startswith("batched"):
            naive_same_precision = best[way.replace("batched", "naive")][0]
            entry["vs_naive_same_precision"] = naive_same_precision / seconds
            entry["model_work_s"] = model_seconds
            entry["overhead_vs_model_work"] = seconds / model_seconds - 1
            batches = list(scorers[way.split()[1]].batches(sequences))
            entry["batches"] = len(batches)
            entry["padding_efficiency"] = sum(b.n_real for b in batches) / sum(
                b.input_ids.numel() for b in batches
            )
        result["ways"][way] = entry
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2-layer, 128-wide model")
    parser.add_argument(
        "--docs", type=int, default=48, help="documents in the short and medium sets"
    )
    parser.add_argument("--long-docs", type=int, default=2)
    parser.add_argument("--long-bytes", type=int, default=12_000)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batch-tokens", type=int, default=None, help="default: the scorer's")
    parser.add_argument("--repeat", type=int, default=2, help="runs per way; the fastest counts")
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
    options = dict(
        max_length=args.max_length, batch_size=args.batch_size, batch_tokens=args.batch_tokens,
        device=args.device, name="random-gpt2",
    )  # fmt: skip
    scorers = {
        "fp32": HFCausalLMScorer(model, tokenizer, dtype="fp32", **options),
        "bf16": HFCausalLMScorer(model, tokenizer, dtype="bf16", **options),
    }
    sets = {
        "short": make_documents(args.docs, 40, 400, args.seed),
        "medium": make_documents(args.docs, 200, 1_500, args.seed + 1),
        "long": make_documents(args.long_docs, args.long_bytes, 2 * args.long_bytes, args.seed + 2),
    }
    results = {}
    for name, texts in sets.items():
        results[name] = bench_set(scorers, texts, args.repeat)
        print(f"{name}: done", flush=True)

    print(" | ".join(s.description for s in scorers.values()), "|", tokenizer_note)
    header = f"{'set':6} {'docs':>4} {'tokens':>6} {'way':12} {'s':>6} {'tok/s':>6} "
    header += (
        f"{'×naive fp32':>11} {'×naive same':>11} {'padding':>7} {'overhead':>8} {'rel diff':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        for way, w in r["ways"].items():
            same = f"{w['vs_naive_same_precision']:10.2f}×" if "model_work_s" in w else " " * 11
            extra = (
                f"{w['padding_efficiency']:7.1%} {w['overhead_vs_model_work']:+8.1%}"
                if "model_work_s" in w
                else " " * 16
            )
            print(
                f"{name:6} {r['documents']:>4} {r['tokens']:>6} {way:12} {w['seconds']:6.2f} "
                f"{w['tokens_per_s']:6.0f} {w['vs_naive_fp32']:10.2f}× {same} {extra} "
                f"{w['max_relative_nll_difference_vs_naive_fp32']:8.1e}"
            )

    short = results["short"]["ways"]
    record = {
        "benchmark": "bpb scoring: batched HFCausalLMScorer vs naive per-document loop",
        "model": "random GPT-2 " + ("(2 layers, 128 wide)" if args.small else "small (124M)"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokenizer": tokenizer_note,
        "scorers": {k: s.description for k, s in scorers.items()},
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "batch_tokens": {k: s.batch_tokens for k, s in scorers.items()},
        "device": str(scorers["fp32"].device),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "machine": platform.platform(),
        "note": "fastest of --repeat alternating runs per way; load_average_at_end says how "
        "busy the machine was; the overhead is measured within the same run",
        "targets": {
            "goal": {"speedup_short": 2.0, "padding_efficiency": 0.9, "overhead": 0.15},
            "short_batched_bf16_vs_naive_fp32": short["batched bf16"]["vs_naive_fp32"],
            "short_batched_vs_naive_same_precision": {
                way: short[way]["vs_naive_same_precision"]
                for way in ("batched fp32", "batched bf16")
            },
            "lowest_padding_efficiency": min(
                w["padding_efficiency"]
                for r in results.values()
                for w in r["ways"].values()
                if "padding_efficiency" in w
            ),
            "highest_overhead": max(
                w["overhead_vs_model_work"]
                for r in results.values()
                for w in r["ways"].values()
                if "overhead_vs_model_work" in w
            ),
        },
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
