"""Speed of the composition audit on the synthetic demo sample, each step against a baseline.

    python benchmarks/pile_audit.py                      # ~10 MB of text
    python benchmarks/pile_audit.py --documents 500       # small and fast

Baselines, measured in the same run on the same documents:
- composition: a bare Polars ``group_by(subset).agg(len, sum)`` (no histogram, no quantiles),
  on `--rows` document sizes resampled from the demo (it never reads the text; MB/s there is
  the text those rows describe);
- exact duplicates, quality signals, PII: the same definitions as a Python loop over documents
  (``unicodedata``/``re``/``hashlib`` per row) instead of our vectorised Polars expressions;
- near-duplicates: datasketch ``MinHash`` + ``MinHashLSH`` with the same parameters (128
  permutations, word 5-grams, threshold 0.8).
Prints one table (MB/s of text, ratio ours / baseline) and writes JSON to
``benchmarks/results/pile_audit.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

import segpile_lab as sl
from segpile_lab.pile import pii
from segpile_lab.pile.quality import CODE_CHARACTERS

RESULTS = Path(__file__).resolve().parent / "results" / "pile_audit.json"


def _best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _python_duplicates(texts: list[str], subsets: list[str]) -> dict[str, int]:
    seen: set[tuple[str, bytes]] = set()
    dups: dict[str, int] = {}
    for subset, text in zip(subsets, texts, strict=True):
        norm = " ".join(unicodedata.normalize("NFC", text).lower().split())
        key = (subset, hashlib.blake2b(norm.encode(), digest_size=8).digest())
        dups[subset] = dups.get(subset, 0) + (key in seen)
        seen.add(key)
    return dups


def _python_quality(texts: list[str]) -> list[tuple[float, ...]]:
    out = []
    for text in texts:
        n = len(text) or 1
        words = text.split()
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        out.append(
            (
                sum(c.isalpha() for c in text) / n,
                sum(map(len, words)) / max(len(words), 1),
                sum(ord(c) > 127 for c in text) / n,
                (len(lines) - len(set(lines))) / max(len(lines), 1),
                sum(c in CODE_CHARACTERS for c in text) / n,
            )
        )
    return out


def _python_pii(texts: list[str]) -> list[tuple[int, int, int]]:
    patterns = [re.compile(p) for p in pii.PATTERNS.values()]
    return [tuple(len(p.findall(t)) for p in patterns) for t in texts]


def _datasketch_pairs(texts: list[str]) -> set[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    pairs = set()
    for index, text in enumerate(texts):
        words = unicodedata.normalize("NFC", text).lower().split() or [""]
        grams = {" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))}
        sketch = MinHash(num_perm=128, seed=1)
        sketch.update_batch(list(grams))
        pairs.update((other, index) for other in lsh.query(sketch))
        lsh.insert(index, sketch)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=15_000, help="demo sample size")
    parser.add_argument("--scale", type=float, default=1 / 8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows for composition")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = sl.demo_pile_sample(
            Path(tmp) / "demo.jsonl.zst", documents=args.documents, scale=args.scale
        )
        df = sl.read_pile(path, progress=False)
    texts, subsets = df["text"].to_list(), df["subset"].to_list()
    megabytes = int(df["n_bytes"].sum()) / 1e6
    sizes = df.select("subset", "n_bytes", "n_chars").sample(
        args.rows, with_replacement=True, seed=0
    )
    sizes_megabytes = int(sizes["n_bytes"].sum()) / 1e6
    steps = {
        "composition": (
            lambda: sizes.group_by("subset").agg(pl.len(), pl.col("n_bytes").sum()),
            lambda: sl.CompositionStats().update(sizes).to_frame(),
        ),
        "exact duplicates": (
            lambda: _python_duplicates(texts, subsets),
            lambda: sl.duplicate_stats(df),
        ),
        "quality signals": (lambda: _python_quality(texts), lambda: sl.quality_signals(df)),
        "PII counts": (lambda: _python_pii(texts), lambda: sl.pii_counts(df)),
        "near-duplicates (MinHash/LSH)": (
            lambda: _datasketch_pairs(texts),
            lambda: sl.near_duplicates(df, sample_per_subset=None),
        ),
    }
    rows = []
    for name, (baseline, ours) in steps.items():
        base_s, base_out = _best_of(args.repeats, baseline)
        ours_s, ours_out = _best_of(args.repeats, ours)
        mb = sizes_megabytes if name == "composition" else megabytes
        row = {
            "step": name,
            "rows": sizes.height if name == "composition" else df.height,
            "baseline_s": base_s,
            "ours_s": ours_s,
            "baseline_MB_per_s": mb / base_s,
            "ours_MB_per_s": mb / ours_s,
            "speedup_vs_baseline": base_s / ours_s,
        }
        if name.startswith("near"):
            ours_pairs = set(zip(ours_out[0]["row_a"], ours_out[0]["row_b"], strict=True))
            row["pairs_ours"], row["pairs_datasketch"] = len(ours_pairs), len(base_out)
            row["pairs_in_both"] = len(ours_pairs & base_out)
        rows.append(row)

    print(f"{megabytes:.1f} MB of text, {df.height:,} documents (synthetic demo data)")
    print(f"{'step':32} {'rows':>10} {'baseline MB/s':>14} {'ours MB/s':>10} {'ours/baseline':>14}")
    for r in rows:
        print(
            f"{r['step']:32} {r['rows']:10,} {r['baseline_MB_per_s']:14.1f} "
            f"{r['ours_MB_per_s']:10.1f} {r['speedup_vs_baseline']:13.2f}×"
        )
        if "pairs_ours" in r:
            print(
                f"{'':32} pairs: ours {r['pairs_ours']}, datasketch {r['pairs_datasketch']}, "
                f"both {r['pairs_in_both']}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "data": "synthetic demo data",
                "demo_documents": args.documents,
                "scale": args.scale,
                "documents": df.height,
                "megabytes": megabytes,
                "repeats_best_of": args.repeats,
                "machine": f"{platform.machine()}, {platform.python_version()}; shared with other "
                "jobs while measured (timings are noisy)",
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
