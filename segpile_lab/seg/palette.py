"""Class colours shared by overlays, the viewer and the model's label maps (no torch needed)."""

from __future__ import annotations

import colorsys
from collections.abc import Mapping

import numpy as np

from segpile_lab.seg.ade20k import ADE20K
from segpile_lab.seg.cityscapes import CITYSCAPES_COLORS, CITYSCAPES_NAMES

__all__ = ["label_set", "palette_for"]


def label_set(classes: int | Mapping[int, str]) -> str | None:
    """``"ADE20K"`` or ``"Cityscapes"`` when `classes` (a count or an ``id2label``) is that
    label set, else None. Cityscapes is recognised by its 19 names, ADE20K by its 150 classes."""
    if isinstance(classes, Mapping):
        names = tuple(str(classes[i]).strip().lower() for i in sorted(classes))
        if names == CITYSCAPES_NAMES:
            return "Cityscapes"
    count = len(classes) if isinstance(classes, Mapping) else int(classes)
    if count == ADE20K.num_classes:
        return "ADE20K"
    return None


def palette_for(classes: int | Mapping[int, str]) -> np.ndarray:
    """`(count, 3)` uint8 class colours for a class count or a checkpoint's ``id2label``.

    The label set's own palette when the classes are ADE20K's 150 or Cityscapes' 19 (recognised
    by their names when `classes` is an ``id2label``; a bare count of 150 means ADE20K), else a
    deterministic golden-ratio hue wheel (neighbouring ids get distinct, readable colours).
    Overlays and the viewer both use it, so a class has one colour everywhere.
    """
    known = label_set(classes)
    if known == "Cityscapes":
        return CITYSCAPES_COLORS
    if known == "ADE20K":
        return ADE20K.palette
    count = len(classes) if isinstance(classes, Mapping) else int(classes)
    hues = (np.arange(count) * 0.618033988749895) % 1.0
    rgb = [
        colorsys.hsv_to_rgb(hue, 0.65 + 0.3 * (i % 2), 0.95 - 0.25 * (i % 3 == 2))
        for i, hue in enumerate(hues)
    ]
    return np.round(np.asarray(rgb).reshape(count, 3) * 255).astype(np.uint8)
