"""Named inference backends behind one interface.

``create_runner(segmenter, "ort-int8-static")`` returns a `Runner`: pixel values
`(N, 3, S, S)` float32 → logits `(N, C, S/4, S/4)` float32 on the CPU, whatever runs inside.
Every name also exists with the suffix ``+fold`` (e.g. ``"ort-fp32+fold"``): the same backend
on the folded decode head (`segpile_lab.backends.fold`), exact in real arithmetic and with a
third of the FLOPs (B2: 117 → 40 GFLOP, `benchmarks/results/backends.json`).
`available_backends()` says which backends run on this machine and why the others don't. Any
failure while building or running a backend is a `BackendError`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segpile_lab.backends._runner import Runner
from segpile_lab.backends._source import ModelSource, model_source
from segpile_lab.errors import BackendError

if TYPE_CHECKING:
    import polars as pl

FOLD_SUFFIX = "+fold"
_ORT_ONLY_OPTIONS = {
    "threads",
    "cache_dir",
    "calibration",
    "calibration_label",
    "calibration_method",
    "exclude",
    "op_types",
    "tensorrt_fp16",
}
REFERENCE = "torch-fp32"

Builder = Callable[[ModelSource, str, bool, dict[str, Any]], Runner]


@dataclass(frozen=True)
class BackendSpec:
    """One registry entry. `requirement()` returns None when it runs here, else the reason."""

    name: str
    family: str
    precision: str
    description: str
    build: Builder
    requirement: Callable[[], str | None]


def _torch(dtype: str | None, compile: bool) -> Builder:
    def build(source: ModelSource, name: str, fold: bool, options: dict[str, Any]) -> Runner:
        from segpile_lab.backends.torch_backends import torch_runner

        return torch_runner(source, name=name, dtype=dtype, compile=compile, fold=fold, **options)

    return build


def _ort(variant: str, **fixed: Any) -> Builder:
    def build(source: ModelSource, name: str, fold: bool, options: dict[str, Any]) -> Runner:
        from segpile_lab.backends.ort_backends import ort_runner

        return ort_runner(source, name=name, variant=variant, fold=fold, **{**fixed, **options})

    return build


def _always() -> str | None:
    return None


def _needs_compiler() -> str | None:
    if shutil.which("g++") or shutil.which("c++") or shutil.which("clang++"):
        return None
    return "torch.compile (inductor) needs a C++ compiler on PATH (g++ or clang++)"


def _needs_provider(provider: str) -> Callable[[], str | None]:
    def check() -> str | None:
        from segpile_lab.backends.ort_backends import available_providers

        have = available_providers()
        return (
            None if provider in have else f"ONNX Runtime here has no {provider} ({', '.join(have)})"
        )

    return check


_SPECS = [
    BackendSpec(
        "torch-fp32",
        "torch",
        "fp32",
        "PyTorch eager fp32 with the decode-head fix (the reference)",
        _torch(None, False),
        _always,
    ),
    BackendSpec(
        "torch-bf16",
        "torch",
        "bf16",
        "PyTorch eager under bf16 autocast",
        _torch("bf16", False),
        _always,
    ),
    BackendSpec(
        "torch-fp16",
        "torch",
        "fp16",
        "PyTorch eager under fp16 autocast",
        _torch("fp16", False),
        _always,
    ),
    BackendSpec(
        "torch-compile",
        "torch",
        "fp32",
        "torch.compile (inductor, frozen weights) fp32",
        _torch(None, True),
        _needs_compiler,
    ),
    BackendSpec(
        "torch-compile-bf16",
        "torch",
        "bf16",
        "torch.compile (inductor, frozen weights) under bf16 autocast",
        _torch("bf16", True),
        _needs_compiler,
    ),
    BackendSpec(
        "ort-fp32",
        "ort",
        "fp32",
        "ONNX Runtime fp32 (CUDA EP when available, else CPU EP)",
        _ort("fp32"),
        _always,
    ),
    BackendSpec(
        "ort-int8-dynamic",
        "ort",
        "int8",
        "ONNX Runtime dynamic INT8 (MatMul/Gemm only)",
        _ort("int8-dynamic"),
        _always,
    ),
    BackendSpec(
        "ort-int8-dynamic-default-ops",
        "ort",
        "int8",
        "dynamic INT8 with ORT's default op types (Conv → ConvInteger)",
        _ort("int8-dynamic", op_types=None),
        _always,
    ),
    BackendSpec(
        "ort-int8-static",
        "ort",
        "int8",
        "ONNX Runtime static INT8, QDQ, calibrated (MinMax by default)",
        _ort("int8-static"),
        _always,
    ),
    BackendSpec(
        "ort-fp16",
        "ort",
        "fp16",
        "ONNX Runtime fp16 on the CUDA EP",
        _ort("fp16"),
        _needs_provider("CUDAExecutionProvider"),
    ),
    BackendSpec(
        "ort-tensorrt",
        "ort",
        "fp32",
        "ONNX Runtime TensorRT EP",
        _ort("tensorrt"),
        _needs_provider("TensorrtExecutionProvider"),
    ),
]
BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in _SPECS}


def split_name(name: str) -> tuple[BackendSpec, bool]:
    """`"ort-fp32+fold"` → (the ort-fp32 spec, True). Raises BackendError for unknown names."""
    base, fold = (name[: -len(FOLD_SUFFIX)], True) if name.endswith(FOLD_SUFFIX) else (name, False)
    spec = BACKENDS.get(base)
    if spec is None:
        raise BackendError(
            f"unknown backend {name!r}; known: {', '.join(BACKENDS)} "
            f"(each also with '{FOLD_SUFFIX}')"
        )
    return spec, fold


def unavailable_reason(name: str) -> str | None:
    """None when backend `name` can run on this machine, else why not."""
    spec, _ = split_name(name)
    return spec.requirement()


def available_backends() -> pl.DataFrame:
    """Polars frame: backend, family, precision, available, reason, description."""
    import polars as pl

    rows = []
    for spec in _SPECS:
        reason = spec.requirement()
        rows.append(
            {
                "backend": spec.name,
                "family": spec.family,
                "precision": spec.precision,
                "available": reason is None,
                "reason": reason or "",
                "description": spec.description,
            }
        )
    return pl.DataFrame(rows)


def default_backends() -> list[str]:
    """Every backend that runs here, plus folded variants of the fastest ones."""
    names = [spec.name for spec in _SPECS if spec.requirement() is None]
    folded = ["torch-fp32", "ort-fp32", "ort-int8-static", "torch-compile-bf16"]
    return names + [f"{name}{FOLD_SUFFIX}" for name in folded if name in names]


def create_runner(segmenter: Any, name: str = REFERENCE, **options: Any) -> Runner:
    """Build backend `name` for `segmenter` (a Segmenter or a SegFormer model).

    Options (passed to the backend when it uses them): ``threads``, ``device``,
    ``image_size`` (pixels, for export/compile; default: the segmenter's input size, else 512),
    ``cache_dir`` (ONNX cache),
    ``calibration`` (pixel values for static INT8) or ``calibration_images`` (images run through
    ``segmenter.preprocess``), ``calibration_method`` ("minmax" | "entropy" | "percentile"),
    ``exclude`` (None | "sensitive" | node names kept in float), ``op_types`` (dynamic INT8).
    Raises:
        BackendError: unknown name, not available here, or failed to export/quantise/compile.
    """
    spec, fold = split_name(name)
    reason = spec.requirement()
    if reason is not None:
        raise BackendError(f"backend {name!r} is not available here: {reason}")
    source = model_source(segmenter)
    input_size = getattr(source.segmenter, "input_size", None)
    if input_size is not None:  # export/compile at the checkpoint's own size (1024² Cityscapes)
        options.setdefault("image_size", int(input_size[0]))
    options = _resolve_calibration(source, dict(options))
    if spec.family == "torch":
        # torch threads are process-wide (set by the caller); the rest concern ONNX only
        options = {k: v for k, v in options.items() if k not in _ORT_ONLY_OPTIONS}
    try:
        return spec.build(source, name, fold, options)
    except BackendError:
        raise
    except Exception as exc:
        raise BackendError(
            f"backend {name!r} failed to build: {type(exc).__name__}: {exc}"
        ) from exc


def _resolve_calibration(source: ModelSource, options: dict[str, Any]) -> dict[str, Any]:
    images = options.pop("calibration_images", None)
    if images is None:
        return options
    preprocess = getattr(source.segmenter, "preprocess", None)
    if preprocess is None:
        raise BackendError(
            "calibration_images need a Segmenter (with preprocess); pass calibration="
        )
    options["calibration"] = preprocess(images).cpu().numpy()
    options.setdefault("calibration_label", "user images")
    return options
