"""The one interface every backend returns: pixel values in, float32 CPU logits out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from segpile_lab.errors import BackendError


@dataclass
class Runner:
    """A ready backend. Call it with pixel values `(N, 3, S, S)` float32 (any device);
    it returns logits `(N, C, S/4, S/4)` float32 on the CPU.

    Attributes:
        name: registry name (e.g. "ort-int8-static+fold").
        device: where the computation runs ("cpu", "cuda").
        precision: "fp32", "bf16", "fp16" or "int8".
        exact: True when every operation runs in fp32 (differences are rounding only).
        folded: True when the decode head is folded (`segpile_lab.backends.fold`).
        setup_seconds: load + export + quantise/compile time, s (cached steps count as 0;
            `details` keeps the original export/quantise times).
        model_path: the file the backend runs (ONNX backends).
        model_mib: size of the model the backend runs, MiB (ONNX: the file; torch: the
            parameters and buffers in the dtype they are stored in).
        details: backend-specific facts (providers, export parity, calibration, notes).
    """

    name: str
    forward: Callable[[torch.Tensor], torch.Tensor]
    device: str
    precision: str
    exact: bool
    folded: bool
    setup_seconds: float = 0.0
    model_path: Path | None = None
    model_mib: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __call__(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(
                f"{self.name}: pixel values must be (N, 3, S, S), got {tuple(pixel_values.shape)}"
            )
        try:
            logits = self.forward(pixel_values.float())
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(
                f"backend {self.name!r} failed to run: {type(exc).__name__}: {exc}"
            ) from exc
        return logits.float().cpu()
