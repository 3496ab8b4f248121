"""Dataset-level figures: which classes fail, and does uncertainty find the bad images?

Both are matplotlib figures (drawn once, exported as PNG in reports) with the model's
provenance in the title, drawn from a `DatasetEvaluation` (``sl.evaluate_dataset``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from segpile_lab._figures import literal, matplotlib_figure
from segpile_lab.seg.plots import set_title

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from segpile_lab.seg.evaluate_dataset import DatasetEvaluation

LABELLED_CLASSES = 6  # classes named in the IoU figure: the rarest and the most frequent


def plot_class_iou_vs_frequency(evaluation: DatasetEvaluation) -> Figure:
    """Scatter of per-class IoU against the class's share of labelled pixels (log x), one
    point per class present in the ground truth; the rarest and commonest are named."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    per_class = evaluation.metrics.per_class()
    per_class = per_class.filter(per_class["target_pixels"] > 0)
    share = per_class["target_pixels"].to_numpy() / max(per_class["target_pixels"].sum(), 1)
    iou = per_class["iou"].fill_null(0.0).to_numpy()
    fig, ax = matplotlib_figure(6.4, 4.2)
    ax.scatter(share, iou, s=22, color="#1f77b4", alpha=0.8)
    ax.set_xscale("log")
    # labels at 1-2-5 steps as percentages: matplotlib's own labels every minor tick of a
    # range under a decade ("3×10⁻²4×10⁻²…"), which overlap
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:g}%"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="share of labelled pixels (ground truth)", ylabel="IoU", ylim=(-0.02, 1.02))
    set_title(ax, "per-class IoU vs pixel frequency", evaluation.provenance, fontsize=10)
    order = np.argsort(share)
    named = {*order[: LABELLED_CLASSES // 2], *order[-(LABELLED_CLASSES // 2) :]}
    for i in named:
        ax.annotate(literal(per_class["name"][int(i)]), (share[i], iou[i]), fontsize=8,
                    xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.grid(alpha=0.3)
    return fig


def plot_error_vs_uncertainty(
    evaluation: DatasetEvaluation, score: str = "mean_entropy"
) -> Figure:
    """Scatter of each image's error rate against its mean uncertainty `score` (a per-image
    column such as ``mean_entropy``, ``mean_confidence``, ``mean_mutual_information``), with
    the Spearman rank correlation in the title."""
    import polars as pl

    frame = evaluation.per_image.drop_nulls([score, "error_rate"])
    x, y = frame[score].to_numpy(), frame["error_rate"].to_numpy()
    rho = (
        frame.select(pl.corr(score, "error_rate", method="spearman")).item() if len(x) > 2 else None
    )
    label = evaluation.metrics.column_label(score)
    fig, ax = matplotlib_figure(6.4, 4.2)
    ax.scatter(x, y, s=18, color="#d62728", alpha=0.7)
    ax.set(xlabel=f"{label} per image", ylabel="error rate (labelled pixels)", ylim=(-0.02, 1.02))
    suffix = f", Spearman ρ = {rho:.2f}" if rho is not None and np.isfinite(rho) else ""
    set_title(ax, literal(f"error rate vs {label}{suffix}"), evaluation.provenance, fontsize=10)
    ax.grid(alpha=0.3)
    return fig
