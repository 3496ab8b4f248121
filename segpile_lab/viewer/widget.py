"""`SegmentationViewer`: explore a segmentation in the browser, with a static fallback for reports.

Python sends the data once (photo, label maps, uncertainty maps, the read-out's logit-grid
numbers, ground truth, class tables, the layer vocabulary of `seg.layers`); ``viewer.js``
(beside this file) does all drawing, hover read-outs, legend clicks and threshold statistics in
the browser, so moving the mouse never waits for the kernel. The interactive state (layer,
opacity, outline, threshold, selected class) lives in synced traits:
``viewer.set_state({"layer": "entropy"})`` from the kernel updates the page, and a change made
in the page is visible in the kernel.

Saved notebooks: the output keeps only a ``text/html`` fallback (a JPEG of the view, at most
960 px wide, plus legends: 140 KB for the 512×600 demo photo in ``benchmarks/results/
viewer.json``); the widget's data (bounded by ``max_pixels`` cells: 3.4 MB for that photo, 2
bytes per cell more for each MC layer) is stored in a notebook only when JupyterLab's "Save
widget state automatically" setting is on (off by default).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets

from segpile_lab.provenance import UNTRAINED, WARNING_COLOR
from segpile_lab.seg.layers import vocabulary_json
from segpile_lab.viewer._data import (
    DEFAULT_MAX_PIXELS,
    UNTRAINED_BANNER,
    ViewerData,
    build_viewer_data,
)
from segpile_lab.viewer._payload import Packer, ids_dtype, quantize
from segpile_lab.viewer._render import (
    DISAGREE_DIM,
    OUTSIDE_SELECTION_DIM,
    ViewState,
    legend_html,
    render_jpeg,
    render_png,
)
from segpile_lab.viewer._stats import ThresholdStats, threshold_stats

if TYPE_CHECKING:
    import plotly.graph_objects as go

STATE_TRAITS = ("layer", "opacity", "outline", "threshold", "selected_class")
_HERE = Path(__file__).resolve().parent


def pack_arrays(data: ViewerData) -> tuple[bytes, dict[str, dict]]:
    """One buffer holding every array the browser needs, and its offset table.

    Names: ``ground_truth`` and, per panel ``i``, ``p{i}.labels``, ``p{i}.<map>`` (uint16 with
    its ``scale``) on the transport grid, and on the logit grid ``p{i}.cell_ids`` and
    ``p{i}.cell_probs`` (``(3, lh, lw)``, float32 probabilities) and ``p{i}.cell.<map>``
    (``(lh, lw)`` float32).
    """
    packer = Packer()
    id_type = ids_dtype(len(data.names), data.ignore_index)
    if data.ground_truth is not None:
        packer.add("ground_truth", data.ground_truth.astype(id_type))
    for i, panel in enumerate(data.panels):
        packer.add(f"p{i}.labels", panel.labels.astype(id_type))
        for name, grid in panel.maps.items():
            packer.add(f"p{i}.{name}", quantize(grid, panel.scales[name]), scale=panel.scales[name])
        packer.add(f"p{i}.cell_ids", panel.cell_ids.astype(id_type))
        packer.add(f"p{i}.cell_probs", panel.cell_probs.astype(np.float32))
        for name, grid in panel.cell_maps.items():
            packer.add(f"p{i}.cell.{name}", grid.astype(np.float32))
    return packer.tobytes(), packer.layout


class SegmentationViewer(anywidget.AnyWidget):
    """Interactive overlay of a segmentation result on its image.

    Args:
        image: the segmented photo, ``(H, W, 3)`` uint8 array or PIL image.
        result: a SegmentationResult of that image (``labels (H, W)`` etc.).
        ground_truth: ``(H, W)`` class ids with 255 = unlabelled, an ADE20K annotation path, or
            another result whose labels act as the reference; adds the ground-truth, errors
            layers, IoU in the legend and accuracy above the threshold.
        compare: a second result of the same image, shown side by side with synced hover and a
            disagreement layer.
        title: shown above the view.
        max_pixels: most cells sent to the browser; larger images are sampled by an integer
            factor (shown in the view), nearest for class ids and maps so values stay exact.

    Example:
        >>> viewer = sl.SegmentationViewer(image, segmenter.predict([image])[0])
        >>> viewer.set_state({"layer": "entropy", "threshold": 0.5})
    """

    _esm = _HERE / "viewer.js"
    _css = _HERE / "viewer.css"

    image = traitlets.Bytes(b"").tag(sync=True)
    arrays = traitlets.Bytes(b"").tag(sync=True)
    array_layout = traitlets.Dict().tag(sync=True)
    meta = traitlets.Dict().tag(sync=True)
    panels: traitlets.List[Any] = traitlets.List().tag(sync=True)

    layer = traitlets.Unicode("labels").tag(sync=True)
    opacity = traitlets.Float(0.6).tag(sync=True)
    outline = traitlets.Bool(False).tag(sync=True)
    threshold = traitlets.Float(0.0).tag(sync=True)
    selected_class = traitlets.Int(-1).tag(sync=True)

    def __init__(
        self,
        image: Any,
        result: Any,
        *,
        ground_truth: Any = None,
        compare: Any = None,
        title: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        **state: Any,
    ) -> None:
        data = build_viewer_data(
            image, result, ground_truth=ground_truth, compare=compare, max_pixels=max_pixels
        )
        self._data = data
        self._inputs = (image, result, ground_truth, compare)
        self.title = title
        arrays, layout = pack_arrays(data)
        grid_h, grid_w = data.image.shape[:2]
        self.threshold_stats: list[ThresholdStats] = []
        self.selection: dict | None = None
        super().__init__(
            image=data.image.tobytes(),
            arrays=arrays,
            array_layout=layout,
            meta={
                "title": title or "",
                "width": grid_w,
                "height": grid_h,
                "original_width": data.original_size[1],
                "original_height": data.original_size[0],
                "factor": data.factor,
                "names": data.names,
                "palette": data.palette.tolist(),
                "vocabulary": vocabulary_json(),
                "dims": {"disagree": DISAGREE_DIM, "outside_selection": OUTSIDE_SELECTION_DIM},
                "layers": data.layers,
                "ignore_index": data.ignore_index,
                "has_ground_truth": data.ground_truth is not None,
                "truth_classes": data.truth_classes,
                "is_trained": data.is_trained,
                "banner": "" if data.is_trained else UNTRAINED_BANNER,
                "untrained_note": UNTRAINED,
                "warning_color": WARNING_COLOR,
                "disagreement": data.disagreement_rate(),
            },
            panels=[
                {
                    "title": p.title,
                    "is_trained": p.is_trained,
                    "mc_samples": p.mc_samples,
                    "classes": p.classes,
                }
                for p in data.panels
            ],
            **state,
        )
        self._update_threshold_stats()
        self._update_selection()

    # --- validation: the front end and the kernel go through the same checks ----------------
    @traitlets.validate("layer")
    def _check_layer(self, proposal: dict) -> str:
        layers = self.meta.get("layers") or self._data.layers
        if proposal["value"] not in layers:
            raise traitlets.TraitError(f"layer must be one of {layers}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("opacity", "threshold")
    def _check_fraction(self, proposal: dict) -> float:
        return float(min(1.0, max(0.0, proposal["value"])))

    @traitlets.validate("selected_class")
    def _check_class(self, proposal: dict) -> int:
        value = int(proposal["value"])
        if value != -1 and not 0 <= value < len(self._data.names):
            raise traitlets.TraitError(
                f"selected_class must be -1 (none) or a class id below {len(self._data.names)}"
            )
        return value

    # --- observers: kernel-side numbers at full resolution ------------------------------------
    @traitlets.observe("threshold")
    def _on_threshold(self, change: dict) -> None:
        self._update_threshold_stats()

    @traitlets.observe("selected_class")
    def _on_selected_class(self, change: dict) -> None:
        self._update_selection()

    def _update_threshold_stats(self) -> None:
        truth = self._data.full_ground_truth
        self.threshold_stats = [
            threshold_stats(
                p.full_confidence,
                self.threshold,
                p.full_labels,
                truth,
                ignore_index=self._data.ignore_index,
            )
            for p in self._data.panels
        ]

    def _update_selection(self) -> None:
        rows = [r for r in self._data.panels[0].classes if r["id"] == self.selected_class]
        self.selection = rows[0] if rows else None

    # --- state, representations -----------------------------------------------------------------
    @property
    def view_state(self) -> ViewState:
        """The current interactive state (what the browser shows)."""
        return ViewState(**{name: getattr(self, name) for name in STATE_TRAITS})

    def ui_state(self) -> dict[str, Any]:
        """The interactive state as a dict that ``set_state`` (or the constructor) accepts."""
        return {name: getattr(self, name) for name in STATE_TRAITS}

    def render(self) -> np.ndarray:
        """``(h, w, 3)`` uint8 picture of the first panel in the current state (numpy)."""
        from segpile_lab.viewer._render import render_panel

        return render_panel(self._data, 0, self.view_state)

    def to_png(self) -> bytes:
        """PNG of the current state: the panels, title, colour bar or key of the layer and the
        untrained banner when relevant."""
        return render_png(self._data, self.view_state, self.title)

    def to_plotly(self, **kwargs: Any) -> go.Figure:
        """The report-mode plotly variant of this view (see :func:`segmentation_figure`)."""
        from segpile_lab.viewer.figure import segmentation_figure

        image, result, ground_truth, compare = self._inputs
        return segmentation_figure(
            image, result, ground_truth=ground_truth, compare=compare, title=self.title, **kwargs
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict]:
        """The widget view plus one offline fallback, ``text/html`` (JPEG of the view, legend,
        colour bar): what exported reports show. One picture, not a PNG beside an HTML copy of
        it, keeps a saved notebook small (see the module docstring)."""
        data, metadata = super()._repr_mimebundle_(**kwargs) or ({}, {})
        jpeg = render_jpeg(self._data, self.view_state, self.title)
        data["text/html"] = legend_html(self._data, jpeg, self.view_state, self.title)
        return data, metadata

    def __repr__(self) -> str:
        h, w = self._data.original_size
        titles = " vs ".join(p.title for p in self._data.panels)
        demo = f", {UNTRAINED}" if not self._data.is_trained else ""
        return (
            f"SegmentationViewer({titles}, {w}x{h}, factor={self._data.factor}, "
            f"layer={self.layer!r}{demo})"
        )
