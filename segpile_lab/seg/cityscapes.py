"""Cityscapes' 19 evaluation classes (train ids 0–18) and their official colours.

The names and RGB colours are the ``trainId`` rows of the Cityscapes benchmark's label table
(``cityscapesscripts/helpers/labels.py``), which the ``nvidia/segformer-b*-finetuned-cityscapes``
checkpoints use in their ``id2label``. Pixels outside these classes carry the ignore value 255.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CITYSCAPES_COLORS", "CITYSCAPES_NAMES"]

_TABLE: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("road", (128, 64, 128)),
    ("sidewalk", (244, 35, 232)),
    ("building", (70, 70, 70)),
    ("wall", (102, 102, 156)),
    ("fence", (190, 153, 153)),
    ("pole", (153, 153, 153)),
    ("traffic light", (250, 170, 30)),
    ("traffic sign", (220, 220, 0)),
    ("vegetation", (107, 142, 35)),
    ("terrain", (152, 251, 152)),
    ("sky", (70, 130, 180)),
    ("person", (220, 20, 60)),
    ("rider", (255, 0, 0)),
    ("car", (0, 0, 142)),
    ("truck", (0, 0, 70)),
    ("bus", (0, 60, 100)),
    ("train", (0, 80, 100)),
    ("motorcycle", (0, 0, 230)),
    ("bicycle", (119, 11, 32)),
)
CITYSCAPES_NAMES: tuple[str, ...] = tuple(name for name, _ in _TABLE)
CITYSCAPES_COLORS: np.ndarray = np.asarray([color for _, color in _TABLE], dtype=np.uint8)
CITYSCAPES_COLORS.setflags(write=False)
