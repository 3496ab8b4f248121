"""Run a curated notebook at smoke size exactly as `segpile-lab report` does (shared by tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

from segpile_lab._resources import notebooks_dir
from segpile_lab.report.execute import execute_notebook
from segpile_lab.report.params import inject_parameters


def run_notebook_smoke(
    name: str, workdir: Path, *, timeout: float = 600, **params: Any
) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """Execute `notebooks/<name>` with ``smoke=True`` and `params` injected (report-mode kernel
    environment); returns the executed notebook and the JSON summary it wrote."""
    nb = nbformat.read(notebooks_dir() / name, as_version=4)
    summary = workdir / "summary.json"
    inject_parameters(nb, {"smoke": True, "summary_path": str(summary), **params})
    execute_notebook(nb, workdir=workdir, timeout=timeout)
    return nb, json.loads(summary.read_text())
