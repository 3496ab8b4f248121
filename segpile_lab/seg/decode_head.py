"""A faster, bit-identical forward for Hugging Face's `SegformerDecodeHead`.

HF projects each encoder stage with a linear layer to `(N, h·w, D)` and then views it as
`(N, D, h, w)` through ``transpose(1, 2).reshape(...)``. For a batch of one that view has a
degenerate batch stride, so PyTorch does not recognise it as channels-last and the bilinear
upsampling runs its slow strided path (with this fix B2's model step at batch 1 on two CPU
cores takes 1.32 s against HF's 1.99 s: `benchmarks/results/segmentation.json`). Viewing the
same memory as ``(N, h, w, D).permute(0, 3, 1, 2)`` is a proper channels-last tensor: the same
kernel then runs its fast vectorised loop and computes the very same numbers (``torch.equal``
with HF, tested for B0 and B2, batch 1 and 2).

To stay bit-identical downstream we also reproduce the memory format HF ends up with: for one
image HF's fused input is NCHW-contiguous (we copy each upsampled map straight into its channel
slot of an NCHW buffer, one pass instead of HF's copy + concatenation), for several it is
channels-last (we keep it). Convolutions pick different algorithms per layout, so this
matters for the last bits. The function has no data-dependent control flow, so
`torch.compile` traces it as well as HF's (the branch on the batch size becomes a shape guard).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional as F


def fast_decode_head(head: Any, encoder_hidden_states: Sequence[torch.Tensor]) -> torch.Tensor:
    """Run `head` (a `SegformerDecodeHead`) on the 4 stage outputs; logits `(N, C, H/4, W/4)`."""
    if head.config.reshape_last_stage is False:  # 3-D last stage: HF's own code handles it
        return head(encoder_hidden_states)
    size = encoder_hidden_states[0].shape[2:]
    upsampled = []
    for state, projection in zip(encoder_hidden_states, head.linear_projections, strict=True):
        batch, _, height, width = state.shape
        projected = projection(state)  # (N, h*w, D)
        as_channels_last = projected.view(batch, height, width, -1).permute(0, 3, 1, 2)
        upsampled.append(
            F.interpolate(as_channels_last, size=size, mode="bilinear", align_corners=False)
        )
    upsampled.reverse()  # HF concatenates the last stage first
    fused = _concat_nchw(upsampled) if batch == 1 else torch.cat(upsampled, dim=1)
    # free the maps and the fused input as soon as they are used: at batch 8 (B2, 512²) they
    # hold 3.2 GB, and kept alive they slowed the later layers (see ARCHITECTURE.md)
    del upsampled
    hidden = head.linear_fuse(fused)
    del fused
    hidden = head.dropout(head.activation(head.batch_norm(hidden)))
    return head.classifier(hidden)


def _concat_nchw(maps: list[torch.Tensor]) -> torch.Tensor:
    """``torch.cat(maps, dim=1)`` for one image, NCHW-contiguous as HF's fused input is there:
    each map is copied straight into its channel slot (one transposing copy, instead of
    ``.contiguous()`` and then the concatenation)."""
    channels = sum(part.shape[1] for part in maps)
    fused = maps[0].new_empty((1, channels, *maps[0].shape[2:]))
    offset = 0
    for part in maps:
        fused[:, offset : offset + part.shape[1]].copy_(part)
        offset += part.shape[1]
    return fused
