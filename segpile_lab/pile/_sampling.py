"""Seeded, streaming sampling of at most k documents per subset (bottom-k reservoir).

Every row gets a pseudo-random 64-bit key from ``(seed, source, line)`` (``source`` tells files
with the same base name apart, so each file's keys are independent); a subset's sample is its k
rows with the smallest keys. That is a uniform sample without replacement (as a reservoir
gives), computed batch by batch while holding only k rows per subset, and it does not depend
on batch sizes, on the parsing path or on the order in which files are read.

Rows of a compressed frame that has not ended yet are kept apart (at most k more per subset)
until the frame passes its check, so a frame that fails it can be dropped exactly.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

__all__ = ["SubsetReservoir", "row_keys"]

_U64 = np.uint64


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = x + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def row_keys(seed: int, source: str, lines: np.ndarray) -> np.ndarray:
    """Sampling keys (uint64) for `lines` of the file named `source`."""
    file_id = np.array([zlib.crc32(source.encode())], dtype=_U64)
    base = _splitmix64(_splitmix64(np.array([seed % 2**64], dtype=_U64)) ^ file_id)
    return _splitmix64(lines.astype(_U64) ^ base)


def _bottom_k(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    return frame.filter(pl.col("_key").rank("ordinal").over("subset") <= k)


class SubsetReservoir:
    """Keeps, across batches, the `k` rows per subset with the smallest keys."""

    def __init__(self, k: int, seed: int) -> None:
        if k < 1:
            raise ValueError(f"sample_per_subset must be ≥ 1, got {k}")
        self.k, self.seed = k, seed
        self._kept: pl.DataFrame | None = None  # rows of frames that passed their check
        self._open: pl.DataFrame | None = None  # rows of the frame still being read
        self._open_at: tuple[int, int] = (-1, 0)  # (file index, first line of that frame)

    def _merge(self, a: pl.DataFrame | None, b: pl.DataFrame | None) -> pl.DataFrame | None:
        parts = [f for f in (a, b) if f is not None]
        return _bottom_k(pl.concat(parts), self.k) if parts else None

    def _settle(self) -> None:
        self._kept, self._open = self._merge(self._kept, self._open), None

    def add(self, frame: pl.DataFrame, file_index: int, open_from: int = 1) -> None:
        """Offer the rows of `frame` (one file's rows, `file_index` orders the result); rows
        from line `open_from` on come from a frame that has not passed its check yet."""
        if (file_index, open_from) != self._open_at:  # a new file, or the open frame ended
            self._settle()
            self._open_at = (file_index, open_from)
        if frame.height == 0:
            return
        keys = row_keys(
            self.seed, frame.get_column("source")[0], frame.get_column("line").to_numpy()
        )
        keyed = frame.with_columns(
            pl.Series("_key", keys, dtype=pl.UInt64), pl.lit(file_index, pl.UInt32).alias("_file")
        )
        if open_from > 1:
            self._kept = self._merge(self._kept, keyed.filter(pl.col("line") < open_from))
            keyed = keyed.filter(pl.col("line") >= open_from)
        self._open = self._merge(self._open, keyed)

    def drop(self, file_index: int, from_line: int) -> None:
        """Forget the rows of file `file_index` from line `from_line` on (a damaged frame)."""
        if self._open is not None and self._open_at[0] == file_index:
            self._open = self._open.filter(pl.col("line") < from_line)
        self._settle()

    def result(self) -> pl.DataFrame | None:
        """The sample in reading order (file, then line); None when nothing was offered."""
        self._settle()
        if self._kept is None:
            return None
        return self._kept.sort("_file", "line").drop("_key", "_file")
