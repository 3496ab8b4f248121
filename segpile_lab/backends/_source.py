"""What a backend needs from a segmenter: the model, its identity and a weights fingerprint.

Backends accept a `Segmenter` (``sl.load_segmenter``) or a bare
`SegformerForSemanticSegmentation`. The public entry points (`create_runner`, `benchmark`,
`compare_accuracy`, `export_onnx`) read it once into a `ModelSource` with `model_source`;
everything behind them takes the `ModelSource`, so the rest of the package never depends on
which one it was given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from segpile_lab.provenance import Provenance
from segpile_lab.seg.model import Segmenter, is_demo_model

#: What numbers from untrained demo weights still say about backends.
UNTRAINED_REASON = "ranks backends only"


@dataclass(frozen=True)
class ModelSource:
    """The model behind a segmenter. `model` stays on its device and in eval mode."""

    model: nn.Module
    name: str
    num_labels: int
    is_trained: bool
    segmenter: Any | None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def provenance(self) -> Provenance:
        """Untrained demo weights rank backends only (their accuracy means nothing)."""
        return Provenance(is_trained=self.is_trained, reason=UNTRAINED_REASON)


def model_source(segmenter: Any) -> ModelSource:
    """Read a `Segmenter` or a bare SegFormer model into a `ModelSource`."""
    if isinstance(segmenter, ModelSource):
        return segmenter
    if isinstance(segmenter, nn.Module):
        config: Any = segmenter.config
        return ModelSource(
            model=segmenter.eval(),
            name=getattr(config, "name_or_path", "") or type(segmenter).__name__,
            num_labels=int(config.num_labels),
            is_trained=not is_demo_model(segmenter),
            segmenter=None,
        )
    if not isinstance(segmenter, Segmenter):
        raise TypeError(
            f"expected a Segmenter (sl.load_segmenter) or a SegFormer model, got {type(segmenter)}"
        )
    return ModelSource(
        model=segmenter.model.eval(),
        name=segmenter.name,
        num_labels=segmenter.num_labels,
        is_trained=segmenter.is_trained,
        segmenter=segmenter,
    )


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 (hex, 16 chars) of the model's config and every parameter and buffer, in order."""
    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None:
        digest.update(json.dumps(config.to_dict(), sort_keys=True, default=str).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(
            tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        )
    return digest.hexdigest()[:16]
