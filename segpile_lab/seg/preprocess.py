"""SegFormer preprocessing equal to HF's `SegformerImageProcessor`, batched in torch.

HF's processor (PIL backend, what `SegformerImageProcessor` resolves to without torchvision)
resizes each uint8 RGB image to 512×512 with ``PIL.Image.resize(..., BILINEAR)`` (an
antialiased triangle filter when shrinking, Pillow's fixed-point rounding), keeps uint8, then
rescales (``float64(v) * (1/255)`` cast to float32) and normalises with the ImageNet mean/std
in float32, one image at a time in numpy.

We resize with the same Pillow call by default (``resize="pil"``: bit-identical) or with
``F.interpolate(mode="bilinear", antialias=True)`` on uint8 (``resize="torch"``: PyTorch's port
of Pillow's filter, batched on the tensor but 1 grey level off on a few pixels in 10,000 when
shrinking; the difference is measured by `tests/seg/test_preprocess.py`, the speed is not).
Rescale + normalise run once on the whole batch in float32 with results bit-identical to HF's
float64/float32 numpy steps, so for equal uint8 pixels the pixel values — and therefore the
logits and labels — are identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch.nn import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = (512, 512)


def resize_uint8(
    image: np.ndarray, size: tuple[int, int] = INPUT_SIZE, resize: str = "pil"
) -> torch.Tensor:
    """`(H, W, 3)` uint8 RGB → `(3, *size)` uint8 with Pillow's BILINEAR (``resize="pil"``) or
    PyTorch's antialiased port of it (``resize="torch"``)."""
    if tuple(image.shape[:2]) != tuple(size) and resize == "pil":
        from PIL import Image

        image = np.asarray(Image.fromarray(image).resize(size[::-1], Image.Resampling.BILINEAR))
    pixels = np.require(image, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])  # torch wants writable
    tensor = torch.from_numpy(pixels).permute(2, 0, 1)
    if tuple(tensor.shape[1:]) == tuple(size):
        return tensor
    if resize != "torch":
        raise ValueError(f"resize must be 'pil' or 'torch', got {resize!r}")
    return F.interpolate(
        tensor[None], size=size, mode="bilinear", antialias=True, align_corners=False
    )[0]


def normalise(
    pixels: torch.Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """`(N, 3, H, W)` uint8 → float32 rescaled by 1/255 and normalised (ImageNet by default).

    ``v / 255`` in float32 equals HF's ``float32(float64(v) * (1/255))`` for all 256 levels
    (checked by the tests), and the subtraction and division are HF's float32 operations.
    """
    mean_t = torch.tensor(tuple(mean), dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(tuple(std), dtype=torch.float32).view(1, 3, 1, 1)
    return pixels.float().div_(255.0).sub_(mean_t).div_(std_t)


def preprocess_arrays(
    images: Sequence[np.ndarray],
    size: tuple[int, int] = INPUT_SIZE,
    resize: str = "pil",
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """RGB uint8 arrays `(H, W, 3)` of any sizes → pixel values `(N, 3, *size)` float32."""
    return normalise(
        torch.stack([resize_uint8(image, size, resize) for image in images]), mean, std
    )


@dataclass(frozen=True)
class Preprocessing:
    """What a checkpoint's ``preprocessor_config.json`` asks of its inputs.

    Attributes:
        size: `(height, width)` in pixels the model sees (512² for ADE20K, 1024² Cityscapes).
        mean, std: per-channel normalisation after rescaling to [0, 1].
        reduce_labels: the ground truth's 0 is "other" (ignored) and classes start at 1,
            as in ADE20K's annotation PNGs.
    """

    size: tuple[int, int] = INPUT_SIZE
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    reduce_labels: bool = False

    @property
    def label_format(self) -> Literal["ade20k", "index"]:
        """How this checkpoint's ground-truth files store ids: ``"ade20k"`` (0 = ignore,
        k = class k − 1) when it reduces labels, else ``"index"`` (the id, 255 = ignore)."""
        return "ade20k" if self.reduce_labels else "index"

    def __call__(self, images: Sequence[np.ndarray], resize: str = "pil") -> torch.Tensor:
        """RGB uint8 arrays `(H, W, 3)` → pixel values `(N, 3, *size)` float32."""
        return preprocess_arrays(images, self.size, resize, self.mean, self.std)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Preprocessing:
        """Read a ``preprocessor_config.json`` of either era.

        ``size`` as an int (legacy ``SegformerFeatureExtractor``: a square) or a dict
        (``{"height", "width"}``) goes through transformers' own ``get_size_dict``. The legacy
        ``reduce_labels`` key means what ``do_reduce_labels`` means today: transformers 4.x
        renamed it with a deprecation warning, and 5.x silently ignores it, which would
        misread the nvidia ADE20K checkpoints' ground-truth convention. No config → defaults.
        """
        if not config:
            return cls()
        from transformers.image_processing_utils import get_size_dict

        size = get_size_dict(config.get("size", INPUT_SIZE[0]), default_to_square=True)
        if "height" not in size or "width" not in size:
            raise ValueError(
                f"preprocessor size {config.get('size')!r}: SegFormer needs a fixed height and "
                "width (an int or {'height': H, 'width': W})"
            )
        reduce = config.get("do_reduce_labels", config.get("reduce_labels", False))
        return cls(
            size=(int(size["height"]), int(size["width"])),
            mean=tuple(float(v) for v in config.get("image_mean", IMAGENET_MEAN)),  # type: ignore[arg-type]
            std=tuple(float(v) for v in config.get("image_std", IMAGENET_STD)),  # type: ignore[arg-type]
            reduce_labels=bool(reduce),
        )
