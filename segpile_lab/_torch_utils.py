"""Device and dtype choices shared by the segmentation, backend and BPB code."""

from __future__ import annotations

import torch

_DTYPES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """`"auto"` picks CUDA when available, else CPU; anything else goes to `torch.device`."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """Map "bf16"/"fp16"/"fp32" (or a torch dtype) to a torch dtype; None stays None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[dtype.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}") from None


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels on `device` (a no-op on CPU), for honest timings."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
