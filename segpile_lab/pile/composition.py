"""Per-subset composition of a Pile frame, mergeable across shards.

`CompositionStats` accumulates exact counts (documents, bytes, characters, min and max document
size) and a log-spaced histogram of document sizes per subset. Two accumulators built on
different shards `merge` into exactly the accumulator of the concatenated shards, so a whole-Pile
audit runs shard by shard (or in separate processes, via `to_dict`/`from_dict`).

Precision: documents, bytes, mean, min and max are exact (sums in Python integers, inputs cast
to UInt64 first). Median and p90 interpolate linearly between the order statistics around
q·(n−1), numpy's default ``method="linear"`` (so two documents have their mean as median, and a
p90 between the mean and the larger one). The smallest and largest order statistics are exact;
the others come from the histogram, which has `BINS_PER_OCTAVE` = 64 bins per doubling of size:
each estimate lies within a factor 2**(1/64) (±1.09 %) of the exact value. Below
`MIN_DOCS_FOR_QUANTILES` documents a table should show the values, not call them a median.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from segpile_lab.errors import DataError
from segpile_lab.pile.subsets import PILE_SUBSETS, UNKNOWN_SUBSET
from segpile_lab.provenance import SYNTHETIC

BINS_PER_OCTAVE = 64
MAX_OCTAVES = 48  # documents up to 2**48 bytes (256 TiB)
N_BINS = 1 + BINS_PER_OCTAVE * MAX_OCTAVES  # bin 0 holds empty documents
NOTE_NO_DOCUMENTS = "no documents in this data"
NOTE_UNKNOWN = "not one of the Pile's 22 subsets"
MIN_DOCS_FOR_QUANTILES = 5
"""Fewer documents than this: a median / p90 says little (notebook 01 shows "n too small")."""


@functools.cache
def published_table() -> pl.DataFrame:
    """The published composition as ``subset``, ``published_weight_percent``,
    ``published_mean_doc_bytes`` (mean document size in bytes = KiB × 1024), in the paper's order.
    """
    from segpile_lab.pile.manifests import published_composition

    table = published_composition()
    name = "subset" if "subset" in table.columns else "component"
    return table.select(
        pl.col(name).alias("subset"),
        pl.col("weight_percent").cast(pl.Float64).alias("published_weight_percent"),
        (pl.col("mean_document_size_kib").cast(pl.Float64) * 1024).alias(
            "published_mean_doc_bytes"
        ),
    )


def size_bins(n_bytes: np.ndarray) -> np.ndarray:
    """Histogram bin of each document size in bytes: 0 for empty, else 1 + ⌊64·log2(n)⌋."""
    n = np.asarray(n_bytes, dtype=np.float64)
    bins = np.floor(np.log2(np.maximum(n, 1)) * BINS_PER_OCTAVE).astype(np.int64) + 1
    return np.where(n < 1, 0, np.minimum(bins, N_BINS - 1))


def _bin_bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 0.0
    return 2 ** ((index - 1) / BINS_PER_OCTAVE), 2 ** (index / BINS_PER_OCTAVE)


@dataclass
class SubsetStats:
    """Exact counts and the size histogram of one subset."""

    documents: int = 0
    bytes: int = 0
    chars: int = 0
    synthetic_documents: int = 0
    known: bool = True
    min_bytes: int | None = None
    max_bytes: int | None = None
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(N_BINS, dtype=np.int64))

    def merge(self, other: SubsetStats) -> None:
        self.documents += other.documents
        self.bytes += other.bytes
        self.chars += other.chars
        self.synthetic_documents += other.synthetic_documents
        self.known = self.known and other.known
        self.histogram += other.histogram
        mins = [v for v in (self.min_bytes, other.min_bytes) if v is not None]
        maxs = [v for v in (self.max_bytes, other.max_bytes) if v is not None]
        self.min_bytes = min(mins) if mins else None
        self.max_bytes = max(maxs) if maxs else None

    def quantile(self, q: float) -> float:
        """Document size (bytes) at quantile `q`, interpolated linearly between order statistics
        (numpy's default method); NaN without documents (precision: module doc)."""
        if self.documents == 0:
            return math.nan
        position = q * (self.documents - 1)
        low = self._order_statistic(math.floor(position))
        high = self._order_statistic(math.ceil(position))
        return low + (position - math.floor(position)) * (high - low)

    def _order_statistic(self, rank: int) -> float:
        """The `rank`-th smallest size (0-based): exact at both ends, else from the histogram."""
        smallest, largest = self.min_bytes, self.max_bytes
        if smallest is None or largest is None:
            raise ValueError("no documents: no order statistics")
        if rank == 0:
            return float(smallest)
        if rank == self.documents - 1:
            return float(largest)
        cumulative = np.cumsum(self.histogram)
        index = int(np.searchsorted(cumulative, rank, side="right"))
        before = int(cumulative[index - 1]) if index else 0
        low, high = _bin_bounds(index)
        fraction = (rank - before + 0.5) / int(self.histogram[index])
        value = low * (high / low) ** fraction if low > 0 else 0.0
        return float(min(max(value, smallest), largest))


def _required_frame(df: pl.DataFrame) -> pl.DataFrame:
    if "subset" not in df.columns:
        raise DataError(f"a Pile frame needs a 'subset' column; got columns {df.columns}")
    df = df.with_columns(pl.col("subset").fill_null(UNKNOWN_SUBSET))
    if "n_bytes" not in df.columns:
        if "text" not in df.columns:
            raise DataError(f"a Pile frame needs 'n_bytes' or 'text'; got columns {df.columns}")
        df = df.with_columns(n_bytes=pl.col("text").str.len_bytes())
    if "n_chars" not in df.columns:
        has_text = "text" in df.columns
        df = df.with_columns(n_chars=pl.col("text").str.len_chars() if has_text else pl.lit(0))
    return df


class CompositionStats:
    """Mergeable per-subset composition accumulator.

    Example::

        stats = CompositionStats()
        for batch in sl.iter_pile_batches(shards):
            stats.update(batch)
        table = stats.to_frame()
    """

    def __init__(self) -> None:
        self.subsets: dict[str, SubsetStats] = {}

    def update(self, df: pl.DataFrame) -> CompositionStats:
        """Add the documents of a Pile frame (columns ``subset`` and ``n_bytes`` or ``text``)."""
        df = _required_frame(df)
        known = pl.col("known_subset").all() if "known_subset" in df.columns else None
        synthetic = (
            pl.col("synthetic").cast(pl.UInt64).sum() if "synthetic" in df.columns else pl.lit(0)
        )
        totals = df.group_by("subset").agg(
            documents=pl.len(),
            bytes=pl.col("n_bytes").cast(pl.UInt64).sum(),
            chars=pl.col("n_chars").cast(pl.UInt64).sum(),
            min_bytes=pl.col("n_bytes").cast(pl.UInt64).min(),
            max_bytes=pl.col("n_bytes").cast(pl.UInt64).max(),
            synthetic=synthetic,
            known=known if known is not None else pl.lit(None, pl.Boolean),
        )
        names = totals["subset"].to_list()
        codes = df["subset"].cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int64)
        keys = codes * N_BINS + size_bins(df["n_bytes"].to_numpy())
        histograms = np.bincount(keys, minlength=len(names) * N_BINS).reshape(-1, N_BINS)
        for row, histogram in zip(totals.iter_rows(named=True), histograms, strict=True):
            part = SubsetStats(
                documents=row["documents"],
                bytes=row["bytes"],
                chars=row["chars"],
                synthetic_documents=row["synthetic"],
                known=self._is_known(row["subset"]) if row["known"] is None else row["known"],
                min_bytes=row["min_bytes"],
                max_bytes=row["max_bytes"],
                histogram=histogram.astype(np.int64),
            )
            self.subsets.setdefault(row["subset"], SubsetStats()).merge(part)
        return self

    @staticmethod
    def _is_known(subset: str) -> bool:
        return subset in PILE_SUBSETS

    def merge(self, other: CompositionStats) -> CompositionStats:
        """Add another accumulator's counts into this one (in place) and return self."""
        for name, part in other.subsets.items():
            self.subsets.setdefault(name, SubsetStats()).merge(part)
        return self

    @property
    def documents(self) -> int:
        return sum(part.documents for part in self.subsets.values())

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.subsets.values())

    @property
    def synthetic(self) -> bool:
        """True when any counted document is synthetic demo data."""
        return any(part.synthetic_documents for part in self.subsets.values())

    def to_frame(self, *, include_missing: bool = True) -> pl.DataFrame:
        """One row per subset (see `composition` for the columns)."""
        published = published_table()
        names = list(PILE_SUBSETS) if include_missing else []
        names += sorted(name for name in self.subsets if name not in names)
        total_docs, total_bytes = self.documents, self.bytes
        rows = []
        for name in names:
            part = self.subsets.get(name, SubsetStats(known=self._is_known(name)))
            notes = [NOTE_NO_DOCUMENTS] if part.documents == 0 else []
            notes += [] if part.known else [NOTE_UNKNOWN]
            notes += [SYNTHETIC] if part.synthetic_documents else []
            rows.append(
                {
                    "subset": name,
                    "known_subset": part.known,
                    "documents": part.documents,
                    "bytes": part.bytes,
                    "doc_share": part.documents / total_docs if total_docs else math.nan,
                    "byte_share": part.bytes / total_bytes if total_bytes else math.nan,
                    "mean_doc_bytes": part.bytes / part.documents if part.documents else math.nan,
                    "median_doc_bytes": part.quantile(0.5),
                    "p90_doc_bytes": part.quantile(0.9),
                    "min_doc_bytes": part.min_bytes,
                    "max_doc_bytes": part.max_bytes,
                    "synthetic_documents": part.synthetic_documents,
                    "note": "; ".join(notes),
                }
            )
        schema = {
            "subset": pl.String,
            "known_subset": pl.Boolean,
            "documents": pl.UInt64,
            "bytes": pl.UInt64,
            "doc_share": pl.Float64,
            "byte_share": pl.Float64,
            "mean_doc_bytes": pl.Float64,
            "median_doc_bytes": pl.Float64,
            "p90_doc_bytes": pl.Float64,
            "min_doc_bytes": pl.UInt64,
            "max_doc_bytes": pl.UInt64,
            "synthetic_documents": pl.UInt64,
            "note": pl.String,
        }
        frame = pl.DataFrame(rows, schema=schema).join(published, on="subset", how="left")
        return frame.select(
            "subset",
            "known_subset",
            "documents",
            "bytes",
            "doc_share",
            "byte_share",
            "published_weight_percent",
            (pl.col("byte_share") * 100 / pl.col("published_weight_percent")).alias(
                "observed_published_ratio"
            ),
            "mean_doc_bytes",
            "median_doc_bytes",
            "p90_doc_bytes",
            "published_mean_doc_bytes",
            (pl.col("mean_doc_bytes") / pl.col("published_mean_doc_bytes")).alias(
                "mean_vs_published"
            ),
            "min_doc_bytes",
            "max_doc_bytes",
            "synthetic_documents",
            "note",
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (histograms stored sparsely) for merging across processes."""
        return {
            "bins_per_octave": BINS_PER_OCTAVE,
            "subsets": {
                name: {
                    "documents": p.documents,
                    "bytes": p.bytes,
                    "chars": p.chars,
                    "synthetic_documents": p.synthetic_documents,
                    "known": p.known,
                    "min_bytes": p.min_bytes,
                    "max_bytes": p.max_bytes,
                    "histogram": {str(i): int(p.histogram[i]) for i in np.flatnonzero(p.histogram)},
                }
                for name, p in self.subsets.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompositionStats:
        if data.get("bins_per_octave") != BINS_PER_OCTAVE:
            raise DataError(
                f"composition stats with {data.get('bins_per_octave')} bins per octave cannot "
                f"merge with this version ({BINS_PER_OCTAVE})"
            )
        stats = cls()
        for name, d in data["subsets"].items():
            part = SubsetStats(**{k: v for k, v in d.items() if k != "histogram"})
            for index, count in d["histogram"].items():
                part.histogram[int(index)] = count
            stats.subsets[name] = part
        return stats


def composition(
    df: pl.DataFrame | Iterable[pl.DataFrame], *, include_missing: bool = True
) -> pl.DataFrame:
    """Per-subset composition of a Pile frame (or of an iterable of batches) vs the published mix.

    Columns: ``subset``, ``known_subset``, ``documents``, ``bytes`` (UInt64), ``doc_share`` and
    ``byte_share`` (fractions of all documents / bytes), ``published_weight_percent`` (the
    paper's sampling weight, %), ``observed_published_ratio`` (byte share / published weight),
    ``mean_doc_bytes``, ``median_doc_bytes``, ``p90_doc_bytes``, ``published_mean_doc_bytes``,
    ``mean_vs_published``, ``min_doc_bytes``, ``max_doc_bytes``, ``synthetic_documents``,
    ``note``. The 22 published subsets come first in the paper's order (with ``documents = 0``
    and NaN statistics plus a note when absent, unless `include_missing=False`), then unknown
    subsets, flagged ``known_subset = False``.
    """
    stats = CompositionStats()
    for batch in [df] if isinstance(df, pl.DataFrame) else df:
        stats.update(batch)
    return stats.to_frame(include_missing=include_missing)


def byte_share_intervals(
    df: pl.DataFrame, *, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> pl.DataFrame:
    """Bootstrap interval of each subset's byte share in a frame of documents.

    The documents are resampled with replacement (Poisson bootstrap: each document counted
    Poisson(1) times per resample), as if the frame were a random sample of documents, and
    each subset's share of the resampled bytes gives a percentile interval. Use it on a frame
    that holds every counted document (not a per-subset sample, whose shares mean nothing).
    Memory: `resamples` × 2,000 counts at a time, whatever the frame's size.

    Returns:
        ``subset``, ``byte_share_low``, ``byte_share_high`` (fractions, like ``byte_share``),
        one row per subset present.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    df = _required_frame(df)
    names = sorted(df["subset"].unique().to_list())
    if not df.height or not df["n_bytes"].sum():
        schema = pl.Schema(
            {"subset": pl.String, "byte_share_low": pl.Float64, "byte_share_high": pl.Float64}
        )
        return (
            pl.DataFrame({"subset": names})
            .with_columns(byte_share_low=pl.lit(None), byte_share_high=pl.lit(None))
            .cast(schema)
        )
    codes = df["subset"].cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int64)
    sizes = df["n_bytes"].cast(pl.Float64).to_numpy()
    rng = np.random.default_rng(seed)
    totals = np.zeros((resamples, len(names)))
    for start in range(0, len(sizes), 2000):
        counts = rng.poisson(1.0, size=(resamples, min(2000, len(sizes) - start)))
        weighted = counts * sizes[start : start + 2000]
        for code in np.unique(codes[start : start + 2000]):
            totals[:, code] += weighted[:, codes[start : start + 2000] == code].sum(axis=1)
    grand = totals.sum(axis=1, keepdims=True)
    shares = totals[grand[:, 0] > 0] / grand[grand[:, 0] > 0]  # a resample may draw nothing
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(shares, [tail, 100 - tail], axis=0)
    return pl.DataFrame({"subset": names, "byte_share_low": low, "byte_share_high": high})
