"""Find outputs of an executed notebook that would show up blank in an offline HTML page.

Two cases (the notebook contract in ARCHITECTURE.md: "Outputs must survive export"): a widget
view without an ``image/png`` or ``text/html`` fallback (the page has no kernel to draw the
widget), and an output whose every mimetype the HTML exporter drops (e.g. only the plotly
mimetype).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_FALLBACKS = ("image/png", "text/html")
_RICH_OUTPUTS = ("display_data", "execute_result")


@dataclass(frozen=True)
class OutputProblem:
    """An output at `cell_index` (executed notebook) that cannot be shown offline."""

    cell_index: int
    reason: str


def find_blank_outputs(
    nb: nbformat.NotebookNode, representable: Iterable[str]
) -> list[OutputProblem]:
    """Outputs of `nb` that a page without a kernel cannot show.

    `representable` is the exporter's mimetype priority list; widget views never count as
    representable because reports are executed without stored widget state.
    """
    shown = [mime for mime in representable if mime != WIDGET_VIEW]
    problems: list[OutputProblem] = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") not in _RICH_OUTPUTS:
                continue
            mimetypes = sorted(output.get("data", {}))
            if WIDGET_VIEW in mimetypes and not set(WIDGET_FALLBACKS) & set(mimetypes):
                reason = (
                    f"a widget output without an image/png or text/html fallback "
                    f"(has {', '.join(mimetypes)}): it would be blank in the report"
                )
                problems.append(OutputProblem(index, reason))
            elif not set(shown) & set(mimetypes):
                reason = f"an output with only {', '.join(mimetypes)} cannot be shown in HTML"
                problems.append(OutputProblem(index, reason))
    return problems
