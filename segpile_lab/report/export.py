"""Export an executed notebook to one self-contained HTML page that works offline.

nbconvert's `lab` page loads require.js, MathJax, mermaid and the widget renderer from CDNs,
and plotly's notebook renderer adds a MathJax CDN script to every figure. Our template
(`templates/segpile_report`) drops the page-level loaders, `_strip_remote_scripts` drops the
per-figure ones, and the page is then checked: it must load nothing from the network, and a
page with plotly figures must carry plotly.js inline (once: repeated copies are removed).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from segpile_lab.report.display_math import render_display_math

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "segpile_report"

_PLOTLY_JS = re.compile(r"plotly\.js v\d")
_PLOTLY_DIV = 'class="plotly-graph-div"'
_REMOTE_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
_REMOTE_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
    r"((?:https?:)?//[^\"' >]+)",
    re.IGNORECASE,
)


def html_exporter() -> HTMLExporter:  # nbconvert is imported lazily: it is slow to import
    """The HTML exporter with our offline template; images in markdown are embedded and
    outputs carry no ``Out[n]:`` prompt (a reader sees results, not execution counters)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        embed_images=True,
        exclude_output_prompt=True,
    )


def representable_mimetypes() -> list[str]:
    """The mimetypes our exporter can put on a page, most preferred first."""
    return list(html_exporter().config.NbConvertBase.display_data_priority)


def drop_repeated_plotly_js(nb: nbformat.NotebookNode) -> int:
    """Remove outputs that only re-inline plotly.js after its first copy; returns how many."""
    seen = False
    dropped = 0
    for cell in nb.cells:
        kept = []
        for output in cell.get("outputs", []):
            html = _joined(output.get("data", {}).get("text/html", ""))
            carries_plotly_js = bool(_PLOTLY_JS.search(html))
            if carries_plotly_js and seen and _PLOTLY_DIV not in html:
                dropped += 1
                continue
            seen = seen or carries_plotly_js
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
    return dropped


def export_html(nb: nbformat.NotebookNode, dest: Path, *, source_dir: Path) -> list[str]:
    """Write `nb` as an offline HTML page to `dest`; returns the problems found (empty: fine).

    Display math is drawn as inline SVG (`render_display_math`). Problems are formulas that
    could not be drawn, nbconvert's "not able to be represented" warnings, plotly figures
    without plotly.js in the page and resources that would be fetched from the network.
    `source_dir` is where relative image links in markdown cells are resolved.
    """
    drop_repeated_plotly_js(nb)
    problems = render_display_math(nb)
    resources = {"metadata": {"name": dest.stem, "path": str(source_dir)}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    problems += [
        f"nbconvert: {w.message}" for w in caught if "not able to be represented" in str(w.message)
    ]
    body = _REMOTE_SCRIPT.sub("", body)
    if _PLOTLY_DIV in body and not _PLOTLY_JS.search(body):
        problems.append(
            "plotly figures without plotly.js in the page (was PLOTLY_RENDERER changed "
            "from 'notebook' inside the notebook?)"
        )
    remote = sorted({m.group(1) for m in _REMOTE_RESOURCE.finditer(body)})
    if remote:
        problems.append(f"the page loads from the network: {', '.join(remote[:5])}")
    dest.write_text(body, encoding="utf-8")
    return problems


def _joined(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)
