"""The segmentation layer vocabulary: every layer an overlay, a figure or the viewer can draw.

One row per layer (:class:`Layer`): its name (the key in results and in the viewer's state), the
label a reader sees (with units), its kind, its colour map and value range, its units and
whether a high value flags a likely error. Overlays (`seg.overlay`), metric figures
(`seg.plots`), the viewer's renderer and the widget's JavaScript (sent as JSON by
:func:`vocabulary_json`) all read this table; none keeps its own copy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np

# colours of the key layers (errors, disagreement): one green for "right" everywhere
RIGHT = (0, 190, 60)  # a right pixel; a true positive of the selected class
WRONG = (230, 30, 30)  # a wrong pixel; a false positive of the selected class
MISSED = (30, 100, 255)  # a false negative of the selected class


@dataclass(frozen=True)
class Layer:
    """One drawable layer.

    Attributes:
        name: key in ``SegmentationResult`` and in the viewer's ``layer`` state.
        label: what a reader sees in menus, colour bars and titles, with units.
        kind: ``"classes"`` (class colours), ``"map"`` (a continuous map with a colour bar) or
            ``"key"`` (a few fixed colours explained by a key).
        colormap: matplotlib colour map of a map layer (``""`` otherwise).
        value_range: ``"unit"`` = 0…1, ``"log_classes"`` = 0…ln C, ``"observed"`` = 0…the
            largest value in the map (see :func:`value_range`); ``""`` for other kinds.
        units: ``"probability"``, ``"nats"`` … (``""`` for class and key layers).
        high_is_error: True when high values mark pixels that are likely wrong.
        bound: the largest value a map layer can take (None = ln C), what score histograms
            are binned over.
        monte_carlo: True for the Monte-Carlo-dropout maps (need ``mc_samples > 0``).
        note: one sentence for a colour bar or key.
    """

    name: str
    label: str
    kind: str
    colormap: str = ""
    value_range: str = ""
    units: str = ""
    high_is_error: bool = False
    bound: float | None = 1.0
    monte_carlo: bool = False
    note: str = ""


_CERTAIN = "high = the model is sure"
_UNSURE = "high = the model is unsure"
LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer("labels", "predicted classes", "classes"),
        Layer(
            "confidence", "confidence (top-1 probability)", "map", "viridis", "unit",
            "probability", note=_CERTAIN,
        ),
        Layer(
            "entropy", "single-pass entropy (nats)", "map", "magma", "log_classes", "nats",
            high_is_error=True, bound=None, note=f"{_UNSURE} (one forward pass)",
        ),
        Layer(
            "entropy_normalized", "single-pass entropy / ln C", "map", "magma", "unit",
            "fraction of ln C", high_is_error=True, note=_UNSURE,
        ),
        Layer(
            "margin", "margin (top-1 − top-2 probability)", "map", "viridis", "unit",
            "probability", note=f"{_CERTAIN}; low where two classes compete",
        ),
        Layer(
            "predictive_entropy", "MC predictive entropy (nats)", "map", "magma",
            "log_classes", "nats", high_is_error=True, bound=None, monte_carlo=True,
            note=f"{_UNSURE}; entropy of the mean over the dropout passes",
        ),
        Layer(
            "expected_entropy", "MC expected entropy (nats)", "map", "magma", "log_classes",
            "nats", high_is_error=True, bound=None, monte_carlo=True,
            note="mean entropy of the dropout passes: uncertainty in the data",
        ),
        Layer(
            "mutual_information", "MC mutual information (nats)", "map", "magma", "observed",
            "nats", high_is_error=True, bound=None, monte_carlo=True,
            note="predictive − expected entropy: how much the dropout passes disagree",
        ),
        Layer(
            "top_class_variance", "MC variance of the top class's probability", "map", "magma",
            "observed", "probability²", high_is_error=True, bound=0.25, monte_carlo=True,
            note="spread of the top class's probability over the dropout passes",
        ),
        Layer("ground_truth", "ground truth (annotation)", "classes"),
        Layer(
            "errors", "errors vs ground truth", "key", high_is_error=True,
            note="wrong pixels, in the predicted class's colour; select a class for its "
            "true positives, false positives and misses",
        ),
        Layer(
            "disagreement", "disagreement A vs B", "key", high_is_error=True,
            note="pixels where A and B predict different classes, in each panel's class colour",
        ),
    )
}
MAP_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.kind == "map")


def value_range(name: str, num_classes: int, values: np.ndarray | None = None) -> float:
    """Upper end of a map layer's colour scale (the lower end is 0): 1 for probabilities,
    ln C for entropies, the largest finite value of `values` for ``"observed"`` maps (1 when
    there is none)."""
    kind = LAYERS[name].value_range
    if kind == "unit":
        return 1.0
    if kind == "log_classes":
        return math.log(max(num_classes, 2))
    finite = values[np.isfinite(values)] if values is not None else np.empty(0)
    peak = float(finite.max()) if finite.size else 0.0
    return peak if peak > 0 else 1.0


@cache
def colormap_lut(name: str) -> np.ndarray:
    """``(256, 3)`` uint8 lookup table of a matplotlib colour map."""
    from matplotlib import colormaps

    return np.round(colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def colormap_stops(name: str, count: int = 9) -> list[tuple[float, str]]:
    """`count` evenly spaced ``(position 0…1, "rgb(r,g,b)")`` stops of map layer `name`'s
    colour map: the colour bars of plotly figures and of the HTML fallback."""
    lut = colormap_lut(LAYERS[name].colormap)
    return [
        (k / (count - 1), "rgb({},{},{})".format(*lut[k * 255 // (count - 1)]))
        for k in range(count)
    ]


def colorize(values: np.ndarray, name: str, upper: float) -> np.ndarray:
    """``(H, W, 3)`` uint8 colours of map layer `name` for ``(H, W)`` values in 0…`upper`."""
    scaled = np.clip(np.nan_to_num(values / (upper if upper > 0 else 1.0)), 0.0, 1.0)
    return colormap_lut(LAYERS[name].colormap)[np.round(scaled * 255).astype(np.int64)]


def vocabulary_json() -> dict:
    """The table, the key colours and each colour map's lookup table, for the widget's JS."""
    maps = {layer.colormap for layer in LAYERS.values() if layer.colormap}
    return {
        "layers": {name: asdict(layer) for name, layer in LAYERS.items()},
        "colors": {"right": list(RIGHT), "wrong": list(WRONG), "missed": list(MISSED)},
        "colormaps": {m: colormap_lut(m).reshape(-1).tolist() for m in sorted(maps)},
    }
