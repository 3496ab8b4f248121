"""Fixtures for the report tests: test-only notebooks and reports built from them once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from report_helpers import FIXTURES, BuiltReport, build_once


@pytest.fixture(scope="session")
def mixed_report(tmp_path_factory: pytest.TempPathFactory) -> BuiltReport:
    """The passing and the failing fixture, with a parameter and --smoke injected."""
    out = tmp_path_factory.mktemp("mixed-report")
    notebooks = [FIXTURES / "passing.ipynb", FIXTURES / "failing.ipynb"]
    return build_once(out, notebooks, params={"repeats": 5}, smoke=True)


@pytest.fixture(scope="session")
def blank_report(tmp_path_factory: pytest.TempPathFactory) -> BuiltReport:
    """Notebooks whose outputs would be blank offline (plotly mimetype, bare widget)."""
    out = tmp_path_factory.mktemp("blank-report")
    return build_once(out, [FIXTURES / "blank_plotly.ipynb", FIXTURES / "blank_widget.ipynb"])


@pytest.fixture
def make_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a small notebook: a parameters cell (or none), then code cells; returns its path."""

    def make(
        name: str, *sources: str, parameters: str | None = "smoke = False\nsummary_path = None"
    ) -> Path:
        nb = nbformat.v4.new_notebook()
        if parameters is not None:
            nb.cells.append(
                nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})
            )
        nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    return make
