"""Matplotlib figures of segmentation metrics: confusion matrix, reliability diagram,
risk–coverage curves, and a result's uncertainty maps.

Each takes a filled ``sl.SegmentationMetrics`` (or a `SegmentationResult`) and says "untrained
demo weights" in its title when that object's `provenance` says so. Figures are built without
pyplot (`segpile_lab/_figures.py`), so no global figure stays open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from segpile_lab._figures import literal, matplotlib_figure
from segpile_lab.provenance import WARNING_COLOR, Provenance, title
from segpile_lab.seg.layers import LAYERS, value_range

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from segpile_lab.seg.metrics import SegmentationMetrics
    from segpile_lab.seg.results import SegmentationResult


def set_title(ax: Any, text: str, provenance: Provenance, **options: Any) -> None:
    """Title `ax` with `text`, the provenance note on a second line, in the warning colour for
    demos; `options` go to ``ax.set_title`` (e.g. ``fontsize``)."""
    colour = WARNING_COLOR if provenance.is_demo else "black"
    ax.set_title(title(text, provenance, sep="\n"), color=colour, **options)


def confusion_top(metrics: SegmentationMetrics, top: int = 10) -> tuple[np.ndarray, list[str]]:
    """Row-normalised confusion of the `top` classes with most truth pixels, plus "other".

    Returns ``(matrix (top+1, top+1) float, names)``: rows = truth, columns = prediction, each
    row sums to 1 over all predictions (the last column gathers predictions of other classes;
    the last row gathers truth pixels of other classes).
    """
    cm = np.asarray(metrics.confusion, dtype=np.float64)
    support = cm.sum(1)
    order = [int(i) for i in np.argsort(-support, kind="stable")[:top] if support[i] > 0]
    rest = np.setdiff1d(np.arange(cm.shape[0]), order)
    rows = [cm[order]] + ([cm[rest].sum(0, keepdims=True)] if rest.size else [])
    full = np.concatenate(rows)
    cols = [full[:, order]] + ([full[:, rest].sum(1, keepdims=True)] if rest.size else [])
    matrix = np.concatenate(cols, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.nan_to_num(matrix / matrix.sum(1, keepdims=True))
    names = [metrics.id2label.get(i, f"class {i}") for i in order]
    if rest.size:
        names.append("other")
    return matrix, names


def plot_confusion_matrix(metrics: SegmentationMetrics, *, top: int = 10) -> Figure:
    """Heat map of :func:`confusion_top` (share of each truth class predicted as each class)."""
    matrix, names = confusion_top(metrics, top)
    names = [literal(name) for name in names]  # class names are drawn as-is, never math text
    fig, ax = matplotlib_figure(1.6 + 0.6 * len(names), 1.2 + 0.55 * len(names))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for (i, j), value in np.ndenumerate(matrix):
        if value >= 0.05:
            ax.text(
                j,
                i,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if value > 0.6 else "black",
            )
    from matplotlib.ticker import PercentFormatter

    fig.colorbar(
        image, ax=ax, fraction=0.046, label="share of the true class's pixels",
        format=PercentFormatter(1.0),
    )
    set_title(ax, "Confusion matrix (rows sum to 100%)", metrics.provenance)
    return fig


def plot_reliability(metrics: SegmentationMetrics) -> Figure:
    """Reliability diagram: accuracy against mean confidence per bin, with the pixel counts."""
    table = metrics.reliability()
    lower = table["lower"].to_numpy()
    width = float(table["upper"][0] - table["lower"][0])
    accuracy = table["accuracy"].fill_null(0.0).to_numpy()
    confidence = table["mean_confidence"].to_numpy()
    pixels = table["pixels"].to_numpy()
    fig, (ax, ax_count) = matplotlib_figure(
        5, 5.2, nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.bar(
        lower,
        accuracy,
        width=width,
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="accuracy in bin",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    used = pixels > 0
    ax.plot(
        confidence[used],
        accuracy[used],
        "o",
        color="#dd8452",
        ms=4,
        label="accuracy at the bin's mean confidence",
    )
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper left")
    set_title(ax, f"Reliability diagram (ECE {metrics.ece():.3f})", metrics.provenance)
    ax_count.bar(lower, pixels, width=width, align="edge", color="#8c8c8c")
    ax_count.set_xlabel("confidence (max softmax probability)")
    ax_count.set_ylabel("pixels")
    ax_count.set_xlim(0, 1)
    return fig


def oracle_risk(coverage: np.ndarray, error_rate: float) -> np.ndarray:
    """Best possible risk at each coverage: wrong pixels are abstained on first."""
    coverage = np.asarray(coverage, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(coverage > 0, np.maximum(0.0, coverage - (1 - error_rate)) / coverage, 0)


def plot_risk_coverage(
    metrics: SegmentationMetrics,
    scores: tuple[str, ...] = ("confidence", "entropy", "margin", "mutual_information"),
) -> Figure:
    """Risk (error rate of kept pixels) against coverage for each available score, with
    AURC in the legend and the oracle curve as the lower bound."""
    fig, ax = matplotlib_figure(5.5, 4)
    available = [s for s in scores if s in metrics.auroc()]
    for score in available:
        curve = metrics.risk_coverage(score)
        ax.plot(
            curve["coverage"].to_numpy(),
            curve["risk"].to_numpy(),
            label=f"{score.replace('_', ' ')} (AURC {metrics.aurc(score):.3f})",
        )
    summary = metrics.summary()
    error = 1 - summary["pixel_accuracy"]
    grid = np.linspace(0.001, 1, 200)
    ax.plot(grid, oracle_risk(grid, error), ":", color="black", label="oracle (best possible)")
    ax.axhline(error, color="grey", lw=0.8, ls="--", label=f"no abstention ({error:.1%} wrong)")
    ax.set_xlabel("coverage (share of labelled pixels kept)")
    ax.set_ylabel("risk (error rate on kept pixels)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, min(1, max(0.05, error * 1.6)))
    ax.legend(fontsize=8)
    set_title(ax, "Risk–coverage: abstain on the least certain pixels first", metrics.provenance)
    return fig


def plot_uncertainty_maps(
    result: SegmentationResult, layers: tuple[str, ...] = ("confidence", "entropy", "margin")
) -> Figure:
    """One panel per uncertainty map of `result` (``(H, W)`` each) with its unit on the colour
    bar; the title says "untrained demo weights" for demo models."""
    fig, axes = matplotlib_figure(
        4.2 * len(layers), 3.6, ncols=len(layers), sharey=False, squeeze=False
    )
    for ax, layer in zip(axes[0], layers, strict=True):
        spec = LAYERS[layer]
        values = result.layer(layer) if hasattr(result, "layer") else getattr(result, layer)
        vmax = value_range(layer, len(result.id2label), values)
        image = ax.imshow(values, cmap=spec.colormap, vmin=0.0, vmax=vmax)
        ax.set_axis_off()
        ax.set_title(f"{spec.label}\nmean {float(np.nanmean(values)):.3f}", fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, label=spec.units)
    provenance = result.provenance
    fig.suptitle(
        title(result.model_name, provenance),
        color=WARNING_COLOR if provenance.is_demo else "black",
    )
    return fig
