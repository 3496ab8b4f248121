"""INT8 and fp16 variants of an exported ONNX model, cached next to it.

* Dynamic INT8 (`quantize_dynamic`): weights INT8 ahead of time, activations quantised per call.
  By default only ``MatMul``/``Gemm`` are quantised: with ORT's default op types the 1×1 convs
  become ``ConvInteger``, which has no fast CPU kernel and makes the model *slower*.
* Static INT8 (`quantize_static`, QDQ format, U8 activations / S8 weights): activation ranges
  come from calibration images (MinMax, Entropy or Percentile) read by a `CalibrationDataReader`.
* `exclude="sensitive"` keeps the nodes that published INT8 SegFormer reports blame for
  accuracy collapse in float: LayerNormalization (and its decomposed form), Softmax, and the
  attention-score MatMuls feeding a Softmax (large dynamic range, overflow-prone).
* fp16 (`convert_float_to_float16`, float32 I/O kept) is for the CUDA EP only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from segpile_lab.backends.onnx_export import INPUT_NAME
from segpile_lab.errors import BackendError

CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
DEFAULT_DYNAMIC_OP_TYPES = ("MatMul", "Gemm")
_SENSITIVE_TYPES = {"LayerNormalization", "Softmax", "ReduceMean", "Pow", "Sqrt", "Erf"}
_PASS_THROUGH = {"Div", "Mul", "Add", "Cast"}


@dataclass(frozen=True)
class QuantizedModel:
    """A quantised (or fp16) ONNX file; `seconds` is the time of the original conversion."""

    path: Path
    seconds: float
    excluded_nodes: int
    cache_hit: bool
    notes: str


def sensitive_nodes(model_path: str | os.PathLike[str]) -> list[str]:
    """Names of the nodes kept in float by ``exclude="sensitive"`` (see the module doc).

    Besides LayerNormalization, Softmax, the attention MatMuls on both sides of each Softmax
    and the ops of a decomposed LayerNorm, the direct producer of every LayerNorm / Softmax
    input (a residual Add, a Transpose) is kept too: in QDQ format a tensor is quantised where
    it is produced, so this is what keeps those inputs in float.
    """
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    consumers: dict[str, list[Any]] = {}
    producers: dict[str, Any] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
        for name in node.output:
            producers[name] = node

    def feeds_softmax(node: Any, depth: int = 0) -> bool:
        for out in node.output:
            for nxt in consumers.get(out, []):
                if nxt.op_type == "Softmax":
                    return True
                if nxt.op_type in _PASS_THROUGH and depth < 2 and feeds_softmax(nxt, depth + 1):
                    return True
        return False

    names: dict[str, None] = {}  # ordered set
    for node in graph.node:
        if node.op_type in _SENSITIVE_TYPES or (node.op_type == "MatMul" and feeds_softmax(node)):
            names[node.name] = None
        if node.op_type in ("LayerNormalization", "Softmax") and node.input[0] in producers:
            names[producers[node.input[0]].name] = None
        if node.op_type == "Softmax":
            for nxt in consumers.get(node.output[0], []):
                names[nxt.name] = None
    return list(names)


def _excluded(model_path: Path, exclude: str | Sequence[str] | None) -> list[str]:
    if exclude is None:
        return []
    if isinstance(exclude, str):
        if exclude != "sensitive":
            raise ValueError(
                f"exclude must be None, 'sensitive' or a list of node names, got {exclude!r}"
            )
        return sensitive_nodes(model_path)
    return list(exclude)


@contextlib.contextmanager
def _quiet_ort_logging() -> Iterator[None]:
    """ORT's quantiser logs advice on the root logger ("consider pre-processing"): mute it."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def preprocessed(model_path: Path) -> Path:
    """ORT's recommended pre-quantisation pass (graph optimisation, ONNX shape inference), cached.

    Symbolic shape inference is skipped: it takes much longer and the batch axis is the only
    dynamic one.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    path = model_path.with_name(f"{model_path.stem}-pre.onnx")
    if not path.is_file():
        _write_atomically(
            path,
            "ORT pre-quantisation pass",
            lambda tmp: quant_pre_process(str(model_path), str(tmp), skip_symbolic_shape=True),
        )
    return path


def _derived_path(base: Path, kind: str, options: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()
    return base.with_name(f"{base.stem}-{kind}-{digest[:12]}.onnx")


def _cached(path: Path) -> QuantizedModel | None:
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return QuantizedModel(path=path, cache_hit=True, **json.loads(meta.read_text()))
    return None


def _write_atomically(path: Path, what: str, write: Callable[[Path], object]) -> None:
    """Run `write(tmp)` with ORT's logging quiet, then move the file to `path` (a failure
    leaves no partial file and raises `BackendError` naming `what`)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with _quiet_ort_logging():
            write(tmp)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise BackendError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
    os.replace(tmp, path)


