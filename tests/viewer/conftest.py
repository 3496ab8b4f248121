"""Fixtures for the viewer: a small hand-built stand-in SegmentationResult with known maps.

The stand-in follows the SegmentationResult contract of ARCHITECTURE.md and computes its maps
from explicit probabilities, so tests can check the viewer against independent numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from segpile_lab.provenance import Provenance


def entropy_of(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats over axis 0."""
    return -(probs * np.log(np.clip(probs, 1e-12, 1))).sum(0)


@dataclass
class StandInResult:
    """SegmentationResult contract from a probability cube ``(C, H, W)`` given at full size and
    at logit resolution ``(C, h, w)``; with `mc_probs` ``(T, C, h, w)`` the MC maps too."""

    probs: np.ndarray
    logit_probs: np.ndarray
    id2label: dict[int, str]
    is_trained: bool = False
    model_name: str = "stand-in"
    mc_probs: np.ndarray | None = None
    mutual_information: np.ndarray | None = None
    predictive_entropy: np.ndarray | None = None
    expected_entropy: np.ndarray | None = None
    mc_samples: int = 0
    labels: np.ndarray = field(init=False)
    confidence: np.ndarray = field(init=False)
    entropy: np.ndarray = field(init=False)
    entropy_normalized: np.ndarray = field(init=False)
    margin: np.ndarray = field(init=False)
    grid_maps: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        ordered = np.sort(self.probs, axis=0)
        self.labels = self.probs.argmax(0)
        self.confidence = ordered[-1]
        self.margin = ordered[-1] - ordered[-2]
        self.entropy = entropy_of(self.probs)
        self.entropy_normalized = self.entropy / math.log(self.probs.shape[0])
        self.grid_maps = {"entropy": entropy_of(self.logit_probs).astype(np.float32)}
        if self.mc_probs is not None:
            pe = entropy_of(self.mc_probs.mean(0))
            ee = np.mean([entropy_of(p) for p in self.mc_probs], axis=0)
            grid = {"predictive_entropy": pe, "expected_entropy": ee,
                    "mutual_information": np.maximum(pe - ee, 0)}
            h, w = self.labels.shape
            lh, lw = pe.shape
            rows, cols = np.arange(h) * lh // h, np.arange(w) * lw // w
            for name, values in grid.items():
                self.grid_maps[name] = values.astype(np.float32)
                setattr(self, name, values[rows][:, cols].astype(np.float32))
            self.mc_samples = len(self.mc_probs)

    @property
    def provenance(self) -> Provenance:
        return Provenance(is_trained=self.is_trained)

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
    mc_probs = None
    if mc:  # 4 dropout passes: the logits jittered
        noisy = logits + rng.normal(scale=1.0, size=(4, *logits.shape))
        mc_probs = np.exp(noisy) / np.exp(noisy).sum(1, keepdims=True)
    return StandInResult(full, small.astype(np.float32),
                         {i: f"class{i}" for i in range(num_classes)}, is_trained=is_trained,
                         model_name=model_name, mc_probs=mc_probs)


def make_image(height: int = 12, width: int = 16, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@pytest.fixture
def result() -> StandInResult:
    return make_result()


@pytest.fixture
def image() -> np.ndarray:
    return make_image()
