"""`SegmentationResult`: what `Segmenter.predict` returns for one image.

All maps are numpy arrays of the image's original size `(H, W)`. Labels are exact (argmax of the
logits upsampled bilinearly to `(H, W)`, as HF's post-processing). The uncertainty maps are
computed where `uncertainty_resolution` says: ``"logits"`` (default) = on the model's
`(H/4, W/4)`-of-512 grid (128×128), then upsampled bilinearly to `(H, W)`; ``"full"`` = per
pixel of the full-resolution logits (exact; H·W / 128² times the softmax work).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segpile_lab.provenance import Provenance

UNCERTAINTY_LAYERS = (
    "confidence",
    "entropy",
    "entropy_normalized",
    "margin",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "top_class_variance",
)


@dataclass(repr=False)
class SegmentationResult:
    """Labels and per-pixel uncertainty for one image.

    Attributes:
        labels: `(H, W)` class ids (uint8 when the model has ≤ 255 classes).
        confidence: `(H, W)` float32 max softmax probability, or None without uncertainty.
        entropy: `(H, W)` float32 softmax entropy in nats (0 … ln C).
        margin: `(H, W)` float32 top-1 minus top-2 probability.
        predictive_entropy, expected_entropy, mutual_information, top_class_variance:
            `(H, W)` float32 Monte-Carlo-dropout maps (nats; variance of the top class's
            probability across samples), only when `mc_samples > 0`.
        id2label: class id → name; model_name; is_trained (False for demo weights).
        image_size: `(height, width)` of the input image.
        uncertainty_resolution: ``"logits"`` or ``"full"`` (see the module docstring).
        mc_samples: number of stochastic passes (0 = deterministic only).
        mc_active: names of the dropout / drop-path modules that were active in MC passes.
        source: file name or a short description of the input.
        grid_maps: the uncertainty maps `(h, w)` float32 on the logit grid before upsampling,
            the cells of `topk` (confidence = top-1 probability of the same cell); empty
            without uncertainty.
    """

    labels: np.ndarray
    id2label: dict[int, str]
    model_name: str
    is_trained: bool
    image_size: tuple[int, int]
    confidence: np.ndarray | None = None
    entropy: np.ndarray | None = None
    margin: np.ndarray | None = None
    predictive_entropy: np.ndarray | None = None
    expected_entropy: np.ndarray | None = None
    mutual_information: np.ndarray | None = None
    top_class_variance: np.ndarray | None = None
    uncertainty_resolution: str = "logits"
    mc_samples: int = 0
    mc_active: tuple[str, ...] = ()
    source: str = ""
    topk_probabilities: np.ndarray | None = field(default=None)
    topk_indices: np.ndarray | None = field(default=None)
    low_res_probabilities: np.ndarray | None = field(default=None)
    grid_maps: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @property
    def provenance(self) -> Provenance:
        """Untrained for demo weights (`is_trained` False)."""
        return Provenance(is_trained=self.is_trained)

    @property
    def entropy_normalized(self) -> np.ndarray | None:
        """Entropy divided by ln C: 0 = certain, 1 = uniform over all classes."""
        if self.entropy is None:
            return None
        return self.entropy / np.float32(math.log(self.num_labels))

    def layer(self, name: str) -> np.ndarray:
        """One uncertainty map by name (see `UNCERTAINTY_LAYERS`); raises if it was not computed."""
        if name not in UNCERTAINTY_LAYERS:
            raise ValueError(f"unknown layer {name!r}; choose one of {UNCERTAINTY_LAYERS}")
        values = getattr(self, name)
        if values is None:
            hint = "mc_samples > 0" if name not in UNCERTAINTY_LAYERS[:4] else "uncertainty=True"
            raise ValueError(f"layer {name!r} was not computed; call predict(..., {hint})")
        return values

    def available_layers(self) -> list[str]:
        """Names of the uncertainty maps this result holds."""
        return [name for name in UNCERTAINTY_LAYERS if getattr(self, name) is not None]

    def topk(self, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` classes per cell of the logit grid: probabilities `(k, h, w)` float32 and
        class ids `(k, h, w)` int16 (h, w = 128 for SegFormer at 512×512), best first."""
        if self.topk_probabilities is None or self.topk_indices is None:
            raise ValueError("top-k was not computed; call predict(..., uncertainty=True)")
        stored = self.topk_probabilities.shape[0]
        if k > stored:
            if self.low_res_probabilities is None:
                raise ValueError(
                    f"only the top {stored} classes were kept; call "
                    "predict(..., return_probabilities=True) for a larger k"
                )
            order = np.argsort(-self.low_res_probabilities, axis=0, kind="stable")[:k]
            values = np.take_along_axis(self.low_res_probabilities, order, axis=0)
            return values, order.astype(np.int16)
        return self.topk_probabilities[:k], self.topk_indices[:k]

    def probabilities(self) -> np.ndarray:
        """Softmax probabilities `(C, h, w)` float32 on the logit grid (128×128)."""
        if self.low_res_probabilities is None:
            raise ValueError(
                "probabilities were not kept; call predict(..., return_probabilities=True)"
            )
        return self.low_res_probabilities

    def class_shares(self) -> Any:
        """Polars frame, one row per class present, largest first: ``class_id``, ``name``,
        ``pixels``, ``share`` (of all pixels, 0…1) and ``mean_confidence`` (null without
        uncertainty)."""
        import polars as pl

        flat = self.labels.reshape(-1).astype(np.int64)
        counts = np.bincount(flat, minlength=self.num_labels)
        present = np.flatnonzero(counts)
        mean_conf: list[float | None] = [None] * len(present)
        if self.confidence is not None:
            sums = np.bincount(flat, weights=self.confidence.reshape(-1), minlength=self.num_labels)
            mean_conf = (sums[present] / counts[present]).tolist()
        frame = pl.DataFrame(
            {
                "class_id": present.astype(np.int64),
                "name": [self.id2label.get(int(i), f"class {int(i)}") for i in present],
                "pixels": counts[present].astype(np.int64),
                "share": counts[present] / flat.size,
                "mean_confidence": pl.Series(mean_conf, dtype=pl.Float64),
            }
        )
        return frame.sort(["pixels", "class_id"], descending=[True, False])

    def __repr__(self) -> str:
        height, width = self.image_size
        trained = f", {self.provenance.note}" if not self.is_trained else ""
        layers = ", ".join(self.available_layers()) or "labels only"
        return (
            f"SegmentationResult({width}×{height}, {self.num_labels} classes, "
            f"model={self.model_name!r}{trained}; {layers})"
        )
