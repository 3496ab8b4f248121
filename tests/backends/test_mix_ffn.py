"""The channels-first Mix-FFN: same outputs as HF's module, shared weights, no layout copy."""

from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile
from transformers import SegformerConfig
from transformers.models.segformer.modeling_segformer import SegformerMixMLP

from segpile_lab.backends._source import model_source
from segpile_lab.backends.graph import graph_module
from segpile_lab.backends.mix_ffn import ChannelsFirstMixFFN, channels_first_mix_ffn


def _hf_mlp(channels: int = 16, hidden: int = 64) -> SegformerMixMLP:
    torch.manual_seed(0)
    return SegformerMixMLP(SegformerConfig(), in_features=channels, hidden_features=hidden).eval()


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 6, 10), (3, 5, 4)])
def test_outputs_match_hfs_mix_ffn(batch, height, width):
    mlp = _hf_mlp()
    tokens = torch.randn(batch, height * width, 16)
    with torch.inference_mode():
        expected = mlp(tokens, height, width)
        got = ChannelsFirstMixFFN(mlp)(tokens, height, width)
    assert got.shape == expected.shape == (batch, height * width, 16)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def _copies(module, *args) -> int:
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        module(*args)
    return sum(e.count for e in prof.key_averages() if e.key == "aten::copy_")


def test_batch_of_one_needs_no_layout_copy_where_hfs_module_copies():
    mlp = _hf_mlp()
    tokens = torch.randn(1, 32 * 32, 16)
    assert _copies(mlp, tokens, 32, 32) > 0  # the depthwise conv's NCHW copy
    assert _copies(ChannelsFirstMixFFN(mlp), tokens, 32, 32) == 0


def test_swap_shares_the_weights_and_leaves_the_segmenters_model_alone(seg_b0, pixels):
    folded = graph_module(model_source(seg_b0), fold=True)
    fast = channels_first_mix_ffn(folded)
    kinds = [type(m) for m in folded.modules()]
    assert SegformerMixMLP in kinds and ChannelsFirstMixFFN not in kinds
    fast_kinds = [type(m) for m in fast.modules()]
    assert SegformerMixMLP not in fast_kinds
    assert fast_kinds.count(ChannelsFirstMixFFN) == kinds.count(SegformerMixMLP) == 8  # B0
    assert {p.data_ptr() for p in fast.parameters()} == {p.data_ptr() for p in folded.parameters()}
    with torch.inference_mode():
        torch.testing.assert_close(fast(pixels), folded(pixels), rtol=1e-4, atol=1e-4)
