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

from collections.abc import Sequence

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


def normalise(pixels: torch.Tensor) -> torch.Tensor:
    """`(N, 3, H, W)` uint8 → float32 rescaled by 1/255 and ImageNet-normalised.

    ``v / 255`` in float32 equals HF's ``float32(float64(v) * (1/255))`` for all 256 levels
    (checked by the tests), and the subtraction and division are HF's float32 operations.
    """
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return pixels.float().div_(255.0).sub_(mean).div_(std)


def preprocess_arrays(
    images: Sequence[np.ndarray], size: tuple[int, int] = INPUT_SIZE, resize: str = "pil"
) -> torch.Tensor:
    """RGB uint8 arrays `(H, W, 3)` of any sizes → pixel values `(N, 3, *size)` float32."""
    return normalise(torch.stack([resize_uint8(image, size, resize) for image in images]))
