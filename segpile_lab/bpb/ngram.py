"""Model-free learned baseline: an interpolated Witten–Bell byte n-gram model.

Order ``n`` predicts each UTF-8 byte from the previous ``n - 1`` bytes of the same document
(fewer at its start). Witten–Bell interpolation (Witten & Bell 1991; Chen & Goodman 1998, §2.5)
recursively mixes each order with the next lower one, down to the uniform distribution over the
256 byte values::

    P(c | h) = (C(h c) + T(h) · P(c | h')) / (C(h) + T(h))     when h was seen in training
    P(c | h) = P(c | h')                                        otherwise
    P(c | ε') = 1 / 256

with ``C(h)`` the count of context ``h`` followed by any byte, ``T(h)`` the number of distinct
bytes seen after ``h`` and ``h'`` the context without its oldest byte. Every level is a proper
distribution over the 256 bytes, so the whole model is one too. Fit it on a split you do not
evaluate on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from segpile_lab._progress import progress_bar
from segpile_lab.bpb.scores import DocumentScores

__all__ = ["NGramByteScorer"]


class NGramByteScorer:
    """Byte-level n-gram language model with interpolated Witten–Bell smoothing.

    Args:
        order: ``n``, the n-gram order (context of ``n - 1`` bytes); 1 is a smoothed unigram.
    """

    is_trained = True

    def __init__(self, order: int = 4) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        self.order = order
        self.name = f"ngram-{order}"
        self._counts: Counter[bytes] = Counter()
        self._contexts: dict[bytes, tuple[int, int]] = {}
        self.training_bytes = 0

    @property
    def description(self) -> str:
        return (
            f"{self.name}: byte {self.order}-gram, interpolated Witten–Bell smoothing down to "
            f"uniform over 256 bytes, fitted on {self.training_bytes:,} bytes of a separate split"
        )

    def fit(self, texts: Iterable[str]) -> NGramByteScorer:
        """Count all 1..n-grams inside each document (never across documents); returns self."""
        counts: Counter[bytes] = Counter()
        self.training_bytes = 0
        for text in texts:
            data = text.encode("utf-8")
            self.training_bytes += len(data)
            for k in range(1, self.order + 1):
                counts.update(data[i : i + k] for i in range(len(data) - k + 1))
        totals: Counter[bytes] = Counter()
        types: Counter[bytes] = Counter()
        for gram, count in counts.items():
            totals[gram[:-1]] += count
            types[gram[:-1]] += 1
        self._counts = counts
        self._contexts = {h: (totals[h], types[h]) for h in totals}
        return self

    def probability(self, context: bytes, byte: int) -> float:
        """``P(byte | context)``, using at most the last ``order - 1`` bytes of `context`."""
        if not self._contexts:
            raise ValueError(f"{self.name} is not fitted: call fit(texts) on a separate split")
        history = context[max(0, len(context) - self.order + 1) :]
        target = bytes((byte,))
        p = 1.0 / 256.0
        for k in range(len(history) + 1):
            h = history[len(history) - k :]
            stats = self._contexts.get(h)
            if stats is None:  # a longer context containing an unseen one is unseen too
                break
            total, distinct = stats
            p = (self._counts.get(h + target, 0) + distinct * p) / (total + distinct)
        return p

    def probabilities(self, context: bytes) -> np.ndarray:
        """``(256,)`` float64 distribution of the next byte after `context`."""
        return np.asarray([self.probability(context, b) for b in range(256)])

    def document_nll(self, text: str) -> float:
        """NLL of one document in nats."""
        data = text.encode("utf-8")
        return -sum(
            math.log(self.probability(data[max(0, i - self.order + 1) : i], data[i]))
            for i in range(len(data))
        )

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        """Per-document NLL (nats); one token per byte."""
        nll = [
            self.document_nll(t)
            for t in progress_bar(texts, progress=progress, desc=self.name, unit="doc")
        ]
        n_bytes = [len(t.encode("utf-8")) for t in texts]
        return DocumentScores(np.asarray(nll, dtype=np.float64), np.asarray(n_bytes, np.int64))
