"""Display math (``$$ … $$`` in markdown cells) drawn as inline SVG, for pages read offline.

JupyterLab typesets TeX with MathJax, which an offline report cannot load (it would come from
a CDN). At export, each ``$$ … $$`` block becomes an ``<img>`` holding an SVG drawn by
matplotlib's mathtext (glyphs as paths: no font or network needed), with the TeX as its alt
text. Mathtext knows most of TeX's math; ``\\text{…}`` and ``\\operatorname{…}`` are read as
``\\mathrm{…}``. Inline ``$ … $`` math is left alone (a dollar sign is too often money).
"""

from __future__ import annotations

import base64
import html
import io
import re

import nbformat

__all__ = ["render_display_math"]

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_ROMAN = re.compile(r"\\(?:text|operatorname)\{")
FONT_SIZE = 15  # points, about the size of the report's body text


def _svg(tex: str) -> str:
    """`tex` (math, no dollars) as an SVG document; raises ValueError when mathtext cannot."""
    from matplotlib.figure import Figure

    mathtext = _ROMAN.sub(lambda _: "\\mathrm{", tex.strip())
    figure = Figure()
    figure.text(0, 0, f"${mathtext}$", fontsize=FONT_SIZE)
    out = io.BytesIO()
    figure.savefig(out, format="svg", bbox_inches="tight", pad_inches=0.02, transparent=True)
    return out.getvalue().decode()


def _image(tex: str) -> str:
    data = base64.b64encode(_svg(tex).encode()).decode()
    alt = html.escape(f"$${tex}$$", quote=True)
    return (
        f'<img class="segpile-math" alt="{alt}" src="data:image/svg+xml;base64,{data}" '
        'style="display:block;margin:0.6em auto">'
    )


def render_display_math(nb: nbformat.NotebookNode) -> list[str]:
    """Replace the display math of `nb`'s markdown cells by SVG images, in place.

    Returns the problems: one line per formula mathtext could not draw (left as TeX).
    """
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        try:
            return _image(match.group(1))
        except ValueError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            problems.append(f"display math not drawn ({first_line}): $${match.group(1)}$$")
            return match.group(0)

    for cell in nb.cells:
        if cell.cell_type == "markdown" and "$$" in cell.source:
            cell.source = _DISPLAY_MATH.sub(replace, cell.source)
    return problems
