"""`evaluate_dataset`: segment a whole dataset, stream the metrics, keep one row per image.

Images are read, segmented and scored `batch_size` at a time, so memory holds one batch of
images and maps, the fixed-size metric state and, per image, one row of scalars and (with
`thumbnail_size` > 0) one JPEG thumbnail of ~5–10 KB. The result, a `DatasetEvaluation`,
holds what error analysis needs: the totals (`metrics`), the per-image Polars frame
(`per_image`, see `SegmentationMetrics.per_image`), the thumbnails for the gallery and the
dataset itself, so any image can be reopened in `SegmentationViewer`.

Bad items follow the package policy: an image or mask that cannot be read, or whose sizes
differ, is skipped with one `SegpileWarning` for the run and listed in `skipped`
(path, reason); nothing is dropped silently, and ``on_error="raise"`` stops at the first one.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from segpile_lab._progress import progress_bar
from segpile_lab.errors import DataError, SegpileWarning
from segpile_lab.provenance import UNTRAINED, Provenance
from segpile_lab.seg.dataset import LabelFormat, SegmentationDataset, as_dataset
from segpile_lab.seg.metrics import SegmentationMetrics

THUMBNAIL_ALPHA = 0.55  # weight of the class colour over the photo in a thumbnail


@dataclass
class DatasetEvaluation:
    """What `evaluate_dataset` returns.

    Attributes:
        metrics: the filled `SegmentationMetrics` (totals, reliability, risk–coverage).
        dataset: the evaluated `SegmentationDataset` (to reopen an image by its ``index``).
        thumbnails: ``index`` → JPEG bytes (prediction overlay | errors in red), when kept.
        skipped: ``(source, reason)`` of items that could not be evaluated.
        model_name, is_trained: provenance of the predictions.
    """

    metrics: SegmentationMetrics
    dataset: SegmentationDataset
    model_name: str
    is_trained: bool
    thumbnails: dict[int, bytes] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def provenance(self) -> Provenance:
        """Untrained for demo weights, synthetic for a generated dataset."""
        return Provenance(is_trained=self.is_trained, synthetic=self.dataset.synthetic)

    @property
    def per_image(self) -> Any:
        """The per-image Polars frame (`SegmentationMetrics.per_image`); ``index`` is the
        position in `dataset`."""
        return self.metrics.per_image()

    def summary(self) -> dict[str, Any]:
        """The metrics' summary plus ``model``, ``is_trained``, ``skipped`` and ``synthetic``."""
        return {
            **self.metrics.summary(),
            "model": self.model_name,
            "is_trained": self.is_trained,
            "synthetic": self.dataset.synthetic,
            "skipped": len(self.skipped),
        }

    def __repr__(self) -> str:
        trained = f", {UNTRAINED}" if not self.is_trained else ""
        return (
            f"DatasetEvaluation({self.metrics.images} images of {self.dataset.name!r}, "
            f"model={self.model_name!r}{trained}, {len(self.skipped)} skipped)"
        )


