"""Class names, class colours and the colour maps the viewer shares between Python and JavaScript.

The same lookup tables drive the live widget (sent once as JSON) and the static PNG rendered in
Python for exported reports, so both show identical colours.
"""

from __future__ import annotations

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


@cache
def colormap_lut(name: str) -> np.ndarray:
    """``(256, 3)`` uint8 lookup table of a matplotlib colour map."""
    from matplotlib import colormaps

    return np.round(colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
