"""The audit's previous definitions, kept as test oracles for the fast kernels.

`reference_quality` is the regex version of the quality signals (Polars expressions, as
segpile_lab had them before the byte kernels); `CATALOG` holds texts that stress the Unicode
and whitespace corners.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

CATALOG = [
    "",
    " ",
    "\n\n",
    "plain ascii words only",
    "abc def",
    "ab 12",
    "Ünï",
    "héllo wörld",
    "a\u00a0b\u00a0c",  # no-break spaces separate words
    "x\u3000y\u2003z",  # ideographic and em spaces
    "tab\tand\r\nCRLF\x0bvt\x0cff",
    "\x1c\x1d\x1e\x1f are not whitespace for regex \\s",
    "\u0085next line",
    "Cafe\u0301 au lait",  # combining accent: a mark, not a letter
    "日本語のテキスト、句読点。",
    "Ελληνικά και русский текст",
    "emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "f(x) = {a[i]; b<c> && d|e ^ ~g `h` #$\\/*_}",
    "x\nx\ny\n\n",
    "a\n a \nb\nb\nb",
    "line one\n  \n\u00a0\nline one\u00a0\n",
    "  leading and trailing  ",
    "mañana\u2028next\u2029para",
    "\ufeffbom at start",
    "ﬁ ligature and ℌ letterlike",
]


def reference_quality(df: pl.DataFrame) -> pl.DataFrame:
    """The five quality signals as the previous regex expressions computed them."""
    text = pl.col("text")

    def share(count: pl.Expr, total: pl.Expr) -> pl.Expr:
        return pl.when(total > 0).then(count.cast(pl.Float64) / total).otherwise(None)

    chars = text.str.len_chars()
    words = text.str.count_matches(r"\S+")
    # (the previous code filtered before stripping, so whitespace-only lines counted as lines,
    # against its own definition "non-blank lines"; this oracle strips first, as documented)
    lines = (
        text.str.split("\n")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    return df.select(
        share(chars - text.str.count_matches(r"\P{L}"), chars).alias("alpha_share"),
        share(chars - text.str.count_matches(r"\s"), words).alias("mean_word_length"),
        share(text.str.count_matches(r"[^\x00-\x7F]"), chars).alias("non_ascii_share"),
        share(lines.list.len() - lines.list.n_unique(), lines.list.len()).alias(
            "repeated_line_share"
        ),
        share(text.str.count_matches(r"[{}\[\]()<>;=_#$\\/*&|^~`]"), chars).alias(
            "code_char_share"
        ),
    )


def demo_frame() -> pl.DataFrame:
    """The default demo sample's ``subset`` and ``text`` (from the generator, not the reader)."""
    from segpile_lab.pile.demo import generate_demo_records

    records = generate_demo_records()
    return pl.DataFrame(
        {
            "subset": [r["meta"]["pile_set_name"] for r in records],
            "text": [r["text"] for r in records],
        }
    )


def real_frame(shared_data: Path) -> pl.DataFrame:
    """The 10 real Pile documents of ../shared (``subset``, ``text``), parsed with json."""
    lines = (shared_data / "pile" / "val_first10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return pl.DataFrame(
        {
            "subset": [r["meta"]["pile_set_name"] for r in records],
            "text": [r["text"] for r in records],
        }
    )


def reference_shingle_sets(texts: list[str], words: int = 5) -> list[np.ndarray]:
    """The previous shingling: one numpy loop per text over its word hashes."""
    from segpile_lab.pile.dedup import _MIX, normalized_text

    word_hashes = pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(
        normalized_text(pl.col("t")).str.split(" ").list.eval(pl.element().hash(seed=0))
    )["t"]
    out = []
    for h in word_hashes.to_list():
        h = np.array(h, dtype=np.uint64)
        k = min(words, len(h))
        grams = sum(h[i : len(h) - k + 1 + i] * _MIX[i] for i in range(k))
        out.append(np.unique(grams >> np.uint64(32)))
    return out


def reference_near_pairs(texts: list[str], threshold: float = 0.8) -> set[tuple[int, int]]:
    """The previous near-duplicate search: numpy MinHash with 128 (a·x + b) mod (2³²−5)
    permutations, 16 × 8 LSH bands in Python dicts, exact Jaccard ≥ `threshold`."""
    from collections import defaultdict
    from itertools import combinations

    prime = 4_294_967_291
    rng = np.random.default_rng(0)
    a = rng.integers(1, prime, size=(128, 1), dtype=np.uint64)
    b = rng.integers(0, prime, size=(128, 1), dtype=np.uint64)
    sets = reference_shingle_sets(texts)
    signatures = np.stack([((a * s[None, :] + b) % np.uint64(prime)).min(axis=1) for s in sets])
    candidates = set()
    for band in range(16):
        buckets = defaultdict(list)
        for index, key in enumerate(signatures[:, band * 8 : (band + 1) * 8]):
            buckets[key.tobytes()].append(index)
        for members in buckets.values():
            candidates.update(combinations(members, 2))
    found = set()
    for i, j in candidates:
        common = len(np.intersect1d(sets[i], sets[j]))
        if common / (len(sets[i]) + len(sets[j]) - common) >= threshold:
            found.add((i, j))
    return found
