"""The composition notebook runs headless at smoke size and writes its summary."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from notebook_smoke import run_notebook_smoke

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_pile_composition.ipynb"


def _execute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **params: object) -> tuple:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the demo sample goes there
    return run_notebook_smoke(NOTEBOOK.name, tmp_path, timeout=300, **params)


def test_notebook_has_a_parameters_cell_with_smoke_and_summary_path() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name in ("paths = None", "sample_per_subset", "smoke = False", "summary_path = None"):
        assert name in cell.source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_notebook_runs_on_the_demo_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, summary = _execute(tmp_path, monkeypatch)
    assert summary["label"] == "synthetic demo data" and summary["synthetic"] is True
    assert summary["subsets_present"] == 22
    assert summary["documents"] == summary["streamed_documents"] > 22 * 4  # + planted copies
    assert summary["exact_duplicate_documents"] >= 4 and summary["documents_with_pii"] > 0
    assert summary["rows_skipped"] == 0
    html = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]  # fmt: skip
    plotly_divs = sum("plotly-graph-div" in h for h in html)
    assert plotly_divs == 5  # the four audit figures and the languages, for offline HTML
    assert any("synthetic demo data" in h for h in html)
    widgets = [o for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]  # fmt: skip
    assert widgets == []  # TQDM_DISABLE=1 hides progress widgets (blank in exported reports)


@pytest.mark.shared
def test_notebook_runs_on_real_pile_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    data = shared_data / "pile" / "val_first10.jsonl"
    tokenizer = shared_data / "tokenizers" / "gpt2-tokenizer.json"
    _, summary = _execute(tmp_path, monkeypatch, paths=str(data), tokenizer=str(tokenizer))
    assert summary["label"] == "real data" and summary["synthetic"] is False
    assert summary["documents"] == summary["streamed_documents"] == 10
    assert summary["subsets_present"] == 4
