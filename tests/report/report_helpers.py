"""Helpers shared by the report tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segpile_lab.errors import ReportError
from segpile_lab.report.runner import build_report

FIXTURES = Path(__file__).resolve().parent / "fixtures"

WRITE_SUMMARY = """import json
if summary_path:
    with open(summary_path, "w") as f:
        json.dump(summary, f)"""


@dataclass(frozen=True)
class BuiltReport:
    """A report built in a test session: its folder, the error raised (if any), summary.json."""

    out_dir: Path
    error: ReportError | None
    summary: dict[str, Any]

    def notebook(self, name: str) -> dict[str, Any]:
        return next(nb for nb in self.summary["notebooks"] if nb["name"] == name)


def build_once(out_dir: Path, notebooks: list[Path], **kwargs: Any) -> BuiltReport:
    error = None
    try:
        build_report(out_dir, notebooks=notebooks, progress=False, timeout=120, **kwargs)
    except ReportError as exc:
        error = exc
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    return BuiltReport(out_dir, error, summary)
