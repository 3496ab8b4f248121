"""HTML building blocks for notebook pages: readable tables and styled notes.

`show_table` renders a Polars frame as one self-contained HTML table: human column names (with
units), rounded numbers, text that wraps instead of being cut, and every row (or the first `top`
rows, with the rest one click away in a ``<details>``); `show_facts` shows key results as a
two-column table. `show_note` is a styled call-out, which
report mode also uses for Python warnings (`segpile_lab.report.kernel`). Both work the same in
JupyterLab and in the exported report (no JavaScript, no external CSS).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

Format = str | Callable[[Any], str]
"""A column format: a `str.format` pattern (``"{:.1%}"``; missing values show "—") or a
function value → text (it also gets missing values, as None, to say why they are missing)."""

MISSING = "—"

_CSS = """<style>
div.sl-table { margin: .3rem 0 1rem; font: 13px/1.4 system-ui, sans-serif; max-width: 100%;
  overflow-x: auto; }
div.sl-table table { border-collapse: collapse; table-layout: auto !important; width: auto;
  margin: 0 !important; }
div.sl-table th, div.sl-table td { padding: .25rem .45rem !important; border: none !important;
  border-bottom: 1px solid #e2e2e2 !important; text-align: left !important;
  vertical-align: top !important; white-space: normal !important;
  overflow-wrap: break-word; max-width: 24rem !important; }
div.sl-table th { font-weight: 600; background: #f4f5f7; vertical-align: bottom !important;
  min-width: 3.5rem; }
div.sl-table td.text { min-width: 5rem; }
div.sl-table th.num { text-align: right !important; }
div.sl-table td.num { text-align: right !important; white-space: nowrap !important;
  font-variant-numeric: tabular-nums; }
div.sl-table tbody tr:nth-child(odd) { background: #fafafa; }
div.sl-table caption { caption-side: top; text-align: left; color: #444; padding: 0 0 .3rem; }
div.sl-table details > summary { cursor: pointer; color: #1a5fb4; margin: .3rem 0; }
div.sl-note { margin: .4rem 0 .8rem; padding: .45rem .7rem; border-left: 4px solid #1a5fb4;
  background: #eef4fc; font: 14px/1.45 system-ui, sans-serif; max-width: 60rem; }
div.sl-note.warning { border-color: #c77700; background: #fff6e0; }
div.sl-note b.sl-note-title { margin-right: .4rem; }
</style>"""


@dataclass(frozen=True)
class HTMLBlock:
    """Ready HTML for a notebook output; `text` is the plain-text fallback."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def format_value(value: Any, fmt: Format | None = None) -> str:
    """One cell as text: `fmt` when given (see `Format`), else integers with thousands
    separators, floats to 3 significant digits (thousands separators from 1,000), booleans as
    yes/no, lists joined by commas; None and NaN as "—"."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if callable(fmt):
        return fmt(None if missing else value)
    if missing:
        return MISSING
    if fmt is not None:
        return fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def show_table(
    frame: pl.DataFrame,
    columns: Mapping[str, str | tuple[str, Format | None]] | None = None,
    *,
    top: int | None = None,
    caption: str | None = None,
) -> HTMLBlock:
    """A readable HTML table of `frame`.

    Args:
        frame: the data; only the columns named in `columns` are shown (all when None).
        columns: column → header (``"bytes": "size (bytes)"``) or (header, format)
            (``"byte_share": ("share of bytes", "{:.2%}")``); headers wrap, cells wrap.
        top: show the first `top` rows; the others follow in a collapsed ``<details>``
            ("show all N rows"). None: every row.
        caption: a line above the table.

    Returns:
        An `HTMLBlock` (the notebook shows its HTML); ``data-rows`` on the wrapper holds the
        number of data rows, shown or collapsed.
    """
    spec: dict[str, tuple[str, Format | None]] = {}
    for name, value in (columns or {c: c for c in frame.columns}).items():
        if name not in frame.columns:
            raise KeyError(f"show_table: no column {name!r} (columns: {frame.columns})")
        spec[name] = (value, None) if isinstance(value, str) else (value[0], value[1])
    numeric = {name for name in spec if frame.schema[name].is_numeric()}
    head = "".join(
        f'<th class="{"num" if name in numeric else "text"}">{html.escape(label)}</th>'
        for name, (label, _) in spec.items()
    )
    rows = [
        "<tr>"
        + "".join(
            f'<td class="{"num" if name in numeric else "text"}">'
            f"{html.escape(format_value(row[name], fmt))}</td>"
            for name, (_, fmt) in spec.items()
        )
        + "</tr>"
        for row in frame.select(list(spec)).iter_rows(named=True)
    ]
    shown = rows if top is None else rows[:top]
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(shown)}</tbody></table>"
    if len(rows) > len(shown):
        rest = "".join(rows[len(shown) :])
        body += (
            f"<details><summary>show all {len(rows)} rows ({len(rows) - len(shown)} more)"
            f"</summary><table><thead><tr>{head}</tr></thead><tbody>{rest}</tbody></table>"
            "</details>"
        )
    text = f"table: {frame.height} rows × {len(spec)} columns ({', '.join(spec)})"
    return HTMLBlock(f'{_CSS}<div class="sl-table" data-rows="{len(rows)}">{body}</div>', text)


def show_facts(facts: Mapping[str, Any], *, caption: str | None = None) -> HTMLBlock:
    """Key results as a two-column table: what (with its unit) and the value (formatted as in
    `format_value`; pass text to format it yourself)."""
    frame = pl.DataFrame(
        {"what": list(facts), "value": [format_value(v) for v in facts.values()]},
        schema={"what": pl.String, "value": pl.String},
    )
    return show_table(frame, {"what": "result", "value": "value"}, caption=caption)


def show_note(
    text: str, *, title: str | None = None, kind: Literal["info", "warning"] = "info"
) -> HTMLBlock:
    """A styled call-out box (blue for info, amber for warnings) with an optional bold title."""
    label = f'<b class="sl-note-title">{html.escape(title)}</b>' if title else ""
    block = f'{_CSS}<div class="sl-note {kind}">{label}{html.escape(text)}</div>'
    return HTMLBlock(block, f"{title}: {text}" if title else text)