def evaluate_dataset(
    segmenter: Any,
    data: Any,
    annotations: Any = None,
    *,
    batch_size: int = 8,
    mc_samples: int = 0,
    full_resolution: bool = False,
    backend: str | None = "auto",
    thumbnail_size: int = 160,
    on_error: Literal["skip", "raise"] = "skip",
    label_format: LabelFormat | None = None,
    progress: bool | None = None,
) -> DatasetEvaluation:
    """Segment every item of `data` and score it against its ground truth.

    Args:
        data: a `SegmentationDataset`, an ADE20K root or image folder (then `annotations` is
            the mask folder; see `segpile_lab.seg.dataset` for the pairing rule), or a
            sequence of images with `annotations` a sequence of masks. Mask files other than
            an ADE20K root's are read as `label_format` says, by default as the checkpoint's
            preprocessor config says, as transformers' processor does (``reduce_labels``:
            0 = ignore, k = class k − 1, ``"ade20k"``; else the id, 255 = ignore, ``"index"``).
            A `SegmentationDataset` keeps its own format.
        mc_samples: T > 0 adds Monte-Carlo-dropout maps, so the frame gets
            ``mean_mutual_information`` and ``aurc_mutual_information``.
        backend: passed to `predict` (``"auto"`` = the fastest exact path).
        thumbnail_size: longest side of each thumbnail half in pixels; 0 keeps none.
        on_error: ``"skip"`` (default) lists unreadable items in `skipped` and warns once;
            ``"raise"`` raises the first one's error.
    """
    dataset = as_dataset(
        data, annotations, label_format=label_format or segmenter.preprocessing.label_format
    )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if dataset.id2label is not None and dict(dataset.id2label) != dict(segmenter.id2label):
        warnings.warn(
            f"{dataset.name} labels {len(dataset.id2label)} classes of its own, not the model's "
            f"{segmenter.num_labels}; ids are compared as they are (fine-tune first: sl.finetune)",
            SegpileWarning,
            stacklevel=2,
        )
    metrics = SegmentationMetrics(segmenter.num_labels, id2label=segmenter.id2label)
    evaluation = DatasetEvaluation(metrics, dataset, segmenter.name, segmenter.is_trained)
    total = len(dataset)
    with progress_bar(total=total, progress=progress, desc="evaluating", unit="image") as bar:
        for start in range(0, total, batch_size):
            batch = _read_batch(dataset, range(start, min(start + batch_size, total)), on_error)
            evaluation.skipped.extend(batch.skipped)
            if batch.images:
                results = segmenter.predict(
                    batch.images,
                    batch_size=batch_size,
                    mc_samples=mc_samples,
                    full_resolution=full_resolution,
                    backend=backend,
                    progress=False,
                )
                for index, image, target, result in zip(
                    batch.indices, batch.images, batch.targets, results, strict=True
                ):
                    metrics.update(
                        result.labels,
                        target,
                        scores=result,
                        source=dataset.source(index),
                        index=index,
                    )
                    if thumbnail_size:
                        evaluation.thumbnails[index] = thumbnail(
                            image, result.labels, target, segmenter.palette, thumbnail_size
                        )
            bar.update(min(batch_size, total - start))
    if evaluation.skipped:
        names = ", ".join(f"{s} ({r})" for s, r in evaluation.skipped[:3])
        warnings.warn(
            f"{len(evaluation.skipped)} of {total} items skipped: {names}"
            + (" …" if len(evaluation.skipped) > 3 else "")
            + "; see .skipped",
            SegpileWarning,
            stacklevel=2,
        )
    return evaluation


@dataclass
class _Batch:
    indices: list[int] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _read_batch(dataset: SegmentationDataset, indices: range, on_error: str) -> _Batch:
    batch = _Batch()
    for index in indices:
        try:
            image, target = dataset[index]
        except DataError as exc:
            if on_error == "raise":
                raise
            batch.skipped.append((dataset.source(index), str(exc)))
            continue
        batch.indices.append(index)
        batch.images.append(image)
        batch.targets.append(target)
    return batch


def thumbnail(
    image: np.ndarray,
    labels: np.ndarray,
    target: np.ndarray,
    palette: np.ndarray,
    size: int,
) -> bytes:
    """JPEG of two panels side by side, each with longest side `size`: the prediction's class
    colours over the photo, and the photo in grey with wrong pixels red (ignored ones dimmed).

    Class ids are sampled nearest (never blended), the photo with Pillow's area filter.
    """
    from PIL import Image

    height, width = labels.shape
    scale = size / max(height, width)
    small = (max(1, round(width * scale)), max(1, round(height * scale)))
    photo = np.asarray(Image.fromarray(image).resize(small, Image.Resampling.BOX), np.float32)
    rows = np.minimum((np.arange(small[1]) + 0.5) / scale, height - 1).astype(np.intp)
    cols = np.minimum((np.arange(small[0]) + 0.5) / scale, width - 1).astype(np.intp)
    predicted = labels[np.ix_(rows, cols)].astype(np.intp)
    truth = target[np.ix_(rows, cols)].astype(np.intp)
    colours = palette[np.minimum(predicted, len(palette) - 1)].astype(np.float32)
    left = (1 - THUMBNAIL_ALPHA) * photo + THUMBNAIL_ALPHA * colours
    grey = photo.mean(axis=2, keepdims=True).repeat(3, axis=2)
    ignored = (truth >= len(palette))[..., None]
    wrong = ((truth != predicted) & (truth < len(palette)))[..., None]
    right = np.where(ignored, grey * 0.35, grey * 0.8)
    right = np.where(wrong, np.array([230.0, 30.0, 30.0]), right)
    gap = np.full((small[1], 2, 3), 255.0)
    panel = np.concatenate([left, gap, right], axis=1).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(panel).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
