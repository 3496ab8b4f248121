"""A plain-Python Witten–Bell byte n-gram model: the independent reference for the vectorized
`NGramByteScorer` (dictionaries of byte strings, one lookup per byte and order)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable


class ReferenceNGram:
    def __init__(self, order: int) -> None:
        self.order = order
        self.counts: Counter[bytes] = Counter()
        self.contexts: dict[bytes, tuple[int, int]] = {}

    def fit(self, texts: Iterable[str]) -> ReferenceNGram:
        for text in texts:
            data = text.encode("utf-8")
            for k in range(1, self.order + 1):
                self.counts.update(data[i : i + k] for i in range(len(data) - k + 1))
        totals: Counter[bytes] = Counter()
        types: Counter[bytes] = Counter()
        for gram, count in self.counts.items():
            totals[gram[:-1]] += count
            types[gram[:-1]] += 1
        self.contexts = {h: (totals[h], types[h]) for h in totals}
        return self

    def probability(self, context: bytes, byte: int) -> float:
        history = context[max(0, len(context) - self.order + 1) :]
        p = 1.0 / 256.0
        for k in range(len(history) + 1):
            h = history[len(history) - k :]
            if h not in self.contexts:
                break
            total, distinct = self.contexts[h]
            p = (self.counts.get(h + bytes((byte,)), 0) + distinct * p) / (total + distinct)
        return p

    def document_nll(self, text: str) -> float:
        data = text.encode("utf-8")
        return -sum(
            math.log(self.probability(data[max(0, i - self.order + 1) : i], data[i]))
            for i in range(len(data))
        )
