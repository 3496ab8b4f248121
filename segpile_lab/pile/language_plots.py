"""The language figure of the audit: each subset's language shares as stacked bars."""

from __future__ import annotations

import polars as pl

from segpile_lab._figures import AnyFigure, Backend, literal, matplotlib_figure
from segpile_lab.pile.plots import _start
from segpile_lab.pile.subsets import subset_order

TOP_LANGUAGES = 8
"""Languages drawn by name (the most documents over all subsets); the rest are "other"."""

_GREYS = {"other": "#9e9e9e", "uncertain": "#c8c8c8", "none": "#606060"}
"""Fixed colours of the labels that are not a language; languages take the default cycle."""


def _stacked(shares: pl.DataFrame, top: int) -> tuple[list[str], dict[str, list[float]]]:
    """Subsets (paper order, top to bottom) and per language label their shares in %."""
    totals = shares.group_by("language").agg(pl.col("documents").sum())
    named = (
        totals.filter(~pl.col("language").is_in(["none", "uncertain"]))
        .sort(["documents", "language"], descending=[True, False])
        .head(top)["language"]
        .to_list()
    )
    label = (
        pl.when(pl.col("language").is_in([*named, "none", "uncertain"]))
        .then(pl.col("language"))
        .otherwise(pl.lit("other"))
    )
    grouped = shares.group_by("subset", label.alias("label")).agg(pl.col("share").sum())
    names = subset_order(shares["subset"].unique().to_list())[::-1]
    labels = [*named, "other", "uncertain", "none"]
    values = {
        lab: [
            100
            * float(
                grouped.filter((pl.col("subset") == n) & (pl.col("label") == lab))["share"].sum()
            )
            for n in names
        ]
        for lab in labels
    }
    return names, {lab: v for lab, v in values.items() if any(v)}


def plot_languages(
    shares: pl.DataFrame,
    *,
    backend: Backend = "plotly",
    synthetic: bool | None = None,
    top: int = TOP_LANGUAGES,
) -> AnyFigure:
    """Share of each language among the identified documents of each subset (%, stacked
    horizontal bars; `language_shares` output). The `top` languages with the most documents
    are named, the others stacked as "other"; "uncertain" = confidence below
    `langid.MIN_CONFIDENCE`, "none" = documents without letters."""
    title = _start(backend, synthetic, "Language share per subset (fastText lid.176)", shares)
    names, values = _stacked(shares, top)
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure(
            [
                go.Bar(y=names, x=v, name=lab, orientation="h", marker_color=_GREYS.get(lab))
                for lab, v in values.items()
            ]
        )
        fig.update_layout(
            title=title,
            barmode="stack",
            xaxis={"title": "documents (%)", "range": [0, 100]},
            height=200 + 22 * len(names),
            legend={"title": "language", "traceorder": "normal"},
        )
        return fig
    fig, axis = matplotlib_figure(10, 1.5 + 0.3 * len(names))
    left = [0.0] * len(names)
    for lab, v in values.items():
        axis.barh(range(len(names)), v, left=left, label=lab, color=_GREYS.get(lab))
        left = [a + b for a, b in zip(left, v, strict=True)]
    axis.set_yticks(range(len(names)), [literal(n) for n in names])
    axis.set_xlim(0, 100)
    axis.set_xlabel("documents (%)")
    if values:
        axis.legend(title="language", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(title)
    return fig
