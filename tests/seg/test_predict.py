"""`Segmenter.predict`: shapes, exactness of labels, uncertainty maps, batching, backends."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from segpile_lab.errors import UntrainedModelWarning
from segpile_lab.seg.results import SegmentationResult


def test_one_image_in_one_result_out(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, progress=False)
    assert isinstance(result, SegmentationResult)
    assert result.labels.shape == (37, 53) and result.labels.dtype == np.uint8
    for name in ("confidence", "entropy", "margin", "entropy_normalized"):
        assert getattr(result, name).shape == (37, 53)
    assert (
        result.image_size == (37, 53) and not result.is_trained and result.model_name == "demo-b0"
    )


def test_list_in_list_out_and_batching_does_not_change_labels(demo_b0, rgb_image):
    images = [rgb_image, rgb_image[:20], np.ascontiguousarray(rgb_image[:, ::-1])]
    batched = demo_b0.predict(images, batch_size=3, progress=False)
    single = demo_b0.predict(images, batch_size=1, progress=False)
    assert [r.image_size for r in batched] == [(37, 53), (20, 53), (37, 53)]
    for a, b in zip(batched, single, strict=True):
        assert np.array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.confidence, b.confidence, rtol=1e-4)


@pytest.mark.parametrize("count", [1, 2])
def test_labels_equal_hf_post_processing(demo_b0, rgb_image, count):
    from transformers import SegformerImageProcessorPil

    images = [rgb_image, np.ascontiguousarray(rgb_image[3:, ::-1])][:count]
    processor = SegformerImageProcessorPil()
    with torch.inference_mode():
        outputs = demo_b0.model(**processor(images, return_tensors="pt"))
    sizes = [im.shape[:2] for im in images]
    expected = processor.post_process_semantic_segmentation(outputs, target_sizes=sizes)
    results = demo_b0.predict(images, batch_size=count, progress=False)
    for result, reference in zip(results, expected, strict=True):
        assert np.array_equal(result.labels, reference.numpy())


def test_uncertainty_maps_are_consistent(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, progress=False)
    assert np.all((result.confidence > 0) & (result.confidence <= 1))
    assert np.all(result.entropy >= 0) and np.all(result.entropy <= math.log(150) + 1e-4)
    assert np.all((result.margin >= 0) & (result.margin <= result.confidence + 1e-6))
    np.testing.assert_allclose(result.entropy_normalized, result.entropy / math.log(150), rtol=1e-6)


def test_full_resolution_is_exact_per_pixel(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, full_resolution=True, backend=None, progress=False)
    pixels = demo_b0.preprocess([rgb_image])
    logits = F.interpolate(
        demo_b0.logits(pixels), size=(37, 53), mode="bilinear", align_corners=False
    )[0]
    probabilities = logits.softmax(0)
    top2 = probabilities.topk(2, dim=0).values
    entropy = -(probabilities * probabilities.log()).sum(0)
    assert result.uncertainty_resolution == "full"
    np.testing.assert_allclose(result.confidence, top2[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(result.margin, (top2[0] - top2[1]).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.entropy, entropy.numpy(), rtol=1e-5)


def test_default_maps_are_upsampled_from_the_logit_grid(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, backend=None, progress=False)
    logits = demo_b0.logits(demo_b0.preprocess([rgb_image]))[0]
    confidence = logits.softmax(0).amax(0)
    expected = F.interpolate(
        confidence[None, None], size=(37, 53), mode="bilinear", align_corners=False
    )[0, 0]
    assert result.uncertainty_resolution == "logits"
    np.testing.assert_allclose(result.confidence, expected.numpy(), rtol=1e-5)


def test_topk_and_probabilities(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, return_probabilities=True, progress=False)
    probabilities = result.probabilities()
    assert probabilities.shape == (150, 128, 128)
    np.testing.assert_allclose(probabilities.sum(0), 1.0, rtol=1e-5)
    values, indices = result.topk(3)
    assert values.shape == indices.shape == (3, 128, 128)
    assert np.array_equal(indices[0], probabilities.argmax(0))
    assert np.all(values[0] >= values[1]) and np.all(values[1] >= values[2])
    assert result.topk(8)[0].shape == (8, 128, 128)  # beyond the stored 5: from the probabilities


def test_probabilities_not_requested_raises(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, progress=False)
    with pytest.raises(ValueError, match="return_probabilities=True"):
        result.probabilities()


def test_labels_only(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, uncertainty=False, progress=False)
    assert result.confidence is None and result.entropy_normalized is None
    with pytest.raises(ValueError, match="uncertainty=True"):
        result.layer("entropy")


def test_class_shares(demo_b0, rgb_image):
    result = demo_b0.predict(rgb_image, progress=False)
    shares = result.class_shares()
    assert shares.columns == ["class_id", "name", "pixels", "share", "mean_confidence"]
    assert shares["pixels"].sum() == 37 * 53 and shares["share"].sum() == pytest.approx(1.0)
    assert shares["pixels"].is_sorted(descending=True)
    top = shares.row(0, named=True)
    mask = result.labels == top["class_id"]
    assert top["pixels"] == mask.sum() and top["name"] == demo_b0.id2label[top["class_id"]]
    assert top["mean_confidence"] == pytest.approx(float(result.confidence[mask].mean()), rel=1e-5)


def test_huge_image_streams_classes_in_bounded_chunks(monkeypatch):
    from segpile_lab.seg import uncertainty

    logits = torch.randn(150, 8, 8)
    shapes = [
        c.shape[0]
        for c in uncertainty.upsampled_chunks(logits, (600, 800), max_bytes=600 * 800 * 4 * 7)
    ]
    assert max(shapes) == 7 and sum(shapes) == 150
    streamed = uncertainty.stream_stats(
        uncertainty.upsampled_chunks(logits, (60, 80), max_bytes=60 * 80 * 4 * 7)
    )
    full = F.interpolate(logits[None], size=(60, 80), mode="bilinear", align_corners=False)[0]
    assert torch.equal(streamed.labels, full.argmax(0))
    probabilities = full.softmax(0)
    torch.testing.assert_close(streamed.confidence(), probabilities.amax(0))
    torch.testing.assert_close(streamed.entropy(), -(probabilities * probabilities.log()).sum(0))


def test_other_backend_goes_through_the_registry(demo_b0, rgb_image, monkeypatch):
    calls = []

    def create_runner(segmenter, name):
        calls.append(name)
        return lambda pixels: segmenter.logits(pixels) * 2.0  # same argmax, sharper softmax

    registry = types.ModuleType("segpile_lab.backends.registry")
    registry.create_runner = create_runner
    monkeypatch.setitem(sys.modules, "segpile_lab.backends.registry", registry)
    monkeypatch.delitem(demo_b0.__dict__, "_runners", raising=False)
    result = demo_b0.predict(rgb_image, backend="fake", progress=False)
    eager = demo_b0.predict(rgb_image, backend=None, progress=False)
    assert calls == ["fake"] and np.array_equal(result.labels, eager.labels)
    assert result.confidence.mean() > eager.confidence.mean()


def test_mc_dropout_needs_the_eager_backend(demo_b0, rgb_image):
    with pytest.raises(ValueError, match="eager"):
        demo_b0.predict(rgb_image, backend="onnx", mc_samples=2, progress=False)


def test_bf16_autocast_runs_and_mostly_agrees(rgb_image):
    from segpile_lab.seg.model import load_segmenter

    with pytest.warns(UntrainedModelWarning):
        segmenter = load_segmenter("demo-b0", device="cpu", dtype="bf16")
    logits = segmenter.logits(segmenter.preprocess([rgb_image]))
    assert logits.dtype == torch.float32 and logits.shape == (1, 150, 128, 128)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 300, 3), (257, 3, 3), (31, 517, 3)])
def test_tiny_and_extreme_aspect_images_keep_their_size(demo_b0, shape):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    result = demo_b0.predict(image, progress=False)
    assert result.labels.shape == result.entropy.shape == shape[:2]


def test_chunked_full_size_logits_give_the_same_result(demo_b0, rgb_image, monkeypatch):
    from segpile_lab.seg import uncertainty

    whole = demo_b0.predict(rgb_image, full_resolution=True, progress=False)
    monkeypatch.setattr(uncertainty, "CHUNK_BYTES", 37 * 53 * 4 * 16)  # 16 classes at a time
    chunked = demo_b0.predict(rgb_image, full_resolution=True, progress=False)
    assert np.array_equal(whole.labels, chunked.labels)
    np.testing.assert_allclose(whole.entropy, chunked.entropy, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.margin, chunked.margin, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
def test_label_upsampling_is_bit_identical_to_hf_post_processing(layout):
    from segpile_lab.seg.uncertainty import upsampled_chunks

    logits = torch.randn(3, 150, 128, 128, generator=torch.Generator().manual_seed(0))
    if layout == "channels_last":  # what the model returns for a batch of several images
        logits = logits.contiguous(memory_format=torch.channels_last)
    for index in range(3):
        hf = F.interpolate(logits[index].unsqueeze(0), size=(61, 203), mode="bilinear")[0]
        (ours,) = list(upsampled_chunks(logits[index], (61, 203)))
        assert torch.equal(ours, hf)
