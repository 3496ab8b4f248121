"""`predict`: images → batched forward → one `SegmentationResult` per image, at its own size.

Data flow per batch: `load_image` (bad-input policy) → `segmenter.preprocessing` (N, 3, H, W),
512² for ADE20K checkpoints → logits (N, C, H/4, W/4) from the eager model or a named backend →
per image:

* labels: argmax of the logits upsampled bilinearly to (H, W), exactly as HF's
  ``post_process_semantic_segmentation``; the upsampling runs a few classes at a time with an
  online argmax, so memory stays bounded (≤ 256 MiB of logits at once) for huge images.
* uncertainty (default, ``full_resolution=False``): confidence, entropy and margin on the
  128×128 logit grid, then upsampled bilinearly to (H, W). ``full_resolution=True`` computes them
  per output pixel from the upsampled logits (exact, streamed over class chunks, on all H·W
  pixels instead of the logit grid).
* Monte-Carlo dropout maps (``mc_samples > 0``): on the logit grid, upsampled the same way.
* every map is also kept on the logit grid (``result.grid_maps``), beside the top-k of the same
  cells, so a read-out can quote one cell's probabilities without mixing resolutions.
* temperature: logits are divided by ``segmenter.temperature`` (1.0 unless calibrated with
  `segpile_lab.seg.calibration.fit_temperature`) before any softmax; labels do not change.

Forward path (``backend="auto"``, the default): for an fp32 segmenter the fastest exact path,
``torch-fp32+fold`` (the folded decode head and channels-first Mix-FFN, `segpile_lab.backends`;
the same arithmetic up to the order of sums, labels checked equal to the unfolded path on the
test images); with a bf16/fp16 autocast dtype the eager path. ``backend=None`` (or
``"torch-fp32"``) is the unfolded eager path, bit-identical to Hugging Face's forward. The
folded runner is built once per segmenter and rebuilt when any weight changed in place
(fine-tuning), detected through PyTorch's tensor version counters.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from segpile_lab._progress import progress_bar
from segpile_lab.seg.results import SegmentationResult
from segpile_lab.seg.uncertainty import PixelStats, stream_stats, upsample_map, upsampled_chunks

EAGER_BACKENDS = (None, "torch-fp32", "torch")
AUTO = "auto"
FAST_EXACT = "torch-fp32+fold"  # what "auto" runs for an fp32 segmenter
TOPK_STORED = 5


def predict(
    segmenter: Any,
    images: Any,
    *,
    batch_size: int = 8,
    uncertainty: bool = True,
    mc_samples: int = 0,
    progress: bool | None = None,
    backend: str | None = AUTO,
    full_resolution: bool = False,
    return_probabilities: bool = False,
    seed: int = 0,
) -> SegmentationResult | list[SegmentationResult]:
    """Segment `images` with `segmenter`.

    Args:
        images: one image (path, PIL image, `(H, W[, C])` array) or a list of them (or an
            `(N, H, W, C)` array). One image in → one result out; a list in → a list out.
        batch_size: images per forward pass.
        uncertainty: compute confidence, entropy (nats) and margin maps and the top-k.
        mc_samples: T > 0 adds Monte-Carlo-dropout maps from T seeded stochastic passes.
        progress: show a progress bar (None lets ``TQDM_DISABLE`` decide).
        backend: ``"auto"`` = the fastest exact path (see the module docstring); None /
            "torch-fp32" = the unfolded eager path; any other name comes from
            ``segpile_lab.backends.registry.create_runner(segmenter, name)``.
        full_resolution: compute uncertainty per pixel at full size (exact, slower).
        return_probabilities: keep the softmax `(C, 128, 128)` in each result.
        seed: seed of the Monte-Carlo passes.
    """
    single = _is_single(images)
    items = [images] if single else list(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if mc_samples and backend not in (*EAGER_BACKENDS, AUTO):
        raise ValueError("Monte-Carlo dropout needs the eager torch model; use backend=None")
    forward = _tempered(segmenter, _forward_fn(segmenter, backend))
    results: list[SegmentationResult] = []
    with progress_bar(total=len(items), progress=progress, desc="segmenting", unit="image") as bar:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            results.extend(
                _predict_batch(
                    segmenter,
                    batch,
                    forward,
                    uncertainty,
                    mc_samples,
                    full_resolution,
                    return_probabilities,
                    seed,
                )
            )
            bar.update(len(batch))
    return results[0] if single else results


def _is_single(images: Any) -> bool:
    from PIL import Image

    if isinstance(images, np.ndarray):
        return images.ndim <= 3
    return isinstance(images, (str, os.PathLike, Image.Image))


def _forward_fn(segmenter: Any, backend: str | None) -> Callable[[torch.Tensor], torch.Tensor]:
    if backend == AUTO:
        dtype = getattr(segmenter, "dtype", None)
        backend = FAST_EXACT if dtype in (None, torch.float32) else None
    if backend in EAGER_BACKENDS:
        return segmenter.logits
    runners = segmenter.__dict__.setdefault("_runners", {})
    stamp = weights_stamp(segmenter.model)
    if backend not in runners or runners[backend][0] != stamp:
        from segpile_lab.backends.registry import create_runner

        with torch.random.fork_rng(devices=[]):  # new modules draw initial weights: keep the
            runners[backend] = (stamp, create_runner(segmenter, backend))  # caller's RNG
    return runners[backend][1]


def weights_stamp(model: torch.nn.Module) -> int:
    """Sum of the version counters of `model`'s parameters and buffers: it grows whenever
    one of them is changed in place (optimizer steps, ``load_state_dict``, batch-norm
    statistics in training mode), so a runner built from older weights is rebuilt."""
    return sum(t._version for t in (*model.parameters(), *model.buffers()))


def _tempered(
    segmenter: Any, forward: Callable[[torch.Tensor], torch.Tensor]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """`forward` with its logits divided by the segmenter's temperature (when ≠ 1)."""
    temperature = float(getattr(segmenter, "temperature", 1.0))
    if temperature == 1.0:
        return forward
    return lambda pixel_values: forward(pixel_values) / temperature


