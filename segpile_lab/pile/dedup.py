"""Duplicates: exact (hash of normalised text) on every document, near (MinHash + LSH) on a sample.

Normalisation for both: Unicode NFC, lowercase, every run of whitespace collapsed to one space,
leading and trailing whitespace removed. Exact duplicates are found by a 64-bit hash of the
normalised text (collisions are negligible below ~10⁸ documents). Near-duplicates: word 5-gram
shingles (`SHINGLE_WORDS`) of the normalised text, each a 32-bit hash (Polars hashes the words,
numpy mixes 5 consecutive word hashes over the whole column at once), MinHash signatures of
`NUM_PERM` = 128 values from rensa's R-MinHash (Rust, one call per column; `minhash_signatures`),
LSH with `BANDS` = 16 bands of 8 rows (candidate pairs from any equal band), then every
candidate pair is confirmed by its exact Jaccard similarity ≥ `THRESHOLD` = 0.8 on the
shingle sets. (Until this version the 128 hash functions were our own numpy
(a·x + b) mod (2³²−5); the signature values differ, the confirmed pairs are the same on the
demo sample and the real documents, tested.)
"""

from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations, pairwise

import numpy as np
import polars as pl

from segpile_lab.pile._frames import synthetic_column, synthetic_count
from segpile_lab.pile._ngrams import window_hashes

NUM_PERM = 128
BANDS = 16
SHINGLE_WORDS = 5
THRESHOLD = 0.8
# odd 64-bit multipliers that mix the hashes of the words of one shingle (wrapping arithmetic)
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
     0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3],
    dtype=np.uint64,
)  # fmt: skip


_WHITESPACE_RUN = r"\s{2,}|[^\S ]"  # what `normalized_text` replaces by one space
_ASCII_CONTROL_SPACE = r"[\t\x0B\x0C\r]"  # ASCII whitespace but space and newline


def _normalize(texts: pl.Series) -> pl.Series:
    """`normalized_text` of a column (see there)."""
    # only rows with a non-ASCII character can change under NFC or hold Unicode whitespace;
    # unicodedata's quick check makes already-NFC text nearly free
    rows = (texts.str.len_bytes() != texts.str.len_chars()).arg_true()
    if rows.len():
        fixed = [unicodedata.normalize("NFC", t) for t in texts.gather(rows).to_list()]
        texts = texts.clone().scatter(rows, pl.Series(fixed, dtype=pl.String))
    # ASCII whitespace: three passes with literals the regex engine skips ahead on (rare
    # control characters, newlines, two spaces); one pass of `_WHITESPACE_RUN` has none (any
    # space may start a match) and costs more (`test_dedup.py` holds the strings equal)
    out = (
        texts.str.to_lowercase()
        .str.replace_all(_ASCII_CONTROL_SPACE, " ")
        .str.replace_all("\n", " ", literal=True)
        .str.replace_all(" {2,}", " ")
    )
    if rows.len():  # whitespace runs may still hold Unicode whitespace: the full pattern
        out = out.scatter(rows, out.gather(rows).str.replace_all(_WHITESPACE_RUN, " "))
    return out.str.strip_chars()


def normalized_text(text: pl.Expr) -> pl.Expr:
    """NFC, lowercase, whitespace runs collapsed to one space, stripped.

    (The same strings as Polars' ``str.normalize("NFC")``, ``str.to_lowercase``, a
    ``\\s{2,}|[^\\S ]`` → " " replacement and ``str.strip_chars``, tested: NFC runs through
    `unicodedata` on non-ASCII rows only, and the whitespace of ASCII rows is collapsed in
    passes the regex engine can skip through.)
    """
    return text.map_batches(_normalize, return_dtype=pl.String)


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
        return self.merge(ExactDuplicates.of(df))

    @classmethod
    def of(cls, df: pl.DataFrame) -> ExactDuplicates:
        """A new counter of the documents of `df` (no shared state: callable in a worker
        thread, then `merge`d in the caller's)."""
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
        dups = cls()
        dups._synthetic = "synthetic" in df.columns
        dups._parts, dups._rows = [part], part.height
        return dups

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


