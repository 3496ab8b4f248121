"""Export a SegFormer to ONNX once, check it, and keep it in an on-disk cache.

The graph maps ``pixel_values (batch, 3, S, S)`` float32 to ``logits (batch, C, S/4, S/4)``;
the batch axis is dynamic, the spatial size is fixed at export (cache key). torch 2.13 still
ships the TorchScript exporter (``dynamo=False``); it is tried first (it was the faster of the
two when written; not benchmarked) and the dynamo exporter (with ``dynamic_shapes``) is the
fallback. The module exported is `graph.graph_module`'s. Every fresh export is validated by
``onnx.checker`` and by running it in ONNX Runtime on a batch of 2 (which also proves the batch
axis is dynamic) against torch; the max abs logit difference is stored next to the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from segpile_lab.backends._source import ModelSource, model_source, weights_fingerprint
from segpile_lab.backends.graph import graph_module
from segpile_lab.errors import BackendError

DEFAULT_OPSET = 17
INPUT_NAME = "pixel_values"
OUTPUT_NAME = "logits"


@dataclass(frozen=True)
class OnnxExport:
    """An exported (possibly cached) ONNX file and what is known about it.

    `max_abs_diff` is the largest |logit| difference between ONNX Runtime (CPU) and torch on a
    random batch of 2 at export time; `export_seconds` is the time of that original export.
    """

    path: Path
    key: str
    opset: int
    image_size: int
    folded: bool
    exporter: str
    export_seconds: float
    max_abs_diff: float
    cache_hit: bool

    @property
    def size_mib(self) -> float:
        return self.path.stat().st_size / 2**20


def default_cache_dir() -> Path:
    """`$SEGPILE_LAB_CACHE/onnx`, else the platform's user cache dir (platformdirs)."""
    root = os.environ.get("SEGPILE_LAB_CACHE")
    if root:
        return Path(root) / "onnx"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("segpile-lab")) / "onnx"


def cache_key(source: ModelSource, **options: Any) -> str:
    """Hex key from the weights fingerprint, torch version and the export options."""
    payload = json.dumps(
        {
            "weights": weights_fingerprint(source.model),
            "torch": torch.__version__,
            **options,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def export_onnx(
    segmenter: Any,
    *,
    image_size: int = 512,
    opset: int = DEFAULT_OPSET,
    fold: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    exporter: str = "auto",
) -> OnnxExport:
    """Export `segmenter`'s model to ONNX (dynamic batch), or return the cached file.

    Args:
        segmenter: a Segmenter, a SegFormer model or a `ModelSource`.
        image_size: spatial size S of the square input, pixels (a multiple of 32).
        opset: ONNX opset.
        fold: export the folded decode head (`segpile_lab.backends.fold`).
        cache_dir: folder for the cache (default `default_cache_dir()`).
        exporter: "auto" (TorchScript, then dynamo), "torchscript" or "dynamo".
    Raises:
        BackendError: the export, the checker or the parity run failed.
    """
    if image_size % 32:
        raise ValueError(
            f"image_size must be a multiple of 32 (SegFormer's stride), got {image_size}"
        )
    source = model_source(segmenter)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key = cache_key(source, image_size=image_size, opset=opset, fold=fold, exporter=exporter)
    path = folder / f"segformer-{key}.onnx"
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return OnnxExport(path=path, cache_hit=True, **meta)

    module = graph_module(source, fold=fold, for_export=True)
    device = source.device
    dummy = torch.zeros(1, 3, image_size, image_size, device=device)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    start = time.perf_counter()
    used = _export_with_fallback(module, dummy, tmp, opset=opset, exporter=exporter)
    seconds = time.perf_counter() - start
    max_diff = _check(tmp, module, image_size=image_size, device=device)
    os.replace(tmp, path)
    meta = {
        "key": key,
        "opset": opset,
        "image_size": image_size,
        "folded": fold,
        "exporter": used,
        "export_seconds": seconds,
        "max_abs_diff": max_diff,
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return OnnxExport(path=path, cache_hit=False, **meta)


def _export_with_fallback(
    module: nn.Module, dummy: torch.Tensor, path: Path, *, opset: int, exporter: str
) -> str:
    tries = {
        "auto": ["torchscript", "dynamo"],
        "torchscript": ["torchscript"],
        "dynamo": ["dynamo"],
    }
    if exporter not in tries:
        raise ValueError(f"exporter must be one of {sorted(tries)}, got {exporter!r}")
    failures = []
    for name in tries[exporter]:
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _EXPORTERS[name](module, dummy, path, opset)
            return name
        except Exception as exc:
            failures.append(f"{name} exporter: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    raise BackendError("ONNX export failed: " + "; ".join(failures))


def _export_torchscript(module: nn.Module, dummy: torch.Tensor, path: Path, opset: int) -> None:
    torch.onnx.export(
        module,
        (dummy,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        opset_version=opset,
        do_constant_folding=True,
        dynamo=False,
    )


def _export_dynamo(module: nn.Module, dummy: torch.Tensor, path: Path, opset: int) -> None:
    program = torch.onnx.export(
        module,
        (dummy,),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes={"pixel_values": {0: torch.export.Dim("batch")}},
        opset_version=max(opset, 18),
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    if program is None:
        raise BackendError("the dynamo exporter returned no ONNX program")
    program.save(str(path))


_EXPORTERS = {"torchscript": _export_torchscript, "dynamo": _export_dynamo}


def _check(path: Path, module: nn.Module, *, image_size: int, device: torch.device) -> float:
    """onnx.checker, then ORT (CPU) vs torch on a seeded random batch of 2: max abs diff."""
    import onnx
    import onnxruntime as ort

    try:
        onnx.checker.check_model(str(path))
        generator = torch.Generator().manual_seed(0)
        pixels = torch.randn(2, 3, image_size, image_size, generator=generator)
        with torch.inference_mode():
            expected = module(pixels.to(device)).float().cpu().numpy()
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (got,) = session.run([OUTPUT_NAME], {INPUT_NAME: pixels.numpy()})
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise BackendError(
            f"exported ONNX file failed its check: {type(exc).__name__}: {exc}"
        ) from exc
    if got.shape != expected.shape:
        path.unlink(missing_ok=True)
        raise BackendError(f"ONNX output shape {got.shape} differs from torch's {expected.shape}")
    return float(np.abs(got - expected).max())


def export_metadata(export: OnnxExport) -> dict[str, Any]:
    """JSON-ready description of an export (for benchmark environments and CLI output)."""
    meta = asdict(export)
    meta["path"] = str(export.path)
    meta["size_mib"] = export.size_mib
    return meta
