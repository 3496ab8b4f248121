"""Figures of bits per byte, in plotly (interactive) or matplotlib (static PNG).

Every function takes ``backend="plotly" | "matplotlib"`` and returns that library's figure.
Titles carry "untrained demo weights" and "synthetic demo data" whenever they apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from segpile_lab._figures import (
    AnyFigure,
    Backend,
    check_backend,
    literal,
    matplotlib_figure,
)
from segpile_lab._figures import save_figures as _save_figures
from segpile_lab.bpb.result import OVERALL, BPBResult, paper_reference
from segpile_lab.pile.manifests import paper_model_name
from segpile_lab.pile.subsets import subset_order
from segpile_lab.provenance import Provenance
from segpile_lab.provenance import title as provenance_title

__all__ = [
    "bpb_figures",
    "plot_bpb_vs_bytes_per_token",
    "plot_context_sensitivity",
    "plot_document_bpb",
    "plot_loss_by_position",
    "plot_subset_bpb",
    "save_figures",
]

DEFAULT_PAPER_MODELS = ("gpt2_small", "gpt3_davinci")
#: Above this many (document, scorer) rows the per-document box plot shows outliers only.
MAX_POINTS = 5000


def _finish(ax: Any, title: str, xlabel: str | None, ylabel: str) -> None:
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _paper_points(subsets: list[str], models: Sequence[str]) -> pl.DataFrame:
    if not models:
        return pl.DataFrame(schema={"subset": pl.String, "model": pl.String, "bpb": pl.Float64})
    try:
        paper = paper_reference(list(models))
    except (AttributeError, FileNotFoundError):  # the manifest is not installed
        return pl.DataFrame(schema={"subset": pl.String, "model": pl.String, "bpb": pl.Float64})
    return paper.filter(pl.col("subset").is_in(subsets))


def plot_subset_bpb(
    result: BPBResult,
    *,
    paper_models: Sequence[str] = DEFAULT_PAPER_MODELS,
    backend: Backend = "plotly",
) -> AnyFigure:
    """Bars: pooled BPB per subset for every scorer, with the bootstrap 95% interval; diamonds:
    the Pile paper's per-component test BPB of `paper_models` (``gpt2_small`` … ``gpt3_davinci``).
    """
    check_backend(backend)
    table = result.subsets.filter(pl.col("bpb").is_not_nan())
    subsets = subset_order(set(table["subset"]) - {OVERALL}) + [OVERALL] * (
        OVERALL in table["subset"]
    )
    paper = _paper_points(subsets, paper_models)
    title = provenance_title(
        "Bits per byte per subset (bars: 95% document-bootstrap interval)", result.provenance
    )
    scorers = result.scorers["scorer"].to_list()
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure()
        for name in scorers:
            part = table.filter(pl.col("scorer") == name)
            fig.add_bar(
                name=name,
                x=part["subset"].to_list(),
                y=part["bpb"].to_list(),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part["bpb"]).to_list(),
                    "arrayminus": (part["bpb"] - part["ci_low"]).to_list(),
                },
            )
        for model in paper_models:
            part = paper.filter(pl.col("model") == model)
            fig.add_scatter(
                name=f"paper: {paper_model_name(model)}",
                x=part["subset"].to_list(),
                y=part["bpb"].to_list(),
                mode="markers",
                marker={"symbol": "diamond", "size": 10},
            )
        fig.update_layout(
            title=title, barmode="group", yaxis_title="bits per byte", xaxis_title="subset"
        )
        fig.update_xaxes(categoryorder="array", categoryarray=subsets)
        return fig
    import numpy as np

    fig, ax = matplotlib_figure(max(8.0, 1.2 * len(subsets)), 4.5)
    x = np.arange(len(subsets))
    width = 0.8 / max(1, len(scorers))
    for i, name in enumerate(scorers):
        part = table.filter(pl.col("scorer") == name)
        index = [subsets.index(s) for s in part["subset"]]
        bpb = part["bpb"].to_numpy()
        errors = None
        if part["ci_low"].null_count() == 0:
            errors = np.vstack([bpb - part["ci_low"].to_numpy(), part["ci_high"].to_numpy() - bpb])
        ax.bar(x[index] + (i - (len(scorers) - 1) / 2) * width, bpb, width, yerr=errors,
               capsize=3, label=literal(name))  # fmt: skip
    for model in paper_models:
        part = paper.filter(pl.col("model") == model)
        ax.scatter([subsets.index(s) for s in part["subset"]], part["bpb"].to_list(),
                   marker="D", zorder=3, label=f"paper: {paper_model_name(model)}")  # fmt: skip
    ax.set_xticks(x, [literal(s) for s in subsets], rotation=30, ha="right")
    _finish(ax, title, None, "bits per byte")
    return fig


def plot_document_bpb(result: BPBResult, *, backend: Backend = "plotly") -> AnyFigure:
    """Distribution of per-document BPB per subset (box plots, one colour per scorer), the
    subsets in the paper's order. The plotly version draws every document as a point up to
    `MAX_POINTS` documents, then only the outliers (the HTML stays small)."""
    check_backend(backend)
    docs = result.documents
    title = provenance_title("Per-document bits per byte", result.provenance)
    subsets = subset_order(docs["subset"].unique())
    if backend == "plotly":
        import plotly.express as px

        points = "all" if docs.height <= MAX_POINTS else "outliers"
        fig = px.box(docs, x="subset", y="bpb", color="scorer", points=points, title=title,
                     category_orders={"subset": subsets})  # fmt: skip
        fig.update_layout(yaxis_title="bits per byte (one document)")
        return fig
    fig, ax = matplotlib_figure(9.0, 4.5)
    scorers = result.scorers["scorer"].to_list()
    width = 0.8 / max(1, len(scorers))
    for i, name in enumerate(scorers):
        part = docs.filter(pl.col("scorer") == name)
        data = [part.filter(pl.col("subset") == s)["bpb"].to_list() for s in subsets]
        positions = [j + (i - (len(scorers) - 1) / 2) * width for j in range(len(subsets))]
        boxes = ax.boxplot(data, positions=positions, widths=width * 0.9, patch_artist=True)
        for patch in boxes["boxes"]:
            patch.set_facecolor(f"C{i}")
        ax.plot([], [], color=f"C{i}", label=literal(name))
    ax.set_xticks(range(len(subsets)), [literal(s) for s in subsets], rotation=30, ha="right")
    _finish(ax, title, None, "bits per byte (one document)")
    return fig


def plot_bpb_vs_bytes_per_token(result: BPBResult, *, backend: Backend = "plotly") -> AnyFigure:
    """Per-subset BPB against bytes per token: does a subset look hard because the model is
    poor on it, or because its tokenizer splits it into many tokens?

    Only scorers whose tokens are not single bytes are drawn (a byte-level scorer puts every
    point at x = 1, which says nothing); without any, the figure says so instead. Subset
    labels that would overlap are left to the hover text.
    """
    check_backend(backend)
    table = result.subsets.filter(
        pl.col("tokens").is_not_null()
        & (pl.col("tokens") != pl.col("bytes"))
        & (pl.col("subset") != OVERALL)
        & pl.col("bpb").is_not_nan()
    ).with_columns(bytes_per_token=pl.col("bytes").cast(pl.Float64) / pl.col("tokens"))
    title = provenance_title("Bits per byte vs bytes per token, per subset", result.provenance)
    labels = thin_labels(table["bytes_per_token"].to_list(), table["bpb"].to_list(),
                         table["subset"].to_list())  # fmt: skip
    empty = "every scorer here reads one byte per token: nothing to compare"
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure()
        for name in table["scorer"].unique(maintain_order=True):
            rows = [i for i, s in enumerate(table["scorer"]) if s == name]
            fig.add_scatter(
                x=[table["bytes_per_token"][i] for i in rows], y=[table["bpb"][i] for i in rows],
                mode="markers+text", name=name, text=[labels[i] for i in rows],
                textposition="top center", hovertext=[table["subset"][i] for i in rows],
            )  # fmt: skip
        if table.is_empty():
            fig.add_annotation(text=empty, x=0.5, y=0.5, xref="paper", yref="paper",
                               showarrow=False)  # fmt: skip
        fig.update_layout(title=title, xaxis_title="bytes per token", yaxis_title="bits per byte")
        return fig
    fig, ax = matplotlib_figure(7.0, 5.0)
    for i, name in enumerate(table["scorer"].unique(maintain_order=True)):
        part = [j for j, s in enumerate(table["scorer"]) if s == name]
        ax.scatter([table["bytes_per_token"][j] for j in part], [table["bpb"][j] for j in part],
                   color=f"C{i}", label=literal(name))  # fmt: skip
        for j in part:
            if labels[j]:
                ax.annotate(literal(labels[j]), (table["bytes_per_token"][j], table["bpb"][j]),
                            fontsize=7, xytext=(0, 4), textcoords="offset points", ha="center")
    if table.is_empty():
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
    _finish(ax, title, "bytes per token", "bits per byte")
    return fig


def thin_labels(
    x: list[float], y: list[float], labels: list[str], *, min_gap: float = 0.06
) -> list[str]:
    """`labels` with "" for each point whose label would sit within `min_gap` (a fraction of
    the axis ranges) of a label already kept: labels never pile into a blob."""
    if not labels:
        return []
    spans = [max(max(v) - min(v), 1e-12) for v in (x, y)]
    kept: list[tuple[float, float]] = []
    out = []
    for xi, yi, label in zip(x, y, labels, strict=True):
        point = (xi / spans[0], yi / spans[1])
        if all(abs(point[0] - k[0]) > min_gap or abs(point[1] - k[1]) > min_gap for k in kept):
            kept.append(point)
            out.append(label)
        else:
            out.append("")
    return out


def plot_loss_by_position(result: BPBResult, *, backend: Backend = "plotly") -> AnyFigure:
    """Mean NLL (bits per token) by position in the window: how loss falls with more context.
    The y axis starts at 0, so an untrained model's flat line (near log2 of its vocabulary)
    reads as flat rather than as noise blown up to fill the plot."""
    check_backend(backend)
    table = result.loss_by_position
    title = provenance_title("Loss by token position in the window", result.provenance)
    if backend == "plotly":
        import plotly.express as px

        fig = px.line(table, x="position", y="mean_nll_bits", color="scorer", title=title)
        fig.update_layout(xaxis_title="position (tokens of context)",
                          yaxis_title="mean NLL (bits per token)")  # fmt: skip
        fig.update_yaxes(rangemode="tozero")
        return fig
    fig, ax = matplotlib_figure(9.0, 4.5)
    for name in table["scorer"].unique(maintain_order=True) if table.height else []:
        part = table.filter(pl.col("scorer") == name)
        ax.plot(part["position"], part["mean_nll_bits"], label=literal(name))
    ax.set_ylim(bottom=0)
    _finish(ax, title, "position (tokens of context)", "mean NLL (bits per token)")
    return fig


def plot_context_sensitivity(table: pl.DataFrame, *, backend: Backend = "plotly") -> AnyFigure:
    """BPB against window length, one line per stride (`bpb_by_context` output); untrained
    when the table's ``is_trained`` column says so."""
    check_backend(backend)
    provenance = Provenance(is_trained=all(table["is_trained"]))
    title = provenance_title("Bits per byte vs context length and stride", provenance)
    if backend == "plotly":
        import plotly.express as px

        fig = px.line(table, x="max_length", y="bpb", color="windows", markers=True, title=title)
        fig.update_layout(xaxis_title="window length L (tokens)", yaxis_title="bits per byte")
        return fig
    fig, ax = matplotlib_figure(7.0, 4.5)
    for name in table["windows"].unique(maintain_order=True):
        part = table.filter(pl.col("windows") == name)
        ax.plot(part["max_length"], part["bpb"], marker="o", label=name)
    _finish(ax, title, "window length L (tokens)", "bits per byte")
    return fig


def bpb_figures(result: BPBResult, *, backend: Backend = "plotly") -> dict[str, Any]:
    """Every figure that `result` has data for, by file stem."""
    figures = {
        "bpb_by_subset": plot_subset_bpb(result, backend=backend),
        "bpb_per_document": plot_document_bpb(result, backend=backend),
    }
    if result.subsets["tokens"].is_not_null().any():
        figures["bpb_vs_bytes_per_token"] = plot_bpb_vs_bytes_per_token(result, backend=backend)
    if result.loss_by_position.height:
        figures["loss_by_position"] = plot_loss_by_position(result, backend=backend)
    return figures


def save_figures(result: BPBResult, out_dir: str | Path) -> list[Path]:
    """Write `bpb_figures` as ``.html`` (plotly) and ``.png`` (matplotlib) into `out_dir`."""
    return _save_figures(lambda backend: bpb_figures(result, backend=backend), out_dir)
