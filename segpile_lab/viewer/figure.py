"""Report-mode variant of the viewer: a plotly figure that keeps layers and hover without a kernel.

Each layer is a pre-rendered picture (the same renderer as the widget's static PNG) in a
``go.Image`` trace, switched by buttons; a transparent heatmap on a coarser grid carries the hover
read-out (class, top-3 probabilities, entropy, margin of the pixel's logit cell, truth) as
``customdata``; each map layer brings its colour bar. Everything is in the figure's JSON, so an
exported HTML report keeps it working offline.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import numpy as np

from segpile_lab.provenance import UNTRAINED, WARNING_COLOR
from segpile_lab.seg.layers import LAYERS, colormap_stops
from segpile_lab.viewer._data import (
    DEFAULT_MAX_PIXELS,
    UNTRAINED_BANNER,
    ViewerData,
    build_viewer_data,
    load_ground_truth,
)
from segpile_lab.viewer._payload import as_rgb, grid_indices
from segpile_lab.viewer._render import ViewState, render_png_tile

if TYPE_CHECKING:
    import plotly.graph_objects as go

HOVER_FIELDS = (
    "predicted",
    "confidence",
    "top1",
    "p1",
    "top2",
    "p2",
    "top3",
    "p3",
    "entropy",
    "margin",
    "notes",
)
_HOVER = (
    "pixel (%{x}, %{y}) · numbers from its cell of the model's GRID output grid<br>"
    "predicted: %{customdata[0]} (confidence %{customdata[1]:.1%})"
    "<br>top-3: %{customdata[2]} %{customdata[3]:.1%} · %{customdata[4]} "
    "%{customdata[5]:.1%} · %{customdata[6]} %{customdata[7]:.1%}"
    "<br>single-pass entropy %{customdata[8]:.3f} nats · margin %{customdata[9]:.3f}"
    "<br>%{customdata[10]}"
)


def cell_index(pixels: np.ndarray, size: int, cells: int) -> np.ndarray:
    """Logit-grid cell holding each full-resolution pixel index (pixel centres scaled)."""
    return np.minimum(((pixels + 0.5) * cells / size).astype(np.int64), cells - 1)


def hover_table(data: ViewerData, index: int) -> np.ndarray:
    """``(h, w, 11)`` object array of :data:`HOVER_FIELDS` for every cell of panel `index`.

    Class, confidence (= top-1 probability), top-3, entropy and margin (= p1 − p2) all come
    from the logit cell that holds the pixel, as in the widget's read-out; the notes say when
    the pixel's colour (its full-resolution label) differs from that cell's top class, and
    compare with the truth.
    """
    panel = data.panels[index]
    h, w = panel.labels.shape
    _, lh, lw = panel.cell_ids.shape
    height, width = data.original_size
    ly = cell_index(grid_indices(height, data.factor), height, lh)
    lx = cell_index(grid_indices(width, data.factor), width, lw)
    ids = panel.cell_ids[:, ly][:, :, lx]
    probs = panel.cell_probs[:, ly][:, :, lx]
    names = np.asarray(data.names, dtype=object)
    table = np.empty((h, w, len(HOVER_FIELDS)), dtype=object)
    table[..., 0] = names[ids[0]]
    table[..., 1] = probs[0]
    for j in range(3):
        table[..., 2 + 2 * j] = names[ids[j]]
        table[..., 3 + 2 * j] = probs[j]
    entropy = panel.cell_maps.get("entropy")
    table[..., 8] = np.nan if entropy is None else entropy[ly][:, lx]
    table[..., 9] = probs[0] - probs[1]
    shown = names[panel.labels]
    notes = np.where(
        panel.labels == ids[0],
        "",
        "colour here: " + shown + " (the full-resolution label differs from the cell's top class)",
    ).astype(object)
    truth = data.ground_truth
    if truth is not None:
        truth_names = names[np.where(truth == data.ignore_index, 0, truth)]
        verdict = np.where(
            truth == data.ignore_index,
            "truth: unlabelled pixel",
            np.where(
                truth == panel.labels,
                "truth: " + truth_names + " ✓ correct",
                "truth: " + truth_names + " ✗ the pixel shows " + shown,
            ),
        )
        notes = np.where(notes == "", verdict, notes + "<br>" + verdict)
    table[..., 10] = notes
    for col in (1, 3, 5, 7, 8, 9):
        table[..., col] = table[..., col].astype(float).round(4)
    return table


def _colorbar_trace(go: Any, data: ViewerData, layer: str) -> Any:
    """An invisible 1×2 heat map whose only visible part is the colour bar of map `layer`."""
    spec = LAYERS[layer]
    upper = data.panels[0].scales[layer]
    scale = [list(stop) for stop in colormap_stops(layer)]
    return go.Heatmap(
        z=[[0.0, upper]],
        x=[0, 1],
        y=[0],
        colorscale=scale,
        zmin=0.0,
        zmax=upper,
        opacity=0.0,
        hoverinfo="skip",
        name=layer,
        visible=False,
        colorbar=dict(
            title=dict(text=spec.label.replace(" (", "<br>("), side="right"),
            len=0.8,
            thickness=12,
        ),
    )


def segmentation_figure(
    image: Any,
    result: Any,
    *,
    ground_truth: Any = None,
    compare: Any = None,
    title: str | None = None,
    image_pixels: int = 256 * 256,
    hover_cells: int = 64 * 64,
    opacity: float = 0.6,
) -> go.Figure:
    """A plotly ``Figure`` of a segmentation with layer buttons and a hover read-out.

    Args:
        image, result, ground_truth, compare: as for :class:`SegmentationViewer`.
        image_pixels: most pixels of each layer picture (nearest-sampled class ids).
        hover_cells: most cells of the hover grid (each cell reads one real pixel).
        opacity: overlay opacity of the pictures.

    Returns:
        ``plotly.graph_objects.Figure`` with one ``go.Image`` per (panel, layer), a transparent
        ``go.Heatmap`` per panel with ``customdata`` columns :data:`HOVER_FIELDS`, and one button
        per layer.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    # load the photo and the ground truth once (either may be a file) for both resolutions
    rgb = as_rgb(image)
    truth = None if ground_truth is None else load_ground_truth(ground_truth)
    kwargs = {"ground_truth": truth, "compare": compare}
    pictures = build_viewer_data(rgb, result, max_pixels=image_pixels, **kwargs)
    hover = build_viewer_data(
        rgb, result, max_pixels=min(hover_cells, DEFAULT_MAX_PIXELS), **kwargs
    )
    height, width = pictures.original_size
    n = len(pictures.panels)
    fig = make_subplots(
        rows=1, cols=n, subplot_titles=[p.title for p in pictures.panels], horizontal_spacing=0.03
    )
    layers = pictures.layers
    trace_layers: list[str | None] = []
    f = pictures.factor
    for i in range(n):
        for layer in layers:
            png = render_png_tile(pictures, i, ViewState(layer=layer, opacity=opacity))
            fig.add_trace(
                go.Image(
                    source="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                    x0=(f - 1) / 2,
                    y0=(f - 1) / 2,
                    dx=f,
                    dy=f,
                    hoverinfo="skip",
                    name=layer,
                    visible=layer == "labels",
                ),
                row=1,
                col=i + 1,
            )
            trace_layers.append(layer)
        cells = hover.panels[i].labels
        cell_grid = hover.panels[i].cell_ids.shape[1:]
        fig.add_trace(
            go.Heatmap(
                z=np.zeros(cells.shape, dtype=np.uint8),
                x=grid_indices(width, hover.factor),
                y=grid_indices(height, hover.factor),
                customdata=hover_table(hover, i),
                hovertemplate=_HOVER.replace("GRID", "×".join(map(str, cell_grid[::-1])))
                + f"<extra>{pictures.panels[i].title}</extra>",
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                name="hover",
            ),
            row=1,
            col=i + 1,
        )
        trace_layers.append(None)
    for layer in layers:
        if LAYERS[layer].kind == "map":
            fig.add_trace(_colorbar_trace(go, pictures, layer), row=1, col=1)
            trace_layers.append(f"bar:{layer}")
    buttons = [
        dict(
            label=LAYERS[layer].label,
            method="update",
            args=[{"visible": [t in (None, layer, f"bar:{layer}") for t in trace_layers]}],
        )
        for layer in layers
    ]
    heading = title or "segmentation"
    if not pictures.is_trained:
        heading += f" — <span style='color:{WARNING_COLOR}'><b>{UNTRAINED}</b></span>"
    fig.update_layout(
        # title on the top line, the layer menu on its own line below it, so a long title
        # never runs under the menu; the untrained note below the pictures, in the margin
        title=dict(text=heading, y=0.985, yanchor="top", yref="container"),
        updatemenus=[
            dict(buttons=buttons, direction="down", x=1, xanchor="right", y=1.0,
                 yanchor="bottom", pad=dict(b=24))
        ],
        height=max(360, min(760, int(420 * height / max(width, 1) * (2 / n)) + 170)),
        margin=dict(l=10, r=10, t=120, b=40),
    )
    if not pictures.is_trained:
        fig.add_annotation(
            text=UNTRAINED_BANNER,
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            yanchor="top",
            yshift=-6,
            showarrow=False,
            font=dict(color=WARNING_COLOR),
            xanchor="left",
        )
    for i in range(n):
        fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], row=1, col=i + 1)
        anchor = "x" if i == 0 else f"x{i + 1}"
        fig.update_yaxes(
            visible=False, range=[height - 0.5, -0.5], scaleanchor=anchor, row=1, col=i + 1
        )
    return fig
