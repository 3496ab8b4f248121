"""Model-free baseline: zstandard-compressed size in bits over raw UTF-8 bytes, per document."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import zstandard

from segpile_lab._progress import progress_bar
from segpile_lab.bpb.scores import DocumentScores
from segpile_lab.errors import DataError

__all__ = ["ZstdScorer"]


class ZstdScorer:
    """Each document compressed alone with ``zstandard.ZstdCompressor(level=...)``.

    The NLL of a document is its compressed size (including the few bytes of frame header) in
    bits, expressed in nats, so pooled BPB = Σ compressed bits / Σ raw bytes.

    Args:
        level: zstd compression level (1–22).
        dictionary: None, raw dictionary bytes or a ``zstandard.ZstdCompressionDict``; train one
            on a *separate* split with `ZstdScorer.train`.
    """

    is_trained = True

    def __init__(
        self, level: int = 19, dictionary: bytes | zstandard.ZstdCompressionDict | None = None
    ) -> None:
        if isinstance(dictionary, bytes):
            dictionary = zstandard.ZstdCompressionDict(dictionary)
        self.level = level
        self.dictionary = dictionary
        self.name = f"zstd-{level}" + ("" if dictionary is None else "+dict")
        self._compressor = zstandard.ZstdCompressor(level=level, dict_data=dictionary)

    def __reduce__(self) -> tuple[type[ZstdScorer], tuple[int, bytes | None]]:
        """Rebuilt from level and dictionary bytes (the compressor itself does not pickle), so
        the scorer can go to Ray workers."""
        data = None if self.dictionary is None else self.dictionary.as_bytes()
        return type(self), (self.level, data)

    @classmethod
    def train(cls, texts: Sequence[str], *, level: int = 19, dict_size: int = 16_384) -> ZstdScorer:
        """A scorer with a dictionary trained on `texts` (use a split you do not evaluate on).

        Raises:
            DataError: too few or too small training texts for zstd's dictionary trainer.
        """
        samples: list[bytes | bytearray | memoryview] = [t.encode("utf-8") for t in texts if t]
        try:
            dictionary = zstandard.train_dictionary(dict_size, samples, level=level)
        except zstandard.ZstdError as exc:
            raise DataError(
                f"zstd dictionary training failed on {len(samples)} texts "
                f"({sum(map(len, samples)):,} bytes): {exc}; give it more training documents "
                "or a smaller dict_size"
            ) from exc
        return cls(level, dictionary)

    @property
    def description(self) -> str:
        extra = (
            ""
            if self.dictionary is None
            else f" with a {len(self.dictionary.as_bytes()):,}-byte dictionary (separate split)"
        )
        return f"{self.name}: zstd level {self.level}{extra}, each document compressed alone"

    def compressed_bits(self, data: bytes) -> int:
        """Size in bits of `data` compressed alone."""
        return 8 * len(self._compressor.compress(data))

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        """Per-document compressed bits, as NLL in nats; no tokens."""
        bits = [
            self.compressed_bits(t.encode("utf-8"))
            for t in progress_bar(texts, progress=progress, desc=self.name, unit="doc")
        ]
        return DocumentScores(np.asarray(bits, dtype=np.float64) * math.log(2))
