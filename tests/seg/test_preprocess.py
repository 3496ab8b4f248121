"""Our vectorised preprocessing against HF's `SegformerImageProcessor`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segpile_lab.seg.images import load_image
from segpile_lab.seg.preprocess import normalise, preprocess_arrays


def _hf_processor():
    from transformers import SegformerImageProcessorPil

    return SegformerImageProcessorPil()


def test_normalisation_table_is_bit_identical_to_hf():
    levels = np.tile(np.arange(256, dtype=np.uint8), (512 * 2, 1)).reshape(512, 512, 1)
    image = np.concatenate([levels, levels[::-1], levels], axis=2)
    ours = normalise(torch.from_numpy(image).permute(2, 0, 1)[None])
    reference = _hf_processor()(image, return_tensors="pt")["pixel_values"]
    assert torch.equal(ours, reference)


@pytest.mark.parametrize("size", [(512, 512), (300, 200), (1, 1), (9, 512), (700, 900), (2000, 40)])
def test_default_resize_equals_hf_exactly(size, rgb_image):
    image = np.asarray(load_image(rgb_image).resize(size[::-1]))
    reference = _hf_processor()(image, return_tensors="pt", input_data_format="channels_last")
    assert torch.equal(preprocess_arrays([image]), reference["pixel_values"])


@pytest.mark.shared
@pytest.mark.parametrize("resize", ["pil", "torch"])
def test_real_ade20k_images_against_hf_processor(ade20k_dir, demo_b0, resize):
    paths = sorted((ade20k_dir / "images").glob("*.jpg"))
    arrays = [np.asarray(load_image(p)) for p in paths]
    reference = _hf_processor()(arrays, return_tensors="pt")["pixel_values"]
    ours = preprocess_arrays(arrays, resize=resize)
    difference = (ours - reference).abs()
    one_level = 1 / 255 / min(0.229, 0.224, 0.225)
    differing = (difference > 0).float().mean().item()
    with torch.inference_mode():
        agreement = demo_b0.logits(ours).argmax(1) == demo_b0.logits(reference).argmax(1)
    agreement = agreement.float().mean().item()
    print(
        f"\nresize={resize}: max |ours - HF| = {difference.max().item():.5f} (one grey level = "
        f"{one_level:.5f}), values differing: {differing:.4%}, label agreement (demo-b0, "
        f"logit grid): {agreement:.4%}"
    )
    if resize == "pil":
        assert torch.equal(ours, reference) and agreement == 1.0
    else:
        assert difference.max().item() <= one_level + 1e-5
        assert differing < 1e-3 and agreement > 0.99
