"""What the figures of every domain share: the backend check, a matplotlib figure built
without pyplot, and writing either library's figure to a file."""

from __future__ import annotations

import os
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
