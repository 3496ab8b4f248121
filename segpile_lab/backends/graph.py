"""The torch module every backend runs or exports: ``pixel_values (N, 3, S, S)`` float32 →
``logits (N, C, S/4, S/4)``, with the folded decode head, seg's fast decode head, or HF's
graph as shipped."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from segpile_lab.backends._source import ModelSource
from segpile_lab.backends.fold import FoldedSegformer


class LogitsOnly(nn.Module):
    """`pixel_values` → logits through HF's own forward (the graph that is exported)."""

    model: Any  # a SegformerForSemanticSegmentation (its submodules are read by name)

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.model(pixel_values=pixel_values).logits
        return logits


class EagerLogits(LogitsOnly):
    """`pixel_values` → logits with seg's bit-identical fast decode head (eager torch)."""

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        from segpile_lab.seg.decode_head import fast_decode_head

        states = self.model.segformer(pixel_values, output_hidden_states=True).hidden_states
        return fast_decode_head(self.model.decode_head, states)


def graph_module(source: ModelSource, *, fold: bool, for_export: bool = False) -> nn.Module:
    """`pixel_values → logits` module in eval mode: the folded head (`fold`), else HF's graph
    with the fast decode head (torch) or as shipped (ONNX export, where memory layout does not
    matter). Shares the weights of `source.model`."""
    if fold:
        return FoldedSegformer(source.model).eval()
    return (LogitsOnly if for_export else EagerLogits)(source.model).eval()
