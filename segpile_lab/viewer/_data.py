"""Everything a view of one image needs, on the transport grid: :class:`ViewerData`.

Built once from an image, one or two segmentation results (the SegmentationResult contract of
ARCHITECTURE.md) and optional ground truth; the widget packs it into buffers, the static
renderer and the plotly figure draw from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segpile_lab.errors import DataError
from segpile_lab.provenance import UNTRAINED
from segpile_lab.seg.layers import value_range
from segpile_lab.seg.palette import palette_for
from segpile_lab.viewer._names import class_names
from segpile_lab.viewer._payload import (
    as_numpy,
    as_rgb,
    downsample_nearest,
    resize_image,
    result_topk,
    transport_factor,
)
from segpile_lab.viewer._stats import IGNORE_INDEX, class_table, disagreement, truth_table

DEFAULT_MAX_PIXELS = 640 * 640
UNTRAINED_BANNER = f"{UNTRAINED}: the classes shown are random, not a real segmentation"
# map layers the viewer offers (the rest of seg.layers' maps stay in figures)
VIEW_MAPS = (
    "confidence",
    "entropy",
    "margin",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
)
# logit-grid maps the read-out quotes beside the top-k of the same cell
CELL_MAPS = ("entropy", "predictive_entropy", "expected_entropy", "mutual_information")


@dataclass
class Panel:
    """One result on the transport grid, plus the read-out's numbers on the logit grid.

    Attributes:
        title: shown above the panel; is_trained: False for demo weights; mc_samples: the
            Monte-Carlo passes behind the MC maps (0 = none).
        labels: ``(h, w)`` class ids; maps: name -> ``(h, w)`` float32, the layers of
            `VIEW_MAPS` the result holds; scales: name -> the upper end of each map's colours.
        cell_ids / cell_probs: ``(3, lh, lw)`` top-3 classes and probabilities per logit cell;
            cell_maps: name -> ``(lh, lw)`` float32 maps of `CELL_MAPS` on the same cells
            (``result.grid_maps``). The read-out's class, confidence (= top-1 probability),
            margin, top-3 and entropies all come from one cell.
        classes: the legend rows (see `_stats.class_table`), computed at full resolution.
        full_labels / full_confidence: the full-resolution ``(H, W)`` maps (references).
    """

    title: str
    is_trained: bool
    mc_samples: int
    labels: np.ndarray
    maps: dict[str, np.ndarray]
    scales: dict[str, float]
    cell_ids: np.ndarray
    cell_probs: np.ndarray
    cell_maps: dict[str, np.ndarray]
    classes: list[dict]
    full_labels: np.ndarray
    full_confidence: np.ndarray


@dataclass
class ViewerData:
    """An image with one or two panels and optional ground truth, on one transport grid."""

    image: np.ndarray  # (h, w, 3) uint8
    panels: list[Panel]
    ground_truth: np.ndarray | None  # (h, w), IGNORE_INDEX where unlabelled
    full_ground_truth: np.ndarray | None
    truth_classes: list[dict] | None  # the ground-truth layer's legend (`_stats.truth_table`)
    factor: int
    original_size: tuple[int, int]  # (H, W)
    names: list[str]
    palette: np.ndarray  # (C, 3) uint8
    ignore_index: int = IGNORE_INDEX

    @property
    def is_trained(self) -> bool:
        return all(p.is_trained for p in self.panels)

    @property
    def layers(self) -> list[str]:
        """Layers this data can show, in menu order."""
        out = ["labels"] + [m for m in VIEW_MAPS if all(m in p.maps for p in self.panels)]
        if self.ground_truth is not None:
            out += ["ground_truth", "errors"]
        if len(self.panels) == 2:
            out.append("disagreement")
        return out

    def disagreement_rate(self) -> float | None:
        """Fraction of full-resolution pixels where the two panels' classes differ."""
        if len(self.panels) != 2:
            return None
        return disagreement(self.panels[0].full_labels, self.panels[1].full_labels)[1]


def load_ground_truth(ground_truth: Any) -> np.ndarray:
    """``(H, W)`` int64 truth from an array, a tensor, a result (its labels) or an ADE20K
    annotation PNG path (read with ``sl.load_ade20k_annotation``: 0 -> ignore, k -> k-1)."""
    if isinstance(ground_truth, str | Path):
        from segpile_lab.seg.ade20k import load_ade20k_annotation

        return as_numpy(load_ade20k_annotation(ground_truth)).astype(np.int64)
    if hasattr(ground_truth, "labels"):
        ground_truth = ground_truth.labels
    arr = as_numpy(ground_truth)
    if arr.ndim != 2:
        raise DataError(f"ground truth must be an (H, W) class-id map, got shape {arr.shape}")
    return arr.astype(np.int64)


def result_title(result: Any, fallback: str) -> str:
    return str(getattr(result, "model_name", None) or fallback)


