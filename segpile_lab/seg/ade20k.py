"""ADE20K (SceneParsing 2016, 150 classes): names, palette, priors, ground truth, folders.

The class table `ade20k150.csv` beside this module holds facts from the dataset's devkit:
``objectInfo150.txt`` (CSAILVision/sceneparsing: synonyms, pixel ratio, image counts) and the
150 short names and the standard colour palette used by SegFormer/mmsegmentation
(``ade20k_names.txt``, ``ade20k_colors.txt``). The short name is the first synonym of
objectInfo150 except for class 89, which the model cards call ``"television receiver"``.

Class ids are 0-based (0 = wall … 149 = flag), as the model's logits are. Annotation PNGs store
id + 1 and use 0 for "other" (not one of the 150 classes), which we map to `IGNORE_INDEX`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from segpile_lab.errors import DataError, ImageLoadError, wrap_errors

IGNORE_INDEX = 255
_TABLE = Path(__file__).with_name("ade20k150.csv")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class _ADE20K:
    """The 150 ADE20K classes: `names`, `synonyms`, `palette (150, 3) uint8`, `pixel_ratio`."""

    num_classes: int = 150
    ignore_index: int = IGNORE_INDEX

    @cached_property
    def _rows(self) -> list[dict[str, str]]:
        with _TABLE.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Short class names, index = class id."""
        return tuple(row["name"] for row in self._rows)

    @cached_property
    def synonyms(self) -> tuple[str, ...]:
        """The full comma-separated WordNet synonyms of objectInfo150."""
        return tuple(row["synonyms"] for row in self._rows)

    @cached_property
    def palette(self) -> np.ndarray:
        """The standard ADE20K colours, `(150, 3)` uint8 RGB."""
        return np.array([[int(row[c]) for c in "rgb"] for row in self._rows], dtype=np.uint8)

    @cached_property
    def pixel_ratio(self) -> np.ndarray:
        """Share of all training pixels per class (objectInfo150 "Ratio"), `(150,)` float64."""
        return np.array([float(row["pixel_ratio"]) for row in self._rows])

    @cached_property
    def id2label(self) -> dict[int, str]:
        """`{class id: short name}` as in the SegFormer ADE20K model configs."""
        return dict(enumerate(self.names))


ADE20K = _ADE20K()


def load_ade20k_annotation(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an ADE20K annotation PNG as `(H, W)` uint8 class ids: 0 → 255 (ignore), k → k − 1.

    Raises:
        ImageLoadError: the file is missing, unreadable, not single-channel or holds values > 150.
    """
    from PIL import Image

    path = Path(path)
    with (
        wrap_errors(ImageLoadError, path, "cannot read annotation", (OSError, ValueError)),
        Image.open(path) as image,
    ):
        image.load()
        if image.mode not in {"L", "P"}:
            raise ImageLoadError(
                f"{path}: ADE20K annotations are single-channel (mode L or P), got {image.mode}"
            )
        raw = np.asarray(image, dtype=np.uint8)
    if raw.size and int(raw.max()) > ADE20K.num_classes:
        raise ImageLoadError(
            f"{path}: value {int(raw.max())} is not an ADE20K label (0 = other, 1..150 = classes)"
        )
    return np.where(raw == 0, IGNORE_INDEX, raw - 1).astype(np.uint8)


def iter_ade20k(
    root: str | os.PathLike[str], split: str = "validation"
) -> Iterator[tuple[Path, Path]]:
    """Yield `(image_path, annotation_path)` pairs of an ``ADEChallengeData2016`` folder.

    `root` is the folder holding ``images/<split>`` and ``annotations/<split>`` (or those two
    folders' parent without the split level, as in ``../shared/data/ade20k``). Pairs come sorted by
    name; an image without its annotation raises rather than being skipped silently.
    """
    root = Path(root)
    for images, labels in (
        (root / "images" / split, root / "annotations" / split),
        (root / "images", root / "annotations"),
    ):
        if images.is_dir() and labels.is_dir():
            break
    else:
        raise DataError(
            f"{root}: expected images/{split} and annotations/{split} (ADEChallengeData2016 layout)"
        )
    yield from pair_images_with_annotations(images, labels)


def pair_images_with_annotations(
    images: str | os.PathLike[str], annotations: str | os.PathLike[str]
) -> Iterator[tuple[Path, Path]]:
    """Pair each image (.jpg/.jpeg/.png, sorted by name) in `images` with the same-stem ``.png``
    in `annotations`; a missing annotation raises `DataError` naming both files."""
    images, annotations = Path(images), Path(annotations)
    for folder in (images, annotations):
        if not folder.is_dir():
            raise DataError(f"{folder}: no such folder")
    image_paths = sorted(p for p in images.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    if not image_paths:
        raise DataError(f"{images}: no .jpg/.png images")
    for image_path in image_paths:
        annotation_path = annotations / f"{image_path.stem}.png"
        if not annotation_path.is_file():
            raise DataError(f"{image_path}: no annotation {annotation_path}")
        yield image_path, annotation_path
