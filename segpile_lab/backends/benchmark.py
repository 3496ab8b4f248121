"""Latency, throughput, memory and setup cost of every backend, with the environment recorded.

Hygiene: torch and ORT run with the same fixed thread count; each (backend, batch) case gets
`warmup` untimed calls (the first one, which may compile, is reported as ``first_call_s``), then
`repeats` timed calls on the same seeded input, each ended by a device synchronisation (the
runner returns CPU tensors, so GPU work is complete when the clock stops). Latencies are
per call (the whole batch), in ms; throughput is images/s at the median latency.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from segpile_lab._progress import progress_bar
from segpile_lab._torch_utils import synchronize
from segpile_lab.backends._runner import Runner
from segpile_lab.backends._source import model_source
from segpile_lab.backends.registry import REFERENCE, create_runner, default_backends
from segpile_lab.errors import BackendError
from segpile_lab.provenance import Provenance


@dataclass
class BenchmarkResult:
    """`frame`: one row per (backend, batch) (Polars); `environment`: where it was measured;
    `model`, `provenance`: what was measured (untrained demo weights rank backends only)."""

    frame: Any
    environment: dict[str, Any]
    model: str = ""
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def is_trained(self) -> bool:
        return self.provenance.is_trained

    @property
    def note(self) -> str:
        """The provenance note ("" for trained weights)."""
        return self.provenance.note

    def __repr__(self) -> str:
        """Where it ran, then one line per backend: p50 latency per batch size, or its error."""
        env = self.environment
        lines = [
            f"BenchmarkResult({env.get('cpu', '?')}, {env.get('threads')} threads, "
            f"{env.get('device')}" + (f"; {self.note}" if self.note else "") + ")"
        ]
        for (name,), rows in self.frame.group_by("backend", maintain_order=True):
            errors = [e for e in rows["error"].to_list() if e]
            timed = [
                f"batch {r['batch']} {r['latency_p50_ms']:.1f} ms"
                for r in rows.iter_rows(named=True)
                if r["status"] == "ok"
            ]
            lines.append(f"  {name}: " + ("; ".join(timed) if timed else f"error: {errors[0]}"))
        return "\n".join([*lines, "  .frame: every measure (p50/p90/p99 ms, images/s, MiB)"])

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write {"environment", "model", "is_trained", "note", "rows"} as JSON."""
        payload = {
            "environment": self.environment,
            "model": self.model,
            "is_trained": self.is_trained,
            "note": self.note,
            "rows": self.frame.to_dicts(),
        }
        Path(path).write_text(json.dumps(payload, indent=1, default=str))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(threads: int, device: torch.device) -> dict[str, Any]:
    """CPU model, cores, threads, load average, library versions, ORT providers, device."""
    import onnx
    import onnxruntime as ort
    import transformers

    env = {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
        "transformers": transformers.__version__,
        "ort_providers": ort.get_available_providers(),
        "device": str(device),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if device.type == "cuda":
        env["cuda_device"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # Linux: "5" resets this process's peak RSS (VmHWM)
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _time_case(
    runner: Runner,
    pixels: torch.Tensor,
    device: torch.device,
    warmup: int,
    repeats: int,
    budget_s: float | None,
) -> tuple[float, list[float]]:
    """(first call s, timed latencies ms). Stops early once `budget_s` is spent (≥ 1 repeat)."""
    start = time.perf_counter()
    runner(pixels)
    synchronize(device)
    first = time.perf_counter() - start
    for _ in range(max(warmup - 1, 0)):
        runner(pixels)
    synchronize(device)
    latencies: list[float] = []
    began = time.perf_counter()
    for _ in range(repeats):
        tick = time.perf_counter()
        runner(pixels)
        synchronize(device)
        latencies.append((time.perf_counter() - tick) * 1000)
        if budget_s is not None and time.perf_counter() - began > budget_s:
            break
    return first, latencies


def benchmark(
    segmenter: Any,
    backends: Sequence[str | Runner] | None = None,
    batch_sizes: Sequence[int] = (1, 4, 8),
    image_size: int = 512,
    warmup: int = 2,
    repeats: int = 10,
    threads: int | None = None,
    *,
    options: dict[str, Any] | None = None,
    backend_options: dict[str, dict[str, Any]] | None = None,
    budget_s: float | None = None,
    progress: bool | None = None,
) -> BenchmarkResult:
    """Time every backend at every batch size on seeded random pixel values.

    Args:
        segmenter: a Segmenter or a SegFormer model.
        backends: names or ready `Runner`s (default: `default_backends()`, all that run here).
        batch_sizes: images per call.
        image_size: square input size S in pixels (512 for SegFormer-ADE; smaller for tests).
        warmup: untimed calls per case (≥ 1; the first is reported as ``first_call_s``).
        repeats: timed calls per case.
        threads: torch and ORT intra-op threads (default: torch's current setting).
        options / backend_options: passed to `create_runner` (for all / per backend name).
        budget_s: stop a case's repeats after this many seconds (slow backends on small runs).
    Returns:
        `BenchmarkResult` with columns backend, precision, exact, folded, device, batch,
        status, error, latency_p50_ms / p90 / p99 / mean, throughput_ips, speedup_vs_reference,
        peak_rss_mib, cuda_peak_mib, model_mib, setup_s, export_s, convert_s, first_call_s,
        repeats, notes. A backend that fails is one row with status "error" and the reason.
    """
    import polars as pl

    source = model_source(segmenter)
    previous_threads = torch.get_num_threads()
    threads = threads or previous_threads
    torch.set_num_threads(threads)
    device = source.device
    names = list(backends) if backends is not None else default_backends()
    generator = torch.Generator().manual_seed(0)
    inputs = {
        b: torch.randn(b, 3, image_size, image_size, generator=generator) for b in batch_sizes
    }
    rows: list[dict[str, Any]] = []
    cases = progress_bar(
        total=len(names) * len(batch_sizes), progress=progress, desc="benchmark", unit="case"
    )
    try:
        for backend in names:
            name = backend.name if isinstance(backend, Runner) else backend
            _reset_peak_rss()
            try:
                if isinstance(backend, Runner):
                    runner = backend
                else:
                    merged = {**(options or {}), **(backend_options or {}).get(name, {})}
                    merged.setdefault("image_size", image_size)
                    merged.setdefault("threads", threads)
                    runner = create_runner(segmenter, name, **merged)
            except BackendError as exc:
                rows.append({"backend": name, "status": "error", "error": str(exc)})
                cases.update(len(batch_sizes))
                continue
            for batch in batch_sizes:
                rows.append(_case_row(runner, inputs[batch], device, warmup, repeats, budget_s))
                cases.update(1)
            del runner
            gc.collect()
    finally:
        torch.set_num_threads(previous_threads)
        cases.close()
    frame = _with_speedup(_ordered(pl.DataFrame(rows, infer_schema_length=None)))
    return BenchmarkResult(
        frame=frame,
        environment=environment(threads, device),
        model=source.name,
        provenance=source.provenance,
    )


def _case_row(
    runner: Runner,
    pixels: torch.Tensor,
    device: torch.device,
    warmup: int,
    repeats: int,
    budget_s: float | None,
) -> dict[str, Any]:
    details = runner.details
    row: dict[str, Any] = {
        "backend": runner.name,
        "precision": runner.precision,
        "exact": runner.exact,
        "folded": runner.folded,
        "device": runner.device,
        "batch": len(pixels),
        "status": "ok",
        "error": "",
        "model_mib": runner.model_mib,
        "setup_s": runner.setup_seconds,
        "export_s": details.get("export", {}).get("export_seconds"),
        "convert_s": details.get("conversion", {}).get("seconds"),
        "notes": "; ".join(str(v) for k, v in details.items() if k in ("compile_note",))
        or details.get("conversion", {}).get("notes", ""),
    }
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        first, latencies = _time_case(runner, pixels, device, warmup, repeats, budget_s)
    except BackendError as exc:
        return {**row, "status": "error", "error": str(exc)}
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    row.update(
        {
            "latency_p50_ms": float(p50),
            "latency_p90_ms": float(p90),
            "latency_p99_ms": float(p99),
            "latency_mean_ms": float(np.mean(latencies)),
            "throughput_ips": len(pixels) / (p50 / 1000),
            "peak_rss_mib": _peak_rss_mib(),
            "cuda_peak_mib": torch.cuda.max_memory_allocated(device) / 2**20
            if device.type == "cuda"
            else None,
            "first_call_s": first,
            "repeats": len(latencies),
        }
    )
    return row


COLUMNS = {
    "backend": "String",
    "precision": "String",
    "exact": "Boolean",
    "folded": "Boolean",
    "device": "String",
    "batch": "Int64",
    "status": "String",
    "error": "String",
    "latency_p50_ms": "Float64",
    "latency_p90_ms": "Float64",
    "latency_p99_ms": "Float64",
    "latency_mean_ms": "Float64",
    "throughput_ips": "Float64",
    "peak_rss_mib": "Float64",
    "cuda_peak_mib": "Float64",
    "model_mib": "Float64",
    "setup_s": "Float64",
    "export_s": "Float64",
    "convert_s": "Float64",
    "first_call_s": "Float64",
    "repeats": "Int64",
    "notes": "String",
}


def _ordered(frame: Any) -> Any:
    """Every column of `COLUMNS`, in that order and dtype (missing ones null)."""
    import polars as pl

    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None))
        .cast(getattr(pl, dtype))
        .alias(name)
        for name, dtype in COLUMNS.items()
    )


def _with_speedup(frame: Any) -> Any:
    """Add speedup_vs_reference = reference p50 / p50 at the same batch (torch-fp32 eager)."""
    import polars as pl

    reference = frame.filter((pl.col("backend") == REFERENCE) & (pl.col("status") == "ok")).select(
        "batch", pl.col("latency_p50_ms").alias("_ref")
    )
    return (
        frame.join(reference, on="batch", how="left")
        .with_columns((pl.col("_ref") / pl.col("latency_p50_ms")).alias("speedup_vs_reference"))
        .drop("_ref")
    )