def _source_name(item: Any) -> str:
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    if isinstance(item, np.ndarray):
        return f"<ndarray {item.shape}>"
    return getattr(item, "filename", "") or f"<{type(item).__name__}>"


def _predict_batch(
    segmenter: Any,
    batch: list[Any],
    forward: Callable[[torch.Tensor], torch.Tensor],
    uncertainty: bool,
    mc_samples: int,
    full_resolution: bool,
    return_probabilities: bool,
    seed: int,
) -> list[SegmentationResult]:
    from segpile_lab.seg.images import load_image

    arrays = [np.asarray(load_image(item)) for item in batch]
    pixel_values = segmenter.preprocessing(arrays)
    logits = forward(pixel_values)
    mc_maps: dict[str, torch.Tensor] = {}
    mc_active: list[str] = []
    if mc_samples:
        from segpile_lab.seg.mc_dropout import mc_dropout_maps

        mc_maps, mc_active = mc_dropout_maps(
            segmenter.model,
            _tempered(segmenter, segmenter.logits),
            pixel_values,
            mc_samples,
            seed=seed,
        )
    results = []
    for index, (item, array) in enumerate(zip(batch, arrays, strict=True)):
        size = (int(array.shape[0]), int(array.shape[1]))
        result = result_from_logits(
            segmenter, logits[index], size, uncertainty, full_resolution, return_probabilities
        )
        for key, values in mc_maps.items():
            setattr(result, key, upsample_map(values[index], size).numpy())
            result.grid_maps[key] = values[index].numpy()
        result.mc_samples, result.mc_active = mc_samples, tuple(mc_active)
        result.source = _source_name(item)
        results.append(result)
    return results


def _label_dtype(num_labels: int) -> type[np.integer]:
    if num_labels <= 255:
        return np.uint8
    return np.uint16 if num_labels <= 65535 else np.int32


def result_from_logits(
    segmenter: Any,
    logits: torch.Tensor,
    size: tuple[int, int],
    uncertainty: bool = True,
    full_resolution: bool = False,
    return_probabilities: bool = False,
) -> SegmentationResult:
    """One image's `SegmentationResult` from its logits `(C, h, w)` and its `(height, width)`:
    the post-processing of `predict` (labels, uncertainty maps, top-k), reusable by backends."""
    chunks = upsampled_chunks(logits, size)
    exact = stream_stats(chunks, softmax=uncertainty and full_resolution)
    result = SegmentationResult(
        labels=exact.labels.numpy().astype(_label_dtype(segmenter.num_labels)),
        id2label=segmenter.id2label,
        model_name=segmenter.name,
        is_trained=segmenter.is_trained,
        image_size=size,
        uncertainty_resolution="full" if full_resolution else "logits",
    )
    probabilities = torch.softmax(logits.float(), dim=0)
    if return_probabilities:
        result.low_res_probabilities = probabilities.numpy()
    if not uncertainty:
        return result
    grid: PixelStats = stream_stats([logits])
    stats = exact if full_resolution else grid
    for key in ("confidence", "entropy", "margin"):
        setattr(result, key, upsample_map(getattr(stats, key)(), size).numpy())
        result.grid_maps[key] = getattr(grid, key)().numpy()
    top = probabilities.topk(min(TOPK_STORED, probabilities.shape[0]), dim=0)
    result.topk_probabilities = top.values.numpy()
    result.topk_indices = top.indices.to(torch.int16).numpy()
    return result
