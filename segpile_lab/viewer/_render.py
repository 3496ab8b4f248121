"""Static rendering of a viewer state in numpy: the picture and HTML legend of exported reports.

Mirrors the per-pixel rules of ``viewer/viewer.js`` (same palette, same layer table and colour
maps from `seg.layers`), so the picture in an offline report is the one the live widget showed
for the same state.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from segpile_lab.provenance import UNTRAINED, WARNING_COLOR
from segpile_lab.seg.layers import (
    LAYERS,
    MISSED,
    RIGHT,
    WRONG,
    colorize,
    colormap_lut,
    colormap_stops,
)
from segpile_lab.viewer._data import UNTRAINED_BANNER, Panel, ViewerData
from segpile_lab.viewer._stats import LEGEND_ROWS

# drawing constants shared with viewer.js (sent in the widget's meta)
DISAGREE_DIM = 0.45
OUTSIDE_SELECTION_DIM = 0.35
MAX_STATIC_WIDTH = 960
MIN_STATIC_WIDTH = 420
# photos barely compress: a low zlib level spends far less time than optimize=True
PNG_COMPRESS_LEVEL = 3
# the HTML fallback saved in notebooks carries a JPEG: ~5x smaller than the PNG of a photo
JPEG_QUALITY = 88

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


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
        color[:] = colorize(panel.maps[state.layer], state.layer, panel.scales[state.layer])
        alpha[:] = 1.0
    elif state.layer == "errors" and gt is not None:
        pred = panel.labels
        if sel >= 0:
            for mask, rgb in (
                ((pred == sel) & (gt == sel), RIGHT),
                ((pred == sel) & (gt != sel) & valid_gt, WRONG),
                ((pred != sel) & (gt == sel), MISSED),
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
        if LAYERS[state.layer].kind == "map":
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


def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


# Pillow's built-in font has no glyph for these; they would print as empty boxes
_GLYPH_FALLBACKS = str.maketrans(
    {"—": "-", "–": "-", "−": "-", "…": "...", "“": '"', "”": '"', "’": "'"}
)


def _drawable(text: str) -> str:
    """`text` with the typographic characters the built-in font lacks replaced by ASCII."""
    return text.translate(_GLYPH_FALLBACKS)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` pixels (a longer word alone)."""
    lines: list[str] = []
    for word in _drawable(text).split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def scale_text(panel: Panel, layer: str) -> str:
    """The colour scale of a map layer in words: label, range with units, what high means."""
    spec = LAYERS[layer]
    upper = panel.scales[layer]
    top = f"{upper:.3g}"
    if spec.value_range == "observed":
        top += " (largest value in this map)"
    units = "" if spec.units in ("probability", "") else f" {spec.units}"
    return f"{spec.label}: 0 … {top}{units}; {spec.note}"


def key_entries(data: ViewerData, state: ViewState) -> list[tuple[tuple[int, ...] | None, str]]:
    """``(colour or None, words)`` explaining a key layer (errors, disagreement) in `state`."""
    if state.layer == "errors" and state.selected_class >= 0:
        name = data.names[state.selected_class]
        return [(RIGHT, f"true positive ({name})"), (WRONG, "false positive"),
                (MISSED, "false negative")]
    if LAYERS[state.layer].kind == "key":
        return [(None, LAYERS[state.layer].note)]
    return []


