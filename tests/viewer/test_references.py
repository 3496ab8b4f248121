"""Mirrored predictions and finding the real ADE20K pair."""

from __future__ import annotations

import numpy as np
import pytest

from segpile_lab.seg.references import mirror_result, mirrored_prediction
from segpile_lab.seg.results import SegmentationResult
from segpile_lab.seg.samples import ade20k_candidates, find_ade20k_pair


def pixelwise_result(image: np.ndarray) -> SegmentationResult:
    """What a per-pixel model would return: class = red value mod 5, top-k on a 2x2 grid."""
    labels = (image[..., 0] % 5).astype(np.uint8)
    h, w = labels.shape
    return SegmentationResult(
        labels=labels, id2label={i: f"c{i}" for i in range(5)}, model_name="pixelwise",
        is_trained=True, image_size=(h, w), confidence=image[..., 1] / 255.0,
        topk_indices=np.arange(12, dtype=np.int16).reshape(3, 2, 2),
        topk_probabilities=np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 2, 2))


class PixelwiseSegmenter:
    def __init__(self):
        self.seen: list[np.ndarray] = []

    def predict(self, image):
        self.seen.append(np.asarray(image))
        return pixelwise_result(np.asarray(image))


def test_mirror_result_flips_every_array_and_keeps_the_rest():
    image = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    result = pixelwise_result(image)
    mirrored = mirror_result(result, "mirrored")
    np.testing.assert_array_equal(mirrored.labels, result.labels[:, ::-1])
    np.testing.assert_array_equal(mirrored.confidence, result.confidence[:, ::-1])
    np.testing.assert_array_equal(mirrored.topk_indices, result.topk_indices[..., ::-1])
    assert mirrored.entropy is None and mirrored.image_size == (4, 6)
    assert mirrored.model_name == "mirrored" and result.model_name == "pixelwise"


def test_mirrored_prediction_of_a_pixelwise_model_equals_the_plain_prediction():
    image = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    segmenter = PixelwiseSegmenter()
    result = mirrored_prediction(segmenter, image)
    np.testing.assert_array_equal(segmenter.seen[0], image[:, ::-1])  # model saw the mirror
    np.testing.assert_array_equal(result.labels, pixelwise_result(image).labels)
    assert result.model_name == "pixelwise, mirrored input"


@pytest.mark.shared
def test_find_ade20k_pair_in_the_shared_folder(shared_data):
    image, annotation = find_ade20k_pair(shared_data / "ade20k")
    assert image.name == "ADE_val_00000001.jpg" and annotation.name == "ADE_val_00000001.png"


def test_find_ade20k_pair_without_data_is_none(tmp_path):
    assert find_ade20k_pair(tmp_path) is None


def test_env_variable_is_tried_first(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGPILE_SHARED_DATA", str(tmp_path))
    assert ade20k_candidates()[0] == tmp_path / "ade20k"
