"""SegFormer's Mix-FFN computed channels-first around its depthwise convolution (torch `+fold`).

HF's Mix-FFN (fc1 → depthwise 3×3 conv → GELU → fc2) views its tokens `(B, N, C)` as an image
`(B, C, H, W)` whose strides are channels-last. A depthwise weight `(C, 1, 3, 3)` counts as
contiguous for PyTorch's memory-format choice, so the convolution first copies its input to
NCHW, and fc2 then reads the NCHW result through a transpose. Removing the copies took the
compiled bf16 B2 forward at 512² from 261 to 178 ms (`benchmarks/bench_backends.py`, two
runs on either side of the change; see ARCHITECTURE.md).

`ChannelsFirstMixFFN` computes fc1 as `W · Xᵀ`, which is the `(C, N)` layout the convolution
wants, and feeds fc2 the convolution's output through a transposed view; matrix products take
transposed operands without copying, so at batch 1 no layout copy is left (larger batches
still copy, as HF's module does). Same arithmetic as HF's module up to the order of sums.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class ChannelsFirstMixFFN(nn.Module):
    """Drop-in for HF's `SegformerMixMLP` in eval mode, sharing its parameters.

    Input `(B, N, C_in)` tokens of an `H × W` grid (`N = H·W`); output `(B, N, C_out)`.
    """

    fc1: nn.Linear
    fc2: nn.Linear
    conv: nn.Conv2d
    activation_fn: nn.Module
    dropout: nn.Module

    def __init__(self, mlp: Any) -> None:  # a SegformerMixMLP (its parts are read by name)
        super().__init__()
        self.fc1, self.fc2 = mlp.fc1, mlp.fc2
        self.conv = mlp.dwconv.dwconv
        self.activation_fn = mlp.activation_fn
        self.dropout = mlp.dropout

    def forward(self, hidden_states: torch.Tensor, height: int, width: int) -> torch.Tensor:
        batch, tokens, channels = hidden_states.shape
        flat = hidden_states.reshape(batch * tokens, channels)
        hidden = torch.mm(self.fc1.weight, flat.t())  # (C, B·N)
        hidden = hidden.view(-1, batch, tokens).transpose(0, 1) + self.fc1.bias[:, None]
        hidden = self.conv(hidden.reshape(batch, -1, height, width))  # NCHW in, NCHW out
        hidden = self.dropout(self.activation_fn(hidden.flatten(2)))  # (B, C, N)
        out = torch.mm(hidden.transpose(1, 2).reshape(batch * tokens, -1), self.fc2.weight.t())
        return self.dropout(out.view(batch, tokens, -1) + self.fc2.bias)


def channels_first_mix_ffn(module: nn.Module) -> nn.Module:
    """A copy of `module` whose Mix-FFNs are `ChannelsFirstMixFFN`.

    Only the module objects are copied: parameters and buffers are shared, so the copy costs no
    weight memory and `module` itself (e.g. a segmenter's own model) is left as it was.
    """
    from transformers.models.segformer.modeling_segformer import SegformerMixMLP

    shared = {id(t): t for t in (*module.parameters(), *module.buffers())}
    copied = copy.deepcopy(module, memo=shared)
    for parent in list(copied.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, SegformerMixMLP):
                setattr(parent, name, ChannelsFirstMixFFN(child))
    return copied
