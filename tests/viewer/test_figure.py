"""The report-mode plotly variant: layers switch by buttons, hover carries the read-out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import entropy_of, make_image, make_result

from segpile_lab.seg.layers import LAYERS
from segpile_lab.viewer.figure import HOVER_FIELDS, segmentation_figure
from segpile_lab.viewer.widget import SegmentationViewer


@pytest.fixture(scope="module")
def figure():
    return segmentation_figure(make_image(), make_result(), ground_truth=make_result(seed=3).labels,
                               title="fig")


def test_figure_has_one_picture_per_layer_and_a_hover_heatmap(figure):
    names = [t.name for t in figure.data if t.type == "image"]
    assert names == ["labels", "confidence", "entropy", "margin", "ground_truth", "errors"]
    assert [t.name for t in figure.data if t.type == "heatmap"] == [
        "hover", "confidence", "entropy", "margin"]  # the hover grid, then one colour bar per map
    assert all(t.source.startswith("data:image/png;base64,") for t in figure.data
               if t.type == "image")


def test_buttons_switch_layers_and_their_colour_bars(figure):
    buttons = figure.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == [LAYERS[n].label for n in (
        "labels", "confidence", "entropy", "margin", "ground_truth", "errors")]
    kinds = [(t.type, t.name) for t in figure.data]
    entropy = [k for k, v in zip(kinds, buttons[2].args[0]["visible"], strict=True) if v]
    assert entropy == [("image", "entropy"), ("heatmap", "hover"), ("heatmap", "entropy")]
    labels = [k for k, v in zip(kinds, buttons[0].args[0]["visible"], strict=True) if v]
    assert labels == [("image", "labels"), ("heatmap", "hover")]  # classes: no colour bar
    bar = next(t for t in figure.data if t.type == "heatmap" and t.name == "entropy")
    assert "nats" in bar.colorbar.title.text and bar.zmax == pytest.approx(math.log(5))


def test_hover_numbers_all_come_from_the_pixels_logit_cell(figure):
    """Class, confidence, top-3, entropy and margin of one probability vector (no mixing of
    the full-resolution maps with the logit grid's top-k)."""
    heat = next(t for t in figure.data if t.name == "hover")
    data = np.asarray(heat.customdata, dtype=object)
    result = make_result()
    assert data.shape == (12, 16, len(HOVER_FIELDS))
    for y, x in [(5, 7), (0, 0), (11, 15), (3, 12)]:
        ly, lx = int((y + 0.5) / 12 * 3), int((x + 0.5) / 16 * 4)
        cell = result.logit_probs[:, ly, lx]
        order = np.argsort(-cell, kind="stable")
        assert data[y, x, 0] == data[y, x, 2] == f"class{order[0]}"
        assert float(data[y, x, 1]) == float(data[y, x, 3]) == pytest.approx(cell[order[0]],
                                                                             abs=1e-4)
        assert [data[y, x, 4], data[y, x, 6]] == [f"class{order[1]}", f"class{order[2]}"]
        assert float(data[y, x, 8]) == pytest.approx(float(entropy_of(cell)), abs=1e-4)
        assert float(data[y, x, 9]) == pytest.approx(cell[order[0]] - cell[order[1]], abs=1e-4)
        assert "truth: class" in data[y, x, 10]
    assert "top-3" in heat.hovertemplate and "single-pass entropy" in heat.hovertemplate
    assert "4×3 output grid" in heat.hovertemplate  # width × height of the logit grid


def test_hover_says_when_the_pixel_colour_is_not_the_cells_top_class():
    result = make_result()
    result.labels = result.labels.copy()
    result.labels[5, 7] = (result.labels[5, 7] + 1) % 5  # as at a region border
    fig = segmentation_figure(make_image(), result)
    data = np.asarray(next(t for t in fig.data if t.name == "hover").customdata, dtype=object)
    assert f"colour here: class{result.labels[5, 7]}" in data[5, 7, 10]
    assert data[5, 8, 10] == ""


def test_untrained_results_say_so_in_the_figure(figure):
    assert "untrained demo weights" in figure.layout.title.text
    assert any("untrained" in a.text for a in figure.layout.annotations)


def test_compare_figure_has_two_panels():
    fig = segmentation_figure(make_image(), make_result(seed=1), compare=make_result(seed=2))
    assert [t.name for t in fig.data].count("hover") == 2
    assert LAYERS["disagreement"].label in [b.label for b in fig.layout.updatemenus[0].buttons]


def test_viewer_to_plotly_uses_its_inputs():
    w = SegmentationViewer(make_image(), make_result(), title="same")
    fig = w.to_plotly(hover_cells=8 * 8)
    heat = next(t for t in fig.data if t.name == "hover")
    assert np.asarray(heat.z).shape == (6, 8)  # factor 2 grid of 12 x 16
    assert fig.layout.title.text.startswith("same")
