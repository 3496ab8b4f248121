"""Duplicates: exact (hash of normalised text) on every document, near (MinHash + LSH) on a sample.

Normalisation for both: Unicode NFC, lowercase, every run of whitespace collapsed to one space,
leading and trailing whitespace removed. Exact duplicates are found by a 64-bit hash of the
normalised text (collisions are negligible below ~10⁸ documents). Near-duplicates use our own
numpy MinHash: word 5-gram shingles (`SHINGLE_WORDS`) of the normalised text, each a 32-bit
hash (Polars hashes the words, numpy mixes 5 consecutive word hashes), `NUM_PERM` = 128
permutations h(x) = (a·x + b) mod p with p = 2³²−5, LSH with `BANDS` = 16 bands of 8 rows
(candidate pairs from any equal band), then every candidate pair is confirmed by its exact
Jaccard similarity ≥ `THRESHOLD` = 0.8 on the shingle sets.
"""

from __future__ import annotations

import unicodedata
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
# odd 64-bit multipliers that mix the hashes of the words of one shingle (wrapping arithmetic)
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
     0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3],
    dtype=np.uint64,
)  # fmt: skip


def _nfc(texts: pl.Series) -> pl.Series:
    # unicodedata's quick check makes already-NFC text nearly free; most Pile text is ASCII
    return pl.Series(
        [
            t if t is None or t.isascii() else unicodedata.normalize("NFC", t)
            for t in texts.to_list()
        ],
        dtype=pl.String,
    )


def normalized_text(text: pl.Expr) -> pl.Expr:
    """NFC, lowercase, whitespace runs collapsed to one space, stripped.

    (NFC runs through `unicodedata` on non-ASCII rows only, and only runs of two or more
    whitespace characters or a lone non-space one are replaced: about 2× faster than Polars'
    ``str.normalize`` plus a ``\\s+`` replacement on Pile-like text, with the same result.)
    """
    return (
        text.map_batches(_nfc, return_dtype=pl.String)
        .str.to_lowercase()
        .str.replace_all(r"\s{2,}|[^\S ]", " ")
        .str.strip_chars()
    )


class ExactDuplicates:
    """Exact-duplicate counts that merge across batches and shards.

    `update` adds a frame (``subset``, ``text``), `merge` adds another counter (another shard,
    another process), `to_frame` gives the `duplicate_stats` table of everything added. It
    holds one row per subset and distinct normalised text (its 64-bit hash and count): about
    40 bytes per distinct document, so ~280 MB for a 7-million-document train shard.
    """

    _COMPACT_ROWS = 1 << 20  # merge the held parts once they pass this many rows (and double)

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []
        self._rows = 0
        self._compacted_rows = 0
        self._synthetic = False  # some frame had a `synthetic` column

    def update(self, df: pl.DataFrame) -> ExactDuplicates:
        """Add the documents of `df`; returns self."""
        self._synthetic |= "synthetic" in df.columns
        synthetic = pl.col("synthetic") if "synthetic" in df.columns else pl.lit(False)
        part = (
            df.select(
                "subset",
                h=normalized_text(pl.col("text")).hash(seed=0),
                synthetic=synthetic.cast(pl.UInt64),
            )
            .group_by("subset", "h")
            .agg(n=pl.len().cast(pl.UInt64), synthetic=pl.col("synthetic").sum())
        )
        return self._add([part])

    def merge(self, other: ExactDuplicates) -> ExactDuplicates:
        """Add the documents counted by `other`; returns self."""
        self._synthetic |= other._synthetic
        return self._add(other._parts)

    def to_counts(self) -> tuple[pl.DataFrame, bool]:
        """The state to carry between processes: the counts (``subset``, ``h`` hash, ``n``,
        ``synthetic``; one row per subset and distinct text) and whether a frame had a
        ``synthetic`` column. `from_counts` rebuilds the counter."""
        return self._compact(), self._synthetic

    @classmethod
    def from_counts(cls, counts: pl.DataFrame, synthetic: bool) -> ExactDuplicates:
        """The counter that `to_counts` described."""
        dups = cls()
        dups._synthetic = synthetic
        return dups._add([counts])

    def _add(self, parts: list[pl.DataFrame]) -> ExactDuplicates:
        self._parts.extend(parts)
        self._rows += sum(part.height for part in parts)
        if self._rows > max(2 * self._compacted_rows, self._COMPACT_ROWS):
            self._compact()
        return self

    def _compact(self) -> pl.DataFrame:
        counts = (
            pl.concat(self._parts)
            .group_by("subset", "h")
            .agg(pl.col("n").sum(), pl.col("synthetic").sum())
            if self._parts
            else pl.DataFrame(
                schema={"subset": pl.String, "h": pl.UInt64, "n": pl.UInt64, "synthetic": pl.UInt64}
            )
        )
        self._parts, self._rows = [counts], counts.height
        self._compacted_rows = counts.height
        return counts

    def to_frame(self) -> pl.DataFrame:
        """One row per subset: ``documents``, ``unique_texts``, ``cross_subset_duplicates``
        (documents whose normalised text also occurs in another subset), ``synthetic_documents``
        (when the frames had a ``synthetic`` column), ``duplicate_documents`` (documents whose
        normalised text occurs earlier in the same subset: documents − unique) and
        ``exact_duplicate_rate`` (duplicate_documents / documents)."""
        counts = self._compact()
        subsets_per_hash = counts.group_by("h").agg(n_subsets=pl.col("subset").n_unique())
        synthetic = [pl.col("synthetic").sum().alias("synthetic_documents")] * self._synthetic
        return (
            counts.join(subsets_per_hash, on="h", how="left")
            .group_by("subset")
            .agg(
                pl.col("n").sum().alias("documents"),
                pl.len().cast(pl.UInt64).alias("unique_texts"),
                pl.col("n").filter(pl.col("n_subsets") > 1).sum().alias("cross_subset_duplicates"),
                *synthetic,
            )
            .with_columns(duplicate_documents=pl.col("documents") - pl.col("unique_texts"))
            .with_columns(
                exact_duplicate_rate=pl.col("duplicate_documents") / pl.col("documents"),
            )
            .sort("subset")
        )


