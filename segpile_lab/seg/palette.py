"""Class colours shared by overlays, the viewer and the model's label maps (no torch needed)."""

from __future__ import annotations

import colorsys

import numpy as np

from segpile_lab.seg.ade20k import ADE20K

__all__ = ["palette_for"]


def palette_for(count: int) -> np.ndarray:
    """`(count, 3)` uint8 class colours: ADE20K's palette for 150 classes, else a deterministic
    golden-ratio hue wheel (neighbouring ids get distinct, readable colours). Overlays and the
    viewer both use it, so a class has one colour everywhere."""
    if count == ADE20K.num_classes:
        return ADE20K.palette
    hues = (np.arange(count) * 0.618033988749895) % 1.0
    rgb = [
        colorsys.hsv_to_rgb(hue, 0.65 + 0.3 * (i % 2), 0.95 - 0.25 * (i % 3 == 2))
        for i, hue in enumerate(hues)
    ]
    return np.round(np.asarray(rgb).reshape(count, 3) * 255).astype(np.uint8)
