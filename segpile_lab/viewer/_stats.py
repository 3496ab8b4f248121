"""Per-class and per-threshold numbers the viewer shows, computed at full resolution in numpy.

Label maps are ``(H, W)`` integer class ids; ground truth uses `ignore_index` for unlabelled
pixels, which every statistic below leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

IGNORE_INDEX = 255
# CIE94 colour difference (ΔE*94, graphic arts) under which two legend swatches read as one
# colour. The official ADE20K palette (CSAIL semseg = mmseg; Hugging Face's demos) gives road
# and skyscraper the same grey and steps many saturated hues by 10 RGB levels (box 0,255,20 vs
# bottle 0,255,10: ΔE94 0.2; swivel chair 10,0,255 vs sconce 0,41,255: 3.9); wall 120,120,120
# vs road 140,140,140 (7.8) stays apart. The legend names the look-alikes instead of changing
# the palette that every other tool draws.
LOOK_ALIKE_DELTA_E = 5.0
LEGEND_ROWS = 12  # rows of a static legend (the largest classes); look-alikes are sought there


@dataclass(frozen=True)
class ThresholdStats:
    """What abstaining below a confidence threshold keeps.

    Attributes:
        threshold: pixels with confidence below it are abstained on.
        coverage: fraction of all pixels kept (0..1).
        kept_accuracy: pixel accuracy on kept pixels with a ground-truth label, None without
            ground truth or when no labelled pixel is kept.
    """

    threshold: float
    coverage: float
    kept_accuracy: float | None


def threshold_stats(
    confidence: np.ndarray,
    threshold: float,
    labels: np.ndarray | None = None,
    ground_truth: np.ndarray | None = None,
    *,
    ignore_index: int = IGNORE_INDEX,
) -> ThresholdStats:
    """Coverage (and accuracy on kept labelled pixels) when abstaining below `threshold`."""
    kept = confidence >= threshold
    coverage = float(kept.mean()) if kept.size else 0.0
    accuracy = None
    if ground_truth is not None and labels is not None:
        scored = kept & (ground_truth != ignore_index)
        if scored.any():
            accuracy = float((labels[scored] == ground_truth[scored]).mean())
    return ThresholdStats(float(threshold), coverage, accuracy)


def disagreement(labels_a: np.ndarray, labels_b: np.ndarray) -> tuple[np.ndarray, float]:
    """Where two label maps of the same shape differ: ``(mask (H, W) bool, fraction 0..1)``."""
    if labels_a.shape != labels_b.shape:
        raise ValueError(f"label maps differ in shape: {labels_a.shape} vs {labels_b.shape}")
    mask = labels_a != labels_b
    return mask, float(mask.mean()) if mask.size else 0.0


def confusion_matrix(
    labels: np.ndarray,
    ground_truth: np.ndarray,
    num_classes: int,
    *,
    ignore_index: int = IGNORE_INDEX,
) -> np.ndarray:
    """``(num_classes, num_classes)`` int64 counts, rows = truth, columns = prediction."""
    valid = ground_truth != ignore_index
    truth = ground_truth[valid].astype(np.int64)
    pred = labels[valid].astype(np.int64)
    counts = np.bincount(truth * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def cielab(rgb: np.ndarray) -> np.ndarray:
    """`(N, 3)` sRGB colours (0..255) as CIELAB `(N, 3)` (D65 white; L* 0..100)."""
    c = np.asarray(rgb, dtype=np.float64).reshape(-1, 3) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1
    )


def delta_e94(lab: np.ndarray) -> np.ndarray:
    """`(N, N)` CIE94 differences (graphic-arts weights) between the CIELAB colours `lab`
    `(N, 3)`; each pair's smaller value of the two directions, so the matrix is symmetric."""
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    d_l = lab[:, None, 0] - lab[None, :, 0]
    d_c = chroma[:, None] - chroma[None, :]
    d_ab2 = (lab[:, None, 1] - lab[None, :, 1]) ** 2 + (lab[:, None, 2] - lab[None, :, 2]) ** 2
    d_h2 = np.maximum(d_ab2 - d_c**2, 0.0)
    reference = chroma[:, None]  # the first colour's chroma weights the pair
    d = np.sqrt(d_l**2 + (d_c / (1 + 0.045 * reference)) ** 2 + d_h2 / (1 + 0.015 * reference) ** 2)
    return np.minimum(d, d.T)


