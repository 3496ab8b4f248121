"""Benchmark contamination: which Pile documents share a word n-gram with an evaluation set.

As in GPT-3's decontamination (Brown et al. 2020, appendix C), a document overlaps a benchmark
item when they share a word `n`-gram (default 13). Words are the ``\\w+`` runs of the text
after Unicode NFKC normalisation (ligatures, full-width and composed/decomposed forms become
one) and lowercasing, so punctuation and whitespace differences never matter. An n-gram is a
64-bit hash of its n word hashes (`ngram_hashes`; among N distinct n-grams a collision has
probability ≈ N²/2⁶⁵).

The benchmark side is the small one: `BenchmarkNgrams` holds its n-grams as sorted hashes with
the item each came from (16 bytes per n-gram, plus a hash set of the distinct ones), or, for an
evaluation set too large for that, a `BloomFilter` (1.2 bytes per n-gram at a 1 %
false-positive rate, 3.6 at 10⁻⁶);
Bloom hits are then confirmed exactly against the items in one more pass over the benchmark,
so the reported counts carry no false positive. The Pile side streams: `ContaminationScan`
takes frames with `update` and other scans with `merge` (shards, processes), like the other
audit statistics, and holds only the contaminated documents.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from segpile_lab._output import output_folder
from segpile_lab.errors import DataError
from segpile_lab.pile._ngrams import window_hashes

PathLike = str | os.PathLike[str]
NGRAM_WORDS = 13
_SPAN_CHARS = 300  # longest overlapping span kept for inspection, in characters


def _multipliers(n: int) -> np.ndarray:
    """Odd 64-bit multipliers that weight the n word hashes of an n-gram (fixed seed)."""
    rng = np.random.default_rng(0x5E6B11E)
    return rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def normalized_words(texts: pl.Series) -> pl.Series:
    """Per text, its words: ``\\w+`` runs after NFKC and lowercasing (a list column)."""
    texts = texts.fill_null("")
    rows = (texts.str.len_bytes() != texts.str.len_chars()).arg_true()
    if rows.len():  # only non-ASCII text can change under NFKC
        texts = texts.clone().scatter(rows, texts.gather(rows).str.normalize("NFKC"))
    return texts.str.to_lowercase().str.extract_all(r"\w+")


def ngram_hashes(words: pl.Series, n: int = NGRAM_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hashes of every word `n`-gram of each row of `words` (a list column from
    `normalized_words`), back to back, with int64 ``(rows + 1,)`` offsets; a row of fewer than
    `n` words has none."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    lengths = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    h = words.explode().drop_nulls().hash(seed=0).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.maximum(lengths - n + 1, 0))])
    return window_hashes(h, lengths, _multipliers(n)), offsets


class BloomFilter:
    """A Bloom filter of 64-bit keys: `capacity` keys at false-positive rate `error` take
    −capacity·ln(error)/ln(2)² bits, probed by k = log2(1/error) hash functions (double hashing
    of the key's two 32-bit halves after a 64-bit mix)."""

    def __init__(self, capacity: int, error: float = 0.01) -> None:
        if capacity < 1 or not 0 < error < 1:
            raise ValueError(f"need capacity ≥ 1 and 0 < error < 1, got {capacity}, {error}")
        self.bits = max(64, math.ceil(-capacity * math.log(error) / math.log(2) ** 2))
        self.k = max(1, round(math.log2(1 / error)))
        self.capacity, self.error = capacity, error
        self._array = np.zeros((self.bits + 7) // 8, np.uint8)

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(29)
        h1, h2 = x & np.uint64(0xFFFFFFFF), (x >> np.uint64(32)) | np.uint64(1)
        i = np.arange(self.k, dtype=np.uint64)[:, None]
        return (h1[None, :] + i * h2[None, :]) % np.uint64(self.bits)  # (k, keys)

    def add(self, keys: np.ndarray) -> None:
        """Add 64-bit keys (uint64 array)."""
        pos = self._positions(keys).ravel()
        np.bitwise_or.at(
            self._array, pos >> np.uint64(3), (1 << (pos & np.uint64(7))).astype(np.uint8)
        )

    def __contains__(self, key: int) -> bool:
        return bool(self.contains(np.array([key], np.uint64))[0])

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Bool per key: maybe added (false positives at about `error`), or surely not."""
        pos = self._positions(keys)
        bit = (self._array[pos >> np.uint64(3)] >> (pos & np.uint64(7)).astype(np.uint8)) & 1
        return bit.all(axis=0)

    @property
    def nbytes(self) -> int:
        """Memory of the bit array in bytes."""
        return self._array.nbytes


def read_benchmark(source: PathLike | Iterable[str], *, field: str | None = None) -> Iterator[str]:
    """The items of an evaluation set, streamed: a list/iterable of strings; a ``.jsonl`` file
    (the string `field` of each line, default ``"text"``); or any other text file (one item per
    non-blank line). A line that is not JSON or lacks a string `field` raises `DataError`
    naming the file and line."""
    if not isinstance(source, str | os.PathLike):
        yield from source
        return
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{path}: benchmark file not found")
    jsonl = path.suffix == ".jsonl" or field is not None
    key = field or "text"
    with path.open(encoding="utf-8", errors="strict") as lines:
        try:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                if not jsonl:
                    yield line.rstrip("\n")
                    continue
                try:
                    value = json.loads(line).get(key)
                except (json.JSONDecodeError, AttributeError) as exc:
                    raise DataError(f"{path}:{number}: not a JSON object ({exc})") from exc
                if not isinstance(value, str):
                    raise DataError(f"{path}:{number}: field {key!r} is missing or not a string")
                yield value
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc})") from exc


class BenchmarkNgrams:
    """The n-grams of an evaluation set: exact (sorted hashes with their items) by default, or
    a `BloomFilter` when `bloom_error` is given (then `item_ngrams` reads the benchmark again).

    Args:
        source: see `read_benchmark`.
        n: words per n-gram.
        field: JSONL field holding the item text.
        bloom_error: hold the n-grams in a Bloom filter with this false-positive rate (for
            evaluation sets whose n-grams do not fit in memory as 16 bytes each).
        capacity: n-grams the Bloom filter is sized for (default: counted in a first pass).
    """

    def __init__(
        self,
        source: PathLike | Iterable[str],
        *,
        n: int = NGRAM_WORDS,
        field: str | None = None,
        bloom_error: float | None = None,
        capacity: int | None = None,
    ) -> None:
        if not isinstance(source, str | os.PathLike):
            source = list(source)  # iterated more than once
        self.n, self.field, self.source = n, field, source
        self.items = 0
        self.bloom: BloomFilter | None = None
        self.hashes = np.zeros(0, np.uint64)
        self.item_of = np.zeros(0, np.int64)
        self._set: pl.Series | None = None
        if bloom_error is not None:
            if capacity is None:
                capacity = max(1, sum(len(h) for h, _, _ in self._batches()))
            self.bloom = BloomFilter(capacity, bloom_error)
            for hashes, _, first in self._batches():
                self.bloom.add(hashes)
                self.items = first
            return
        parts, owners = [], []
        for hashes, offsets, first in self._batches():
            parts.append(hashes)
            owners.append(np.repeat(np.arange(self.items, first), np.diff(offsets)))
            self.items = first
        if parts:
            hashes, owner = np.concatenate(parts), np.concatenate(owners)
            order = np.lexsort((owner, hashes))
            self.hashes, self.item_of = hashes[order], owner[order]

    def _batches(self, size: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """(n-gram hashes, offsets, items read so far) per batch of `size` items."""
        batch: list[str] = []
        done = 0
        for item in read_benchmark(self.source, field=self.field):
            batch.append(item)
            if len(batch) == size:
                done += len(batch)
                yield (*self._hash(batch), done)
                batch = []
        if batch:
            yield (*self._hash(batch), done + len(batch))

    def _hash(self, batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return ngram_hashes(normalized_words(pl.Series(batch, dtype=pl.String)), self.n)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Bool per n-gram hash: in the benchmark (with a Bloom filter: maybe)."""
        if self.bloom is not None:
            return self.bloom.contains(hashes)
        if not len(self.hashes):
            return np.zeros(len(hashes), bool)
        if self._set is None:  # a hash set: O(1) per lookup, unlike a binary search
            self._set = pl.Series(np.unique(self.hashes)).implode()
        return pl.Series(hashes).is_in(self._set).to_numpy()

    def item_ngrams(self, hashes: np.ndarray) -> pl.DataFrame:
        """``item`` (0-based position in the set) and ``ngram`` for every benchmark n-gram in
        `hashes` (exact; with a Bloom filter this streams the benchmark once more)."""
        wanted = np.unique(hashes.astype(np.uint64))
        if self.bloom is None:
            lo = np.searchsorted(self.hashes, wanted)
            hi = np.searchsorted(self.hashes, wanted, "right")
            take = [np.arange(a, b) for a, b in zip(lo, hi, strict=True)]
            index = np.concatenate(take) if take else np.zeros(0, np.int64)
            items, grams = self.item_of[index], self.hashes[index]
        else:
            found_items, found_grams, first = [], [], 0
            for batch, offsets, done in self._batches():
                hit = np.isin(batch, wanted)
                owner = np.repeat(np.arange(first, done), np.diff(offsets))
                found_items.append(owner[hit])
                found_grams.append(batch[hit])
                first = done
            items = np.concatenate(found_items) if found_items else np.zeros(0, np.int64)
            grams = np.concatenate(found_grams) if found_grams else np.zeros(0, np.uint64)
        return pl.DataFrame(
            {"item": items, "ngram": grams}, schema={"item": pl.Int64, "ngram": pl.UInt64}
        ).unique()

    def heads(self, items: Sequence[int]) -> list[str]:
        """The first characters of the given items (streams the benchmark)."""
        wanted, heads = set(items), {}
        for index, text in enumerate(read_benchmark(self.source, field=self.field)):
            if index in wanted:
                heads[index] = text[:_SPAN_CHARS]
        return [heads[i] for i in items]


_TOTALS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "subset": pl.String,
    "documents": pl.UInt64,
    "bytes": pl.UInt64,
}
_DOCS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "subset": pl.String,
    "source": pl.String,
    "line": pl.Int64,
    "n_bytes": pl.UInt64,
    "matched_ngrams": pl.UInt64,
    "span": pl.String,
    "ngrams": pl.List(pl.UInt64),
}


