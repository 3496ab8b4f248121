"""Every audit figure in both backends: says when it is synthetic, leaves no pyplot figure open."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import plotly.graph_objects as go
import polars as pl
import pytest
from matplotlib.figure import Figure

from segpile_lab.pile.composition import byte_share_intervals, composition
from segpile_lab.pile.dedup import duplicate_stats, near_duplicates
from segpile_lab.pile.pii import pii_counts
from segpile_lab.pile.plots import (
    plot_composition,
    plot_duplicates_pii,
    plot_lengths,
    plot_quality,
    save_figure,
)
from segpile_lab.pile.quality import quality_signals

LABEL = "synthetic demo data"


def _frame(synthetic: bool) -> pl.DataFrame:
    texts = ["a@b.co says hi", "x = f(y);\nx = f(y);", "plain words here", "a@b.co says hi"]
    subsets = ["Enron Emails", "Github", "ArXiv", "Enron Emails"]
    return pl.DataFrame({"subset": subsets, "text": texts}).with_columns(
        n_bytes=pl.col("text").str.len_bytes().cast(pl.UInt64),
        synthetic=pl.lit(synthetic),
    )


def _figures(df: pl.DataFrame, backend: str) -> dict:
    _, near = near_duplicates(df)
    return {
        "composition": plot_composition(composition(df), backend=backend),
        "lengths": plot_lengths(df, backend=backend),
        "duplicates_pii": plot_duplicates_pii(
            duplicate_stats(df), pii_counts(df), near, backend=backend, synthetic=None
        ),
        "quality": plot_quality(
            quality_signals(df), backend=backend, synthetic=bool(df["synthetic"].any())
        ),
    }


def _title(fig) -> str:
    if isinstance(fig, go.Figure):
        return fig.layout.title.text
    return fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()


@pytest.mark.parametrize("synthetic", [True, False])
def test_plotly_figures_have_data_and_say_when_synthetic(synthetic: bool) -> None:
    for name, fig in _figures(_frame(synthetic), "plotly").items():
        assert isinstance(fig, go.Figure), name
        assert len(fig.data) > 0, name
        assert (LABEL in _title(fig)) is synthetic, name


@pytest.mark.parametrize("synthetic", [True, False])
def test_matplotlib_figures_say_when_synthetic_and_leave_nothing_open(synthetic: bool) -> None:
    before = plt.get_fignums()
    for name, fig in _figures(_frame(synthetic), "matplotlib").items():
        assert isinstance(fig, Figure), name
        assert (LABEL in _title(fig)) is synthetic, name
    assert plt.get_fignums() == before


def test_composition_plot_shows_observed_and_published_shares() -> None:
    fig = plot_composition(composition(_frame(False)))
    published, observed = fig.data
    shares = dict(zip(observed.y, observed.x, strict=True))
    assert shares["ArXiv"] == pytest.approx(100 * 16 / 63)  # 16 of 63 bytes
    assert dict(zip(published.y, published.x, strict=True))["Pile-CC"] == 18.11


def test_composition_plot_draws_the_share_intervals_when_given() -> None:
    df = _frame(False)
    table = composition(df).join(byte_share_intervals(df), on="subset", how="left")
    observed = plot_composition(table).data[1]
    github = list(observed.y).index("Github")
    low, high = _row(table, "Github")
    assert observed.x[github] - observed.error_x.arrayminus[github] == pytest.approx(100 * low)
    assert observed.x[github] + observed.error_x.array[github] == pytest.approx(100 * high)
    assert "interval" in observed.name
    fig = plot_composition(table, backend="matplotlib")
    kinds = [type(c).__name__ for c in fig.axes[0].containers]
    assert "ErrorbarContainer" in kinds
    assert plot_composition(composition(df)).data[1].error_x.array is None


def _row(table: pl.DataFrame, subset: str) -> tuple[float, float]:
    row = table.filter(pl.col("subset") == subset)
    return row["byte_share_low"][0], row["byte_share_high"][0]


def test_lengths_plot_is_log_scaled() -> None:
    assert plot_lengths(_frame(False)).layout.xaxis.type == "log"
    assert plot_lengths(_frame(False), backend="matplotlib").axes[0].get_xscale() == "log"


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        plot_lengths(_frame(False), backend="bokeh")


def test_save_figure_writes_offline_html_and_png(tmp_path: Path) -> None:
    figures = _figures(_frame(True), "plotly")
    html = save_figure(figures["composition"], tmp_path / "c.html")
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000  # plotly.js beside it
    assert "plotly.min.js" in html.read_text() and "cdn" not in html.read_text().lower()
    png = save_figure(_figures(_frame(True), "matplotlib")["quality"], tmp_path / "q.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lengths_plot_draws_at_most_max_points_per_subset() -> None:
    df = pl.DataFrame({"subset": ["ArXiv"] * 50 + ["Github"] * 3, "n_bytes": list(range(53))})
    boxes = {t.name: len(t.x) for t in plot_lengths(df, max_points=10).data if t.type == "box"}
    assert boxes == {"ArXiv": 10, "Github": 3}
