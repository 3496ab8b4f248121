"""Fixtures for the viewer: a small hand-built stand-in SegmentationResult with known maps.

The stand-in follows the SegmentationResult contract of ARCHITECTURE.md and computes its maps
from explicit probabilities, so tests can check the viewer against independent numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest


@dataclass
class StandInResult:
    """SegmentationResult contract from a probability cube ``(C, H, W)`` given at full size and
    at logit resolution ``(C, h, w)``."""

    probs: np.ndarray
    logit_probs: np.ndarray
    id2label: dict[int, str]
    is_trained: bool = False
    model_name: str = "stand-in"
    mutual_information: np.ndarray | None = None
    labels: np.ndarray = field(init=False)
    confidence: np.ndarray = field(init=False)
    entropy: np.ndarray = field(init=False)
    entropy_normalized: np.ndarray = field(init=False)
    margin: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        ordered = np.sort(self.probs, axis=0)
        self.labels = self.probs.argmax(0)
        self.confidence = ordered[-1]
        self.margin = ordered[-1] - ordered[-2]
        self.entropy = -(self.probs * np.log(np.clip(self.probs, 1e-12, 1))).sum(0)
        self.entropy_normalized = self.entropy / math.log(self.probs.shape[0])

    def topk(self, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """``(probabilities, class ids)``, each ``(k, h, w)``, as the engine returns them."""
        order = np.argsort(-self.logit_probs, axis=0, kind="stable")[:k]
        return np.take_along_axis(self.logit_probs, order, axis=0), order.astype(np.int16)


def make_result(height: int = 12, width: int = 16, num_classes: int = 5, *, seed: int = 0,
                logit_size: tuple[int, int] = (3, 4), mc: bool = False,
                is_trained: bool = False, model_name: str = "stand-in") -> StandInResult:
    """Random but fixed probabilities; the full-size cube repeats the logit cells (nearest)."""
    rng = np.random.default_rng(seed)
    lh, lw = logit_size
    logits = rng.normal(scale=2.0, size=(num_classes, lh, lw))
    small = np.exp(logits) / np.exp(logits).sum(0, keepdims=True)
    rows = np.arange(height) * lh // height
    cols = np.arange(width) * lw // width
    full = small[:, rows][:, :, cols].astype(np.float32)
    mi = rng.uniform(0, 0.2, size=(height, width)).astype(np.float32) if mc else None
    return StandInResult(full, small.astype(np.float32),
                         {i: f"class{i}" for i in range(num_classes)}, is_trained=is_trained,
                         model_name=model_name, mutual_information=mi)


def make_image(height: int = 12, width: int = 16, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@pytest.fixture
def result() -> StandInResult:
    return make_result()


@pytest.fixture
def image() -> np.ndarray:
    return make_image()
