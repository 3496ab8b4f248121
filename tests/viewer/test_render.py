"""Static rendering rules (the same rules the browser applies; see viewer/viewer.js)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import make_image, make_result
from PIL import Image

from segpile_lab.seg.layers import MISSED, RIGHT, WRONG, colormap_lut
from segpile_lab.viewer._data import build_viewer_data
from segpile_lab.viewer._render import (
    ViewState,
    boundaries,
    render_panel,
)


@pytest.fixture
def data():
    return build_viewer_data(make_image(), make_result(), ground_truth=make_result(seed=3).labels)


def blend(base, color, alpha):
    return np.round(base * (1 - alpha) + np.asarray(color, float) * alpha)


def test_labels_layer_blends_the_class_colour(data):
    out = render_panel(data, 0, ViewState(layer="labels", opacity=0.5))
    expected = blend(data.image.astype(float), data.palette[data.panels[0].labels], 0.5)
    np.testing.assert_allclose(out, expected, atol=1)


def test_opacity_zero_shows_the_photo(data):
    out = render_panel(data, 0, ViewState(layer="entropy", opacity=0.0))
    np.testing.assert_array_equal(out, data.image)


def test_confidence_layer_uses_the_viridis_table(data):
    out = render_panel(data, 0, ViewState(layer="confidence", opacity=1.0))
    idx = np.round(np.clip(data.panels[0].maps["confidence"], 0, 1) * 255).astype(int)
    np.testing.assert_array_equal(out, colormap_lut("viridis")[idx])


def test_errors_layer_for_a_class_shows_tp_fp_fn(data):
    sel = 1
    out = render_panel(data, 0, ViewState(layer="errors", opacity=1.0, selected_class=sel))
    pred, gt = data.panels[0].labels, data.ground_truth
    for mask, color in (((pred == sel) & (gt == sel), RIGHT),
                        ((pred == sel) & (gt != sel), WRONG),
                        ((pred != sel) & (gt == sel), MISSED)):
        assert mask.any()
        assert (out[mask] == color).all()
    neither = (pred != sel) & (gt != sel)
    np.testing.assert_array_equal(out[neither], data.image[neither])


def test_errors_layer_without_selection_colours_wrong_pixels_by_prediction(data):
    out = render_panel(data, 0, ViewState(layer="errors", opacity=1.0))
    pred, gt = data.panels[0].labels, data.ground_truth
    wrong = pred != gt
    np.testing.assert_array_equal(out[wrong], data.palette[pred[wrong]])
    np.testing.assert_array_equal(out[~wrong], data.image[~wrong])


def test_selected_class_dims_everything_else(data):
    sel = int(data.panels[0].labels[0, 0])
    out = render_panel(data, 0, ViewState(layer="labels", opacity=0.5, selected_class=sel))
    other = data.panels[0].labels != sel
    np.testing.assert_allclose(out[other], np.round(data.image[other] * 0.35), atol=1)


def test_threshold_greys_out_low_confidence(data):
    state = ViewState(layer="labels", opacity=0.0, threshold=0.6)
    out = render_panel(data, 0, state)
    low = data.panels[0].maps["confidence"] < 0.6
    assert low.any() and (~low).any()
    assert (out[low][:, 0] == out[low][:, 1]).all()  # grey
    np.testing.assert_array_equal(out[~low], data.image[~low])


def test_outline_keeps_only_boundaries():
    classes = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    assert boundaries(classes).tolist() == [[False, True, False],
                                            [True, True, True],
                                            [False, False, False]]


def test_disagreement_layer_marks_differences():
    a, b = make_result(seed=1), make_result(seed=2)
    data = build_viewer_data(make_image(), a, compare=b)
    out = render_panel(data, 1, ViewState(layer="disagreement", opacity=1.0))
    differ = a.labels != b.labels
    np.testing.assert_array_equal(out[differ], data.palette[b.labels[differ]])
    np.testing.assert_allclose(out[~differ], np.round(data.image[~differ] * 0.45), atol=1)


@pytest.mark.parametrize(("size", "compare"), [((12, 16), False), ((300, 700), True)])
def test_static_png_width_stays_readable(size, compare):
    from segpile_lab.viewer._render import MAX_STATIC_WIDTH, MIN_STATIC_WIDTH, render_png

    h, w = size
    data = build_viewer_data(make_image(h, w), make_result(h, w),
                             compare=make_result(h, w, seed=4) if compare else None)
    png = Image.open(io.BytesIO(render_png(data, ViewState(), "t")))
    assert MIN_STATIC_WIDTH <= png.width <= MAX_STATIC_WIDTH


def test_static_png_title_draws_dashes_the_font_lacks_as_ascii():
    """An em dash in a title would print as an empty box with Pillow's built-in font."""
    from segpile_lab.viewer._render import render_png

    data = build_viewer_data(make_image(32, 32), make_result(32, 32))
    typographic = np.asarray(Image.open(io.BytesIO(render_png(data, ViewState(), "photo — b0"))))
    ascii_only = np.asarray(Image.open(io.BytesIO(render_png(data, ViewState(), "photo - b0"))))
    np.testing.assert_array_equal(typographic, ascii_only)