def _produce(
    path: Path, what: str, write: Callable[[Path], None], excluded: int, notes: str
) -> QuantizedModel:
    """Run the conversion `write(tmp)` into `path`, with its metadata beside it."""
    start = time.perf_counter()
    _write_atomically(path, what, write)
    seconds = time.perf_counter() - start
    meta = {"seconds": seconds, "excluded_nodes": excluded, "notes": notes}
    path.with_suffix(".json").write_text(json.dumps(meta))
    return QuantizedModel(path, seconds, excluded, cache_hit=False, notes=notes)


def quantize_dynamic_int8(
    model_path: Path,
    *,
    op_types: Sequence[str] | None = DEFAULT_DYNAMIC_OP_TYPES,
    exclude: str | Sequence[str] | None = None,
) -> QuantizedModel:
    """Dynamic INT8 copy of `model_path`; `op_types=None` uses ORT's default op types."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = {"op_types": op_types and sorted(op_types), "exclude": exclude}
    path = _derived_path(model_path, "int8dyn", options)
    if (hit := _cached(path)) is not None:
        return hit
    source = preprocessed(model_path)
    excluded = _excluded(source, exclude)
    notes = f"op types: {','.join(op_types) if op_types else 'ORT default'}"
    return _produce(
        path,
        "dynamic INT8 quantisation",
        lambda tmp: quantize_dynamic(
            str(source),
            str(tmp),
            op_types_to_quantize=list(op_types) if op_types else None,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
        ),
        len(excluded),
        notes,
    )


class PixelBatchReader(CalibrationDataReader):
    """`CalibrationDataReader` over pixel values `(N, 3, S, S)` float32, one image per call."""

    def __init__(self, pixel_values: np.ndarray):
        super().__init__()
        self._pixels = np.ascontiguousarray(pixel_values, dtype=np.float32)
        self._iter: Iterator[dict[str, np.ndarray]] = self._batches()

    def _batches(self) -> Iterator[dict[str, np.ndarray]]:
        for index in range(len(self._pixels)):
            yield {INPUT_NAME: self._pixels[index : index + 1]}

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._iter, None)

    def rewind(self) -> None:
        self._iter = self._batches()


def quantize_static_int8(
    model_path: Path,
    calibration: np.ndarray,
    *,
    method: str = "minmax",
    exclude: str | Sequence[str] | None = None,
    per_channel: bool = True,
    calibration_label: str = "user images",
) -> QuantizedModel:
    """Static QDQ INT8 copy of `model_path`, calibrated on `calibration` pixel values.

    Args:
        calibration: preprocessed images `(N, 3, S, S)` float32 (what `preprocess` returns).
        method: "minmax", "entropy" or "percentile" (99.999th percentile of |activation|).
        exclude: None, "sensitive" or node names kept in float.
        per_channel: per-output-channel weight scales (more accurate, as fast on CPU).
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if method not in CALIBRATION_METHODS:
        raise ValueError(f"method must be one of {CALIBRATION_METHODS}, got {method!r}")
    if calibration.ndim != 4 or len(calibration) == 0:
        raise ValueError(f"calibration must be pixel values (N, 3, S, S), got {calibration.shape}")
    fingerprint = hashlib.sha256(
        np.ascontiguousarray(calibration, np.float32).tobytes()
    ).hexdigest()
    options = {
        "method": method,
        "exclude": exclude,
        "per_channel": per_channel,
        "data": fingerprint,
    }
    path = _derived_path(model_path, f"int8qdq-{method}", options)
    if (hit := _cached(path)) is not None:
        return hit
    source = preprocessed(model_path)
    excluded = _excluded(source, exclude)
    reader = PixelBatchReader(calibration)
    calibrate = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[method]
    notes = f"QDQ {method} calibration on {len(calibration)} {calibration_label}"
    return _produce(
        path,
        "static INT8 quantisation",
        lambda tmp: quantize_static(
            str(source),
            str(tmp),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            nodes_to_exclude=excluded,
            calibrate_method=calibrate,
            extra_options={"CalibTensorRangeSymmetric": False, "CalibMovingAverage": False},
        ),
        len(excluded),
        notes,
    )


def convert_fp16(model_path: Path) -> QuantizedModel:
    """fp16 copy of `model_path` with float32 inputs and outputs (for the CUDA EP)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    path = _derived_path(model_path, "fp16", {"keep_io_types": True})
    if (hit := _cached(path)) is not None:
        return hit

    def write(tmp: Path) -> None:
        converted = convert_float_to_float16(onnx.load(str(model_path)), keep_io_types=True)
        # the converter appends its input casts last
        OnnxModel.graph_topological_sort(converted.graph)
        onnx.checker.check_model(converted)
        onnx.save(converted, str(tmp))

    return _produce(path, "fp16 conversion", write, 0, "fp16 weights and activations")
