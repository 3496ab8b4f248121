"""Curated notebooks are stored clean and follow the report contract (a parameters cell)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

from segpile_lab.report.params import declared_parameters, parameters_cell_index

REPO = Path(__file__).resolve().parents[1]


def _stored_notebooks() -> list[Path]:
    """Notebooks tracked by git (or, outside a git checkout, those in notebooks/)."""
    proc = subprocess.run(
        ["git", "ls-files", "--", "notebooks/*.ipynb"], cwd=REPO, capture_output=True, text=True
    )
    if proc.returncode == 0 and proc.stdout.strip():
        return [REPO / line for line in proc.stdout.splitlines()]
    return sorted((REPO / "notebooks").glob("*.ipynb"))


NOTEBOOKS = _stored_notebooks()


def test_there_are_curated_notebooks():
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request) -> tuple[str, nbformat.NotebookNode]:
    path = request.param
    return path.name, nbformat.read(path, as_version=4)


def test_notebook_is_valid(notebook):
    _, nb = notebook
    nbformat.validate(nb)


def test_notebook_has_no_outputs_or_execution_counts(notebook):
    name, nb = notebook
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert dirty == [], f"{name}: cells with outputs or execution counts: {dirty}"


def test_notebook_has_no_widget_state(notebook):
    name, nb = notebook
    assert "widgets" not in nb.metadata, f"{name}: metadata.widgets must not be committed"


def test_notebook_declares_smoke_and_summary_path(notebook):
    name, nb = notebook
    index = parameters_cell_index(nb)
    assert index is not None, f"{name}: no code cell tagged 'parameters'"
    declared = declared_parameters(nb.cells[index].source)
    assert {"smoke", "summary_path"} <= declared, f"{name}: parameters cell defines {declared}"


def test_notebook_names_are_numbered():
    names = [p.stem for p in NOTEBOOKS]
    assert all(name[:2].isdigit() and name[2] == "_" for name in names), names
