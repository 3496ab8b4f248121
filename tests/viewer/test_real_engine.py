"""The viewer on a real SegmentationResult from the engine (demo-b0, a 128x128 photo)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import segpile_lab as sl
from segpile_lab.viewer._payload import dequantize
from segpile_lab.viewer.widget import SegmentationViewer


@pytest.fixture(scope="module")
def real():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.UntrainedModelWarning)
        segmenter = sl.load_segmenter("demo-b0")
    photo = sl.demo_images()["present_pack"]
    return photo, segmenter.predict(photo)


def test_legend_equals_the_engines_class_shares(real):
    photo, result = real
    viewer = SegmentationViewer(photo, result)
    shares = result.class_shares()
    rows = viewer.panels[0]["classes"]
    assert [r["id"] for r in rows] == shares["class_id"].to_list()
    np.testing.assert_allclose([r["share"] for r in rows], shares["share"].to_numpy())
    np.testing.assert_allclose([r["mean_confidence"] for r in rows],
                               shares["mean_confidence"].to_numpy(), rtol=1e-5)
    assert [r["name"] for r in rows] == shares["name"].to_list()


def test_hover_data_is_the_engines_topk_and_maps(real):
    photo, result = real
    viewer = SegmentationViewer(photo, result)
    blob, layout = viewer.arrays, viewer.array_layout
    probs, ids = result.topk(3)

    def read(name, dtype):
        entry = layout[name]
        count = int(np.prod(entry["shape"]))
        return np.frombuffer(blob, dtype, count, entry["offset"]).reshape(entry["shape"])

    np.testing.assert_array_equal(read("p0.cell_ids", np.uint8), ids)
    np.testing.assert_array_equal(read("p0.cell_probs", "<f4"), probs)
    np.testing.assert_array_equal(read("p0.cell.entropy", "<f4"), result.grid_maps["entropy"])
    entropy = dequantize(read("p0.entropy", "<u2"), layout["p0.entropy"]["scale"])
    np.testing.assert_allclose(entropy, result.entropy, atol=1e-4)
    np.testing.assert_array_equal(read("p0.labels", np.uint8), result.labels)


def test_engine_grid_maps_are_the_cells_of_the_topk(real):
    """The read-out quotes grid_maps beside topk: both from one softmax per cell, checked
    against the probabilities the engine keeps on request."""
    photo, _ = real
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.UntrainedModelWarning)
        segmenter = sl.load_segmenter("demo-b0")
    result = segmenter.predict(photo, return_probabilities=True, mc_samples=2)
    cube = result.probabilities().astype(np.float64)  # (C, h, w)
    ordered = np.sort(cube, axis=0)[::-1]
    grid = result.grid_maps
    np.testing.assert_allclose(grid["confidence"], ordered[0], atol=1e-6)
    np.testing.assert_allclose(grid["confidence"], result.topk(1)[0][0], atol=1e-6)
    np.testing.assert_allclose(grid["margin"], ordered[0] - ordered[1], atol=1e-6)
    reference = -(cube * np.log(np.clip(cube, 1e-30, 1))).sum(0)
    np.testing.assert_allclose(grid["entropy"], reference, atol=1e-4)
    pe, ee, mi = (grid[k] for k in ("predictive_entropy", "expected_entropy",
                                    "mutual_information"))
    assert pe.shape == cube.shape[1:]
    np.testing.assert_allclose(mi, np.maximum(pe - ee, 0), atol=1e-6)
    assert (mi <= pe + 1e-6).all()  # MI never exceeds the predictive entropy beside it


def test_untrained_engine_result_shows_the_banner_and_ade20k_colours(real):
    photo, result = real
    viewer = SegmentationViewer(photo, result)
    assert not result.is_trained and "untrained demo weights" in viewer.meta["banner"]
    assert viewer.meta["palette"] == sl.ADE20K.palette.tolist()
    assert viewer.meta["names"] == list(sl.ADE20K.names)
