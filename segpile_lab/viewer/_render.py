"""Static rendering of a viewer state in numpy: the PNG and HTML legend of exported reports.

Mirrors the per-pixel rules of ``static/viewer.js`` (same palette, same colour maps), so the
picture in an offline report is the one the live widget showed for the same state.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from segpile_lab.viewer._classes import LAYER_COLORMAPS, colormap_lut
from segpile_lab.viewer._data import UNTRAINED_BANNER, ViewerData

TP_COLOR = (0, 190, 60)
FP_COLOR = (230, 30, 30)
FN_COLOR = (30, 100, 255)
DISAGREE_DIM = 0.45
OUTSIDE_SELECTION_DIM = 0.35
MAX_STATIC_WIDTH = 960
MIN_STATIC_WIDTH = 420
LEGEND_ROWS = 12
# photos barely compress: a low zlib level spends far less time than optimize=True
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True)
class ViewState:
    """The interactive state of a view (the widget's synced traits)."""

    layer: str = "labels"
    opacity: float = 0.6
    outline: bool = False
    threshold: float = 0.0
    selected_class: int = -1


def boundaries(classes: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: pixels whose right or lower neighbour has another class."""
    edge = np.zeros(classes.shape, dtype=bool)
    edge[:, :-1] |= classes[:, :-1] != classes[:, 1:]
    edge[:-1, :] |= classes[:-1, :] != classes[1:, :]
    return edge


def _class_map(data: ViewerData, index: int, layer: str) -> np.ndarray:
    if layer == "ground_truth" and data.ground_truth is not None:
        return data.ground_truth
    return data.panels[index].labels


def render_panel(data: ViewerData, index: int, state: ViewState) -> np.ndarray:
    """``(h, w, 3)`` uint8: panel `index` of `data` drawn in `state`."""
    panel = data.panels[index]
    base = data.image.astype(np.float32)
    color = np.zeros_like(base)
    alpha = np.zeros(base.shape[:2], np.float32)
    classes = _class_map(data, index, state.layer)
    gt = data.ground_truth
    valid_gt = None if gt is None else gt != data.ignore_index
    sel = state.selected_class
    if state.layer in ("labels", "ground_truth"):
        color[:] = data.palette[np.minimum(classes, len(data.palette) - 1)]
        alpha[:] = 1.0 if state.layer == "labels" else valid_gt
    elif state.layer in panel.maps:
        lut = colormap_lut(LAYER_COLORMAPS[state.layer])
        scaled = np.clip(panel.maps[state.layer] / panel.scales[state.layer], 0.0, 1.0)
        color[:] = lut[np.round(scaled * 255).astype(np.int64)]
        alpha[:] = 1.0
    elif state.layer == "errors" and gt is not None:
        pred = panel.labels
        if sel >= 0:
            for mask, rgb in (
                ((pred == sel) & (gt == sel), TP_COLOR),
                ((pred == sel) & (gt != sel) & valid_gt, FP_COLOR),
                ((pred != sel) & (gt == sel), FN_COLOR),
            ):
                color[mask] = rgb
                alpha[mask] = 1.0
        else:
            wrong = valid_gt & (pred != gt)
            color[wrong] = data.palette[pred[wrong]]
            alpha[wrong] = 1.0
    elif state.layer == "disagreement" and len(data.panels) == 2:
        differ = data.panels[0].labels != data.panels[1].labels
        color[differ] = data.palette[panel.labels[differ]]
        alpha[differ] = 1.0
        base[~differ] *= DISAGREE_DIM
    if state.outline:
        edge = boundaries(classes)
        if state.layer in LAYER_COLORMAPS:
            color[edge] = 255.0
            alpha[edge] = 1.0
        else:
            alpha *= edge
    if sel >= 0 and state.layer != "errors":
        outside = classes != sel
        alpha[outside] = 0.0
        base[outside] *= OUTSIDE_SELECTION_DIM
    out = base * (1 - alpha[..., None] * state.opacity) + color * (alpha[..., None] * state.opacity)
    if state.threshold > 0:
        abstain = panel.maps["confidence"] < state.threshold
        grey = out[abstain].mean(axis=1, keepdims=True) * 0.3 + 150
        out[abstain] = grey
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def encode_png(image: Image.Image | np.ndarray) -> bytes:
    """PNG bytes of a PIL image or an ``(h, w, 3)`` uint8 array."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def render_png_tile(data: ViewerData, index: int, state: ViewState) -> bytes:
    """PNG bytes of panel `index` alone (no header)."""
    return encode_png(render_panel(data, index, state))


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


# Pillow's built-in font has no glyph for these; they would print as empty boxes
_GLYPH_FALLBACKS = str.maketrans({"—": "-", "–": "-", "…": "...", "“": '"', "”": '"', "’": "'"})


def _drawable(text: str) -> str:
    """`text` with the typographic characters the built-in font lacks replaced by ASCII."""
    return text.translate(_GLYPH_FALLBACKS)


def render_png(data: ViewerData, state: ViewState, title: str | None = None) -> bytes:
    """PNG bytes: the panels side by side (at most `MAX_STATIC_WIDTH` pixels in all) under a
    header with the title, the layer and, for demo weights, a red "untrained" banner."""
    gap, cap = 8, 18
    tiles = [Image.fromarray(render_panel(data, i, state)) for i in range(len(data.panels))]
    room = MAX_STATIC_WIDTH - gap * (len(tiles) - 1)
    total = sum(t.width for t in tiles)
    if total > room:  # shrink smoothly
        scale, method = room / total, Image.Resampling.LANCZOS
    else:  # small grids grow by an integer factor, cells stay square
        scale, method = float(max(1, MIN_STATIC_WIDTH // total)), Image.Resampling.NEAREST
    if scale != 1.0:
        tiles = [
            t.resize((max(1, round(t.width * scale)), max(1, round(t.height * scale))), method)
            for t in tiles
        ]
    head = 24 if data.is_trained else 48
    width = max(sum(t.width for t in tiles) + gap * (len(tiles) - 1), MIN_STATIC_WIDTH)
    canvas = Image.new("RGB", (width, tiles[0].height + head + cap), "white")
    draw = ImageDraw.Draw(canvas)
    header = _drawable(f"{title + ' · ' if title else ''}layer: {state.layer}")
    draw.text((4, 3), header, fill="black", font=_font(15))
    if not data.is_trained:
        draw.rectangle((0, 23, width, 45), fill=(176, 0, 32))
        draw.text(
            (6, 26), "UNTRAINED DEMO WEIGHTS: classes are random", fill="white", font=_font(15)
        )
    x = 0
    for tile, panel in zip(tiles, data.panels, strict=True):
        canvas.paste(tile, (x, head))
        draw.text(
            (x + 2, head + tile.height + 2), _drawable(panel.title), fill="black", font=_font(13)
        )
        x += tile.width + gap
    return encode_png(canvas)


def alt_text(data: ViewerData, state: ViewState) -> str:
    """One-sentence description of the static picture for the ``alt`` attribute."""
    panel = data.panels[0]
    top = ", ".join(f"{r['name']} {r['share']:.0%}" for r in panel.classes[:5])
    demo = " (untrained demo weights)" if not data.is_trained else ""
    h, w = data.original_size
    return (
        f"Segmentation of a {w}x{h} image by {panel.title}{demo}, {state.layer} layer; "
        f"largest predicted classes: {top}"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def legend_html(data: ViewerData, png: bytes, state: ViewState, title: str | None = None) -> str:
    """Self-contained HTML: untrained banner, the PNG as an ``<img alt=...>`` and legend tables."""
    parts = ['<div class="segpile-viewer-static" style="font-family:sans-serif;font-size:13px">']
    if title:
        parts.append(f"<div style='font-weight:bold'>{html.escape(title)}</div>")
    if not data.is_trained:
        parts.append(
            "<div style='background:#b00020;color:white;padding:4px 8px;"
            f"font-weight:bold'>&#9888; {html.escape(UNTRAINED_BANNER)}</div>"
        )
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    parts.append(
        f'<img alt="{html.escape(alt_text(data, state))}" src="{src}" style=\'max-width:100%\'/>'
    )
    h, w = data.original_size
    if data.factor > 1:
        parts.append(
            f"<div>shown at 1/{data.factor} of {w}x{h} for transport; class ids exact</div>"
        )
    has_iou = data.ground_truth is not None
    for panel in data.panels:
        head = "<th>IoU</th>" if has_iou else ""
        parts.append(
            f"<table><caption>{html.escape(panel.title)}: classes by pixel share"
            f"</caption><tr><th></th><th>class</th><th>share</th><th>mean conf.</th>"
            f"{head}</tr>"
        )
        for row in panel.classes[:LEGEND_ROWS]:
            r, g, b = row["color"]
            iou = f"<td>{_pct(row.get('iou'))}</td>" if has_iou else ""
            parts.append(
                f"<tr><td style='background:rgb({r},{g},{b});width:14px'></td>"
                f"<td>{html.escape(row['name'])}</td><td>{row['share']:.1%}</td>"
                f"<td>{_pct(row['mean_confidence'])}</td>{iou}</tr>"
            )
        more = len(panel.classes) - LEGEND_ROWS
        if more > 0:
            parts.append(f"<tr><td></td><td colspan='4'>… {more} more classes</td></tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)
