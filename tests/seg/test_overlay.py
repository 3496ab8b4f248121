"""Static overlays and legends."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segpile_lab.seg.ade20k import ADE20K
from segpile_lab.seg.layers import RIGHT, WRONG
from segpile_lab.seg.overlay import legend_image, overlay
from segpile_lab.seg.results import SegmentationResult


def _result(trained: bool = True, **maps) -> SegmentationResult:
    labels = np.zeros((40, 60), dtype=np.uint8)
    labels[:, 30:] = 2  # wall left, sky right
    labels[30:, :10] = 4  # a small tree
    confidence = np.linspace(0.2, 1.0, 40 * 60, dtype=np.float32).reshape(40, 60)
    return SegmentationResult(
        labels=labels,
        id2label=ADE20K.id2label,
        model_name="m",
        is_trained=trained,
        image_size=(40, 60),
        confidence=confidence,
        **maps,
    )


@pytest.fixture
def gray() -> np.ndarray:
    return np.full((40, 60, 3), 100, dtype=np.uint8)


def test_same_type_out_as_in(gray):
    result = _result()
    assert isinstance(overlay(gray, result), np.ndarray)
    assert isinstance(overlay(Image.fromarray(gray), result), Image.Image)


def test_labels_layer_blends_the_palette(gray):
    out = overlay(gray, _result(), alpha=0.5)
    expected_sky = np.rint(0.5 * 100 + 0.5 * ADE20K.palette[2].astype(float))
    assert tuple(out[20, 45]) == tuple(expected_sky.astype(np.uint8))
    opaque = overlay(gray, _result(), alpha=1.0)
    assert tuple(opaque[20, 5]) == tuple(ADE20K.palette[0])


def test_classes_filter_by_name_and_id(gray):
    out = overlay(gray, _result(), classes=["sky"], alpha=1.0)
    assert tuple(out[20, 5]) == (100, 100, 100)  # wall left alone
    assert tuple(out[20, 45]) == tuple(ADE20K.palette[2])
    assert np.array_equal(out, overlay(gray, _result(), classes=[2], alpha=1.0))
    with pytest.raises(ValueError, match="unknown class name"):
        overlay(gray, _result(), classes=["unicorn"])


def test_outline_marks_borders(gray):
    out = overlay(gray, _result(), outline=True, alpha=0.0)
    assert tuple(out[10, 30]) == (255, 255, 255) and tuple(out[10, 15]) == (100, 100, 100)


def test_names_are_written_inside_regions():
    big = np.full((400, 600, 3), 100, dtype=np.uint8)
    labels = np.zeros((400, 600), dtype=np.uint8)
    labels[:, 300:] = 2
    result = SegmentationResult(
        labels=labels,
        id2label=ADE20K.id2label,
        model_name="m",
        is_trained=True,
        image_size=(400, 600),
    )
    plain = overlay(big, result)
    named = overlay(big, result, names=True)
    changed = np.any(plain != named, axis=2)
    assert changed[:, :300].any() and changed[:, 300:].any()


def test_uncertainty_layer_uses_the_colormap(gray):
    from matplotlib import colormaps

    out = overlay(gray, _result(), layer="confidence", alpha=1.0)
    top = np.rint(np.array(colormaps["viridis"](1.0)[:3]) * 255)
    assert np.abs(out[-1, -1].astype(int) - top).max() <= 1


def test_errors_and_ground_truth_layers(gray):
    result = _result()
    truth = result.labels.copy()
    truth[0, 0] = 2  # wrong
    truth[1, 1] = 255  # ignored
    errors = overlay(gray, result, layer="errors", ground_truth=truth, alpha=1.0)
    # the one "right" green and "wrong" red of seg.layers, the viewer's too
    assert tuple(errors[0, 0]) == WRONG == (230, 30, 30)
    assert tuple(errors[5, 5]) == RIGHT == (0, 190, 60)
    assert tuple(errors[1, 1]) == (100, 100, 100)
    gt = overlay(gray, result, layer="ground_truth", ground_truth=truth, alpha=1.0)
    assert tuple(gt[0, 0]) == tuple(ADE20K.palette[2]) and tuple(gt[1, 1]) == (100, 100, 100)
    with pytest.raises(ValueError, match="ground_truth"):
        overlay(gray, result, layer="errors")


def test_missing_layer_and_wrong_size_raise(gray):
    with pytest.raises(ValueError, match="mc_samples"):
        overlay(gray, _result(), layer="mutual_information")
    with pytest.raises(ValueError, match="segmented"):
        overlay(gray[:10], _result())


def test_untrained_results_are_stamped(gray):
    trained = overlay(gray, _result(trained=True), alpha=0.0)
    untrained = overlay(gray, _result(trained=False), alpha=0.0)
    assert np.array_equal(trained, gray)
    corner = np.any(untrained[:12, :40] != gray[:12, :40], axis=2)
    assert corner.mean() > 0.5  # the dark box with the note


def test_legend_lists_largest_classes_first():
    legend = legend_image(_result(trained=False))
    assert isinstance(legend, Image.Image)
    pixels = np.asarray(legend)
    rows = [tuple(pixels[y, 15]) for y in (22 + 10, 44 + 10, 66 + 10)]  # after the header row
    assert rows == [tuple(ADE20K.palette[i]) for i in (2, 0, 4)]  # sky 1200 px, wall 1100, tree
    assert legend_image(_result(trained=True)).height == legend.height - 22
