"""`SegmentationDataset`: images paired with ground-truth class-id masks, read one at a time.

Two folder layouts are understood (`load_dataset`):

* **ADE20K** (``ADEChallengeData2016``): ``root/images/<split>/*.jpg`` with
  ``root/annotations/<split>/*.png`` (or ``root/images`` + ``root/annotations``); mask value
  0 = "other" (ignored), k = class k − 1 (`label_format="ade20k"`).
* **Any images + an index-mask folder**: the pairing rule is *same file stem*: image
  ``photo_12.jpg`` (``.jpg``/``.jpeg``/``.png``, sorted by name) pairs with mask
  ``photo_12.png`` in the mask folder; an image without its mask raises `DataError` naming both.
  `load_dataset` reads mask values as the class ids themselves, 255 = ignore
  (`label_format="index"`, the torchvision / mmsegmentation convention after
  ``reduce_zero_label``); pass ``label_format="ade20k"`` for masks that store id + 1.
  `evaluate_dataset` / `sl.evaluate` / `fit_temperature` given folders or mask paths instead of
  a dataset read them in the checkpoint's convention (`Preprocessing.label_format`: id + 1 for
  ADE20K checkpoints and the demo models, which reduce labels; the id for Cityscapes), as
  transformers' processor does with ``do_reduce_labels``.

In-memory data (arrays, PIL images, paths) fits the same class, so evaluation, the gallery and
fine-tuning read every source through one interface. Nothing is decoded until an item is read,
so a folder of any size costs a list of paths.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from segpile_lab.errors import DataError, ImageLoadError, wrap_errors
from segpile_lab.seg.ade20k import (
    iter_ade20k,
    load_ade20k_annotation,
    pair_images_with_annotations,
)

LabelFormat = Literal["ade20k", "index"]


@dataclass(frozen=True)
class SegmentationDataset:
    """Images and their ground truth, in a fixed order.

    Attributes:
        images: paths, PIL images or `(H, W, 3)` uint8 arrays.
        targets: mask paths or `(H, W)` integer arrays (0-based ids, 255 = ignore), same length.
        label_format: how mask *files* store ids (``"ade20k"``: 0 = ignore, k = id + 1;
            ``"index"``: the id itself, 255 = ignore); arrays are always 0-based ids.
        name: a short description (folder or generator).
        synthetic: True for generated data (`segpile_lab.seg.synthetic`).
        id2label: the class names of the targets when they are not the model's own (a new
            label set for fine-tuning); None = the model's.
        sources: a name per image (e.g. its file name) for images held in memory, which
            `source` shows instead of ``name[index]``; None = none.
    """

    images: Sequence[Any]
    targets: Sequence[Any]
    label_format: LabelFormat = "index"
    name: str = "dataset"
    synthetic: bool = False
    id2label: dict[int, str] | None = None
    sources: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if len(self.images) != len(self.targets):
            raise DataError(f"{len(self.images)} images but {len(self.targets)} masks")
        if self.sources is not None and len(self.sources) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(self.sources)} sources")
        if self.label_format not in ("ade20k", "index"):
            raise ValueError(f"label_format must be 'ade20k' or 'index', got {self.label_format!r}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Image `(H, W, 3)` uint8 and target `(H, W)` uint8/uint16 class ids (255 = ignore)."""
        from segpile_lab.seg.images import load_image

        image = np.asarray(load_image(self.images[index]))
        target = self.target(index)
        if target.shape != image.shape[:2]:
            raise DataError(
                f"{self.source(index)}: image {image.shape[1]}×{image.shape[0]} but mask "
                f"{target.shape[1]}×{target.shape[0]}"
            )
        return image, target

    def target(self, index: int) -> np.ndarray:
        """The ground truth of item `index` as `(H, W)` 0-based class ids, 255 = ignore."""
        target = self.targets[index]
        if not isinstance(target, (str, os.PathLike)):
            return np.asarray(target)
        return read_mask(target, self.label_format)

    def source(self, index: int) -> str:
        """The image's path, its name in `sources`, or else ``name[index]``."""
        item = self.images[index]
        if isinstance(item, (str, os.PathLike)):
            return os.fspath(item)
        if self.sources is not None:
            return self.sources[index]
        return f"{self.name}[{index}]"

    def subset(self, indices: Sequence[int]) -> SegmentationDataset:
        """The items at `indices`, in that order (e.g. a train/validation split)."""
        return SegmentationDataset(
            [self.images[i] for i in indices],
            [self.targets[i] for i in indices],
            self.label_format,
            self.name,
            self.synthetic,
            self.id2label,
            None if self.sources is None else [self.sources[i] for i in indices],
        )


