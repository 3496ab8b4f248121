"""Duplicates: exact (hash of normalised text) on every document, near (MinHash + LSH) on a sample.

Normalisation for both: Unicode NFC, lowercase, every run of whitespace collapsed to one space,
leading and trailing whitespace removed. Exact duplicates are found by a 64-bit hash of the
normalised text (collisions are negligible below ~10⁸ documents). Near-duplicates use our own
numpy MinHash: word 5-gram shingles (`SHINGLE_WORDS`), `NUM_PERM` = 128 permutations
h(x) = (a·x + b) mod p with p = 2³²−5 over 32-bit CRC shingle hashes, LSH with `BANDS` = 16
bands of 8 rows (candidate pairs from any equal band), then every candidate pair is confirmed by
its exact Jaccard similarity ≥ `THRESHOLD` = 0.8 on the shingle sets.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import defaultdict
from itertools import combinations

import numpy as np
import polars as pl

from segpile_lab.pile._frames import synthetic_column, synthetic_count

NUM_PERM = 128
BANDS = 16
SHINGLE_WORDS = 5
THRESHOLD = 0.8
_PRIME = 4_294_967_291  # largest prime below 2**32: a·x + b stays below 2**64 in uint64


def normalized_text(text: pl.Expr) -> pl.Expr:
    """NFC, lowercase, whitespace runs collapsed to one space, stripped."""
    return (
        text.str.normalize("NFC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    )


def duplicate_stats(df: pl.DataFrame) -> pl.DataFrame:
    """Exact duplicates per subset, after normalisation.

    Returns one row per subset with ``documents``, ``unique_texts``, ``duplicate_documents``
    (documents whose normalised text occurs earlier in the same subset: documents − unique) and
    ``exact_duplicate_rate`` (duplicate_documents / documents), plus ``cross_subset_duplicates``
    (documents whose normalised text also occurs in another subset).
    """
    keep = ["subset", *synthetic_column(df)]
    hashed = df.select(*keep, normalized_text(pl.col("text")).hash(seed=0).alias("h"))
    subsets_per_hash = hashed.group_by("h").agg(n_subsets=pl.col("subset").n_unique())
    return (
        hashed.join(subsets_per_hash, on="h", how="left")
        .group_by("subset")
        .agg(
            pl.len().cast(pl.UInt64).alias("documents"),
            pl.col("h").n_unique().cast(pl.UInt64).alias("unique_texts"),
            (pl.col("n_subsets") > 1).sum().cast(pl.UInt64).alias("cross_subset_duplicates"),
            *synthetic_count(df),
        )
        .with_columns(duplicate_documents=pl.col("documents") - pl.col("unique_texts"))
        .with_columns(
            exact_duplicate_rate=pl.col("duplicate_documents") / pl.col("documents"),
        )
        .sort("subset")
    )


def shingles(text: str, words: int = SHINGLE_WORDS) -> set[int]:
    """32-bit CRC hashes of the word `words`-grams of normalised text (whole text if shorter)."""
    tokens = unicodedata.normalize("NFC", text).lower().split() or [""]
    grams = [" ".join(tokens[i : i + words]) for i in range(max(1, len(tokens) - words + 1))]
    return {zlib.crc32(gram.encode()) for gram in grams}


class MinHasher:
    """`num_perm` seeded universal hash functions; `signature(shingles)` → uint64 `(num_perm,)`."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=(num_perm, 1), dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=(num_perm, 1), dtype=np.uint64)

    def signature(self, shingle_set: set[int]) -> np.ndarray:
        x = np.fromiter(shingle_set, dtype=np.uint64, count=len(shingle_set))[None, :]
        return ((self.a * x + self.b) % np.uint64(_PRIME)).min(axis=1)


def jaccard(a: set[int], b: set[int]) -> float:
    """Exact Jaccard similarity |a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def lsh_candidates(signatures: np.ndarray, bands: int = BANDS) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose signatures agree on all rows of at least one band."""
    rows = signatures.shape[1] // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        for index, key in enumerate(block):
            buckets[key.tobytes()].append(index)
        for members in buckets.values():
            pairs.update(combinations(members, 2))
    return pairs


def near_duplicates(
    df: pl.DataFrame,
    *,
    sample_per_subset: int | None = 200,
    threshold: float = THRESHOLD,
    num_perm: int = NUM_PERM,
    bands: int = BANDS,
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Near-duplicate pairs by MinHash/LSH on (a seeded sample of) each subset.

    Exact duplicates (after normalisation) count as near-duplicates too (Jaccard 1).

    Returns:
        ``(pairs, per_subset)``: pairs of row positions in `df` (``row_a``, ``row_b``,
        ``subset_a``, ``subset_b``, ``jaccard``), and per subset ``sampled_documents``,
        ``near_duplicate_documents`` (sampled documents in at least one confirmed pair) and
        ``near_duplicate_rate``.
    """
    keep = ["subset", "text", *synthetic_column(df)]
    indexed = df.select(keep).with_row_index("row")
    if sample_per_subset is not None:
        indexed = indexed.filter(
            pl.int_range(pl.len()).shuffle(seed=seed).over("subset") < sample_per_subset
        )
    hasher = MinHasher(num_perm, seed)
    sets = [shingles(text) for text in indexed["text"]]
    signatures = (
        np.stack([hasher.signature(s) for s in sets])
        if sets
        else np.zeros((0, num_perm), np.uint64)
    )
    rows, subsets = indexed["row"].to_list(), indexed["subset"].to_list()
    found = []
    for i, j in sorted(lsh_candidates(signatures, bands)):
        similarity = jaccard(sets[i], sets[j])
        if similarity >= threshold:
            found.append((rows[i], rows[j], subsets[i], subsets[j], similarity))
    pairs = pl.DataFrame(
        found,
        schema={"row_a": pl.UInt32, "row_b": pl.UInt32, "subset_a": pl.String,
                "subset_b": pl.String, "jaccard": pl.Float64},
        orient="row",
    )  # fmt: skip
    in_pair = set(pairs["row_a"]) | set(pairs["row_b"])
    per_subset = (
        indexed.group_by("subset")
        .agg(
            pl.len().cast(pl.UInt64).alias("sampled_documents"),
            pl.col("row")
            .is_in(list(in_pair))
            .sum()
            .cast(pl.UInt64)
            .alias("near_duplicate_documents"),
            *synthetic_count(indexed),
        )
        .with_columns(
            near_duplicate_rate=pl.col("near_duplicate_documents") / pl.col("sampled_documents")
        )
        .sort("subset")
    )
    return pairs, per_subset