def cell_numbers(result: Any) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(ids, probs, maps)`` of the logit grid: the top-3 ``(3, lh, lw)`` and the
    `CELL_MAPS` that ``result.grid_maps`` holds on the same ``(lh, lw)`` cells."""
    ids, probs = result_topk(result)
    grid = getattr(result, "grid_maps", None) or {}
    maps = {
        name: as_numpy(grid[name]).astype(np.float32)
        for name in CELL_MAPS
        if name in grid and tuple(np.shape(grid[name])) == probs.shape[1:]
    }
    return ids, probs, maps


def build_panel(
    result: Any,
    title: str,
    factor: int,
    names: list[str],
    palette: np.ndarray,
    ground_truth: np.ndarray | None,
    ignore_index: int,
) -> Panel:
    missing = [n for n in ("confidence", "entropy", "margin") if getattr(result, n, None) is None]
    if missing:
        raise DataError(
            f"{title}: the viewer needs the uncertainty maps ({', '.join(missing)} "
            "missing); call predict(..., uncertainty=True)"
        )
    full_labels = as_numpy(result.labels).astype(np.int64)
    full_conf = as_numpy(result.confidence).astype(np.float32)
    maps: dict[str, np.ndarray] = {}
    scales: dict[str, float] = {}
    for name in VIEW_MAPS:
        value = getattr(result, name, None)
        if value is None:
            continue
        grid = downsample_nearest(as_numpy(value).astype(np.float32), factor)
        maps[name] = grid
        scales[name] = value_range(name, len(names), grid)
    ids, probs, cell_maps = cell_numbers(result)
    return Panel(
        title=title,
        is_trained=bool(result.is_trained),
        mc_samples=int(getattr(result, "mc_samples", 0) or 0),
        labels=downsample_nearest(full_labels, factor),
        maps=maps,
        scales=scales,
        cell_ids=ids,
        cell_probs=probs,
        cell_maps=cell_maps,
        classes=class_table(
            full_labels, full_conf, names, palette, ground_truth, ignore_index=ignore_index
        ),
        full_labels=full_labels,
        full_confidence=full_conf,
    )


def build_viewer_data(
    image: Any,
    result: Any,
    *,
    ground_truth: Any = None,
    compare: Any = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    ignore_index: int = IGNORE_INDEX,
) -> ViewerData:
    """Check shapes, pick the transport factor and build both panels."""
    rgb = as_rgb(image)
    labels_shape = tuple(as_numpy(result.labels).shape)
    if rgb.shape[:2] != labels_shape:
        raise DataError(
            f"the image is {rgb.shape[1]}x{rgb.shape[0]} pixels but the result's "
            f"labels are {labels_shape[1]}x{labels_shape[0]}"
        )
    height, width = labels_shape
    id2label = dict(getattr(result, "id2label", {}) or {})
    num_classes = max(len(id2label), int(as_numpy(result.labels).max(initial=0)) + 1)
    names = class_names(id2label, num_classes)
    palette = palette_for(id2label if len(id2label) == num_classes else num_classes)
    truth = None if ground_truth is None else load_ground_truth(ground_truth)
    if truth is not None and truth.shape != labels_shape:
        raise DataError(
            f"ground truth is {truth.shape[1]}x{truth.shape[0]} but the result is {width}x{height}"
        )
    if truth is not None:
        outside = (truth != ignore_index) & ((truth < 0) | (truth >= num_classes))
        if outside.any():
            raise DataError(
                f"ground truth holds class ids {np.unique(truth[outside])[:5].tolist()} outside "
                f"0..{num_classes - 1} that are not the ignore index {ignore_index} (for an "
                "ADE20K annotation PNG pass its path: 0 = other is mapped to ignore, k to k-1)"
            )
    factor = transport_factor(height, width, max_pixels)
    results = [result] if compare is None else [result, compare]
    titles = [result_title(r, f"model {'AB'[i]}") for i, r in enumerate(results)]
    if len(titles) == 2 and titles[0] == titles[1]:
        titles = [f"{titles[0]} (A)", f"{titles[1]} (B)"]
    for other in results[1:]:
        if tuple(as_numpy(other.labels).shape) != labels_shape:
            raise DataError(
                "compare needs a result of the same image size: "
                f"{as_numpy(other.labels).shape} vs {labels_shape}"
            )
    panels = [
        build_panel(r, t, factor, names, palette, truth, ignore_index)
        for r, t in zip(results, titles, strict=True)
    ]
    grid_h, grid_w = panels[0].labels.shape
    return ViewerData(
        image=resize_image(rgb, grid_h, grid_w),
        panels=panels,
        ground_truth=None if truth is None else downsample_nearest(truth, factor),
        full_ground_truth=truth,
        truth_classes=None
        if truth is None
        else truth_table(truth, names, palette, ignore_index=ignore_index),
        factor=factor,
        original_size=(height, width),
        names=names,
        palette=palette,
        ignore_index=ignore_index,
    )
