"""Class names, class colours and the colour maps the viewer shares between Python and JavaScript.

The same lookup tables drive the live widget (sent once as JSON) and the static PNG rendered in
Python for exported reports, so both show identical colours.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping
from functools import cache

import numpy as np

# continuous layer -> matplotlib colour map (bright = high value)
LAYER_COLORMAPS: dict[str, str] = {
    "confidence": "viridis",
    "margin": "viridis",
    "entropy": "magma",
    "mutual_information": "magma",
}


def class_names(id2label: Mapping[int, str], num_classes: int) -> list[str]:
    """Names for ids ``0..num_classes-1``; ids missing from `id2label` read ``class <id>``."""
    labels = {int(k): str(v) for k, v in id2label.items()}
    return [labels.get(i, f"class {i}") for i in range(num_classes)]


def class_palette(num_classes: int) -> np.ndarray:
    """``(num_classes, 3)`` uint8 colours: the standard ADE20K palette for 150 classes, else a
    deterministic golden-ratio hue wheel (distinct neighbouring ids)."""
    ade = _ade20k_palette()
    if ade is not None and len(ade) == num_classes:
        return ade
    hues = (np.arange(num_classes) * 0.618033988749895) % 1.0
    rgb = [colorsys.hsv_to_rgb(h, 0.65 + 0.3 * (i % 2), 0.95 - 0.25 * (i % 3 == 2))
           for i, h in enumerate(hues)]
    return np.round(np.asarray(rgb).reshape(num_classes, 3) * 255).astype(np.uint8)


def _ade20k_palette() -> np.ndarray | None:
    """The segmentation engine's ADE20K palette, or None while that module is unavailable."""
    try:
        from segpile_lab.seg.ade20k import ADE20K
    except ImportError:
        return None
    return np.asarray(ADE20K.palette, dtype=np.uint8).reshape(-1, 3)


@cache
def colormap_lut(name: str) -> np.ndarray:
    """``(256, 3)`` uint8 lookup table of a matplotlib colour map."""
    from matplotlib import colormaps

    return np.round(colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
