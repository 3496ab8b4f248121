"""Load any image a user may hand us as an RGB `PIL.Image`, or fail with a clear error.

Policy for awkward inputs (``docs/bad-inputs.md``, "Models and images"):

* **Decompression bombs**: an image with more pixels than `max_pixels` (default
  ``PIL.Image.MAX_IMAGE_PIXELS``, ~89.5 M) raises `ImageLoadError` before it is decoded. This
  covers Pillow's own error above 2× the limit *and* the 1×–2× band, where Pillow would only warn:
  we chose to refuse rather than silently spend gigabytes; pass a larger `max_pixels` to accept.
* **Truncated, 0-byte, missing or non-image files** raise `ImageLoadError` naming the file (the
  pixels are decoded eagerly; ``LOAD_TRUNCATED_IMAGES`` is never switched on).
* **EXIF orientation** 2–8 is applied (`ImageOps.exif_transpose`) so masks align with what a
  viewer shows.
* **Modes**: ``L``/``P``/``1``/``CMYK``/``YCbCr``… convert with Pillow's own RGB conversion
  (``1`` → black/white); alpha (``LA``, ``RGBA``, ``PA``, ``P`` with transparency) is composited
  on `background` (white by default). 16-bit data (``I;16*``, and ``I`` whose values fit
  0…65535) map linearly 0…65535 → 0…255; float data (``F``) in 0…1 maps to 0…255; any other
  ``I``/``F`` range is stretched min…max → 0…255 (NaN → 0). Pillow alone would clamp at 255.
* **Animated / multi-page** files: frame 0, with a `MultiFrameImageWarning`.
* **Any size** from 1×1 up, any aspect ratio: the pixels are kept as they are.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segpile_lab.errors import ImageLoadError, MultiFrameImageWarning, wrap_errors

if TYPE_CHECKING:
    from PIL import Image

_WHITE = (255, 255, 255)


def load_image(
    source: Any,
    *,
    max_pixels: int | None = None,
    background: tuple[int, int, int] = _WHITE,
) -> Image.Image:
    """Return `source` (a path, `PIL.Image` or `(H, W[, C])` array) as a loaded RGB `PIL.Image`.

    Args:
        source: file path, PIL image, or ndarray `(H, W)`, `(H, W, 1|3|4)` of uint8, uint16,
            bool or float (floats in 0…1 are taken as intensities).
        max_pixels: refuse images with more pixels (default ``PIL.Image.MAX_IMAGE_PIXELS``).
        background: RGB colour that transparent pixels are composited on.
    Raises:
        ImageLoadError: naming the file, for every input that is not a usable image.
    """
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if isinstance(source, np.ndarray):
        image, name = _from_array(source), f"<ndarray {source.shape} {source.dtype}>"
    elif isinstance(source, Image.Image):
        image, name = source, getattr(source, "filename", "") or f"<PIL image {source.mode}>"
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        image = _open(Path(name), limit)
    else:
        raise TypeError(
            f"cannot load an image from {type(source).__name__}; pass a path, PIL image or ndarray"
        )
    _check_size(image, name, limit)
    image = _first_frame(image, name)
    decoding = (OSError, ValueError, SyntaxError)
    with wrap_errors(ImageLoadError, name, "cannot decode image", decoding):
        image.load()
        image = _exif_transposed(image)
        return _to_rgb(image, background)


def rgb_array(source: Any, **options: Any) -> np.ndarray:
    """``(H, W, 3)`` uint8: the pixels the model segments, from anything `load_image` takes
    (the one conversion that `predict`, overlays and the viewer share; `options` as there)."""
    return np.asarray(load_image(source, **options))


def _open(path: Path, limit: int | None) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ImageLoadError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path}: the file is empty (0 bytes), not an image")
    try:
        with warnings.catch_warnings():
            # our own limit check below replaces Pillow's warning for the 1x-2x band
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{path}: refused as a decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{path}: not an image Pillow can read") from exc
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot open image ({exc})") from exc
    except (ValueError, SyntaxError) as exc:
        # Pillow's guards on the header: text/ICC chunks that decompress past
        # PngImagePlugin.MAX_TEXT_CHUNK, malformed headers
        raise ImageLoadError(f"{path}: refused by Pillow's header checks ({exc})") from exc


def _check_size(image: Any, name: str, limit: int | None) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageLoadError(f"{name}: image has no pixels ({width}×{height})")
    if limit is not None and width * height > limit:
        raise ImageLoadError(
            f"{name}: {width}×{height} = {width * height:,} pixels exceeds the limit of "
            f"{limit:,} (a possible decompression bomb); pass max_pixels= to accept it"
        )


def _first_frame(image: Any, name: str) -> Any:
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        warnings.warn(
            f"{name}: has {frames} frames/pages; using frame 0 only",
            MultiFrameImageWarning,
            stacklevel=3,
        )
        image.seek(0)
    return image


def _exif_transposed(image: Any) -> Any:
    from PIL import ImageOps

    orientation = image.getexif().get(0x0112, 1)
    return ImageOps.exif_transpose(image) if orientation not in (1, None) else image


def _to_rgb(image: Any, background: tuple[int, int, int]) -> Any:
    from PIL import Image

    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16"):
        return _gray_array_to_rgb(np.asarray(image, dtype=np.float64) * (255.0 / 65535.0))
    if mode in {"I", "F"}:
        return _gray_array_to_rgb(_window(np.asarray(image, dtype=np.float64), mode))
    if (mode == "P" and "transparency" in image.info) or mode in {"LA", "La", "PA", "RGBa"}:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _window(values: np.ndarray, mode: str) -> np.ndarray:
    """Map 32-bit integer or float intensities to 0…255 (see the module docstring)."""
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    if mode == "F" and low >= 0.0 and high <= 1.0:
        return values * 255.0
    if mode == "I" and low >= 0.0 and high <= 65535.0:
        return values * (255.0 / 65535.0) if high > 255.0 else values
    return (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)


def _gray_array_to_rgb(values: np.ndarray) -> Any:
    from PIL import Image

    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(np.repeat(gray[..., None], 3, axis=2))


def _from_array(array: np.ndarray) -> Any:
    from PIL import Image

    shape_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))
    if not shape_ok or array.size == 0:
        raise ImageLoadError(
            f"<ndarray {array.shape} {array.dtype}>: expected (H, W) or (H, W, 1|3|4) pixels"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.dtype == np.bool_:
        return Image.fromarray(array.astype(np.uint8) * 255)
    if array.dtype == np.uint16:
        array = np.rint(array.astype(np.float64) * (255.0 / 65535.0))
    elif array.dtype.kind == "f":
        array = _window(array.astype(np.float64), "F")
    elif array.dtype != np.uint8:
        raise ImageLoadError(
            f"<ndarray {array.shape} {array.dtype}>: pixels must be uint8, uint16, bool or float"
        )
    array = np.ascontiguousarray(np.clip(array, 0, 255).astype(np.uint8))
    return Image.fromarray(array)


def demo_images() -> dict[str, Any]:
    """A few real pictures that every machine has offline, as RGB `PIL.Image`s.

    They ship with matplotlib (``matplotlib/mpl-data/sample_data``): ``grace_hopper`` is the
    portrait photograph of Rear Admiral Grace Hopper (600×512 JPEG) and ``present_pack`` a
    128×128 RGBA product photo (composited on white).
    """
    from matplotlib import cbook

    files = {"grace_hopper": "grace_hopper.jpg", "present_pack": "Minduka_Present_Blue_Pack.png"}
    return {
        name: load_image(cbook.get_sample_data(file, asfileobj=False))
        for name, file in files.items()
    }
