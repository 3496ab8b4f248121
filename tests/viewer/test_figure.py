"""The report-mode plotly variant: layers switch by buttons, hover carries the read-out."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_image, make_result

from segpile_lab.viewer.figure import HOVER_FIELDS, segmentation_figure
from segpile_lab.viewer.widget import SegmentationViewer


@pytest.fixture(scope="module")
def figure():
    return segmentation_figure(make_image(), make_result(), ground_truth=make_result(seed=3).labels,
                               title="fig")


def test_figure_has_one_picture_per_layer_and_a_hover_heatmap(figure):
    names = [t.name for t in figure.data if t.type == "image"]
    assert names == ["labels", "confidence", "entropy", "margin", "ground_truth", "errors"]
    assert [t.type for t in figure.data].count("heatmap") == 1
    assert all(t.source.startswith("data:image/png;base64,") for t in figure.data
               if t.type == "image")


def test_buttons_switch_layers(figure):
    buttons = figure.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["labels", "confidence", "entropy", "margin",
                                          "ground truth", "errors"]
    entropy = buttons[2].args[0]["visible"]
    kinds = [(t.type, t.name) for t in figure.data]
    shown = [k for k, v in zip(kinds, entropy, strict=True) if v]
    assert shown == [("image", "entropy"), ("heatmap", "hover")]


def test_hover_customdata_matches_the_result(figure):
    heat = next(t for t in figure.data if t.type == "heatmap")
    data = np.asarray(heat.customdata, dtype=object)
    result = make_result()
    assert data.shape == (12, 16, len(HOVER_FIELDS))
    y, x = 5, 7
    assert data[y, x, 0] == f"class{result.labels[y, x]}"
    assert float(data[y, x, 8]) == pytest.approx(float(result.entropy[y, x]), abs=1e-4)
    assert float(data[y, x, 9]) == pytest.approx(float(result.margin[y, x]), abs=1e-4)
    probs, ids = result.topk(3)
    ly, lx = int((y + 0.5) / 12 * 3), int((x + 0.5) / 16 * 4)
    assert data[y, x, 2] == f"class{ids[0, ly, lx]}"
    assert float(data[y, x, 3]) == pytest.approx(float(probs[0, ly, lx]), abs=1e-4)
    assert data[y, x, 10].startswith("truth: class")
    assert "top-3" in heat.hovertemplate and "entropy" in heat.hovertemplate


def test_untrained_results_say_so_in_the_figure(figure):
    assert "untrained demo weights" in figure.layout.title.text
    assert any("untrained" in a.text for a in figure.layout.annotations)


def test_compare_figure_has_two_panels():
    fig = segmentation_figure(make_image(), make_result(seed=1), compare=make_result(seed=2))
    assert [t.type for t in fig.data].count("heatmap") == 2
    assert "disagreement" in [b.label for b in fig.layout.updatemenus[0].buttons]


def test_viewer_to_plotly_uses_its_inputs():
    w = SegmentationViewer(make_image(), make_result(), title="same")
    fig = w.to_plotly(hover_cells=8 * 8)
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert np.asarray(heat.z).shape == (6, 8)  # factor 2 grid of 12 x 16
    assert fig.layout.title.text.startswith("same")
