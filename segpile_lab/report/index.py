"""The report's front page (`index.html`) and its machine-readable twin (`summary.json`)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segpile_lab.provenance import from_summary

if TYPE_CHECKING:
    from segpile_lab.report.runner import NotebookResult

_MAX_HIGHLIGHTS = 8


def provenance_notes(summary: Mapping[str, Any] | None) -> list[str]:
    """The caveats a notebook's summary declares: untrained weights, synthetic data.

    Declared by `segpile_lab.provenance.summary_fields` (``"untrained_weights"``,
    ``"synthetic_data"``); older flags and texts are still read (`provenance.from_summary`).
    """
    return list(from_summary(summary).labels)


def highlights(summary: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """What the index shows of a notebook's summary, formatted for a table cell.

    A summary's ``"highlights"`` object (label with unit → value, written for readers:
    ``{"mean BPB, zstd-19 (bits/byte)": "2.31"}``) is shown as it is. Without one: the first
    few top-level scalars, keys as written.
    """
    chosen = (summary or {}).get("highlights")
    items = chosen.items() if isinstance(chosen, Mapping) else (summary or {}).items()
    rows = []
    for key, value in items:
        if isinstance(value, bool) or value is None:
            text = str(value).lower()
        elif isinstance(value, int):
            text = f"{value:,}"
        elif isinstance(value, float):
            text = f"{value:.4g}"
        elif isinstance(value, str) and len(value) <= 120:
            text = value
        else:
            continue
        rows.append((str(key), text))
    return rows[:_MAX_HIGHLIGHTS]


def write_summary_json(
    path: Path, results: list[NotebookResult], *, parameters: Mapping[str, Any], seconds: float
) -> None:
    """Write `summary.json`: overall status, parameters, and per notebook its result."""
    from segpile_lab import __version__

    payload = {
        "segpile_lab_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "passed" if all(r.status == "passed" for r in results) else "failed",
        "seconds": round(seconds, 3),
        "parameters": dict(parameters),
        "notebooks": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


def write_index_html(
    path: Path, results: list[NotebookResult], *, parameters: Mapping[str, Any], seconds: float
) -> None:
    """Write `index.html`: one row per notebook with link, status, duration, highlights, notes."""
    rows = "\n".join(_row(r) for r in results)
    failed = sum(r.status != "passed" for r in results)
    verdict = "all notebooks passed" if not failed else f"{failed} of {len(results)} failed"
    params = ", ".join(f"{k}={v!r}" for k, v in parameters.items()) or "defaults"
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = _PAGE.format(
        verdict=html.escape(verdict),
        status_class="passed" if not failed else "failed",
        seconds=f"{seconds:.1f}",
        params=html.escape(params),
        created=created,
        rows=rows,
    )
    path.write_text(page, encoding="utf-8")


def _row(result: NotebookResult) -> str:
    name = html.escape(result.name)
    link = f'<a href="{html.escape(result.html.name)}">{name}</a>' if result.html else name
    notes = "".join(
        f'<div class="note">{html.escape(note)}</div>' for note in provenance_notes(result.summary)
    )
    facts = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in highlights(result.summary)
    )
    detail = f'<table class="facts">{facts}</table>' if facts else ""
    if result.error:
        detail = f'<pre class="error">{html.escape(result.error)}</pre>' + detail
    return (
        f'<tr class="{result.status}"><td>{link}</td>'
        f'<td><span class="badge {result.status}">{result.status}</span></td>'
        f'<td class="num">{result.seconds:.1f} s</td><td>{notes}{detail}</td></tr>'
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segpile_lab report</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
        padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.5rem; }}
table.notebooks {{ border-collapse: collapse; width: 100%; }}
table.notebooks > tbody > tr > td, table.notebooks > thead > tr > th {{
  border-bottom: 1px solid #ddd; padding: .5rem; vertical-align: top; text-align: left; }}
td.num {{ text-align: right; white-space: nowrap; }}
.badge {{ padding: .1rem .5rem; border-radius: .7rem; color: #fff; font-size: .85rem; }}
.badge.passed {{ background: #2e7d32; }}
.badge.failed {{ background: #c62828; }}
.summary.passed {{ color: #2e7d32; }}
.summary.failed {{ color: #c62828; }}
.note {{ display: inline-block; margin: 0 .4rem .3rem 0; padding: .1rem .5rem;
         background: #fff3cd; border: 1px solid #e0b800; border-radius: .3rem; font-weight: 600; }}
table.facts th {{ font-weight: normal; color: #555; padding-right: 1rem; text-align: left; }}
pre.error {{ white-space: pre-wrap; background: #fdecea; padding: .5rem; margin: 0 0 .4rem; }}
</style>
</head>
<body>
<h1>segpile_lab report</h1>
<p class="summary {status_class}"><strong>{verdict}</strong> in {seconds} s
 &middot; parameters: <code>{params}</code> &middot; {created}</p>
<table class="notebooks">
<thead><tr><th>notebook</th><th>status</th><th>time</th><th>highlights</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p>Each page is self-contained and works offline. Machine-readable results:
 <a href="summary.json">summary.json</a>.</p>
</body>
</html>
"""