def mark_look_alikes(rows: list[dict]) -> list[dict]:
    """Add ``look_alike`` to each legend row: among the first `LEGEND_ROWS` rows (the largest
    classes, which a reader compares), the names of the others whose colour is within
    `LOOK_ALIKE_DELTA_E` of its own, in row order; empty for the rest. (Against every row,
    the official palette pairs nearly every class of a busy picture with a tiny one.)"""
    top = rows[:LEGEND_ROWS]
    close = delta_e94(cielab(np.array([r["color"] for r in top]).reshape(-1, 3)))
    for i, row in enumerate(rows):
        near = close[i] < LOOK_ALIKE_DELTA_E if i < len(top) else np.zeros(len(top), bool)
        row["look_alike"] = [top[j]["name"] for j in np.flatnonzero(near) if j != i]
    return rows


def class_table(
    labels: np.ndarray,
    confidence: np.ndarray,
    names: list[str],
    palette: np.ndarray,
    ground_truth: np.ndarray | None = None,
    *,
    ignore_index: int = IGNORE_INDEX,
) -> list[dict]:
    """One JSON-able row per class that is predicted (or present in the truth), sorted by share.

    Row keys: ``id``, ``name``, ``color`` (``[r, g, b]``), ``pixels``, ``share`` (0..1 of all
    pixels), ``mean_confidence`` (None when not predicted), ``look_alike`` (`mark_look_alikes`)
    and, with ground truth, ``iou`` (None when the class is in neither map's labelled pixels).
    """
    num_classes = len(names)
    flat = labels.reshape(-1).astype(np.int64)
    pixels = np.bincount(flat, minlength=num_classes)
    conf_sum = np.bincount(
        flat, weights=confidence.reshape(-1).astype(np.float64), minlength=num_classes
    )
    present = pixels > 0
    iou = None
    if ground_truth is not None:
        cm = confusion_matrix(labels, ground_truth, num_classes, ignore_index=ignore_index)
        inter = np.diag(cm).astype(np.float64)
        union = cm.sum(0) + cm.sum(1) - inter
        iou = np.divide(inter, union, out=np.full(num_classes, np.nan), where=union > 0)
        present |= cm.sum(1) > 0
    total = max(int(flat.size), 1)
    rows: list[dict[str, Any]] = []
    for cid in np.flatnonzero(present):
        n = int(pixels[cid])
        row = {
            "id": int(cid),
            "name": names[cid],
            "color": [int(c) for c in palette[cid]],
            "pixels": n,
            "share": n / total,
            "mean_confidence": float(conf_sum[cid] / n) if n else None,
        }
        if iou is not None:
            row["iou"] = None if np.isnan(iou[cid]) else float(iou[cid])
        rows.append(row)
    rows.sort(key=lambda r: (-r["pixels"], r["id"]))
    return mark_look_alikes(rows)


def truth_table(
    ground_truth: np.ndarray, names: list[str], palette: np.ndarray, *, ignore_index: int
) -> list[dict]:
    """The ground-truth layer's legend: one row per annotated class, largest first, with keys
    ``id``, ``name``, ``color``, ``pixels``, ``share`` (of the labelled pixels, 0..1) and
    ``look_alike`` (`mark_look_alikes`)."""
    labelled = ground_truth[ground_truth != ignore_index].astype(np.int64)
    pixels = np.bincount(labelled, minlength=len(names))
    total = max(int(labelled.size), 1)
    rows: list[dict[str, Any]] = [
        {
            "id": int(cid),
            "name": names[cid],
            "color": [int(c) for c in palette[cid]],
            "pixels": int(pixels[cid]),
            "share": int(pixels[cid]) / total,
        }
        for cid in np.flatnonzero(pixels)
    ]
    rows.sort(key=lambda r: (-r["pixels"], r["id"]))
    return mark_look_alikes(rows)
