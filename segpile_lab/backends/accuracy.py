"""How far each backend's output drifts from the fp32 reference (and from ground truth).

Every backend gets the same pixel values and the same post-processing as ``predict``: labels
are the argmax of the logits upsampled bilinearly to each image's size (seg's bounded-memory
upsampler); with bare pixel values (no images) labels stay on the logit grid. Logit metrics
(max/mean abs error, SQNR, confidence and entropy shifts) are computed on the logit grid.

Definitions (all pooled over every pixel of every image):

* pixel agreement = share of pixels whose label equals the reference's label;
* IoU_c(a, b) = |a=c ∧ b=c| / |a=c ∨ b=c|; mIoU = mean over classes with a non-empty union;
* ΔIoU_c = IoU_c(candidate, target) − IoU_c(reference, target), target = ground truth when
  given, else the reference's labels (then IoU_c(reference, target) = 1);
* SQNR = 10·log10(Σ ref² / Σ (cand − ref)²) dB (∞ when identical);
* confidence = max softmax probability; entropy in nats; shifts are candidate − reference means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from segpile_lab._progress import progress_bar
from segpile_lab.backends._runner import Runner
from segpile_lab.backends._source import model_source
from segpile_lab.backends.registry import REFERENCE, create_runner
from segpile_lab.errors import BackendError
from segpile_lab.provenance import Provenance

# columns of `AccuracyReport.frame` (Polars dtype names), present even when every backend failed
FRAME_COLUMNS = {
    "backend": "String",
    "status": "String",
    "error": "String",
    "precision": "String",
    "exact": "Boolean",
    "folded": "Boolean",
    "pixel_agreement": "Float64",
    "miou_vs_reference": "Float64",
    "max_abs_logit_error": "Float64",
    "mean_abs_logit_error": "Float64",
    "sqnr_db": "Float64",
    "confidence_shift": "Float64",
    "entropy_shift_nats": "Float64",
    "images": "Int64",
    "pixels": "Int64",
}


@dataclass
class AccuracyReport:
    """Result of `compare_accuracy`.

    Attributes:
        frame: one row per candidate (Polars); failed backends have status "error" and the reason.
        per_class: backend, class_id, class_name, iou (candidate vs target), delta_iou (Polars).
        disagreement: backend → one boolean `(H, W)` map per image (True where labels differ).
        labels: backend (and the reference) → one label map `(H, W)` per image.
        logits: backend (and the reference) → logits `(N, C, h, w)` float32.
        provenance: where the weights come from; `note` says "untrained demo weights: ranks
            backends only" for demo models, else "".
    """

    frame: Any
    per_class: Any
    reference: str
    disagreement: dict[str, list[np.ndarray]] = field(default_factory=dict)
    labels: dict[str, list[np.ndarray]] = field(default_factory=dict)
    logits: dict[str, torch.Tensor] = field(default_factory=dict)
    image_sizes: list[tuple[int, int]] | None = None
    provenance: Provenance = field(default_factory=Provenance)
    segmenter: Any = None

    @property
    def note(self) -> str:
        """The provenance note ("" for trained weights)."""
        return self.provenance.note

    def __repr__(self) -> str:
        """The reference, then one line per candidate: pixel agreement and SQNR, or its error."""
        images = "" if self.image_sizes is None else f" on {len(self.image_sizes)} images"
        lines = [f"AccuracyReport(reference {self.reference}{images}" + (
            f"; {self.note})" if self.note else ")")]  # fmt: skip
        for row in self.frame.iter_rows(named=True):
            if row["status"] == "ok":
                lines.append(f"  {row['backend']}: pixel agreement {row['pixel_agreement']:.4%}, "
                             f"SQNR {row['sqnr_db']:.1f} dB")  # fmt: skip
            else:
                lines.append(f"  {row['backend']}: error: {row['error']}")
        return "\n".join([*lines, "  .frame, .per_class: the tables"])

    def results(self, backend: str) -> list[Any]:
        """`SegmentationResult`s of `backend` (or the reference) for the viewer's compare mode.

        Built from the stored logits with seg's own post-processing, at each image's size;
        each is named ``"<model> · <backend>"`` so the viewer's panels say which is which.
        """
        from segpile_lab.seg.inference import result_from_logits

        if self.image_sizes is None or self.segmenter is None:
            raise ValueError("results() needs compare_accuracy(images=...) with a Segmenter")
        logits = self.logits[backend]
        results = [
            result_from_logits(self.segmenter, logits[index], size)
            for index, size in enumerate(self.image_sizes)
        ]
        for result in results:
            result.model_name = f"{self.segmenter.name} · {backend}"
        return results


def _iou(
    targets: list[np.ndarray], predictions: list[np.ndarray], num_classes: int
) -> tuple[np.ndarray, float]:
    """Per-class IoU `(C,)` (NaN where a class is in neither) and mIoU, pooled over images;
    computed by seg's `SegmentationMetrics` (255 in a target = ignore)."""
    from segpile_lab.seg.metrics import SegmentationMetrics

    metrics = SegmentationMetrics(num_classes)
    for target, predicted in zip(targets, predictions, strict=True):
        metrics.update(predicted, target)
    return metrics.iou(), metrics.summary()["miou"]


