"""Transport: factor choice, nearest sampling keeps ids exact, quantisation, packing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_image, make_result
from PIL import Image

from segpile_lab.errors import DataError
from segpile_lab.viewer._data import build_viewer_data
from segpile_lab.viewer._payload import (
    Packer,
    as_rgb,
    dequantize,
    downsample_nearest,
    quantize,
    result_topk,
    transport_factor,
)
from segpile_lab.viewer.widget import pack_arrays


@pytest.mark.parametrize(
    ("height", "width", "max_pixels", "factor"),
    [
        (10, 10, 100, 1),  # fits exactly
        (10, 10, 99, 2),
        (11, 10, 30, 2),  # 6 x 5 cells fit exactly
        (1, 1000, 100, 10),  # extreme aspect ratio
        (2048, 1536, 512 * 512, 4),
    ],
)
def test_transport_factor_is_smallest_fitting(height, width, max_pixels, factor):
    got = transport_factor(height, width, max_pixels)
    assert math.ceil(height / got) * math.ceil(width / got) <= max_pixels
    if got > 1:
        assert math.ceil(height / (got - 1)) * math.ceil(width / (got - 1)) > max_pixels
    assert got == factor


def test_transport_factor_rejects_zero_budget():
    with pytest.raises(ValueError, match="max_pixels"):
        transport_factor(4, 4, 0)


def test_downsample_keeps_class_ids_exact():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 150, size=(37, 53))
    small = downsample_nearest(labels, 4)
    assert small.shape == (10, 14)
    # each cell is the centre pixel of its block (clamped at the border), not a blend
    assert small[0, 0] == labels[2, 2]
    assert small[9, 13] == labels[36, 52]
    assert small[3, 5] == labels[14, 22]
    assert set(np.unique(small)) <= set(np.unique(labels))


def test_downsample_factor_one_is_identity():
    labels = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(downsample_nearest(labels, 1), labels)


@pytest.mark.parametrize("scale", [1.0, math.log(150), 0.05])
def test_quantize_round_trip_error_is_bounded(scale):
    values = np.linspace(0, scale, 1001, dtype=np.float32)
    back = dequantize(quantize(values, scale), scale)
    assert np.abs(back - values).max() <= scale / 131070 + 1e-7


def test_quantize_clips_out_of_range():
    q = quantize(np.array([-1.0, 2.0]), 1.0)
    assert q.tolist() == [0, 65535]


def test_packer_offsets_are_aligned_and_round_trip():
    packer = Packer()
    a = np.arange(5, dtype=np.uint8)
    b = np.arange(6, dtype="<u2").reshape(2, 3)
    packer.add("a", a)
    packer.add("b", b, scale=2.0)
    blob = packer.tobytes()
    entry = packer.layout["b"]
    assert entry["offset"] % 8 == 0 and entry["scale"] == 2.0 and entry["shape"] == [2, 3]
    back = np.frombuffer(blob, dtype="<u2", count=6, offset=entry["offset"]).reshape(2, 3)
    np.testing.assert_array_equal(back, b)


def test_pack_arrays_holds_every_layer_of_both_panels():
    data = build_viewer_data(make_image(), make_result(mc=True),
                             ground_truth=make_result(seed=3).labels,
                             compare=make_result(seed=4, mc=True))
    blob, layout = pack_arrays(data)
    maps = ("confidence", "entropy", "margin", "predictive_entropy", "expected_entropy",
            "mutual_information")
    cells = ("entropy", "predictive_entropy", "expected_entropy", "mutual_information")
    expected = {"ground_truth"} | {f"p{i}.{n}" for i in (0, 1) for n in (
        "labels", "cell_ids", "cell_probs", *maps, *(f"cell.{c}" for c in cells))}
    assert set(layout) == expected
    probs = layout["p1.cell_probs"]  # float32 on the logit grid: the read-out's exact numbers
    assert probs["dtype"] == "float32" and probs["shape"] == [3, 3, 4]
    got = np.frombuffer(blob, "<f4", count=36, offset=probs["offset"]).reshape(3, 3, 4)
    np.testing.assert_array_equal(got, data.panels[1].cell_probs)
    lab = layout["p1.labels"]
    got = np.frombuffer(blob, np.uint8, count=12 * 16, offset=lab["offset"]).reshape(12, 16)
    np.testing.assert_array_equal(got, data.panels[1].labels)
    ent = layout["p0.entropy"]
    assert ent["scale"] == pytest.approx(math.log(5))
    q = np.frombuffer(blob, "<u2", count=12 * 16, offset=ent["offset"]).reshape(12, 16)
    np.testing.assert_allclose(dequantize(q, ent["scale"]), data.panels[0].maps["entropy"],
                               atol=1e-4)


def test_build_viewer_data_large_image_is_downsampled_with_exact_ids():
    result = make_result(300, 200, num_classes=7)
    data = build_viewer_data(make_image(300, 200), result, max_pixels=50 * 50)
    assert data.factor == 5 and data.image.shape == (60, 40, 3)
    rows = np.minimum(np.arange(60) * 5 + 2, 299)
    cols = np.minimum(np.arange(40) * 5 + 2, 199)
    np.testing.assert_array_equal(data.panels[0].labels, result.labels[np.ix_(rows, cols)])
    # legend numbers are computed at full resolution, not on the grid
    shares = {r["id"]: r["pixels"] for r in data.panels[0].classes}
    assert shares == {int(k): int(v) for k, v in zip(*np.unique(result.labels,
                                                               return_counts=True), strict=True)}


def test_image_and_result_size_mismatch_is_a_clear_error():
    with pytest.raises(DataError, match="16x12"):
        build_viewer_data(make_image(10, 10), make_result())


def test_compare_of_another_size_is_a_clear_error():
    with pytest.raises(DataError, match="same image size"):
        build_viewer_data(make_image(), make_result(), compare=make_result(10, 10))


def test_ground_truth_of_another_size_is_a_clear_error():
    with pytest.raises(DataError, match="ground truth"):
        build_viewer_data(make_image(), make_result(), ground_truth=np.zeros((3, 3), np.uint8))


@pytest.mark.parametrize(
    ("image", "shape"),
    [
        (np.zeros((4, 5), np.uint8), (4, 5, 3)),  # grey
        (np.zeros((4, 5, 4), np.uint8), (4, 5, 3)),  # RGBA: composited on white
        (np.ones((4, 5, 3), np.float32), (4, 5, 3)),  # float in [0, 1]
    ],
)
def test_as_rgb_accepts_common_arrays(image, shape):
    out = as_rgb(image)
    assert out.shape == shape and out.dtype == np.uint8


def test_as_rgb_float_in_unit_range_is_scaled():
    assert as_rgb(np.ones((1, 1, 3), np.float32)).tolist() == [[[255, 255, 255]]]


def test_as_rgb_rejects_other_shapes():
    with pytest.raises(DataError, match=r"expected \(H, W\) or \(H, W, 1\|3\|4\) pixels"):
        as_rgb(np.zeros((2, 2, 2), np.uint8))


@pytest.mark.parametrize(("layout", "probs_first"),
                         [("kfirst", False), ("klast", False), ("kfirst", True)])
def test_result_topk_accepts_both_axis_and_pair_orders(layout, probs_first):
    ids = (np.arange(24).reshape(3, 2, 4) % 5).astype(np.int16)
    probs = np.linspace(0, 1, 24).reshape(3, 2, 4).astype(np.float32)

    class R:
        def topk(self, k):
            pair = (ids, probs) if layout == "kfirst" else (
                np.moveaxis(ids, 0, -1), np.moveaxis(probs, 0, -1))
            return pair[::-1] if probs_first else pair

    got_ids, got_probs = result_topk(R())
    np.testing.assert_array_equal(got_ids, ids)
    np.testing.assert_allclose(got_probs, probs, rtol=1e-6)


def test_result_without_uncertainty_maps_is_a_clear_error():
    result = make_result()
    result.entropy = None
    with pytest.raises(DataError, match=r"entropy missing\); call predict\(..., uncertainty=True"):
        build_viewer_data(make_image(), result)


def test_ground_truth_ids_outside_the_classes_are_a_clear_error():
    truth = np.zeros((12, 16), np.int64)
    truth[0, 0], truth[1, 1] = 255, 7  # 255 is ignored; 7 is not a class of 5
    with pytest.raises(DataError, match=r"class ids \[7\] outside 0..4"):
        build_viewer_data(make_image(), make_result(), ground_truth=truth)


def test_as_rgb_reads_a_path_through_load_image(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((3, 4), 7, np.uint8)).save(path)  # mode L
    assert as_rgb(path).tolist() == [[[7, 7, 7]] * 4] * 3
    assert as_rgb(str(path)).shape == (3, 4, 3)


def test_as_rgb_missing_file_is_an_image_load_error(tmp_path):
    from segpile_lab.errors import ImageLoadError

    with pytest.raises(ImageLoadError, match=r"nothing\.png"):
        as_rgb(tmp_path / "nothing.png")
