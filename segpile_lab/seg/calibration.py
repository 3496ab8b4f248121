"""Temperature scaling (Guo et al. 2017): one scalar T > 0 that divides the logits.

`fit_temperature` runs the model once over a validation set, samples up to
`pixels_per_image` labelled pixels per image (their logits read off the 128×128 grid by the
same bilinear interpolation that `predict` upsamples with), and minimises the mean negative
log-likelihood of the true class over log T with L-BFGS. Memory is bounded by
``images × pixels_per_image × C`` floats (1,000 pixels × 150 classes = 0.6 MB per image).

T > 1 softens an over-confident model, T < 1 sharpens an under-confident one; argmax, and so
every label, is unchanged. The segmenter carries the fitted value (``segmenter.temperature``),
and every later softmax (confidence, entropy, margin, top-k, Monte-Carlo maps, ECE and the
reliability diagram) uses it; set it back to 1.0 to see the model as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from segpile_lab._progress import progress_bar
from segpile_lab.errors import DataError
from segpile_lab.seg.dataset import as_dataset
from segpile_lab.seg.metrics import calibration_bins, expected_calibration_error

PIXELS_PER_IMAGE = 1000
CALIBRATION_BINS = 15


@dataclass(frozen=True)
class TemperatureFit:
    """Result of `fit_temperature`: the temperature and the validation pixels' NLL (nats) and
    ECE (15 equal-width bins) before (T = 1) and after."""

    temperature: float
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float
    pixels: int
    images: int

    def __repr__(self) -> str:
        return (
            f"TemperatureFit(T={self.temperature:.3f}; NLL {self.nll_before:.3f} → "
            f"{self.nll_after:.3f} nats, ECE {self.ece_before:.3f} → {self.ece_after:.3f}; "
            f"{self.pixels} pixels of {self.images} images)"
        )


def fit_temperature(
    segmenter: Any,
    data: Any,
    annotations: Any = None,
    *,
    pixels_per_image: int = PIXELS_PER_IMAGE,
    seed: int = 0,
    apply: bool = True,
    progress: bool | None = None,
) -> TemperatureFit:
    """Fit the softmax temperature of `segmenter` on validation data by NLL.

    Args:
        data, annotations: validation images and ground truth (anything
            `segpile_lab.seg.dataset.as_dataset` takes).
        pixels_per_image: labelled pixels sampled per image (uniformly, seeded).
        apply: set ``segmenter.temperature`` to the fitted value.
    Raises:
        DataError: no labelled pixel in the whole set.
    """
    from segpile_lab.seg.inference import AUTO, _forward_fn

    dataset = as_dataset(data, annotations, label_format=segmenter.preprocessing.label_format)
    forward = _forward_fn(segmenter, AUTO)
    rng = np.random.default_rng(seed)
    logits_parts, target_parts = [], []
    for index in progress_bar(range(len(dataset)), progress=progress, desc="calibrating"):
        image, target = dataset[index]
        logits = forward(segmenter.preprocessing([image]))[0]
        sampled = _sample_pixels(logits, target, segmenter.num_labels, pixels_per_image, rng)
        if sampled is not None:
            logits_parts.append(sampled[0])
            target_parts.append(sampled[1])
    if not logits_parts:
        raise DataError("no labelled pixels to fit a temperature on")
    logits, targets = torch.cat(logits_parts).double(), torch.cat(target_parts)
    temperature = _minimise_nll(logits, targets)
    before, after = _scores(logits, targets, 1.0), _scores(logits, targets, temperature)
    if apply:
        segmenter.temperature = temperature
    return TemperatureFit(
        temperature, before[0], after[0], before[1], after[1], len(targets), len(dataset)
    )


def _sample_pixels(
    logits: torch.Tensor, target: np.ndarray, num_labels: int, count: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Logits `(n, C)` at up to `count` labelled pixels of `target` and their classes `(n,)`."""
    rows, cols = np.nonzero(target < num_labels)
    if rows.size == 0:
        return None
    pick = rng.choice(rows.size, size=min(count, rows.size), replace=False)
    rows, cols = rows[pick], cols[pick]
    height, width = target.shape
    # grid_sample (align_corners=False, border) = F.interpolate(bilinear, align_corners=False)
    grid = torch.from_numpy(
        np.stack([(2 * cols + 1) / width - 1, (2 * rows + 1) / height - 1], axis=-1)
    ).float()
    values = F.grid_sample(
        logits[None].float(),
        grid[None, None],
        mode="bilinear",
        padding_mode="border",
        align_corners=False,
    )[0, :, 0].T
    return values, torch.from_numpy(target[rows, cols].astype(np.int64))


def _minimise_nll(logits: torch.Tensor, targets: torch.Tensor) -> float:
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def _scores(logits: torch.Tensor, targets: torch.Tensor, temperature: float) -> tuple[float, float]:
    """Mean NLL (nats) and ECE of the sampled pixels at `temperature`."""
    with torch.no_grad():
        scaled = logits / temperature
        nll = float(F.cross_entropy(scaled, targets))
        probabilities = scaled.softmax(1)
        confidence, predicted = probabilities.max(1)
    correct = (predicted == targets).numpy()
    bins = calibration_bins(confidence.numpy(), correct, CALIBRATION_BINS)
    return nll, expected_calibration_error(*bins)