def sqnr_db(reference: torch.Tensor, candidate: torch.Tensor) -> float:
    """Signal-to-quantisation-noise ratio of `candidate` against `reference`, dB."""
    noise = (candidate.double() - reference.double()).pow(2).sum().item()
    signal = reference.double().pow(2).sum().item()
    if noise == 0:
        return math.inf
    return 10 * math.log10(signal / noise) if signal > 0 else -math.inf


def confidence_and_entropy(logits: torch.Tensor) -> tuple[float, float]:
    """Mean max-softmax probability and mean entropy (nats) over all pixels of `(N, C, h, w)`."""
    log_probs = torch.log_softmax(logits.double(), dim=1)
    probs = log_probs.exp()
    confidence = probs.amax(dim=1).mean().item()
    entropy = -(probs * log_probs).sum(dim=1).mean().item()
    return confidence, entropy


def _labels_at(
    segmenter: Any, logits: torch.Tensor, sizes: list[tuple[int, int]] | None
) -> list[np.ndarray]:
    """Label maps: `predict`'s post-processing at each image's size, else the logit grid."""
    if sizes is None:
        return [labels.numpy() for labels in logits.argmax(dim=1)]
    from segpile_lab.seg.inference import result_from_logits

    return [
        result_from_logits(segmenter, logits[index], size, uncertainty=False).labels
        for index, size in enumerate(sizes)
    ]


def _inputs(segmenter: Any, images: Any) -> tuple[torch.Tensor, list[tuple[int, int]] | None]:
    if isinstance(images, torch.Tensor):
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"pixel values must be (N, 3, S, S), got {tuple(images.shape)}")
        return images.float(), None
    from segpile_lab.seg.images import load_image

    if not hasattr(segmenter, "preprocess"):
        raise TypeError("images need a Segmenter (sl.load_segmenter); or pass pixel values")
    arrays = [np.asarray(load_image(image)) for image in images]
    return segmenter.preprocess(arrays), [(a.shape[0], a.shape[1]) for a in arrays]


def _annotations(
    annotations: Sequence[Any], sizes: list[tuple[int, int]] | None, segmenter: Any
) -> list[np.ndarray]:
    from segpile_lab.seg.dataset import LabelFormat, read_mask

    # mask files follow the checkpoint's convention (ADE20K's id + 1 unless it says otherwise)
    preprocessing = getattr(segmenter, "preprocessing", None)
    label_format: LabelFormat = (
        preprocessing.label_format if preprocessing is not None else "ade20k"
    )
    loaded = [
        np.asarray(a) if isinstance(a, np.ndarray) else read_mask(a, label_format)
        for a in annotations
    ]
    expected = sizes or []
    for index, (annotation, size) in enumerate(zip(loaded, expected, strict=False)):
        if annotation.shape != tuple(size):
            raise ValueError(
                f"annotation {index} is {annotation.shape[0]}×{annotation.shape[1]} "
                f"but its image is {size[0]}×{size[1]}"
            )
    return loaded


