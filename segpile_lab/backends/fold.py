"""Fold SegFormer's all-MLP decode head into a mathematically equivalent, cheaper head (the
whole B2 model at 512²: 117 → 40 GFLOP, `benchmarks/results/backends.json`).

HF's decode head computes, per pixel of the 1/4-resolution grid::

    logits = classifier(relu(bn(linear_fuse(cat_i(upsample(proj_i(x_i)))))))

`proj_i`, `upsample` (bilinear, weights summing to 1), `linear_fuse` (a 1×1 conv) and eval-mode
batch norm are all linear, so they collapse into one 1×1 conv per stage applied at the stage's
*own* resolution, followed by the upsampling and a sum::

    logits = classifier(relu(Σ_i upsample(A_i x_i) + b))     A_i = s · W_fuse[:, i] · W_proj_i

For B2 at 512² this removes the 77-GFLOP `linear_fuse` conv (66% of the model's 117 GFLOP).
The result is exact in real arithmetic; in fp32 it differs from HF's graph only by rounding
(reassociated sums, ~1e-5 relative), so backends built on it are reported as "folded" and their
logit error against the faithful `torch-fp32` reference is always measured, never assumed.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class FoldedDecodeHead(nn.Module):
    """Drop-in replacement for `SegformerDecodeHead` in eval mode (same inputs, same logits).

    Inputs: the encoder's four feature maps `(N, C_i, H/2^(i+2), W/2^(i+2))`;
    output: logits `(N, num_labels, H/4, W/4)`.
    """

    classifier: nn.Module

    def __init__(self, head: Any):  # a SegformerDecodeHead (its parts are read by name)
        super().__init__()
        n_stages = len(head.linear_projections)
        hidden = head.linear_fuse.out_channels
        fuse = head.linear_fuse.weight.detach().double().reshape(hidden, n_stages * hidden)
        bn = head.batch_norm
        scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
        bias = bn.bias.detach().double() - bn.running_mean.double() * scale
        self.stage_convs = nn.ModuleList()
        for stage, proj in enumerate(head.linear_projections):
            # the fuse conv sees the stages in reverse order: cat(all_hidden_states[::-1])
            block = fuse[:, (n_stages - 1 - stage) * hidden : (n_stages - stage) * hidden]
            weight = scale[:, None] * (block @ proj.proj.weight.detach().double())
            bias = bias + scale * (block @ proj.proj.bias.detach().double())
            conv = nn.Conv2d(weight.shape[1], hidden, kernel_size=1, bias=False)
            conv.weight.data = weight.float()[:, :, None, None].contiguous()
            self.stage_convs.append(conv)
        self.bias = nn.Parameter(bias.float()[None, :, None, None], requires_grad=False)
        self.classifier = copy.deepcopy(head.classifier)

    def forward(self, encoder_hidden_states: tuple[torch.Tensor, ...]) -> torch.Tensor:
        size = encoder_hidden_states[0].shape[2:]
        fused = self.bias
        for features, conv in zip(encoder_hidden_states, self.stage_convs, strict=True):
            projected = conv(features)
            if projected.shape[2:] != size:
                projected = nn.functional.interpolate(
                    projected, size=size, mode="bilinear", align_corners=False
                )
            fused = fused + projected
        return self.classifier(torch.relu(fused))


class FoldedSegformer(nn.Module):
    """`pixel_values (N, 3, H, W)` → logits `(N, num_labels, H/4, W/4)` with the folded head.

    Shares the encoder with the given `SegformerForSemanticSegmentation` (no weight copy).
    """

    encoder: nn.Module
    head: FoldedDecodeHead

    def __init__(self, model: Any):  # a SegformerForSemanticSegmentation
        super().__init__()
        if model.training:
            raise ValueError("fold the decode head of a model in eval mode only (batch norm stats)")
        self.encoder = model.segformer
        self.head = FoldedDecodeHead(model.decode_head)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(pixel_values, output_hidden_states=True, return_dict=True)
        return self.head(tuple(hidden.hidden_states))
