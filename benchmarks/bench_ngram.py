"""Benchmark: the vectorized byte n-gram baseline against a plain-Python one, in one run.

Both fit on one half of the synthetic demo Pile sample and score the other half (the split
the BPB notebook uses). The baseline is the dictionary-of-byte-strings model in
``tests/bpb/ngram_reference.py`` (the tests' independent reference: one dict lookup per byte
and order). Prints MB/s of text and the ratio, checks that both give the same NLL, and writes
``benchmarks/results/ngram.json``.

    python benchmarks/bench_ngram.py                 # orders 3, 4 and 6
    python benchmarks/bench_ngram.py --orders 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bpb"))

from ngram_reference import ReferenceNGram  # noqa: E402

import segpile_lab as sl  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "ngram.json"


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``(fn(*args, **kwargs), wall seconds)``."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def reference_nll(model: ReferenceNGram, texts: list[str]) -> np.ndarray:
    return np.array([model.document_nll(t) for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 4, 6])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    texts = sl.read_pile(sl.demo_pile_sample(), progress=False)["text"].to_list()
    fit, held_out = texts[::2], texts[1::2]
    fit_mb = sum(len(t.encode()) for t in fit) / 1e6
    score_mb = sum(len(t.encode()) for t in held_out) / 1e6
    rows = []
    for order in args.orders:
        ours, ours_fit = timed(sl.NGramByteScorer(order).fit, fit)
        scores, ours_score = timed(ours.score, held_out, progress=False)
        ref, ref_fit = timed(ReferenceNGram(order).fit, fit)
        ref_nll, ref_score = timed(reference_nll, ref, held_out)
        rows.append(
            {
                "order": order,
                "fit_mb": fit_mb,
                "score_mb": score_mb,
                "reference_fit_s": ref_fit,
                "ours_fit_s": ours_fit,
                "fit_speedup": ref_fit / ours_fit,
                "reference_score_s": ref_score,
                "ours_score_s": ours_score,
                "score_speedup": ref_score / ours_score,
                "ours_score_mb_per_s": score_mb / ours_score,
                "reference_score_mb_per_s": score_mb / ref_score,
                "max_relative_nll_difference": float(
                    np.max(np.abs(scores.nll_nats - ref_nll) / np.maximum(ref_nll, 1e-300))
                ),
            }
        )

    print(f"fit on {fit_mb:.2f} MB, score {score_mb:.2f} MB (synthetic demo sample)")
    header = (
        f"{'order':>5} {'fit ref s':>9} {'fit ours s':>10} {'×':>6} "
        f"{'score ref MB/s':>14} {'score ours MB/s':>15} {'×':>6} {'rel diff':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['order']:>5} {r['reference_fit_s']:9.2f} {r['ours_fit_s']:10.2f} "
            f"{r['fit_speedup']:5.1f}× {r['reference_score_mb_per_s']:14.2f} "
            f"{r['ours_score_mb_per_s']:15.2f} {r['score_speedup']:5.1f}× "
            f"{r['max_relative_nll_difference']:8.1e}"
        )
    record = {
        "benchmark": "byte n-gram baseline: vectorized NGramByteScorer vs plain-Python reference",
        "data": "synthetic demo Pile sample, fit on even rows, scored on odd rows",
        "results": rows,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg()[0],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
