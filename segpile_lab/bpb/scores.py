"""What every BPB scorer returns, and the protocol a scorer follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["DocumentScores", "Scorer"]


@dataclass(frozen=True)
class DocumentScores:
    """Negative log-likelihoods of documents under one scorer.

    Attributes:
        nll_nats: ``(D,)`` float64, total NLL of each document in nats.
        n_tokens: ``(D,)`` int64 tokens scored per document, or None when the scorer has no
            tokens (compression).
        position_nll: ``(L,)`` float64 sum of NLL (nats) of the tokens predicted at each window
            position (0 = predicted from the prefix token alone), or None.
        position_tokens: ``(L,)`` int64 number of tokens predicted at each window position.
    """

    nll_nats: np.ndarray
    n_tokens: np.ndarray | None = None
    position_nll: np.ndarray | None = None
    position_tokens: np.ndarray | None = None


@runtime_checkable
class Scorer(Protocol):
    """Anything that turns raw document texts into per-document NLL.

    ``name`` labels its rows; ``is_trained`` is False for untrained demo weights;
    ``description`` states the method (windows, stride, compression level, smoothing).
    """

    name: str
    is_trained: bool
    description: str

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores: ...
