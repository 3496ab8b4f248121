"""Per-pixel labels and softmax uncertainty from logits, streamed over class chunks.

Everything here works on logits `(C, H, W)` that arrive in chunks of classes, so that a huge
image never holds C full-resolution float32 planes at once: only a handful of `(H, W)` running
planes (an online softmax, as in flash attention). For each pixel with logits l and top logit m:

* ``labels``      argmax l (first index on ties, as `torch.argmax`)
* ``confidence``  max softmax probability = 1 / Z with Z = Σ exp(l − m)
* ``entropy``     −Σ p ln p = ln Z − Σ exp(l − m)(l − m) / Z, in nats
* ``margin``      top-1 minus top-2 probability = (1 − exp(l₂ − m)) / Z
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass
class PixelStats:
    """Running maps `(H, W)`: label, top-2 logits and the softmax sums Z and S."""

    labels: torch.Tensor
    top1: torch.Tensor
    top2: torch.Tensor | None = None
    z: torch.Tensor | None = None
    s: torch.Tensor | None = None

    def softmax_sums(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(top2, z, s)``, kept only when the stats were made with ``softmax=True``."""
        if self.top2 is None or self.z is None or self.s is None:
            raise ValueError("made with softmax=False: only labels and the top logit are kept")
        return self.top2, self.z, self.s

    def confidence(self) -> torch.Tensor:
        _, z, _ = self.softmax_sums()
        return 1.0 / z

    def entropy(self) -> torch.Tensor:
        _, z, s = self.softmax_sums()
        return (torch.log(z) - s / z).clamp_min_(0.0)

    def margin(self) -> torch.Tensor:
        top2, z, _ = self.softmax_sums()
        return (1.0 - torch.exp(top2 - self.top1)) / z


def stream_stats(chunks: Iterable[torch.Tensor], *, softmax: bool = True) -> PixelStats:
    """Fold class chunks `(c_i, H, W)` (in class order) into `PixelStats`.

    With ``softmax=False`` only labels and the top logit are kept (cheapest path).
    """
    stats: PixelStats | None = None
    offset = 0
    for chunk in chunks:
        chunk = chunk.float()
        if stats is None:
            stats = _first(chunk, softmax)
        else:
            _update(stats, chunk, offset, softmax)
        offset += chunk.shape[0]
    if stats is None:
        raise ValueError("no logits to reduce (zero classes)")
    return stats


def _first(chunk: torch.Tensor, softmax: bool) -> PixelStats:
    top1, labels = chunk.max(dim=0)
    stats = PixelStats(labels=labels, top1=top1)
    if softmax:
        stats.top2 = _second(chunk)
        shifted = chunk - top1
        exp = torch.exp(shifted)
        stats.z = exp.sum(dim=0)
        stats.s = (exp * shifted).sum(dim=0)
    return stats


def _second(chunk: torch.Tensor) -> torch.Tensor:
    if chunk.shape[0] < 2:
        return torch.full(chunk.shape[1:], float("-inf"))
    return chunk.topk(2, dim=0).values[1]


def _update(stats: PixelStats, chunk: torch.Tensor, offset: int, softmax: bool) -> None:
    chunk_max, chunk_labels = chunk.max(dim=0)
    better = chunk_max > stats.top1  # strict: the earlier class wins ties, as torch.argmax
    new_top1 = torch.maximum(stats.top1, chunk_max)
    if softmax:
        # second best overall: the best of (old top2, chunk top2, the loser of the two top1s)
        top2, z, s = stats.softmax_sums()
        loser = torch.minimum(stats.top1, chunk_max)
        stats.top2 = torch.maximum(torch.maximum(top2, _second(chunk)), loser)
        # rescale the running sums to the new maximum, then add this chunk
        delta = stats.top1 - new_top1  # <= 0
        scale = torch.exp(delta)
        shifted = chunk - new_top1
        exp = torch.exp(shifted)
        stats.s = scale * (s + delta * z) + (exp * shifted).sum(dim=0)
        stats.z = scale * z + exp.sum(dim=0)
    stats.labels = torch.where(better, chunk_labels + offset, stats.labels)
    stats.top1 = new_top1


CHUNK_BYTES = 256 * 2**20  # most full-resolution logits held at once (a few class planes)


def upsampled_chunks(
    logits: torch.Tensor, size: tuple[int, int], *, max_bytes: int | None = None
) -> Iterator[torch.Tensor]:
    """Yield `logits (C, h, w)` bilinearly upsampled to `size` (align_corners=False, as HF's
    post-processing), a few classes at a time so that one chunk stays under `max_bytes`
    (default `CHUNK_BYTES`)."""
    max_bytes = CHUNK_BYTES if max_bytes is None else max_bytes
    classes = logits.shape[0]
    plane = size[0] * size[1] * 4
    step = max(1, min(classes, max_bytes // max(plane, 1)))
    for start in range(0, classes, step):
        part = _batch_of_one(logits[start : start + step])
        yield F.interpolate(part, size=size, mode="bilinear", align_corners=False)[0]


def _batch_of_one(logits: torch.Tensor) -> torch.Tensor:
    """`(C, h, w)` → `(1, C, h, w)` computed on exactly as HF's ``logits[i].unsqueeze(0)`` is.

    A slice of a channels-last batch (what the model returns for N > 1) has class stride 1;
    ``unsqueeze(0)`` gives it a degenerate batch stride, so PyTorch runs its channels-last
    kernel but writes NCHW output through a slow strided path. Viewing the same memory as a
    proper channels-last tensor runs the same arithmetic (same bits) several times faster.
    """
    if logits.shape[0] > 1 and logits.stride(0) == 1:
        return logits.permute(1, 2, 0).unsqueeze(0).permute(0, 3, 1, 2)
    return logits.unsqueeze(0)


def upsample_map(values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly upsample one `(h, w)` map to `size` (align_corners=False)."""
    if tuple(values.shape) == tuple(size):
        return values
    return F.interpolate(values[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