class ContaminationScan:
    """Overlap of Pile documents with one `BenchmarkNgrams`, streamed and mergeable.

    `update(frame)` scans a frame (``subset``, ``text``; ``source``, ``line``, ``n_bytes`` kept
    when present), `merge(other)` adds a scan of other documents against the same benchmark,
    `report()` gives the `ContaminationReport`. It holds the per-subset totals and only the
    contaminated documents (with their matched n-gram hashes).
    """

    def __init__(self, benchmark: BenchmarkNgrams) -> None:
        self.benchmark = benchmark
        self.totals = pl.DataFrame(schema=_TOTALS_SCHEMA)
        self.contaminated = pl.DataFrame(schema=_DOCS_SCHEMA)

    def update(self, df: pl.DataFrame) -> ContaminationScan:
        """Scan the documents of `df`; returns self."""
        missing = {"subset", "text"} - set(df.columns)
        if missing:
            raise DataError(f"contamination: the frame has no {sorted(missing)} column(s)")
        n_bytes = (df["n_bytes"] if "n_bytes" in df.columns else df["text"].str.len_bytes()).cast(
            pl.UInt64
        )
        totals = (
            pl.DataFrame({"subset": df["subset"], "bytes": n_bytes})
            .group_by("subset")
            .agg(documents=pl.len().cast(pl.UInt64), bytes=pl.col("bytes").sum())
        )
        self.totals = _sum_totals(self.totals, totals)
        words = normalized_words(df["text"])
        hashes, offsets = ngram_hashes(words, self.benchmark.n)
        hit = self.benchmark.contains(hashes)
        owner = np.repeat(np.arange(df.height), np.diff(offsets))[hit]
        rows = np.unique(owner).tolist()
        if not rows:
            return self
        spans, grams = [], []
        for row in rows:
            positions = np.flatnonzero(hit[offsets[row] : offsets[row + 1]])
            grams.append(np.unique(hashes[offsets[row] + positions]))
            spans.append(_span(words[row].to_list(), positions, self.benchmark.n))
        found = pl.DataFrame(
            {
                "subset": df["subset"].gather(rows),
                "source": df["source"].gather(rows) if "source" in df.columns else None,
                "line": df["line"].gather(rows) if "line" in df.columns else None,
                "n_bytes": n_bytes.gather(rows),
                "matched_ngrams": [len(g) for g in grams],
                "span": spans,
                "ngrams": [g.tolist() for g in grams],
            },
            schema=_DOCS_SCHEMA,
        )
        self.contaminated = pl.concat([self.contaminated, found])
        return self

    def merge(self, other: ContaminationScan) -> ContaminationScan:
        """Add the documents scanned by `other` (same benchmark n); returns self."""
        if other.benchmark.n != self.benchmark.n:
            raise ValueError(
                f"cannot merge {other.benchmark.n}-gram and {self.benchmark.n}-gram scans"
            )
        self.totals = _sum_totals(self.totals, other.totals)
        self.contaminated = pl.concat([self.contaminated, other.contaminated])
        return self

    def report(self, parameters: dict[str, Any] | None = None) -> ContaminationReport:
        """The per-subset table, the contaminated documents and items (Bloom hits confirmed
        exactly against the benchmark first)."""
        doc_grams = self.contaminated.select("subset", "ngrams").explode("ngrams")
        pairs = self.benchmark.item_ngrams(doc_grams["ngrams"].to_numpy())
        docs = self.contaminated
        if self.benchmark.bloom is not None:  # keep only n-grams really in the benchmark
            real = pairs["ngram"].unique().implode()
            docs = (
                docs.with_columns(pl.col("ngrams").list.filter(pl.element().is_in(real)))
                .with_columns(matched_ngrams=pl.col("ngrams").list.len().cast(pl.UInt64))
                .filter(pl.col("matched_ngrams") > 0)
            )
        located = doc_grams.unique().join(pairs, left_on="ngrams", right_on="ngram")
        items = (
            located.group_by("item")
            .agg(
                matched_ngrams=pl.col("ngrams").n_unique().cast(pl.UInt64),
                subsets=pl.col("subset").unique().sort(),
            )
            .sort("item")
        )
        items = items.with_columns(
            head=pl.Series(self.benchmark.heads(items["item"].to_list()), dtype=pl.String)
        )
        per_subset = (
            docs.group_by("subset")
            .agg(
                contaminated_documents=pl.len().cast(pl.UInt64),
                contaminated_bytes=pl.col("n_bytes").sum(),
            )
            .join(
                located.group_by("subset").agg(
                    contaminated_items=pl.col("item").n_unique().cast(pl.UInt64)
                ),
                on="subset",
                how="left",
            )
        )
        table = (
            self.totals.join(per_subset, on="subset", how="left")
            .with_columns(
                pl.col(
                    "contaminated_documents", "contaminated_bytes", "contaminated_items"
                ).fill_null(0)
            )
            .with_columns(
                contaminated_document_share=pl.col("contaminated_documents") / pl.col("documents"),
                contaminated_byte_share=pl.col("contaminated_bytes") / pl.col("bytes"),
            )
            .sort("subset")
        )
        parameters = {
            "n": self.benchmark.n,
            "benchmark_items": self.benchmark.items,
            "bloom_error": None if self.benchmark.bloom is None else self.benchmark.bloom.error,
            **(parameters or {}),
        }
        return ContaminationReport(
            table=table,
            documents=docs.drop("ngrams"),
            items=items.select("item", "head", "matched_ngrams", "subsets"),
            parameters=parameters,
        )


