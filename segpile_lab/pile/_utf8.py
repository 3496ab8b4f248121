"""A Polars string column as one UTF-8 byte buffer with row offsets, for numpy kernels."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa


def utf8_buffer(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(data, offsets)``: every row's UTF-8 bytes back to back (uint8 ``(total bytes,)``) and
    int64 ``(rows + 1,)`` offsets, row i being ``data[offsets[i]:offsets[i + 1]]`` (null rows
    are empty). One copy of the text (Polars' string views → Arrow ``large_string``)."""
    arr = texts.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    _, offsets_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64, len(arr) + 1, arr.offset * 8)
    if data_buffer is None:  # no bytes at all
        return np.zeros(0, np.uint8), np.zeros(len(arr) + 1, np.int64)
    data = np.frombuffer(data_buffer, np.uint8)[offsets[0] : offsets[-1]]
    return data, offsets - offsets[0]
