"""Static overlays of a `SegmentationResult` on its image, and a legend image.

`overlay` returns the type it was given (PIL in → PIL out, ndarray in → ndarray out; a path
gives PIL). Layers:

* ``labels``: class colours (ADE20K palette for 150 classes), largest classes drawn first,
  optional class outlines and names written inside each region;
* every uncertainty map the result holds, in the colour map and range of its row in
  `seg.layers.LAYERS` (e.g. confidence: viridis 0…1; entropy: magma 0…ln C nats);
* ``ground_truth``: the annotation's classes (ignored pixels left uncoloured);
* ``errors``: wrong pixels `layers.WRONG`, right pixels `layers.RIGHT`, ignored uncoloured.

Results of untrained demo models get a visible "untrained demo weights" stamp.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from segpile_lab.provenance import UNTRAINED
from segpile_lab.seg.ade20k import IGNORE_INDEX
from segpile_lab.seg.layers import LAYERS, RIGHT, WRONG, colorize, value_range
from segpile_lab.seg.palette import palette_for
from segpile_lab.seg.results import SegmentationResult

if TYPE_CHECKING:
    from PIL import Image

OVERLAY_LAYERS = tuple(name for name in LAYERS if name != "disagreement")
_ERROR_COLOURS = np.array([RIGHT, WRONG], dtype=np.uint8)
F = TypeVar("F", bound=Callable[..., Any])


def returns_input_type(function: F) -> F:
    """Make an image function that works on RGB uint8 arrays return what the caller passed:
    an ndarray for an ndarray, a `PIL.Image` otherwise (paths included)."""

    @functools.wraps(function)
    def wrapper(image: Any, *args: Any, **kwargs: Any) -> Any:
        from PIL import Image

        from segpile_lab.seg.images import rgb_array

        array = function(rgb_array(image), *args, **kwargs)
        return array if isinstance(image, np.ndarray) else Image.fromarray(array)

    return wrapper  # type: ignore[return-value]


@returns_input_type
def overlay(
    image: Any,
    result: SegmentationResult,
    *,
    layer: str = "labels",
    alpha: float = 0.5,
    classes: Sequence[int | str] | None = None,
    outline: bool = False,
    names: bool = False,
    ground_truth: np.ndarray | None = None,
) -> Any:  # the input's type: a PIL image or an array
    """Blend one layer of `result` over `image` (same size as the result's maps).

    Args:
        image: the segmented image (path, PIL image or `(H, W, 3)` array).
        layer: one of `OVERLAY_LAYERS` whose map the result holds.
        alpha: opacity of the layer, 0…1.
        classes: only these class ids or names are coloured (labels / ground_truth layers).
        outline: draw class borders; names: write class names inside their regions.
        ground_truth: `(H, W)` class ids with 255 = ignore, for the ground_truth / errors layers.
    Returns:
        the blended picture, as a PIL image or an `(H, W, 3)` uint8 array (the input's type).
    """
    height, width = image.shape[:2]
    if result.image_size != (height, width):
        raise ValueError(
            f"image is {width}×{height} but the result is for {result.image_size[1]}×"
            f"{result.image_size[0]}; pass the image that was segmented"
        )
    labels = _layer_labels(result, layer, ground_truth)
    colours, mask = _layer_colours(result, layer, labels, ground_truth, classes)
    blended = image.astype(np.float32)
    blended[mask] = (1 - alpha) * blended[mask] + alpha * colours[mask]
    out = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    if outline and labels is not None:
        out[_borders(labels)] = (255, 255, 255)
    if names and labels is not None:
        out = _write_names(out, labels, result.id2label, _selected(result, classes))
    if not result.is_trained:
        out = stamp(out, UNTRAINED)
    return out


def _layer_labels(
    result: SegmentationResult, layer: str, ground_truth: np.ndarray | None
) -> np.ndarray | None:
    if layer in {"ground_truth", "errors"}:
        if ground_truth is None:
            raise ValueError(f"layer {layer!r} needs ground_truth=<(H, W) class ids>")
        if ground_truth.shape != result.labels.shape:
            raise ValueError(
                f"ground truth {ground_truth.shape} and result {result.labels.shape} differ"
            )
        return ground_truth if layer == "ground_truth" else None
    return result.labels if layer == "labels" else None


def _layer_colours(
    result: SegmentationResult,
    layer: str,
    labels: np.ndarray | None,
    ground_truth: np.ndarray | None,
    classes: Sequence[int | str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """`(H, W, 3)` colours and the `(H, W)` mask of pixels to colour."""
    if labels is not None:
        palette = palette_for(result.id2label)
        valid = labels < result.num_labels
        mask = valid & np.isin(labels, _selected(result, classes))
        return palette[np.where(valid, labels, 0)], mask
    if layer == "errors":
        labelled = np.asarray(ground_truth) != IGNORE_INDEX
        wrong = (result.labels != ground_truth).astype(np.int64)
        return _ERROR_COLOURS[wrong], labelled
    values = result.layer(layer)
    upper = value_range(layer, result.num_labels, values)
    return colorize(values, layer, upper), np.ones(values.shape, bool)


def _selected(result: SegmentationResult, classes: Sequence[int | str] | None) -> np.ndarray:
    """Class ids to show, ordered largest first (by predicted pixels)."""
    shares = result.class_shares()
    order = shares["class_id"].to_list()
    order += [i for i in range(result.num_labels) if i not in set(order)]
    if classes is None:
        return np.array(order)
    by_name = {name: index for index, name in result.id2label.items()}
    wanted = set()
    for item in classes:
        if isinstance(item, str):
            if item not in by_name:
                raise ValueError(f"unknown class name {item!r}")
            item = by_name[item]
        wanted.add(int(item))
    return np.array([i for i in order if i in wanted])


def _borders(labels: np.ndarray) -> np.ndarray:
    border = np.zeros(labels.shape, dtype=bool)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[1:, :] |= labels[1:, :] != labels[:-1, :]
    return border


def _interior_point(mask: np.ndarray) -> tuple[int, int]:
    """A pixel deep inside `mask`: the last survivor of repeated 4-neighbour erosion
    (on a grid of at most ~128 px, so huge images stay cheap)."""
    step = max(1, max(mask.shape) // 128)
    small = mask[::step, ::step]
    while True:
        eroded = small.copy()
        eroded[1:] &= small[:-1]
        eroded[:-1] &= small[1:]
        eroded[:, 1:] &= small[:, :-1]
        eroded[:, :-1] &= small[:, 1:]
        if not eroded.any():
            inside = np.argwhere(small)
            y, x = inside[len(inside) // 2]
            return int(y) * step, int(x) * step
        small = eroded


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _write_names(
    image: np.ndarray, labels: np.ndarray, id2label: dict[int, str], classes: np.ndarray
) -> np.ndarray:
    from PIL import Image, ImageDraw

    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    font = _font(max(10, min(image.shape[:2]) // 40))
    minimum = labels.size * 0.005  # regions under 0.5 % of the picture get no name
    for class_id in classes:
        mask = labels == class_id
        if mask.sum() < minimum:
            continue
        y, x = _interior_point(mask)
        name = id2label.get(int(class_id), str(class_id))
        half = draw.textlength(name, font=font) / 2 + 3
        x = int(min(max(x, half), image.shape[1] - half))  # keep the name inside the picture
        draw.text(
            (x, y), name, fill="white", font=font, anchor="mm", stroke_width=2, stroke_fill="black"
        )
    return np.asarray(picture)


def stamp(image: np.ndarray, text: str) -> np.ndarray:
    """Write `text` in a dark box in the top-left corner of an RGB uint8 array."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    font = _font(max(11, min(image.shape[:2]) // 30))
    *_, right, bottom = draw.textbbox((4, 4), text, font=font)
    draw.rectangle((0, 0, right + 4, bottom + 4), fill=(0, 0, 0))
    draw.text((4, 4), text, fill=(255, 210, 0), font=font)
    return np.asarray(picture)


def legend_image(
    result: SegmentationResult, *, classes: Sequence[int | str] | None = None, max_classes: int = 20
) -> Image.Image:
    """A PIL image listing the largest classes of `result`: colour swatch, name, share of
    pixels; headed "untrained demo weights" for demo models."""
    from PIL import Image, ImageDraw

    shares = result.class_shares()
    shown = [int(i) for i in _selected(result, classes) if i in set(shares["class_id"].to_list())]
    shown = shown[:max_classes]
    share_of = dict(zip(shares["class_id"].to_list(), shares["share"].to_list(), strict=True))
    palette = palette_for(result.id2label)
    font, row = _font(14), 22
    header = [] if result.is_trained else [UNTRAINED]
    picture = Image.new("RGB", (300, row * (len(shown) + len(header)) + 8), "white")
    draw = ImageDraw.Draw(picture)
    y = 4
    for line in header:
        draw.text((6, y), line, fill=(200, 0, 0), font=font)
        y += row
    for class_id in shown:
        draw.rectangle((6, y + 2, 24, y + 18), fill=tuple(int(c) for c in palette[class_id]))
        name = result.id2label.get(class_id, str(class_id))
        draw.text((32, y + 2), f"{name}  {share_of[class_id]:.1%}", fill="black", font=font)
        y += row
    return picture
