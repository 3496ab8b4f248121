"""What the figures of every domain share: the backend check, a matplotlib figure built
without pyplot, and writing either library's figures to files.

The convention: a public figure function is named ``plot_<what>``, takes its result first and
``backend="plotly" | "matplotlib"`` (keyword), and reads ``is_trained`` / ``synthetic`` from the
result's `provenance` (titles through `segpile_lab.provenance.title`); each domain has one
function returning all its figures by file stem, which `save_figures` writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    import matplotlib.figure
    import plotly.graph_objects as go

Backend = Literal["plotly", "matplotlib"]
#: What a figure function returns: a plotly figure, or a matplotlib one for ``"matplotlib"``.
AnyFigure: TypeAlias = "go.Figure | matplotlib.figure.Figure"


def check_backend(backend: str) -> None:
    """Raise ValueError unless `backend` is ``"plotly"`` or ``"matplotlib"``."""
    if backend not in ("plotly", "matplotlib"):
        raise ValueError(f"backend must be 'plotly' or 'matplotlib', got {backend!r}")


def literal(text: str) -> str:
    """`text` as matplotlib draws it literally: each ``$`` escaped, so a subset, class or
    scorer name never goes through math-text parsing (which fails on an odd ``$``)."""
    return str(text).replace("$", r"\$")


def matplotlib_figure(
    width: float,
    height: float,
    *,
    ncols: int = 1,
    fixed_margins: bool = False,
    **subplots: Any,
) -> tuple[Any, Any]:
    """A `matplotlib.figure.Figure` of `width` × `height` inches and its axes (one row of
    `ncols`, sharing y when several; `subplots` go to `Figure.subplots`, e.g. ``nrows=2``).

    Made without pyplot, so no global figure stays open and a notebook shows it once.
    Constrained layout by default; `fixed_margins` sets margins in inches instead (room for
    subset names on the left), for figures with hundreds of artists, where constrained
    layout is slow (not benchmarked).
    """
    from matplotlib.figure import Figure

    if not fixed_margins:
        fig = Figure(figsize=(width, height), layout="constrained")
    else:
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(left=1.7 / width, right=1 - 0.2 / width, bottom=0.6 / height,
                            top=1 - 0.55 / height, wspace=0.08)  # fmt: skip
    options = {"sharey": True} if ncols > 1 else {}
    axes = fig.subplots(ncols=ncols, **(options | subplots))
    return fig, axes


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write a plotly figure as HTML (plotly.js written once beside it, works offline) or a
    matplotlib figure as PNG; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(fig, "write_html"):
        fig.write_html(path, include_plotlyjs="directory", full_html=True)
    else:
        fig.savefig(path, dpi=110)
    return path


def save_figures(
    figures: Callable[[Backend], Mapping[str, Any]], out_dir: str | os.PathLike[str]
) -> list[Path]:
    """Write ``figures("plotly")`` as ``<stem>.html`` and ``figures("matplotlib")`` as
    ``<stem>.png`` into `out_dir` (plotly.js once in the folder); returns the paths written."""
    out = Path(out_dir)
    written = []
    kinds: tuple[tuple[Backend, str], ...] = (("plotly", ".html"), ("matplotlib", ".png"))
    for backend, suffix in kinds:
        for stem, figure in figures(backend).items():
            written.append(save_figure(figure, out / f"{stem}{suffix}"))
    return written
