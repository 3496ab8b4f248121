"""Figures: every kind builds in both backends and carries the demo labels."""

from __future__ import annotations

import math

import polars as pl
import pytest
from bpb_fakes import TableScorer

from segpile_lab.bpb import plots
from segpile_lab.bpb.evaluate import evaluate_bpb

LN2 = math.log(2)


@pytest.fixture()
def result():
    texts = [f"text {i} " * (i + 1) for i in range(8)]
    frame = pl.DataFrame({"subset": ["Pile-CC", "Github"] * 4, "text": texts, "synthetic": True})
    scorer = TableScorer({t: LN2 * len(t) * (1 + i / 8) for i, t in enumerate(texts)})
    return evaluate_bpb(frame, scorer, bootstrap=20)


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_subset_bars_show_paper_reference_points_and_the_synthetic_label(result, backend):
    fig = plots.plot_subset_bpb(result, backend=backend)
    if backend == "plotly":
        assert "synthetic demo data" in fig.layout.title.text
        names = [trace.name for trace in fig.data]
        paper = next(t for t in fig.data if t.name == "paper: gpt2_small")
        assert dict(zip(paper.x, paper.y, strict=True))["Github"] == pytest.approx(1.7912)
    else:
        ax = fig.axes[0]
        assert "synthetic demo data" in ax.get_title()
        names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "table" in names and "paper: gpt3_davinci" in names


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_every_figure_builds_and_is_labelled(result, backend):
    figures = plots.bpb_figures(result, backend=backend)
    assert set(figures) == {"bpb_by_subset", "bpb_per_document", "bpb_vs_bytes_per_token"}
    for fig in figures.values():
        title = fig.layout.title.text if backend == "plotly" else fig.axes[0].get_title()
        assert "synthetic demo data" in title


def test_unknown_backend_is_refused(result):
    with pytest.raises(ValueError, match="backend"):
        plots.plot_subset_bpb(result, backend="bokeh")
