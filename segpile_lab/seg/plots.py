"""Matplotlib figures of segmentation metrics: confusion matrix, reliability diagram,
risk–coverage curves. Each takes a filled ``sl.SegmentationMetrics`` and says "untrained demo
weights" in its title when `is_trained` is False.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segpile_lab._figures import literal
from segpile_lab.seg.layers import LAYERS, value_range

UNTRAINED_NOTE = "untrained demo weights"


def _title(ax: Any, text: str, is_trained: bool) -> None:
    ax.set_title(
        text if is_trained else f"{text}\n({UNTRAINED_NOTE})",
        color="black" if is_trained else "#b00020",
    )


def confusion_top(metrics: Any, top: int = 10) -> tuple[np.ndarray, list[str]]:
    """Row-normalised confusion of the `top` classes with most truth pixels, plus "other".

    Returns ``(matrix (top+1, top+1) float, names)``: rows = truth, columns = prediction, each
    row sums to 1 over all predictions (the last column gathers predictions of other classes;
    the last row gathers truth pixels of other classes).
    """
    cm = np.asarray(metrics.confusion, dtype=np.float64)
    support = cm.sum(1)
    order = [int(i) for i in np.argsort(-support, kind="stable")[:top] if support[i] > 0]
    rest = np.setdiff1d(np.arange(cm.shape[0]), order)
    blocks = [order, rest]
    rows = [cm[order]] + ([cm[rest].sum(0, keepdims=True)] if rest.size else [])
    full = np.concatenate(rows)
    cols = [full[:, order]] + ([full[:, rest].sum(1, keepdims=True)] if rest.size else [])
    matrix = np.concatenate(cols, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.nan_to_num(matrix / matrix.sum(1, keepdims=True))
    names = [metrics.id2label.get(i, f"class {i}") for i in order]
    if blocks[1].size:
        names.append("other")
    return matrix, names


def plot_confusion_matrix(metrics: Any, *, top: int = 10, is_trained: bool = True):
    """Heat map of :func:`confusion_top` (share of each truth class predicted as each class)."""
    import matplotlib.pyplot as plt

    matrix, names = confusion_top(metrics, top)
    names = [literal(name) for name in names]  # class names are drawn as-is, never math text
    fig, ax = plt.subplots(figsize=(1.6 + 0.6 * len(names), 1.2 + 0.55 * len(names)))
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
    _title(ax, "Confusion matrix (rows sum to 100%)", is_trained)
    fig.tight_layout()
    return fig


def plot_reliability(metrics: Any, *, is_trained: bool = True):
    """Reliability diagram: accuracy against mean confidence per bin, with the pixel counts."""
    import matplotlib.pyplot as plt

    table = metrics.reliability()
    lower = table["lower"].to_numpy()
    width = float(table["upper"][0] - table["lower"][0])
    accuracy = table["accuracy"].fill_null(0.0).to_numpy()
    confidence = table["mean_confidence"].to_numpy()
    pixels = table["pixels"].to_numpy()
    fig, (ax, ax_count) = plt.subplots(
        2, 1, figsize=(5, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
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
    _title(ax, f"Reliability diagram (ECE {metrics.ece():.3f})", is_trained)
    ax_count.bar(lower, pixels, width=width, align="edge", color="#8c8c8c")
    ax_count.set_xlabel("confidence (max softmax probability)")
    ax_count.set_ylabel("pixels")
    ax_count.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def oracle_risk(coverage: np.ndarray, error_rate: float) -> np.ndarray:
    """Best possible risk at each coverage: wrong pixels are abstained on first."""
    coverage = np.asarray(coverage, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(coverage > 0, np.maximum(0.0, coverage - (1 - error_rate)) / coverage, 0)


def plot_risk_coverage(
    metrics: Any,
    scores: tuple[str, ...] = ("confidence", "entropy", "margin", "mutual_information"),
    *,
    is_trained: bool = True,
):
    """Risk (error rate of kept pixels) against coverage for each available score, with
    AURC in the legend and the oracle curve as the lower bound."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
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
    _title(ax, "Risk–coverage: abstain on the least certain pixels first", is_trained)
    fig.tight_layout()
    return fig


def plot_uncertainty_maps(
    result: Any, layers: tuple[str, ...] = ("confidence", "entropy", "margin")
):
    """One panel per uncertainty map of `result` (``(H, W)`` each) with its unit on the colour
    bar; the title says "untrained demo weights" for demo models."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(layers), figsize=(4.2 * len(layers), 3.6), squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        spec = LAYERS[layer]
        values = result.layer(layer) if hasattr(result, "layer") else getattr(result, layer)
        vmax = value_range(layer, len(result.id2label), values)
        image = ax.imshow(values, cmap=spec.colormap, vmin=0.0, vmax=vmax)
        ax.set_axis_off()
        ax.set_title(f"{spec.label}\nmean {float(np.nanmean(values)):.3f}", fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, label=spec.units)
    name = getattr(result, "model_name", "")
    trained = bool(getattr(result, "is_trained", True))
    fig.suptitle(
        name if trained else f"{name} — {UNTRAINED_NOTE}", color="black" if trained else "#b00020"
    )
    fig.tight_layout()
    return fig
