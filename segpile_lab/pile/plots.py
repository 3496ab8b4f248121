"""Audit figures, each in two versions: plotly (interactive) and matplotlib (static).

Every function takes ``backend="plotly"`` (returns a `plotly.graph_objects.Figure`) or
``backend="matplotlib"`` (returns a `matplotlib.figure.Figure` built without pyplot, so no
global figure stays open). Titles end with "synthetic demo data" when the data is synthetic
(`synthetic=None` reads it from the frame's ``synthetic`` / ``synthetic_documents`` column).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from segpile_lab._figures import (
    AnyFigure,
    Backend,
    check_backend,
    literal,
    matplotlib_figure,
)
from segpile_lab._figures import save_figure as save_figure  # the audit's public name for it
from segpile_lab.pile.composition import published_table
from segpile_lab.pile.pii import PATTERNS
from segpile_lab.pile.quality import SIGNALS
from segpile_lab.pile.subsets import subset_order
from segpile_lab.provenance import Provenance, title


def is_synthetic(*frames: pl.DataFrame) -> bool:
    """True when any frame marks a row synthetic (``synthetic`` or ``synthetic_documents``)."""
    for frame in frames:
        if "synthetic" in frame.columns and frame["synthetic"].any():
            return True
        if "synthetic_documents" in frame.columns and frame["synthetic_documents"].sum() > 0:
            return True
    return False


def _at_most(frame: pl.DataFrame, rows_per_subset: int) -> pl.DataFrame:
    """A seeded sample of at most `rows_per_subset` rows of each subset (keeps figures small)."""
    return frame.filter(pl.int_range(pl.len()).shuffle(seed=0).over("subset") < rows_per_subset)


def _start(backend: str, synthetic: bool | None, text: str, *frames: pl.DataFrame) -> str:
    """Check `backend`; the figure title, marked synthetic when asked or when a frame is."""
    check_backend(backend)
    marked = is_synthetic(*frames) if synthetic is None else synthetic
    return title(text, Provenance(synthetic=marked))


def plot_composition(
    comp: pl.DataFrame, *, backend: Backend = "plotly", synthetic: bool | None = None
) -> AnyFigure:
    """Observed byte share vs the published sampling weight, per subset (both in %).

    When `comp` has ``byte_share_low`` / ``byte_share_high`` (`byte_share_intervals` joined
    on ``subset``), the observed bars carry that interval as error bars.
    """
    title = _start(backend, synthetic, "Observed byte share vs published weight", comp)
    with_intervals = {"byte_share_low", "byte_share_high"} <= set(comp.columns)
    observed = (pl.col("byte_share") * 100).fill_nan(None).fill_null(0.0)
    percent = [  # a subset without an interval (too few documents) gets no error bar
        (pl.col(c) * 100).fill_nan(None).fill_null(observed).alias(c)
        for c in ("byte_share_low", "byte_share_high")
        if with_intervals
    ]
    data = comp.select(
        "subset",
        observed.alias("observed"),
        pl.col("published_weight_percent").fill_null(0.0).alias("published"),
        *percent,
    ).reverse()  # largest published subset on top
    names = data["subset"].to_list()
    minus = (data["observed"] - data["byte_share_low"]).to_list() if with_intervals else None
    plus = (data["byte_share_high"] - data["observed"]).to_list() if with_intervals else None
    gaps = with_intervals and comp["byte_share_low"].null_count() > 0
    observed_label = "observed byte share %" + (
        " (95% bootstrap interval" + ("; none: too few documents)" if gaps else ")") if plus else ""
    )
    if backend == "plotly":
        import plotly.graph_objects as go

        errors = dict(type="data", array=plus, arrayminus=minus, thickness=1.2, width=3)
        fig = go.Figure(
            [
                go.Bar(y=names, x=data["published"], name="published weight %", orientation="h"),
                go.Bar(
                    y=names,
                    x=data["observed"],
                    name=observed_label,
                    orientation="h",
                    error_x=errors if plus else None,
                ),
            ]
        )
        fig.update_layout(
            title=title,
            barmode="group",
            height=200 + 22 * len(names),
            xaxis_title="% of bytes",
            legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
            margin=dict(t=110),
        )
        return fig
    fig, ax = matplotlib_figure(8, 1.5 + 0.3 * len(names), fixed_margins=True)
    positions = range(len(names))
    ax.barh([p + 0.2 for p in positions], data["published"], 0.4, label="published weight %")
    ax.barh(
        [p - 0.2 for p in positions],
        data["observed"],
        0.4,
        label=observed_label,
        xerr=[minus, plus] if plus else None,
        error_kw=dict(elinewidth=1, capsize=2),
    )
    ax.set_yticks(list(positions), [literal(n) for n in names])
    ax.set_xlabel("% of bytes")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return fig


def plot_lengths(
    df: pl.DataFrame,
    *,
    backend: Backend = "plotly",
    synthetic: bool | None = None,
    max_points: int = 5000,
) -> AnyFigure:
    """Document sizes (bytes, log scale) per subset as box plots, with the published mean ◆.

    Boxes are drawn from at most `max_points` documents per subset (a seeded sample), so the
    figure stays small for whole shards; `composition` has the exact statistics.
    """
    title = _start(backend, synthetic, "Document size per subset (log scale); ◆ published mean", df)
    sizes = _at_most(
        df.select("subset", pl.col("n_bytes").cast(pl.Float64).clip(lower_bound=1)), max_points
    )
    names = subset_order(sizes["subset"].unique().to_list())[::-1]
    published = dict(published_table().select("subset", "published_mean_doc_bytes").iter_rows())
    groups = {n: sizes.filter(pl.col("subset") == n)["n_bytes"].to_list() for n in names}
    marked = [n for n in names if n in published]
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure(
            [go.Box(x=groups[n], name=n, orientation="h", showlegend=False) for n in names]
        )
        fig.add_trace(
            go.Scatter(
                x=[published[n] for n in marked],
                y=marked,
                mode="markers",
                marker_symbol="diamond",
                marker_color="black",
                name="published mean document size",
            )
        )
        fig.update_xaxes(type="log", title="document size (bytes)")
        fig.update_layout(title=title, height=200 + 22 * len(names))
        return fig
    fig, ax = matplotlib_figure(8, 1.5 + 0.3 * len(names), fixed_margins=True)
    if names:  # matplotlib refuses a box plot of nothing
        ax.boxplot([groups[n] for n in names], orientation="horizontal",
                   tick_labels=[literal(n) for n in names])  # fmt: skip
    ax.scatter(
        [published[n] for n in marked],
        [names.index(n) + 1 for n in marked],
        marker="D",
        color="black",
        label="published mean document size",
    )
    ax.set_xscale("log")
    ax.set_xlabel("document size (bytes)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return fig


def plot_duplicates_pii(
    duplicates: pl.DataFrame,
    pii: pl.DataFrame,
    near: pl.DataFrame | None = None,
    *,
    backend: Backend = "plotly",
    synthetic: bool | None = None,
) -> AnyFigure:
    """Left: exact (and near-) duplicate rates per subset; right: the share of documents with
    a PII-like match of each kind. Inputs are `duplicate_stats`, `pii_counts` and
    `near_duplicates(...)[1]`."""
    title = _start(backend, synthetic, "Duplicates and PII-like strings", duplicates, pii)
    names = subset_order(duplicates["subset"].to_list())[::-1]
    frame = pl.DataFrame({"subset": names}, schema={"subset": pl.String}).join(
        duplicates, on="subset", how="left"
    )
    frame = frame.join(pii.drop("documents"), on="subset", how="left")
    if near is not None:
        frame = frame.join(near.select("subset", "near_duplicate_rate"), on="subset", how="left")
    rates = {"exact duplicate %": frame["exact_duplicate_rate"] * 100}
    if near is not None:
        rates["near-duplicate % (sample)"] = frame["near_duplicate_rate"].fill_null(0) * 100
    with_pii = {k: frame[f"{k}_documents"] * 100 / frame["documents"] for k in PATTERNS}
    if backend == "plotly":
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=1,
            cols=2,
            shared_yaxes=True,
            subplot_titles=("duplicate rate (%)", "documents with a match (%)"),
        )
        for label, values in rates.items():
            fig.add_trace(go.Bar(y=names, x=values, name=label, orientation="h"), 1, 1)
        for label, values in with_pii.items():
            fig.add_trace(go.Bar(y=names, x=values, name=label, orientation="h"), 1, 2)
        fig.update_layout(title=title, barmode="group", height=200 + 22 * len(names))
        return fig
    fig, (left, right) = matplotlib_figure(11, 1.5 + 0.3 * len(names), ncols=2, fixed_margins=True)
    for axis, series in ((left, rates), (right, with_pii)):
        width = 0.8 / len(series)
        for k, (label, values) in enumerate(series.items()):
            offsets = [i - 0.4 + width * (k + 0.5) for i in range(len(names))]
            axis.barh(offsets, values.fill_null(0).to_list(), width, label=label)
        axis.legend(fontsize="small")
    left.set_yticks(range(len(names)), [literal(n) for n in names])
    left.set_xlabel("duplicate rate (%)")
    right.set_xlabel("documents with a match (%)")
    fig.suptitle(title)
    return fig


def plot_quality(
    signals: pl.DataFrame,
    *,
    backend: Backend = "plotly",
    synthetic: bool | None = None,
    max_points: int = 5000,
) -> AnyFigure:
    """One panel per quality signal (`quality_signals` output), subsets on the y axis, from at
    most `max_points` documents per subset (a seeded sample): box plots in plotly, median and
    interquartile range in matplotlib."""
    title = _start(backend, synthetic, "Quality signals per document", signals)
    signals = _at_most(signals, max_points)
    names = subset_order(signals["subset"].unique().to_list())[::-1]
    groups = {
        (n, s): signals.filter(pl.col("subset") == n)[s].drop_nulls().to_list()
        for n in names
        for s in SIGNALS
    }
    if backend == "plotly":
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=1,
            cols=len(SIGNALS),
            shared_yaxes=True,
            subplot_titles=[s.replace("_", " ") for s in SIGNALS],
        )
        for col, signal in enumerate(SIGNALS, start=1):
            for name in names:
                fig.add_trace(
                    go.Box(
                        x=groups[name, signal],
                        name=name,
                        orientation="h",
                        showlegend=False,
                        boxpoints=False,
                    ),
                    1,
                    col,
                )
        fig.update_layout(title=title, height=200 + 22 * len(names))
        return fig
    # static version: median ● and interquartile range per subset (a box plot of 5 × 22
    # boxes takes seconds to lay out and draw)
    fig, axes = matplotlib_figure(
        15, 1.5 + 0.3 * len(names), ncols=len(SIGNALS), fixed_margins=True
    )
    positions = range(len(names))
    for axis, signal in zip(axes, SIGNALS, strict=True):
        q1, median, q3 = (
            [float(np.quantile(groups[n, signal], q)) if groups[n, signal] else np.nan
             for n in names]
            for q in (0.25, 0.5, 0.75)
        )  # fmt: skip
        axis.hlines(positions, q1, q3, linewidth=5, alpha=0.4)
        axis.plot(median, positions, "o", color="black", markersize=4)
        axis.set_title(signal.replace("_", " "), fontsize="small")
    axes[0].set_yticks(list(positions), [literal(n) for n in names])
    fig.suptitle(f"{title} (median ● and interquartile range)")
    return fig