def shingle_hashes(texts: pl.Series, words: int = SHINGLE_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """The 32-bit hashes (uint64) of the word `words`-grams of each normalised text, back to
    back, with int64 ``(texts + 1,)`` offsets (text i: ``hashes[offsets[i]:offsets[i + 1]]``, in
    text order, repeats kept). A text shorter than `words` words is one shingle."""
    if not 1 <= words <= len(_MIX):
        raise ValueError(f"shingles of 1 to {len(_MIX)} words, got {words}")
    split = texts.fill_null("").to_frame("t").select(normalized_text(pl.col("t")).str.split(" "))
    lengths = split["t"].list.len().to_numpy().astype(np.int64)
    h = split["t"].explode().hash(seed=0).to_numpy()
    starts = np.concatenate([[0], np.cumsum(lengths)])  # first word of each text
    counts = np.where(lengths >= words, lengths - words + 1, 1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    out = window_hashes(h, lengths, _MIX[:words])  # a new array: shifted in place below
    short = np.flatnonzero(lengths < words)
    if short.size:  # texts of k < words words: one shingle of all of them
        long_windows, out = out, np.empty(offsets[-1], np.uint64)
        in_long = np.ones(len(out), bool)
        in_long[offsets[short]] = False
        out[in_long] = long_windows
        for k in range(1, words):
            of_k = short[lengths[short] == k]
            out[offsets[of_k]] = sum(h[starts[of_k] + i] * _MIX[i] for i in range(k))
    return np.right_shift(out, np.uint64(32), out=out), offsets


def shingle_sets(texts: pl.Series, words: int = SHINGLE_WORDS) -> list[np.ndarray]:
    """Per text, the sorted distinct 32-bit hashes (uint64) of `shingle_hashes`."""
    hashes, offsets = shingle_hashes(texts, words)
    return [np.unique(hashes[a:b]) for a, b in pairwise(offsets)]


def shingles(text: str, words: int = SHINGLE_WORDS) -> np.ndarray:
    """`shingle_sets` of one text."""
    return shingle_sets(pl.Series([text], dtype=pl.String), words)[0]


def minhash_signatures(
    hashes: np.ndarray, offsets: np.ndarray, num_perm: int = NUM_PERM, seed: int = 0
) -> np.ndarray:
    """MinHash signatures, uint32 ``(texts, num_perm)``, of the shingle sets that
    `shingle_hashes` returned (rensa's R-MinHash, in Rust; repeats and order do not matter)."""
    import rensa

    if len(offsets) <= 1:
        return np.zeros((0, num_perm), np.uint32)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        hashes, offsets.astype(np.uint64), num_perm, seed
    )
    return np.array(matrix.to_rows(), dtype=np.uint32).reshape(-1, num_perm)


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
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        new_run = np.concatenate([[True], ordered[1:] != ordered[:-1], [True]])
        edges = np.flatnonzero(new_run)
        for run in np.flatnonzero(np.diff(edges) > 1).tolist():  # buckets of two or more
            pairs.update(combinations(sorted(order[edges[run] : edges[run + 1]].tolist()), 2))
    return pairs


def _hashes_and_signatures(
    texts: pl.Series, num_perm: int, seed: int, parts: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`shingle_hashes` and `minhash_signatures` of `texts`, computed on `parts` slices in
    threads (Polars, NumPy and rensa release the GIL; each text's values do not depend on the
    others, so the joined arrays are those of one call)."""
    bounds = np.linspace(0, len(texts), parts + 1).astype(int).tolist()
    slices = [texts[a:b] for a, b in pairwise(bounds)]

    def one(part: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hashes, offsets = shingle_hashes(part)
        return hashes, offsets, minhash_signatures(hashes, offsets, num_perm, seed)

    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="segpile-minhash") as pool:
        done = list(pool.map(one, slices))
    shift = np.cumsum([0, *(len(h) for h, _, _ in done[:-1])])
    offsets = np.concatenate([[0], *(o[1:] + k for (_, o, _), k in zip(done, shift, strict=True))])
    return (
        np.concatenate([h for h, _, _ in done]),
        offsets.astype(np.int64),
        np.concatenate([g for _, _, g in done]).reshape(-1, num_perm),
    )


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
    hashes, offsets, signatures = _hashes_and_signatures(indexed["text"], num_perm, seed)
    rows, subsets = indexed["row"].to_list(), indexed["subset"].to_list()
    sets: dict[int, np.ndarray] = {}

    def shingle_set(i: int) -> np.ndarray:
        if i not in sets:
            sets[i] = np.unique(hashes[offsets[i] : offsets[i + 1]])
        return sets[i]

    found = []
    for i, j in sorted(lsh_candidates(signatures, bands)):
        similarity = jaccard(shingle_set(i), shingle_set(j))
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
