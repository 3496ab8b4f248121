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

Counting and scoring are vectorized: a ``k``-gram is packed into one uint64 (so ``n ≤ 8``),
each length keeps sorted unique grams with their counts, and every byte of a batch of
documents looks its grams up with one binary search per level.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from segpile_lab._progress import progress_bar
from segpile_lab.bpb.scores import DocumentScores

__all__ = ["NGramByteScorer"]

MAX_ORDER = 8  # a k-gram packs into one uint64
_BATCH_BYTES = 4 << 20  # bytes scored per vectorized pass (about 100 bytes of arrays per byte)


class _Bytes:
    """Documents' bytes laid end to end, with where each byte's document starts.

    Attributes:
        data: ``(N,)`` uint8.
        doc_start: ``(N,)`` int64, the index in `data` of the first byte of each byte's document.
        lengths: ``(D,)`` bytes per document.
    """

    def __init__(self, documents: Sequence[bytes]) -> None:
        self.lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        self.data = np.frombuffer(b"".join(documents), dtype=np.uint8)
        self.doc_start = np.repeat(np.cumsum(self.lengths) - self.lengths, self.lengths)

    def windows(self, order: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """For k = 1..order: ``(packed, valid)``, the k bytes ending at each position packed
        into a uint64 (oldest byte highest) and whether they all lie in its document."""
        positions = np.arange(self.data.size)
        packed = np.zeros(self.data.size, dtype=np.uint64)
        for back in range(order):  # add the byte `back` places before each position
            packed[back:] |= self.data[: self.data.size - back].astype(np.uint64) << np.uint64(
                8 * back
            )
            yield packed, positions - back >= self.doc_start


class _Table:
    """Values by packed key, 0 for absent keys: a dense array when keys hold at most two bytes
    (65,536 slots), else sorted keys and a binary search.

    Args:
        keys: ``(K,)`` sorted unique uint64.
        values: ``(K,)`` or ``(K, m)`` int64.
        key_bytes: bytes packed into each key.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray, key_bytes: int) -> None:
        self.keys, self.values = keys, values
        self.dense = None
        if key_bytes <= 2:
            self.dense = np.zeros((1 << (8 * key_bytes), *values.shape[1:]), dtype=np.int64)
            self.dense[keys.astype(np.intp)] = values

    def get(self, queries: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return self.dense[queries.astype(np.intp)]
        if not self.keys.size:
            return np.zeros((queries.size, *self.values.shape[1:]), dtype=np.int64)
        index = np.minimum(np.searchsorted(self.keys, queries), self.keys.size - 1)
        found = self.keys[index] == queries
        return self.values[index] * (found if self.values.ndim == 1 else found[:, None])


class NGramByteScorer:
    """Byte-level n-gram language model with interpolated Witten–Bell smoothing.

    Args:
        order: ``n``, the n-gram order (context of ``n - 1`` bytes), 1 to 8; 1 is a smoothed
            unigram.
    """

    is_trained = True

    def __init__(self, order: int = 4) -> None:
        if not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be between 1 and {MAX_ORDER}, got {order}")
        self.order = order
        self.name = f"ngram-{order}"
        self._grams: list[_Table] = []  # per gram length k = 1..n: counts of packed k-grams
        self._contexts: list[_Table] = []  # per context length k - 1: (C(h), T(h))
        self.training_bytes = 0

    @property
    def description(self) -> str:
        return (
            f"{self.name}: byte {self.order}-gram, interpolated Witten–Bell smoothing down to "
            f"uniform over 256 bytes, fitted on {self.training_bytes:,} bytes of a separate split"
        )

    def fit(self, texts: Iterable[str]) -> NGramByteScorer:
        """Count all 1..n-grams inside each document (never across documents); returns self.

        Raises:
            ValueError: `texts` holds no byte to learn from (empty, or only empty strings).
        """
        corpus = _Bytes([t.encode("utf-8") for t in texts])
        if not corpus.data.size:
            raise ValueError(
                f"{self.name}.fit: no text to fit on (no documents, or only empty ones)"
            )
        self.training_bytes = int(corpus.data.size)
        self._grams, self._contexts = [], []
        for k, (packed, valid) in enumerate(corpus.windows(self.order), start=1):
            grams, counts = np.unique(packed[valid], return_counts=True)
            contexts, first, distinct = np.unique(
                grams >> np.uint64(8), return_index=True, return_counts=True
            )
            totals = np.add.reduceat(counts, first) if grams.size else counts
            self._grams.append(_Table(grams, counts, k))
            self._contexts.append(_Table(contexts, np.column_stack((totals, distinct)), k - 1))
        return self

    def _probabilities_of(self, corpus: _Bytes) -> np.ndarray:
        """``(N,)`` float64: P(each byte | the bytes before it in its document)."""
        if not self.training_bytes:
            raise ValueError(f"{self.name} is not fitted: call fit(texts) on a separate split")
        p = np.full(corpus.data.size, 1.0 / 256.0)
        going = np.ones(corpus.data.size, dtype=bool)  # every shorter context was seen
        levels = zip(corpus.windows(self.order), self._grams, self._contexts, strict=True)
        for (packed, valid), grams, contexts in levels:
            going &= valid
            where = np.flatnonzero(going)
            total, types = contexts.get(packed[where] >> np.uint64(8)).T
            seen = total > 0  # an unseen context ends the recursion (longer ones are unseen too)
            going[where[~seen]] = False
            where, total, types = where[seen], total[seen], types[seen]
            count = grams.get(packed[where])
            p[where] = (count + types * p[where]) / (total + types)
        return p

    def probability(self, context: bytes, byte: int) -> float:
        """``P(byte | context)``, using at most the last ``order - 1`` bytes of `context`."""
        history = context[max(0, len(context) - self.order + 1) :]
        return float(self._probabilities_of(_Bytes([history + bytes((byte,))]))[-1])

    def probabilities(self, context: bytes) -> np.ndarray:
        """``(256,)`` float64 distribution of the next byte after `context`."""
        return np.asarray([self.probability(context, b) for b in range(256)])

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        """Per-document NLL (nats); one token per byte."""
        nll = np.zeros(len(texts), dtype=np.float64)
        n_bytes = np.zeros(len(texts), dtype=np.int64)
        with progress_bar(total=len(texts), progress=progress, desc=self.name, unit="doc") as bar:
            for first, batch in _batches(texts):
                corpus = _Bytes([t.encode("utf-8") for t in batch])
                log_p = np.log(self._probabilities_of(corpus))
                stop = first + len(batch)
                n_bytes[first:stop] = corpus.lengths
                doc = np.repeat(np.arange(len(batch)), corpus.lengths)
                nll[first:stop] = -np.bincount(doc, weights=log_p, minlength=len(batch))
                bar.update(len(batch))
        return DocumentScores(nll, n_bytes)


def _batches(texts: Sequence[str]) -> Iterator[tuple[int, Sequence[str]]]:
    """``(index of the first text, texts)`` in runs of about `_BATCH_BYTES` characters."""
    first, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= _BATCH_BYTES:
            yield first, texts[first : i + 1]
            first, size = i + 1, 0
    if first < len(texts):
        yield first, texts[first:]
