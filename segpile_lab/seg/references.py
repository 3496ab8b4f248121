"""Reference predictions for comparisons when no human annotation exists.

`mirrored_prediction` segments the left-right mirrored photo and mirrors every map back, so it
lines up with the original. A model that understood the scene barely changes its answer under
mirroring; the disagreement between the two measures *flip consistency*, not accuracy.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from segpile_lab.seg.images import rgb_array

if TYPE_CHECKING:
    from segpile_lab.seg.results import SegmentationResult


def _flip(value: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(value[..., ::-1])


def mirror_result(result: Any, model_name: str | None = None) -> Any:
    """A copy of a SegmentationResult dataclass with every array flipped along its last (x) axis:
    the full-size maps ``(H, W)``, the logit-grid arrays ``(k, h, w)`` and the `grid_maps`."""
    changes: dict[str, Any] = {
        f.name: _flip(value)
        for f in dataclasses.fields(result)
        if isinstance(value := getattr(result, f.name), np.ndarray)
    }
    if getattr(result, "grid_maps", None):
        changes["grid_maps"] = {name: _flip(v) for name, v in result.grid_maps.items()}
    if model_name is not None:
        changes["model_name"] = model_name
    return dataclasses.replace(result, **changes)


def mirrored_prediction(
    segmenter: Any, image: Any, **predict_options: Any
) -> SegmentationResult:
    """Segment the mirrored `image` and mirror the result back onto the original's pixels."""
    flipped = np.ascontiguousarray(rgb_array(image)[:, ::-1])
    result = segmenter.predict(flipped, **predict_options)
    return mirror_result(result, f"{result.model_name}, mirrored input")
