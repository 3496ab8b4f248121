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

    np.testing.assert_array_equal(read("p0.topk_ids", np.uint8), ids)
    np.testing.assert_allclose(dequantize(read("p0.topk_probs", "<u2"), 1.0), probs, atol=1e-4)
    entropy = dequantize(read("p0.entropy", "<u2"), layout["p0.entropy"]["scale"])
    np.testing.assert_allclose(entropy, result.entropy, atol=1e-4)
    np.testing.assert_array_equal(read("p0.labels", np.uint8), result.labels)


def test_untrained_engine_result_shows_the_banner_and_ade20k_colours(real):
    photo, result = real
    viewer = SegmentationViewer(photo, result)
    assert not result.is_trained and "untrained demo weights" in viewer.meta["banner"]
    assert viewer.meta["palette"] == sl.ADE20K.palette.tolist()
    assert viewer.meta["names"] == list(sl.ADE20K.names)
