"""The folded decode head computes HF's logits (rounding differences only)."""

from __future__ import annotations

import copy

import pytest
import torch

from segpile_lab.backends.fold import FoldedSegformer


@pytest.fixture(scope="module")
def model_with_real_bn_stats(seg_b0):
    """demo-b0 with non-trivial batch-norm statistics, so the BN folding is exercised."""
    model = copy.deepcopy(seg_b0.model)
    generator = torch.Generator().manual_seed(1)
    bn = model.decode_head.batch_norm
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=generator))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=generator) + 0.5)
        bn.weight.copy_(torch.randn(bn.num_features, generator=generator))
        bn.bias.copy_(torch.randn(bn.num_features, generator=generator))
    return model.eval()


@pytest.mark.parametrize("batch", [1, 2])
def test_folded_head_matches_hf(model_with_real_bn_stats, pixels, batch):
    model = model_with_real_bn_stats
    with torch.inference_mode():
        expected = model(pixel_values=pixels[:batch]).logits
        got = FoldedSegformer(model)(pixels[:batch])
    assert got.shape == expected.shape
    scale = expected.abs().max().item()
    assert (got - expected).abs().max().item() <= 1e-5 * max(scale, 1.0)
    assert torch.equal(got.argmax(1), expected.argmax(1))


def test_folding_removes_the_fuse_conv(seg_b0):
    folded = FoldedSegformer(seg_b0.model)
    names = {name for name, _ in folded.named_modules()}
    assert not any("linear_fuse" in name or "batch_norm" in name for name in names)
    assert len(folded.head.stage_convs) == 4


def test_folding_a_model_in_training_mode_is_refused(seg_b0):
    model = copy.deepcopy(seg_b0.model).train()
    with pytest.raises(ValueError, match="eval mode"):
        FoldedSegformer(model)
