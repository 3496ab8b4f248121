"""ONNX Runtime backends: fp32 (CPU or CUDA EP), INT8 dynamic / static QDQ, fp16, TensorRT."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from segpile_lab.backends import quantize
from segpile_lab.backends._runner import Runner
from segpile_lab.backends._source import ModelSource
from segpile_lab.backends.onnx_export import INPUT_NAME, OUTPUT_NAME, export_metadata, export_onnx
from segpile_lab.errors import BackendError, wrap_errors

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
VARIANTS = ("fp32", "int8-dynamic", "int8-static", "fp16", "tensorrt")


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _providers(variant: str, device: str) -> list[str]:
    have = available_providers()
    if variant == "tensorrt":
        if TENSORRT not in have:
            raise BackendError(f"ORT has no {TENSORRT} here (providers: {', '.join(have)})")
        return [TENSORRT, CUDA, CPU]
    if variant == "fp16":
        if CUDA not in have:
            raise BackendError(f"fp16 ONNX needs the {CUDA} (providers here: {', '.join(have)})")
        return [CUDA, CPU]
    if variant == "fp32" and device in ("auto", "cuda") and CUDA in have:
        return [CUDA, CPU]
    if device == "cuda":
        raise BackendError(f"{variant} ONNX on CUDA is not offered (QDQ INT8 runs on the CPU EP)")
    return [CPU]


def synthetic_calibration(n: int, image_size: int, seed: int = 0) -> np.ndarray:
    """`n` smooth random images `(n, 3, S, S)` in ImageNet-normalised units (a fallback only).

    Real calibration images should be given; this keeps quantisation runnable offline and is
    labelled "synthetic" wherever its results appear.
    """
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 8, 8, generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=(image_size, image_size), mode="bicubic")
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((smooth.clamp(0, 1) - mean) / std).numpy().astype(np.float32)


def ort_runner(
    source: ModelSource,
    *,
    name: str,
    variant: str,
    fold: bool,
    threads: int | None = None,
    device: str = "auto",
    image_size: int = 512,
    cache_dir: str | os.PathLike[str] | None = None,
    calibration: np.ndarray | None = None,
    calibration_label: str = "user images",
    calibration_method: str = "minmax",
    exclude: str | list[str] | None = None,
    op_types: tuple[str, ...] | None = quantize.DEFAULT_DYNAMIC_OP_TYPES,
    tensorrt_fp16: bool = False,
) -> Runner:
    """Export (cached), convert for `variant`, and open an ORT session with fixed threads.

    Args:
        variant: one of `VARIANTS`.
        threads: ORT intra-op threads (default: torch's current thread count).
        calibration: pixel values `(N, 3, S, S)` for static INT8 (default: 8 synthetic images).
        exclude: None, "sensitive" or node names kept in float by the INT8 variants.
        op_types: dynamic INT8 op types; None means ORT's default (Conv → ConvInteger, slow).
    """
    import onnxruntime as ort

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    providers = _providers(variant, device)
    start = time.perf_counter()
    exported = export_onnx(source, image_size=image_size, fold=fold, cache_dir=cache_dir)
    details: dict[str, Any] = {"export": export_metadata(exported)}
    path: Path = exported.path
    precision = "fp32"
    if variant == "int8-dynamic":
        converted = quantize.quantize_dynamic_int8(path, op_types=op_types, exclude=exclude)
        precision = "int8"
    elif variant == "int8-static":
        if calibration is None:
            calibration = synthetic_calibration(8, image_size)
            calibration_label = "synthetic smooth-noise images (no calibration images given)"
        converted = quantize.quantize_static_int8(
            path,
            calibration,
            method=calibration_method,
            exclude=exclude,
            calibration_label=calibration_label,
        )
        precision = "int8"
    elif variant == "fp16":
        converted = quantize.convert_fp16(path)
        precision = "fp16"
    else:
        converted = None
    if converted is not None:
        path = converted.path
        details["conversion"] = {
            "seconds": converted.seconds,
            "cache_hit": converted.cache_hit,
            "excluded_nodes": converted.excluded_nodes,
            "notes": converted.notes,
        }
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    provider_options: list[dict[str, Any]] = [{} for _ in providers]
    if variant == "tensorrt" and tensorrt_fp16:
        provider_options[0] = {"trt_fp16_enable": True}
        precision = "fp16"
    with wrap_errors(BackendError, path, "ORT could not load it"):
        session = ort.InferenceSession(
            str(path), options, providers=providers, provider_options=provider_options
        )
    details["providers"] = session.get_providers()

    def forward(pixel_values: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(pixel_values.detach().cpu().numpy(), dtype=np.float32)
        (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: array})
        return torch.from_numpy(logits)

    return Runner(
        name=name,
        forward=forward,
        device="cuda" if session.get_providers()[0] != CPU else "cpu",
        precision=precision,
        exact=precision == "fp32" and variant != "tensorrt",
        folded=fold,
        setup_seconds=time.perf_counter() - start,
        model_path=path,
        model_mib=path.stat().st_size / 2**20,
        details=details,
    )