def read_mask(path: str | os.PathLike[str], label_format: LabelFormat) -> np.ndarray:
    """A mask file as `(H, W)` 0-based class ids, 255 = ignore, read by `label_format`
    (``"ade20k"``: stored as id + 1 with 0 = ignore; ``"index"``: stored as the id)."""
    if label_format == "ade20k":
        return load_ade20k_annotation(path)
    return load_index_mask(path)


def load_index_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a mask PNG whose pixel values are class ids (255 = ignore), `(H, W)` uint8/uint16.

    Raises:
        ImageLoadError: missing or unreadable file, or a colour (RGB) image instead of ids.
    """
    from PIL import Image

    path = Path(path)
    with (
        wrap_errors(ImageLoadError, path, "cannot read mask", (OSError, ValueError)),
        Image.open(path) as image,
    ):
        image.load()
        if image.mode not in {"L", "P", "I;16", "I"}:
            raise ImageLoadError(
                f"{path}: an index mask has one channel of class ids (mode L, P or I;16), "
                f"got {image.mode}"
            )
        values = np.asarray(image)
    if values.size and (int(values.min()) < 0 or int(values.max()) > 65535):
        raise ImageLoadError(f"{path}: mask values outside 0..65535")
    return values.astype(np.uint8 if values.size == 0 or values.max() <= 255 else np.uint16)


def load_dataset(
    images: str | os.PathLike[str],
    masks: str | os.PathLike[str] | None = None,
    *,
    split: str = "validation",
    label_format: LabelFormat | None = None,
) -> SegmentationDataset:
    """A dataset from folders (see the module docstring for both layouts and the pairing rule).

    Args:
        images: an ADE20K root (with `masks` None) or a folder of images.
        masks: the folder of same-stem ``.png`` masks; None = ADE20K layout under `images`.
        split: the ADE20K split folder (``"validation"`` / ``"training"``).
        label_format: mask convention; default ``"ade20k"`` for the ADE20K layout and
            ``"index"`` for an image + mask folder pair.
    Raises:
        DataError: a folder is missing or empty, or an image has no mask.
    """
    if masks is None:
        pairs = list(iter_ade20k(images, split))
        fmt: LabelFormat = label_format or "ade20k"
    else:
        pairs = list(pair_images_with_annotations(images, masks))
        fmt = label_format or "index"
    return SegmentationDataset(
        [p[0] for p in pairs], [p[1] for p in pairs], fmt, name=os.fspath(images)
    )


def as_dataset(
    data: Any, targets: Any = None, *, label_format: LabelFormat | None = None
) -> SegmentationDataset:
    """`data` as a `SegmentationDataset`: one already, a folder (+ mask folder), or parallel
    sequences of images and targets (mask paths, or 0-based arrays). `label_format` says how
    mask files store ids when they are not an ADE20K root's (default: ``"ade20k"`` for mask
    paths, ``"index"`` for a mask folder); evaluation passes the checkpoint's own."""
    if isinstance(data, SegmentationDataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_dataset(data, targets, label_format=label_format if targets else None)
    if targets is None:
        raise ValueError("pass the ground truth: a mask folder, mask paths or arrays")
    images, masks = list(data), list(targets)
    return SegmentationDataset(images, masks, label_format=label_format or "ade20k", name="images")