def _sum_totals(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    return (
        pl.concat([a, b.select(list(_TOTALS_SCHEMA))])
        .group_by("subset")
        .agg(pl.col("documents").sum(), pl.col("bytes").sum())
        .sort("subset")
    )


def _span(words: list[str], positions: np.ndarray, n: int) -> str:
    """The longest run of overlapping n-grams (hits at most n apart) as normalised words, at
    most `_SPAN_CHARS` characters (a real overlap is a long run; a Bloom false positive one
    isolated n-gram)."""
    runs, start, end = [], int(positions[0]), int(positions[0])
    for pos in positions[1:].tolist():
        if pos > end + n:
            runs.append((start, end))
            start = pos
        end = pos
    runs.append((start, end))
    start, end = max(runs, key=lambda run: run[1] - run[0])
    return " ".join(words[start : end + n])[:_SPAN_CHARS]


@dataclass
class ContaminationReport:
    """What `contamination` found.

    ``table``: per subset ``documents``, ``bytes`` scanned, ``contaminated_documents``,
    ``contaminated_bytes``, ``contaminated_items`` and the two shares; ``documents``: one row
    per contaminated document (``subset``, ``source``, ``line``, ``n_bytes``,
    ``matched_ngrams``, ``span``: the longest overlapping run of normalised words);
    ``items``: one row per contaminated benchmark item (``item`` position, ``head``,
    ``matched_ngrams``, ``subsets``).
    """

    table: pl.DataFrame
    documents: pl.DataFrame
    items: pl.DataFrame
    parameters: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable parameters, totals and per-subset rows."""
        return {
            "parameters": self.parameters,
            "contaminated_items": self.items.height,
            "contaminated_documents": self.documents.height,
            "subsets": self.table.to_dicts(),
        }

    def write(self, out_dir: PathLike) -> list[Path]:
        """Write ``contamination.csv`` (per subset), ``contaminated_documents.csv``,
        ``contaminated_items.csv`` and ``contamination.json`` into `out_dir`."""
        out = output_folder(out_dir)
        names = ("contamination.csv", "contaminated_documents.csv", "contaminated_items.csv")
        paths = [out / name for name in (*names, "contamination.json")]
        self.table.write_csv(paths[0])
        self.documents.write_csv(paths[1])
        self.items.with_columns(pl.col("subsets").list.join(";")).write_csv(paths[2])
        paths[3].write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")
        return paths


def contamination(
    pile: pl.DataFrame | PathLike | Sequence[PathLike],
    benchmark: PathLike | Iterable[str],
    *,
    n: int = NGRAM_WORDS,
    field: str | None = None,
    bloom_error: float | None = None,
    progress: bool | None = None,
) -> ContaminationReport:
    """Which Pile documents share a word `n`-gram with the `benchmark` items.

    Args:
        pile: a frame with ``subset`` and ``text`` (e.g. `read_pile` output), or Pile shards
            (files, folders, globs), streamed in bounded memory with `iter_pile_batches`.
        benchmark: a list of strings, a ``.jsonl`` file (`field`, default ``"text"``) or a text
            file with one item per non-blank line.
        n: words per n-gram (13 as in GPT-3's decontamination).
        field: the JSONL field with the item text (implies JSONL).
        bloom_error: hold the benchmark's n-grams in a Bloom filter with this false-positive
            rate instead of exactly (evaluation sets too large for memory); every hit is then
            confirmed exactly, so the results are the same.

    Example::

        report = sl.contamination("pile/val.jsonl.zst", "questions.jsonl", field="question")
        report.table      # per subset: documents and bytes overlapping, items contaminated
        report.documents  # one row per contaminated document, with the overlapping span
    """
    scan = ContaminationScan(BenchmarkNgrams(benchmark, n=n, field=field, bloom_error=bloom_error))
    if isinstance(pile, pl.DataFrame):
        scan.update(pile)
    else:
        from segpile_lab.pile.reader import iter_pile_batches

        for batch in iter_pile_batches(pile, progress=progress):
            scan.update(batch)
    return scan.report({"field": field})
