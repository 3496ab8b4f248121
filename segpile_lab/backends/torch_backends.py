"""PyTorch backends: eager fp32, bf16/fp16 autocast and torch.compile (inductor).

`+fold` backends run the folded decode head (`fold`) and the channels-first Mix-FFN
(`mix_ffn`); the others run HF's graph with seg's fast decode head.

`torch.compile` runs with inductor's ``freezing`` (weights become constants, so convolutions
and linears get pre-packed oneDNN kernels and bf16 weights are cast once, not per call); the
first call per input shape compiles (tens of seconds on 2 cores) and is reported as compile
time, not latency.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from segpile_lab._torch_utils import resolve_device, resolve_dtype, synchronize
from segpile_lab.backends._runner import Runner
from segpile_lab.backends._source import ModelSource
from segpile_lab.backends.graph import graph_module
from segpile_lab.backends.mix_ffn import channels_first_mix_ffn


def _module_mib(module: nn.Module) -> float:
    """Parameters and buffers of `module`, MiB, in the dtype they are stored in."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors) / 2**20


def torch_runner(
    source: ModelSource,
    *,
    name: str,
    dtype: str | None,
    compile: bool,
    fold: bool,
    device: str = "auto",
    image_size: int = 512,
) -> Runner:
    """A torch backend on `device` ("auto" → the model's device); `dtype` None means fp32.

    With `compile=True` one call on a zero batch of 1 at `image_size` compiles the graph
    before returning (its time is `setup_seconds`).
    """
    target = source.device if device == "auto" else resolve_device(device)
    autocast_dtype = resolve_dtype(dtype) if dtype not in (None, "fp32") else None
    module = graph_module(source, fold=fold)
    if fold:  # the fast graph: folded head and channels-first Mix-FFN (`mix_ffn`)
        module = channels_first_mix_ffn(module)
    if target != source.device:  # never move the segmenter's own model
        module = copy.deepcopy(module).to(target)
    model_mib = _module_mib(module)
    start = time.perf_counter()
    run: Callable[[torch.Tensor], torch.Tensor] = module
    if compile:
        run = torch.compile(module, dynamic=False, options={"freezing": True})

    def forward(pixel_values: torch.Tensor) -> torch.Tensor:
        with (
            torch.inference_mode(),
            torch.autocast(
                target.type,
                dtype=autocast_dtype or torch.bfloat16,
                enabled=autocast_dtype is not None,
            ),
        ):
            logits = run(pixel_values.to(target, non_blocking=True))
        return logits.float()

    details: dict[str, Any] = {"autocast": str(autocast_dtype) if autocast_dtype else None}
    if compile:
        forward(torch.zeros(1, 3, image_size, image_size))
        synchronize(target)
        details["compile_note"] = f"compiled for batch 1 at {image_size}²; other shapes recompile"
    return Runner(
        name=name,
        forward=forward,
        device=target.type,
        precision=dtype or "fp32",
        exact=autocast_dtype is None,
        folded=fold,
        setup_seconds=time.perf_counter() - start,
        model_mib=model_mib,
        details=details,
    )
