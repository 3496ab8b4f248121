"""`predict`'s default forward: the folded fast path, equal labels, switch back, temperature."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from segpile_lab.seg.inference import FAST_EXACT


@pytest.fixture
def fresh_b0():
    """A demo-b0 of its own: these tests change weights and temperature."""
    from segpile_lab.seg.model import load_segmenter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_segmenter("demo-b0", device="cpu")


def _photos() -> list[np.ndarray]:
    import segpile_lab as sl

    return [np.asarray(image) for image in sl.demo_images().values()]


def test_default_is_the_folded_path_with_the_unfolded_labels(demo_b0, rgb_image):
    demo_b0.__dict__.pop("_runners", None)
    images = [rgb_image, *_photos()]
    fast = demo_b0.predict(images, uncertainty=False, progress=False)
    assert FAST_EXACT in demo_b0.__dict__["_runners"]  # the default went through the fold
    reference = demo_b0.predict(images, uncertainty=False, backend=None, progress=False)
    for ours, unfolded in zip(fast, reference, strict=True):
        assert np.array_equal(ours.labels, unfolded.labels)


@pytest.mark.shared
def test_default_labels_equal_unfolded_on_real_ade20k_photos(demo_b0, ade20k_dir):
    paths = sorted((ade20k_dir / "images").glob("*.jpg"))
    fast = demo_b0.predict(paths, uncertainty=False, progress=False)
    reference = demo_b0.predict(paths, uncertainty=False, backend="torch-fp32", progress=False)
    assert all(np.array_equal(a.labels, b.labels) for a, b in zip(fast, reference, strict=True))


def test_folded_runner_is_rebuilt_after_weights_change(fresh_b0, rgb_image):
    fresh_b0.predict(rgb_image, progress=False)
    with torch.no_grad():  # in place, as an optimizer step does
        fresh_b0.model.decode_head.classifier.bias[3] += 1000.0
    after = fresh_b0.predict(rgb_image, uncertainty=False, progress=False)
    assert np.all(after.labels == 3)  # a stale folded head would not know the new bias


def test_temperature_divides_the_logits_and_keeps_labels(fresh_b0, rgb_image):
    plain = fresh_b0.predict(rgb_image, backend=None, progress=False)
    fresh_b0.temperature = 4.0
    warm = fresh_b0.predict(rgb_image, backend=None, progress=False)
    logits = fresh_b0.logits(fresh_b0.preprocess([rgb_image]))[0]
    expected = (logits / 4.0).softmax(0).amax(0)
    np.testing.assert_allclose(warm.topk(1)[0][0], expected.numpy(), rtol=1e-5)
    assert np.array_equal(plain.labels, warm.labels)
    assert warm.confidence.mean() < plain.confidence.mean()