def _draw_scale(draw: ImageDraw.ImageDraw, x: int, y: int, width: int, panel: Panel,
                layer: str) -> int:
    """Colour bar of a map layer at ``(x, y)``: wrapped caption, then the strip; returns the
    height used."""
    font = _font(12)
    lines = _wrap(draw, scale_text(panel, layer), font, width)
    for k, line in enumerate(lines):
        draw.text((x, y + 14 * k), line, fill="black", font=font)
    y += 14 * len(lines) + 2
    strip = min(width - 4, 260)
    lut = colormap_lut(LAYERS[layer].colormap)
    for k in range(strip):
        draw.line((x + k, y, x + k, y + 9), fill=tuple(int(c) for c in lut[k * 255 // (strip - 1)]))
    draw.rectangle((x, y, x + strip - 1, y + 9), outline=(120, 120, 120))
    return 14 * len(lines) + 14


def _draw_key(draw: ImageDraw.ImageDraw, x: int, y: int, width: int,
              entries: list[tuple[tuple[int, ...] | None, str]]) -> int:
    font, used = _font(12), 0
    for colour, words in entries:
        indent = 0
        if colour is not None:
            draw.rectangle((x, y + used + 1, x + 11, y + used + 12), fill=colour, outline="black")
            indent = 16
        lines = _wrap(draw, words, font, width - indent)
        for k, line in enumerate(lines):
            draw.text((x + indent, y + used + 14 * k), line, fill="black", font=font)
        used += 14 * len(lines) + 2
    return used


def render_picture(
    data: ViewerData, state: ViewState, title: str | None = None, *, annotate: bool = True
) -> Image.Image:
    """The panels side by side (at most `MAX_STATIC_WIDTH` pixels in all) with each panel's
    title under it. With `annotate`, a header with the title, the layer and, for demo weights,
    a red "untrained" banner, and under the panels the layer's colour bar (map layers) or key
    (errors, disagreement); without, the HTML around the picture carries those."""
    gap = 8
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
    width = max(sum(t.width for t in tiles) + gap * (len(tiles) - 1), MIN_STATIC_WIDTH)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    header = f"{title + ' · ' if title else ''}layer: {LAYERS[state.layer].label}"
    head_lines = _wrap(scratch, header, _font(15), width - 8)
    head = 18 * len(head_lines) + 6 + (0 if data.is_trained else 24) if annotate else 0
    # footers are drawn on a tall scratch canvas first to learn their height
    foot = Image.new("RGB", (width, 400), "white")
    foot_draw = ImageDraw.Draw(foot)
    used, x = 0, 0
    for tile, panel in zip(tiles, data.panels, strict=True):
        y = 0
        for line in _wrap(foot_draw, panel.title, _font(13), tile.width - 4):
            foot_draw.text((x + 2, y + 2), line, fill="black", font=_font(13))
            y += 16
        if annotate and LAYERS[state.layer].kind == "map":
            y += _draw_scale(foot_draw, x + 2, y + 4, tile.width - 4, panel, state.layer) + 4
        elif annotate and x == 0:  # one key for all panels
            y += _draw_key(foot_draw, x + 2, y + 4, width - 4, key_entries(data, state)) + 4
        used = max(used, y + 4)
        x += tile.width + gap
    canvas = Image.new("RGB", (width, head + tiles[0].height + used), "white")
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(head_lines if annotate else []):
        draw.text((4, 3 + 18 * k), line, fill="black", font=_font(15))
    if annotate and not data.is_trained:
        top = 18 * len(head_lines) + 4
        draw.rectangle((0, top, width, top + 21), fill=WARNING_COLOR)
        draw.text(
            (6, top + 3), f"{UNTRAINED.upper()}: classes are random", fill="white",
            font=_font(15),
        )
    x = 0
    for tile in tiles:
        canvas.paste(tile, (x, head))
        x += tile.width + gap
    canvas.paste(foot.crop((0, 0, width, used)), (0, head + tiles[0].height))
    return canvas


def render_png(data: ViewerData, state: ViewState, title: str | None = None) -> bytes:
    """PNG bytes of :func:`render_picture`."""
    return encode_png(render_picture(data, state, title))


def render_jpeg(data: ViewerData, state: ViewState, title: str | None = None) -> bytes:
    """JPEG bytes of :func:`render_picture` without its header and colour bar (quality
    `JPEG_QUALITY`): the picture of the HTML fallback, which adds title, banner and scale."""
    buffer = io.BytesIO()
    picture = render_picture(data, state, title, annotate=False)
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def alt_text(data: ViewerData, state: ViewState) -> str:
    """One-sentence description of the static picture for the ``alt`` attribute."""
    panel = data.panels[0]
    top = ", ".join(f"{r['name']} {r['share']:.0%}" for r in panel.classes[:5])
    demo = f" ({UNTRAINED})" if not data.is_trained else ""
    h, w = data.original_size
    return (
        f"Segmentation of a {w}x{h} image by {panel.title}{demo}, {state.layer} layer; "
        f"largest predicted classes: {top}"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _gradient_css(layer: str) -> str:
    stops = ", ".join(f"{colour} {100 * position:g}%" for position, colour in colormap_stops(layer))
    return f"linear-gradient(to right, {stops})"


def _look_alike(row: dict) -> str:
    """`` ≈ other, names`` after a class whose colour reads as theirs (_stats.mark_look_alikes)."""
    names = row.get("look_alike") or []
    if not names:
        return ""
    words = html.escape(", ".join(names))
    return f"<span style='color:#666;font-size:11px'> &asymp; {words}</span>"


def _class_rows(rows: list[dict], extra: list[str]) -> list[str]:
    out = []
    for row in rows[:LEGEND_ROWS]:
        r, g, b = row["color"]
        cells = "".join(f"<td>{_pct(row.get(key))}</td>" for key in extra)
        out.append(
            f"<tr><td style='background:rgb({r},{g},{b});width:14px'></td>"
            f"<td>{html.escape(row['name'])}{_look_alike(row)}</td><td>{row['share']:.1%}</td>"
            f"{cells}</tr>"
        )
    more = len(rows) - LEGEND_ROWS
    if more > 0:
        out.append(f"<tr><td></td><td colspan='4'>&hellip; {more} more classes</td></tr>")
    return out


def legend_html(
    data: ViewerData,
    picture: bytes,
    state: ViewState,
    title: str | None = None,
    mime: str = "image/jpeg",
) -> str:
    """Self-contained HTML: untrained banner, the picture as an ``<img alt=...>``, the layer's
    colour bar or key, and legend tables (the ground truth's own for its layers)."""
    parts = ['<div class="segpile-viewer-static" style="font-family:sans-serif;font-size:13px">']
    if title:
        parts.append(f"<div style='font-weight:bold'>{html.escape(title)}</div>")
    parts.append(f"<div>layer: {html.escape(LAYERS[state.layer].label)}</div>")
    if not data.is_trained:
        parts.append(
            f"<div style='background:{WARNING_COLOR};color:white;padding:4px 8px;"
            f"font-weight:bold'>&#9888; {html.escape(UNTRAINED_BANNER)}</div>"
        )
    src = f"data:{mime};base64," + base64.b64encode(picture).decode("ascii")
    parts.append(
        f'<img alt="{html.escape(alt_text(data, state))}" src="{src}" style=\'max-width:100%\'/>'
    )
    if LAYERS[state.layer].kind == "map":
        for panel in data.panels:
            parts.append(
                "<div class='sv-static-colorbar'><span style='display:inline-block;width:200px;"
                f"height:10px;border:1px solid #888;background:{_gradient_css(state.layer)}'>"
                f"</span> {html.escape(scale_text(panel, state.layer))}"
                + (f" ({html.escape(panel.title)})" if len(data.panels) > 1 else "")
                + "</div>"
            )
    for colour, words in key_entries(data, state):
        swatch = "" if colour is None else (
            "<span style='display:inline-block;width:12px;height:12px;border:1px solid #555;"
            f"background:rgb{tuple(colour)}'></span> "
        )
        parts.append(f"<div class='sv-static-key'>{swatch}{html.escape(words)}</div>")
    h, w = data.original_size
    if data.factor > 1:
        parts.append(
            f"<div>shown at 1/{data.factor} of {w}x{h} for transport; class ids exact</div>"
        )
    if data.truth_classes is not None and state.layer in ("ground_truth", "errors"):
        parts.append(
            f"<table><caption>{LAYERS['ground_truth'].label}: classes by share of labelled "
            "pixels</caption>"
            "<tr><th></th><th>class</th><th>share</th></tr>"
        )
        parts += _class_rows(data.truth_classes, [])
        parts.append("</table>")
    extra = ["mean_confidence"] + (["iou"] if data.ground_truth is not None else [])
    head = "<th>mean conf.</th>" + ("<th>IoU</th>" if data.ground_truth is not None else "")
    parts.append("<div style='display:flex;flex-wrap:wrap;gap:4px 24px;align-items:flex-start'>")
    for panel in data.panels:
        parts.append(
            f"<table><caption>{html.escape(panel.title)}: {LAYERS['labels'].label} by pixel share"
            f"</caption><tr><th></th><th>class</th><th>share</th>{head}</tr>"
        )
        parts += _class_rows(panel.classes, extra)
        parts.append("</table>")
    parts.append("</div></div>")
    return "".join(parts)
