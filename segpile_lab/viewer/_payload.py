"""Pack an image and its segmentation results into the compact buffers the viewer sends once.

Transport grid: an image of ``H x W`` pixels is shown on a grid of ``ceil(H/f) x ceil(W/f)``
cells, where the integer factor ``f`` keeps the cell count under `max_pixels`. Every cell takes
the values of one real pixel (nearest sampling, the centre of its ``f x f`` block), so class ids
stay exact and a hovered value is a value the model produced. The photo itself is box-filtered.

Continuous maps travel as uint16 (value = q / 65535 * scale), class ids as uint8 (uint16 above
255 classes). The read-out's numbers (top-k classes and probabilities, entropy, Monte-Carlo
maps) travel as float32 on the model's logit grid: one cell's numbers come from one
probability vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from segpile_lab.seg.images import rgb_array

TOP_K = 3
_ALIGN = 8


def transport_factor(height: int, width: int, max_pixels: int) -> int:
    """Smallest integer factor ``f`` with ``ceil(H/f) * ceil(W/f) <= max_pixels``."""
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    factor = max(1, math.ceil(math.sqrt(height * width / max_pixels)))
    while math.ceil(height / factor) * math.ceil(width / factor) > max_pixels:
        factor += 1
    return factor


def grid_indices(size: int, factor: int) -> np.ndarray:
    """Source rows (or columns) sampled for a transport grid: the centre of each block."""
    return np.minimum(np.arange(math.ceil(size / factor)) * factor + factor // 2, size - 1)


def downsample_nearest(array: np.ndarray, factor: int) -> np.ndarray:
    """Nearest sampling of the first two axes by `factor` (ids and values stay exact)."""
    if factor == 1:
        return np.ascontiguousarray(array)
    rows = grid_indices(array.shape[0], factor)
    cols = grid_indices(array.shape[1], factor)
    return np.ascontiguousarray(array[rows][:, cols])


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Box-filter an ``(H, W, 3)`` uint8 photo to ``(height, width, 3)``."""
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image)
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BOX))


def quantize(values: np.ndarray, scale: float) -> np.ndarray:
    """Map ``[0, scale]`` to uint16 ``[0, 65535]`` (values outside are clipped)."""
    scale = scale if scale > 0 else 1.0
    return np.round(np.clip(values / scale, 0.0, 1.0) * 65535).astype("<u2")


def dequantize(q: np.ndarray, scale: float) -> np.ndarray:
    """Inverse of :func:`quantize` (float32; error at most ``scale / 131070``)."""
    return q.astype(np.float32) / 65535 * (scale if scale > 0 else 1.0)


def as_numpy(value: Any) -> np.ndarray:
    """A numpy view of an ndarray or a (CPU or device) torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def as_rgb(image: Any) -> np.ndarray:
    """``(H, W, 3)`` uint8: exactly the pixels the model segments (``seg.images.rgb_array``,
    the conversion `predict` uses: transparency composited on white, 16-bit scaled, bool and
    float arrays mapped to 0…255); a torch tensor is read as its numpy array first."""
    return rgb_array(as_numpy(image) if hasattr(image, "detach") else image)


def result_topk(result: Any, k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, probs)``, both ``(k, h, w)`` at logit resolution, from ``result.topk(k)``.

    Accepts a pair of arrays/tensors in either order (the integer one holds the ids; the
    engine returns ``(probs, ids)``), ``(k, h, w)`` or ``(h, w, k)``, or torch's topk tuple.
    """
    out = result.topk(k)
    if hasattr(out, "indices"):
        out = (out.indices, out.values)
    ids, probs = (as_numpy(a) for a in out)
    if np.issubdtype(ids.dtype, np.floating) and np.issubdtype(probs.dtype, np.integer):
        ids, probs = probs, ids
    while ids.ndim > 3:  # a leading batch axis of one
        ids, probs = ids[0], probs[0]
    if ids.shape[0] != k and ids.shape[-1] == k:
        ids, probs = np.moveaxis(ids, -1, 0), np.moveaxis(probs, -1, 0)
    return ids.astype(np.int64), probs.astype(np.float32)


@dataclass
class Packer:
    """Concatenate named arrays into one little-endian buffer with an offset table."""

    chunks: list[bytes] = field(default_factory=list)
    layout: dict[str, dict] = field(default_factory=dict)
    size: int = 0

    def add(self, name: str, array: np.ndarray, *, scale: float | None = None) -> None:
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        entry: dict[str, Any] = {
            "offset": self.size,
            "dtype": array.dtype.name,
            "shape": list(array.shape),
        }
        if scale is not None:
            entry["scale"] = float(scale)
        self.layout[name] = entry
        pad = (-len(data)) % _ALIGN
        self.chunks.append(data + b"\0" * pad)
        self.size += len(data) + pad

    def tobytes(self) -> bytes:
        return b"".join(self.chunks)


def ids_dtype(num_classes: int, ignore_index: int) -> type:
    """uint8 when every id and the ignore index fit, else uint16."""
    return np.uint8 if max(num_classes - 1, ignore_index) <= 255 else np.uint16
