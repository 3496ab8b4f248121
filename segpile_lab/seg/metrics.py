"""Streaming segmentation metrics: IoU family, calibration and how well uncertainty flags errors.

`SegmentationMetrics.update` folds one image at a time into fixed-size state, so a whole
validation set never sits in memory:

* a `(C, C)` confusion matrix (rows = ground truth, columns = prediction; pixels whose target
  is `ignore_index` or ≥ C are skipped) → per-class IoU, mIoU (mean over classes that occur in
  the target or the prediction, as mmsegmentation and torchmetrics do), pixel accuracy, mean
  class accuracy, frequency-weighted IoU;
* equal-width confidence bins (count, Σ confidence, Σ correct) → expected calibration error
  ECE = Σ_b (n_b / n) · |acc_b − conf_b| and the reliability-diagram table;
* for every uncertainty score, a histogram of its values on correct and on wrong pixels
  (4096 bins over the score's range) → AUROC of the score at flagging errors (ties within a
  bin count one half, so the AUROC is exact when values fall in distinct bins), the
  risk–coverage curve (keep the most certain pixels first) and its area AURC;
* one small row of scalars per image (`per_image()`: accuracy, mIoU over the classes present,
  mean confidence/entropy, ECE, AURC, top confusions, …), computed from the same per-image
  counts before they are added to the totals, so memory grows by one row per image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segpile_lab.errors import DataError
from segpile_lab.provenance import Provenance
from segpile_lab.seg.ade20k import IGNORE_INDEX
from segpile_lab.seg.layers import LAYERS

SCORE_BINS = 4096
# reader-facing names of `SegmentationMetrics.per_image` columns (figures, gallery titles)
PER_IMAGE_LABELS = {
    "pixel_accuracy": "pixel accuracy",
    "error_rate": "error rate",
    "miou": "mIoU",
    "ece": "ECE",
    "top_confusions": "most confused (truth→predicted share)",
    "mean_confidence": "mean confidence",
    "mean_entropy": "mean entropy (nats)",
    "mean_margin": "mean margin",
    "mean_mutual_information": "mean mutual information (nats)",
}
TOP_CONFUSIONS = 3  # confused (truth, prediction) pairs named per image
# score name -> (True if a high value means "probably wrong", upper end of its range or None =
# ln C), from the layer vocabulary
SCORES: dict[str, tuple[bool, float | None]] = {
    name: (spec.high_is_error, spec.bound) for name, spec in LAYERS.items() if spec.kind == "map"
}


@dataclass
class _ScoreHistogram:
    errors_when_high: bool
    upper: float
    wrong: np.ndarray
    right: np.ndarray

    def add(self, values: np.ndarray, correct: np.ndarray) -> None:
        index = np.clip((values / self.upper * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)
        self.wrong += np.bincount(index[~correct], minlength=SCORE_BINS)
        self.right += np.bincount(index[correct], minlength=SCORE_BINS)

    def merge(self, other: _ScoreHistogram) -> None:
        self.wrong += other.wrong
        self.right += other.right

    def _by_risk(self) -> tuple[np.ndarray, np.ndarray]:
        """Bin counts ordered from the most suspicious bin to the least."""
        if self.errors_when_high:
            return self.wrong[::-1], self.right[::-1]
        return self.wrong, self.right

    def auroc(self) -> float:
        wrong, right = self._by_risk()
        if wrong.sum() == 0 or right.sum() == 0:
            return float("nan")
        # P(score of a wrong pixel ranks more suspicious than a right one) + ½ P(same bin)
        right_after = np.cumsum(right[::-1])[::-1] - right  # right pixels in less suspicious bins
        pairs = (wrong * right_after).sum() + 0.5 * (wrong * right).sum()
        return float(pairs / (wrong.sum() * right.sum()))

    def risk_coverage(self) -> tuple[np.ndarray, np.ndarray]:
        """Coverage and risk (error rate of the kept pixels), keeping the most certain first."""
        wrong, right = self._by_risk()
        wrong, right = wrong[::-1], right[::-1]  # most certain first
        kept = np.cumsum(wrong + right)
        nonempty = (wrong + right) > 0
        total = kept[-1] if kept.size else 0
        coverage = kept[nonempty] / max(total, 1)
        risk = np.cumsum(wrong)[nonempty] / kept[nonempty]
        return coverage, risk


class SegmentationMetrics:
    """Streaming metrics over many images.

    Args:
        num_classes: C; id2label: names for the per-class table (default "class i").
        ignore_index: target value that is skipped (ADE20K: 255).
        calibration_bins: equal-width confidence bins of the ECE.
        provenance: of the predictions; `update` with a `SegmentationResult` as `scores` adds
            the result's (so metrics of untrained demo weights say so in every figure).
    Example:
        >>> metrics = SegmentationMetrics(150)
        >>> metrics.update(result.labels, target, scores=result)  # doctest: +SKIP
        >>> metrics.summary()["miou"]  # doctest: +SKIP
    """

    def __init__(
        self,
        num_classes: int,
        *,
        ignore_index: int = IGNORE_INDEX,
        id2label: Mapping[int, str] | None = None,
        calibration_bins: int = 15,
        provenance: Provenance | None = None,
    ):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.id2label = dict(id2label or {i: f"class {i}" for i in range(num_classes)})
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.calibration_bins = calibration_bins
        self._bin_count = np.zeros(calibration_bins, dtype=np.int64)
        self._bin_confidence = np.zeros(calibration_bins)
        self._bin_correct = np.zeros(calibration_bins)
        self._scores: dict[str, _ScoreHistogram] = {}
        self._rows: list[dict[str, Any]] = []
        self.images = 0
        self.provenance = provenance or Provenance()

    def update(
        self,
        prediction: np.ndarray,
        target: np.ndarray,
        *,
        scores: Any = None,
        source: str = "",
        index: int | None = None,
    ) -> None:
        """Add one image: `prediction` and `target` `(H, W)` class ids; `scores` a mapping or a
        `SegmentationResult` whose uncertainty maps `(H, W)` (confidence, entropy, …) are used;
        `source` and `index` (default: the count so far) name its row in `per_image()`."""
        prediction, target = np.asarray(prediction), np.asarray(target)
        if prediction.shape != target.shape:
            raise DataError(
                f"{source or 'image'}: prediction {prediction.shape} and ground truth "
                f"{target.shape} differ in size"
            )
        valid = (target != self.ignore_index) & (target < self.num_classes)
        truth = target[valid].astype(np.int64)
        predicted = prediction[valid].astype(np.int64)
        if predicted.size and int(predicted.max()) >= self.num_classes:
            raise DataError(f"{source or 'image'}: predicted class ≥ {self.num_classes}")
        flat = truth * self.num_classes + predicted
        confusion = np.bincount(flat, minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes
        )
        self.confusion += confusion
        correct = truth == predicted
        row = self._image_row(source, prediction.shape, confusion)
        row["index"] = self.images if index is None else index
        maps = _score_maps(scores)
        if isinstance(getattr(scores, "provenance", None), Provenance):
            self.provenance = self.provenance.merge(scores.provenance)
        if "confidence" in maps:
            bins = calibration_bins(maps["confidence"][valid], correct, self.calibration_bins)
            self._bin_count += bins[0]
            self._bin_confidence += bins[1]
            self._bin_correct += bins[2]
            row["ece"] = expected_calibration_error(*bins)
        for name, values in maps.items():
            kept = values[valid].astype(np.float64)
            image_histogram = self._new_histogram(name)
            image_histogram.add(kept, correct)
            self._histogram(name).merge(image_histogram)
            row[f"mean_{name}"] = float(kept.mean()) if kept.size else float("nan")
            row[f"aurc_{name}"] = _aurc(image_histogram)
        self._rows.append(row)
        self.images += 1

    def _image_row(
        self, source: str, shape: tuple[int, ...], confusion: np.ndarray
    ) -> dict[str, Any]:
        """The per-image scalars that come from its confusion matrix."""
        pixels = int(confusion.sum())
        accuracy = float(np.trace(confusion) / pixels) if pixels else float("nan")
        errors = confusion.copy()
        np.fill_diagonal(errors, 0)
        order = np.argsort(errors, axis=None, kind="stable")[::-1][:TOP_CONFUSIONS]
        pairs = [divmod(int(i), self.num_classes) for i in order if errors.flat[i] > 0]
        return {
            "path": source,
            "height": int(shape[0]),
            "width": int(shape[1]),
            "pixels": pixels,
            "pixel_accuracy": accuracy,
            "error_rate": 1.0 - accuracy,
            "miou": _nanmean(_iou(confusion)),
            "classes": [self._name(int(i)) for i in np.flatnonzero(confusion.sum(1))],
            "top_confusions": "; ".join(
                f"{self._name(t)}→{self._name(p)} {errors[t, p] / pixels:.1%}" for t, p in pairs
            ),
        }

    def _name(self, class_id: int) -> str:
        return self.id2label.get(int(class_id), f"class {int(class_id)}")

    def _new_histogram(self, name: str) -> _ScoreHistogram:
        high_is_error, upper = SCORES[name]
        return _ScoreHistogram(
            high_is_error,
            upper if upper is not None else math.log(self.num_classes),
            np.zeros(SCORE_BINS, dtype=np.int64),
            np.zeros(SCORE_BINS, dtype=np.int64),
        )

    def _histogram(self, name: str) -> _ScoreHistogram:
        if name not in self._scores:
            self._scores[name] = self._new_histogram(name)
        return self._scores[name]

    def per_image(self) -> Any:
        """Polars frame, one row per `update` in order: ``index``, ``path``, ``height``,
        ``width``, ``pixels`` (labelled), ``pixel_accuracy``, ``error_rate``, ``miou`` (over the
        classes in this image's target or prediction), ``classes`` (ground-truth names present),
        ``top_confusions`` (``"truth→predicted share"``, most pixels first), and with scores
        ``ece``, ``mean_<score>`` and ``aurc_<score>`` (null where an image lacks the score)."""
        import polars as pl

        if not self._rows:
            return pl.DataFrame(schema={"index": pl.Int64, "path": pl.String})
        # "classes" is a list of names even when no image has a labelled pixel (else list[null])
        frame = pl.DataFrame(
            self._rows, schema_overrides={"classes": pl.List(pl.String)}, infer_schema_length=None
        )
        floats = [c for c, t in frame.schema.items() if t == pl.Float64]
        return frame.select("index", pl.exclude("index")).with_columns(
            pl.col(floats).fill_nan(None)
        )

    @staticmethod
    def column_label(column: str) -> str:
        """How a reader sees a `per_image` column: ``"error_rate"`` → ``"error rate"``,
        ``"mean_entropy"`` → ``"mean entropy (nats)"``; others with spaces for underscores."""
        return PER_IMAGE_LABELS.get(column, column.replace("_", " "))

    # -- IoU family -------------------------------------------------------------------------
    def iou(self) -> np.ndarray:
        """Per-class IoU `(C,)`; NaN for classes in neither the target nor the prediction."""
        return _iou(self.confusion)

    def class_accuracy(self) -> np.ndarray:
        """Per-class recall `(C,)`; NaN for classes absent from the target."""
        support = self.confusion.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(support > 0, np.diag(self.confusion) / support, np.nan)

    def summary(self) -> dict[str, Any]:
        """Scalar metrics: miou, pixel_accuracy, mean_accuracy, fwiou, ece, auroc_<score>,
        aurc_<score>, pixels, images."""
        total = self.confusion.sum()
        iou = self.iou()
        frequency = self.confusion.sum(1) / max(total, 1)
        present = ~np.isnan(iou)
        out: dict[str, Any] = {
            "images": self.images,
            "pixels": int(total),
            "miou": _nanmean(iou),
            "pixel_accuracy": float(np.trace(self.confusion) / total) if total else float("nan"),
            "mean_accuracy": _nanmean(self.class_accuracy()),
            "fwiou": float((frequency[present] * iou[present]).sum()) if total else float("nan"),
        }
        if self._bin_count.sum():
            out["ece"] = self.ece()
        for name, histogram in self._scores.items():
            out[f"auroc_{name}"] = histogram.auroc()
            out[f"aurc_{name}"] = self.aurc(name)
        return out

    def per_class(self) -> Any:
        """Polars frame: class_id, name, iou, accuracy, target_pixels, predicted_pixels."""
        import polars as pl

        return pl.DataFrame(
            {
                "class_id": np.arange(self.num_classes),
                "name": [self.id2label.get(i, f"class {i}") for i in range(self.num_classes)],
                "iou": self.iou(),
                "accuracy": self.class_accuracy(),
                "target_pixels": self.confusion.sum(1),
                "predicted_pixels": self.confusion.sum(0),
            }
        ).with_columns(pl.col("iou", "accuracy").fill_nan(None))

    # -- calibration -------------------------------------------------------------------------
    def ece(self) -> float:
        """Expected calibration error of the max-softmax confidence (0 … 1)."""
        return expected_calibration_error(self._bin_count, self._bin_confidence, self._bin_correct)

    def reliability(self) -> Any:
        """Polars frame per confidence bin: lower, upper, pixels, mean_confidence, accuracy."""
        import polars as pl

        edges = np.linspace(0.0, 1.0, self.calibration_bins + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = self._bin_confidence / self._bin_count
            accuracy = self._bin_correct / self._bin_count
        return pl.DataFrame(
            {
                "lower": edges[:-1],
                "upper": edges[1:],
                "pixels": self._bin_count,
                "mean_confidence": confidence,
                "accuracy": accuracy,
            }
        ).with_columns(pl.col("mean_confidence", "accuracy").fill_nan(None))

    # -- uncertainty as an error detector ---------------------------------------------------
    def auroc(self) -> dict[str, float]:
        """AUROC of each score at telling wrong pixels from right ones (0.5 = chance)."""
        return {name: histogram.auroc() for name, histogram in self._scores.items()}

    def risk_coverage(self, score: str = "confidence") -> Any:
        """Polars frame coverage, risk: error rate when keeping the `coverage` most certain
        pixels by `score` (coverage rising to 1)."""
        import polars as pl

        coverage, risk = self._scores[score].risk_coverage()
        return pl.DataFrame({"coverage": coverage, "risk": risk})

    def aurc(self, score: str = "confidence") -> float:
        """Area under the risk–coverage curve (lower is better; step integral over coverage)."""
        return _aurc(self._scores[score])


def _iou(confusion: np.ndarray) -> np.ndarray:
    tp = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def calibration_bins(
    confidence: np.ndarray, correct: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width confidence bin: pixel count, Σ confidence, Σ correct."""
    index = np.clip((confidence * bins).astype(np.int64), 0, bins - 1)
    return (
        np.bincount(index, minlength=bins),
        np.bincount(index, weights=confidence, minlength=bins),
        np.bincount(index, weights=correct, minlength=bins),
    )


def expected_calibration_error(
    count: np.ndarray, confidence: np.ndarray, correct: np.ndarray
) -> float:
    """ECE = Σ_b (n_b / n) · |acc_b − conf_b| from `calibration_bins`' arrays (NaN if empty)."""
    used = count > 0
    if not used.any():
        return float("nan")
    gap = np.abs(correct[used] - confidence[used]) / count[used]
    return float((count[used] / count.sum() * gap).sum())


def _aurc(histogram: _ScoreHistogram) -> float:
    coverage, risk = histogram.risk_coverage()
    if coverage.size == 0:
        return float("nan")
    steps = np.diff(np.concatenate([[0.0], coverage]))
    return float((steps * risk).sum())


def _nanmean(values: np.ndarray) -> float:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def _score_maps(scores: Any) -> dict[str, np.ndarray]:
    if scores is None:
        return {}
    if isinstance(scores, Mapping):
        return {k: np.asarray(v) for k, v in scores.items() if v is not None and k in SCORES}
    return {name: scores.layer(name) for name in scores.available_layers() if name in SCORES}


def evaluate(
    segmenter: Any,
    images: Any,
    annotations: Any = None,
    *,
    batch_size: int = 8,
    mc_samples: int = 0,
    full_resolution: bool = False,
    backend: str | None = "auto",
    progress: bool | None = None,
) -> SegmentationMetrics:
    """Segment `images` and score them against `annotations`; stops at the first bad item.

    Args:
        images: paths / PIL images / arrays, an ADE20K root (annotations None) or an image
            folder (annotations = its mask folder; see `segpile_lab.seg.dataset`).
        annotations: ADE20K-style annotation PNG paths (0 = ignore, k = class k − 1) or
            `(H, W)` arrays of 0-based class ids with 255 = ignore, in the same order.
    Returns:
        the filled `SegmentationMetrics` (`.summary()`, `.per_class()`, `.per_image()`, …).
        `segpile_lab.seg.evaluate_dataset.evaluate_dataset` also keeps thumbnails and skips
        unreadable items instead of stopping.
    """
    from segpile_lab.seg.evaluate_dataset import evaluate_dataset

    return evaluate_dataset(
        segmenter,
        images,
        annotations,
        batch_size=batch_size,
        mc_samples=mc_samples,
        full_resolution=full_resolution,
        backend=backend,
        thumbnail_size=0,
        on_error="raise",
        progress=progress,
    ).metrics
