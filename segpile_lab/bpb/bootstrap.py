"""Document-bootstrap intervals for pooled ratios such as bits per byte."""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_sums"]

_CHUNK = 128  # replicates drawn at once (bounds memory at _CHUNK × documents indices)


def bootstrap_sums(
    numerator: np.ndarray, denominator: np.ndarray, replicates: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Resample documents with replacement `replicates` times; sums of both columns per replicate.

    Args:
        numerator, denominator: ``(n,)`` per-document values (e.g. NLL in nats and bytes).
    Returns:
        two ``(replicates,)`` float64 arrays; the pooled ratio of replicate ``b`` is
        ``numerator_sums[b] / denominator_sums[b]``.
    """
    n = len(numerator)
    num_sums = np.empty(replicates, dtype=np.float64)
    den_sums = np.empty(replicates, dtype=np.float64)
    for start in range(0, replicates, _CHUNK):
        stop = min(start + _CHUNK, replicates)
        index = rng.integers(0, n, size=(stop - start, n))
        num_sums[start:stop] = numerator[index].sum(axis=1)
        den_sums[start:stop] = denominator[index].sum(axis=1)
    return num_sums, den_sums
