"""Report-mode variant of the viewer: a plotly figure that keeps layers and hover without a kernel.

Each layer is a pre-rendered picture (the same renderer as the widget's static PNG) in a
``go.Image`` trace, switched by buttons; a transparent heatmap on a coarser grid carries the hover
read-out (class, top-3 probabilities, entropy, margin, truth) as ``customdata``. Everything is in
the figure's JSON, so an exported HTML report keeps it working offline.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from segpile_lab.viewer._data import (
    DEFAULT_MAX_PIXELS,
    UNTRAINED_BANNER,
    Panel,
    build_viewer_data,
    load_ground_truth,
)
from segpile_lab.viewer._payload import as_rgb, grid_indices
from segpile_lab.viewer._render import ViewState, render_png_tile

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
    "truth",
)
_HOVER = (
    "pixel (%{x}, %{y})<br>predicted: %{customdata[0]} (confidence %{customdata[1]:.1%})"
    "<br>top-3: %{customdata[2]} %{customdata[3]:.1%} · %{customdata[4]} "
    "%{customdata[5]:.1%} · %{customdata[6]} %{customdata[7]:.1%}"
    "<br>entropy %{customdata[8]:.3f} nats · margin %{customdata[9]:.3f}"
    "<br>%{customdata[10]}"
)


def hover_table(
    panel: Panel, names: list[str], ground_truth: np.ndarray | None, ignore_index: int
) -> np.ndarray:
    """``(h, w, 11)`` object array of :data:`HOVER_FIELDS` for every cell of `panel`'s grid.

    Top-3 entries come from the logit-resolution cell under each grid cell (as in the widget).
    """
    h, w = panel.labels.shape
    _, lh, lw = panel.topk_ids.shape
    ly = np.minimum(((np.arange(h) + 0.5) / h * lh).astype(int), lh - 1)
    lx = np.minimum(((np.arange(w) + 0.5) / w * lw).astype(int), lw - 1)
    ids = panel.topk_ids[:, ly][:, :, lx]
    probs = panel.topk_probs[:, ly][:, :, lx]
    name_arr = np.asarray(names, dtype=object)
    table = np.empty((h, w, len(HOVER_FIELDS)), dtype=object)
    table[..., 0] = name_arr[panel.labels]
    table[..., 1] = panel.maps["confidence"]
    for j in range(3):
        table[..., 2 + 2 * j] = name_arr[ids[j]]
        table[..., 3 + 2 * j] = probs[j]
    table[..., 8] = panel.maps["entropy"]
    table[..., 9] = panel.maps["margin"]
    if ground_truth is None:
        table[..., 10] = "no ground truth"
    else:
        truth = name_arr[np.where(ground_truth == ignore_index, 0, ground_truth)]
        pred = table[..., 0]
        correct = ground_truth == panel.labels
        table[..., 10] = np.where(
            ground_truth == ignore_index,
            "truth: unlabelled pixel",
            np.where(
                correct,
                "truth: " + truth + " ✓ correct",
                "truth: " + truth + " ✗ predicted " + pred + " where truth is " + truth,
            ),
        )
    for col in (1, 3, 5, 7, 8, 9):
        table[..., col] = table[..., col].astype(float).round(4)
    return table


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
):
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
        fig.add_trace(
            go.Heatmap(
                z=np.zeros(cells.shape, dtype=np.uint8),
                x=grid_indices(width, hover.factor),
                y=grid_indices(height, hover.factor),
                customdata=hover_table(
                    hover.panels[i], hover.names, hover.ground_truth, hover.ignore_index
                ),
                hovertemplate=_HOVER + f"<extra>{pictures.panels[i].title}</extra>",
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                name="hover",
            ),
            row=1,
            col=i + 1,
        )
        trace_layers.append(None)
    buttons = [
        dict(
            label=layer.replace("_", " "),
            method="update",
            args=[{"visible": [t is None or t == layer for t in trace_layers]}],
        )
        for layer in layers
    ]
    heading = title or "segmentation"
    if not pictures.is_trained:
        heading += " — <span style='color:#b00020'><b>untrained demo weights</b></span>"
    fig.update_layout(
        title=dict(text=heading),
        updatemenus=[dict(buttons=buttons, direction="down", x=1, xanchor="right", y=1.14)],
        height=max(320, min(720, int(420 * height / max(width, 1) * (2 / n)) + 120)),
        margin=dict(l=10, r=10, t=90, b=10),
    )
    if not pictures.is_trained:
        fig.add_annotation(
            text=UNTRAINED_BANNER,
            xref="paper",
            yref="paper",
            x=0,
            y=-0.02,
            showarrow=False,
            font=dict(color="#b00020"),
            xanchor="left",
        )
    for i in range(n):
        fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], row=1, col=i + 1)
        anchor = "x" if i == 0 else f"x{i + 1}"
        fig.update_yaxes(
            visible=False, range=[height - 0.5, -0.5], scaleanchor=anchor, row=1, col=i + 1
        )
    return fig