def compare_accuracy(
    segmenter: Any,
    reference: str | Runner = REFERENCE,
    candidates: Sequence[str | Runner] = ("torch-bf16", "ort-fp32", "ort-int8-static"),
    images: Any = None,
    annotations: Sequence[Any] | None = None,
    *,
    options: dict[str, Any] | None = None,
    backend_options: dict[str, dict[str, Any]] | None = None,
    batch_size: int = 4,
    progress: bool | None = None,
) -> AccuracyReport:
    """Run `reference` and every candidate on the same inputs and compare their outputs.

    Args:
        segmenter: a Segmenter (images are loaded and preprocessed by it) or a SegFormer model.
        reference: backend name (default the faithful eager fp32 path) or a ready `Runner`.
        candidates: backend names or `Runner`s. A backend that fails is recorded, not raised.
        images: images (paths, PIL, arrays) or pixel values `(N, 3, S, S)` float32.
        annotations: ground truth per image: `(H, W)` arrays (255 = ignore) or mask PNG paths
            in the checkpoint's convention (`Preprocessing.label_format`; ADE20K: id + 1).
        options / backend_options: passed to `create_runner` (for all / per backend name).
        batch_size: images per backend call.
    Returns:
        `AccuracyReport`; its `note` says "untrained demo weights: ranks backends only" for demo
        models (the numbers then compare backends, not segmentation quality).
    """
    import polars as pl

    if images is None:
        raise ValueError("compare_accuracy needs images (or pixel values)")
    source = model_source(segmenter)
    pixels, sizes = _inputs(segmenter, images)
    truth = _annotations(annotations, sizes, segmenter) if annotations is not None else None
    if truth is not None and len(truth) != len(pixels):
        raise ValueError(f"{len(truth)} annotations for {len(pixels)} images")

    def build(backend: str | Runner) -> Runner:
        if isinstance(backend, Runner):
            return backend
        merged = {**(options or {}), **(backend_options or {}).get(backend, {})}
        merged.setdefault("image_size", int(pixels.shape[-1]))
        return create_runner(segmenter, backend, **merged)

    def run(runner: Runner) -> torch.Tensor:
        return torch.cat(
            [runner(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)]
        )

    ref_runner = build(reference)
    ref_logits = run(ref_runner)
    ref_labels = _labels_at(segmenter, ref_logits, sizes)
    ref_conf, ref_entropy = confidence_and_entropy(ref_logits)
    n_classes = source.num_labels
    id2label = getattr(segmenter, "id2label", None) or {i: f"class {i}" for i in range(n_classes)}
    ref_truth_iou, ref_truth_miou = _iou(truth, ref_labels, n_classes) if truth else (None, None)
    report = AccuracyReport(
        frame=None,
        per_class=None,
        reference=ref_runner.name,
        image_sizes=sizes,
        provenance=source.provenance,
        segmenter=source.segmenter,
    )
    report.logits[ref_runner.name] = ref_logits
    report.labels[ref_runner.name] = ref_labels
    rows: list[dict[str, Any]] = []
    class_rows: list[dict[str, Any]] = []
    for candidate in progress_bar(candidates, progress=progress, desc="accuracy", unit="backend"):
        name = candidate.name if isinstance(candidate, Runner) else candidate
        try:
            runner = build(candidate)
            logits = run(runner)
        except BackendError as exc:
            rows.append({"backend": name, "status": "error", "error": str(exc)})
            continue
        labels = _labels_at(segmenter, logits, sizes)
        report.logits[name], report.labels[name] = logits, labels
        report.disagreement[name] = [a != b for a, b in zip(labels, ref_labels, strict=True)]
        agree = sum(int((~d).sum()) for d in report.disagreement[name])
        total = sum(d.size for d in report.disagreement[name])
        iou_vs_ref, miou_vs_ref = _iou(ref_labels, labels, n_classes)
        error = (logits - ref_logits).abs()
        conf, entropy = confidence_and_entropy(logits)
        row = {
            "backend": name,
            "status": "ok",
            "error": "",
            "precision": runner.precision,
            "exact": runner.exact,
            "folded": runner.folded,
            "pixel_agreement": agree / total,
            "miou_vs_reference": miou_vs_ref,
            "max_abs_logit_error": error.max().item(),
            "mean_abs_logit_error": error.mean().item(),
            "sqnr_db": sqnr_db(ref_logits, logits),
            "confidence_shift": conf - ref_conf,
            "entropy_shift_nats": entropy - ref_entropy,
            "images": len(pixels),
            "pixels": total,
        }
        if truth is not None:
            iou, row["miou_vs_ground_truth"] = _iou(truth, labels, n_classes)
            delta = iou - ref_truth_iou
            row["reference_miou_vs_ground_truth"] = ref_truth_miou
        else:
            iou, delta = iou_vs_ref, iou_vs_ref - 1.0
        rows.append(row)
        class_rows.extend(
            {
                "backend": name,
                "class_id": c,
                "class_name": id2label.get(c, f"class {c}"),
                "iou": float(iou[c]),
                "delta_iou": float(delta[c]),
            }
            for c in range(n_classes)
            if not math.isnan(delta[c])
        )
    frame = pl.DataFrame(rows, infer_schema_length=None)
    report.frame = frame.with_columns(
        pl.lit(None, dtype=getattr(pl, dtype)).alias(name)
        for name, dtype in FRAME_COLUMNS.items()
        if name not in frame.columns
    )
    report.per_class = pl.DataFrame(
        class_rows,
        schema={
            "backend": pl.String,
            "class_id": pl.Int64,
            "class_name": pl.String,
            "iou": pl.Float64,
            "delta_iou": pl.Float64,
        },
    )
    return report
