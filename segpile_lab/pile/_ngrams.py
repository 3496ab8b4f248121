"""Hashes of word n-grams for a whole column at once (near-duplicate shingles, contamination)."""

from __future__ import annotations

import numpy as np


def window_hashes(
    word_hashes: np.ndarray, lengths: np.ndarray, multipliers: np.ndarray
) -> np.ndarray:
    """Σᵢ hᵢ·mᵢ (uint64, wrapping) of every window of ``len(multipliers)`` consecutive word
    hashes that lies inside one row, rows being `lengths` words back to back in `word_hashes`;
    in row and position order (a row of fewer words has none)."""
    n = len(multipliers)
    if len(word_hashes) < n:
        return np.zeros(0, np.uint64)
    size = len(word_hashes) - n + 1
    grams = word_hashes[:size] * multipliers[0]
    term = np.empty_like(grams)
    for i in range(1, n):
        np.multiply(word_hashes[i : size + i], multipliers[i], out=term)
        grams += term
    starts = np.concatenate([[0], np.cumsum(lengths)])
    crossing = np.zeros(size, bool)  # windows that start in a row's last n-1 words
    for back in range(1, n):
        pos = starts[1:] - back
        crossing[pos[(pos >= starts[:-1]) & (pos < size)]] = True
    return grams[~crossing]