def duplicate_stats(df: pl.DataFrame) -> pl.DataFrame:
    """Exact duplicates per subset, after normalisation: `ExactDuplicates.to_frame` of `df`."""
    return ExactDuplicates().update(df).to_frame()


def shingle_sets(texts: pl.Series, words: int = SHINGLE_WORDS) -> list[np.ndarray]:
    """Per text, the sorted distinct 32-bit hashes (uint64) of the word `words`-grams of its
    normalised text; a text shorter than `words` words is one shingle."""
    if not 1 <= words <= len(_MIX):
        raise ValueError(f"shingles of 1 to {len(_MIX)} words, got {words}")
    word_hashes = texts.to_frame("t").select(
        normalized_text(pl.col("t")).str.split(" ").list.eval(pl.element().hash(seed=0))
    )["t"]
    flat = word_hashes.explode().to_numpy().astype(np.uint64)
    ends = np.cumsum(word_hashes.list.len().to_numpy())
    out = []
    for h in np.split(flat, ends[:-1]) if len(ends) else []:
        k = min(words, len(h))
        grams = sum(h[i : len(h) - k + 1 + i] * _MIX[i] for i in range(k))
        out.append(np.unique(grams >> np.uint64(32)))
    return out


def shingles(text: str, words: int = SHINGLE_WORDS) -> np.ndarray:
    """`shingle_sets` of one text."""
    return shingle_sets(pl.Series([text], dtype=pl.String), words)[0]


class MinHasher:
    """`num_perm` seeded universal hash functions; `signature(shingles)` → uint64 `(num_perm,)`."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=(num_perm, 1), dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=(num_perm, 1), dtype=np.uint64)

    def signature(self, shingle_hashes: np.ndarray) -> np.ndarray:
        """MinHash signature of distinct shingle hashes below 2**32."""
        x = shingle_hashes.astype(np.uint64)[None, :]
        return ((self.a * x + self.b) % np.uint64(_PRIME)).min(axis=1)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity |a ∩ b| / |a ∪ b| of two arrays of distinct values (1.0 for two
    empty ones)."""
    common = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - common
    return common / union if union else 1.0


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
    sets = shingle_sets(indexed["text"])
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
