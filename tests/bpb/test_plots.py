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
        paper = next(t for t in fig.data if t.name == "paper: GPT-2 small")  # not the column key
        assert dict(zip(paper.x, paper.y, strict=True))["Github"] == pytest.approx(1.7912)
    else:
        ax = fig.axes[0]
        assert "synthetic demo data" in ax.get_title()
        names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "table" in names and "paper: GPT-3 DaVinci" in names


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


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_subsets_follow_the_papers_order_with_the_pooled_row_last(result, backend):
    # alphabetically Github would come first; the paper lists Pile-CC first
    bars = plots.plot_subset_bpb(result, backend=backend)
    boxes = plots.plot_document_bpb(result, backend=backend)
    if backend == "plotly":
        assert list(bars.layout.xaxis.categoryarray) == ["Pile-CC", "Github", "ALL"]
        assert list(boxes.layout.xaxis.categoryarray) == ["Pile-CC", "Github"]
    else:
        ticks = [[t.get_text() for t in fig.axes[0].get_xticklabels()] for fig in (bars, boxes)]
        assert ticks == [["Pile-CC", "Github", "ALL"], ["Pile-CC", "Github"]]


def test_document_box_plot_draws_every_point_only_while_the_figure_stays_small(
    result, monkeypatch
):
    assert plots.plot_document_bpb(result).data[0].boxpoints == "all"
    monkeypatch.setattr(plots, "MAX_POINTS", result.documents.height - 1)
    assert plots.plot_document_bpb(result).data[0].boxpoints == "outliers"


def test_static_figures_leave_no_pyplot_figure_open(result):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.bpb_figures(result, backend="matplotlib")
    assert plt.get_fignums() == before


def test_the_result_carries_its_provenance(result):
    from segpile_lab.provenance import Provenance

    assert result.provenance == Provenance(is_trained=True, synthetic=True)
    assert result.label == "synthetic demo data"


class _TokenScorer:
    """A table scorer that also reports tokens: `bytes_per_token` bytes each (1: byte-level)."""

    is_trained = True
    description = "hand-built table with tokens"

    def __init__(self, nll_by_text, name, bytes_per_token):
        self.nll_by_text, self.name, self.bytes_per_token = nll_by_text, name, bytes_per_token

    def score(self, texts, *, progress=None):
        import numpy as np

        from segpile_lab.bpb.scores import DocumentScores

        sizes = np.asarray([len(t.encode()) for t in texts], dtype=np.int64)
        return DocumentScores(
            np.asarray([self.nll_by_text[t] for t in texts], dtype=np.float64),
            n_tokens=np.maximum(1, sizes // self.bytes_per_token),
        )


def _token_result(*bytes_per_token):
    texts = [f"text {i} " * (i + 1) for i in range(8)]
    frame = pl.DataFrame({"subset": ["Pile-CC", "Github"] * 4, "text": texts})
    nll = {t: LN2 * len(t) for t in texts}
    scorers = [_TokenScorer(nll, f"s{b}", b) for b in bytes_per_token]
    return evaluate_bpb(frame, scorers, bootstrap=20)


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_bytes_per_token_figure_leaves_out_byte_level_scorers(backend):
    fig = plots.plot_bpb_vs_bytes_per_token(_token_result(1, 4), backend=backend)
    if backend == "plotly":
        assert [trace.name for trace in fig.data] == ["s4"]
        assert all(x > 1 for x in fig.data[0].x)
    else:
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["s4"]


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_bytes_per_token_figure_says_why_it_is_empty(backend):
    fig = plots.plot_bpb_vs_bytes_per_token(_token_result(1), backend=backend)
    if backend == "plotly":
        assert fig.data == () and "one byte per token" in fig.layout.annotations[0].text
    else:
        assert any("one byte per token" in t.get_text() for t in fig.axes[0].texts)


def test_thin_labels_drops_labels_that_would_overlap():
    x = [1.0, 1.01, 2.0, 3.0, 3.0]
    y = [1.0, 1.0, 1.0, 1.0, 2.0]
    # spans 2 and 1: (1.01, 1) is 0.005 of the x span from (1, 1); the others are far apart
    assert plots.thin_labels(x, y, list("abcde")) == ["a", "", "c", "d", "e"]
    assert plots.thin_labels([], [], []) == []


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_loss_by_position_starts_at_zero(result, backend):
    # an untrained LM's flat line near 8 bits/token drew as noise filling 7.92-8.10 (page 04)
    from dataclasses import replace

    flat = pl.DataFrame({"scorer": "lm", "position": range(64),
                         "mean_nll_bits": [8.0 + 0.05 * (-1) ** i for i in range(64)]})  # fmt: skip
    fig = plots.plot_loss_by_position(replace(result, loss_by_position=flat), backend=backend)
    if backend == "plotly":
        assert fig.layout.yaxis.rangemode == "tozero"
    else:
        assert fig.axes[0].get_ylim()[0] == 0
