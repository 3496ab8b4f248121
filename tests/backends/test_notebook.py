"""The backends notebook runs headless at smoke size and writes its summary."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from notebook_smoke import run_notebook_smoke

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_backends_quantization.ipynb"


def test_notebook_has_a_parameters_cell_and_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name in (
        "model = ",
        "backends = ",
        "batch_sizes = ",
        "smoke = False",
        "summary_path = None",
    ):
        assert name in cell.source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
def test_notebook_runs_at_smoke_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEGPILE_LAB_CACHE", str(tmp_path / "cache"))
    nb, summary = run_notebook_smoke(NOTEBOOK.name, tmp_path)
    assert summary["note"] == "untrained demo weights: ranks backends only"
    assert summary["benchmark_errors"] == []
    assert set(summary["benchmark_ok"]) == set(summary["backends"])
    assert summary["pixel_agreement"]["ort-fp32"] > 0.999
    assert summary["pixel_agreement"]["torch-fp32+fold"] > 0.999
    assert 0.5 < summary["pixel_agreement"]["ort-int8-dynamic"] <= 1.0
    assert len(summary["exclusion_agreement"]) == 2
    assert summary["compared_in_viewer"] in summary["backends"]
    html = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]  # fmt: skip
    assert sum("plotly-graph-div" in h for h in html) >= 3  # latency, Pareto, ΔIoU
    card = [h for h in html if "Backend card" in h and "<table" in h]  # the card is an HTML table
    assert len(card) == 1 and all(backend in card[0] for backend in summary["benchmark_ok"])
    assert any("untrained demo weights" in h for h in html)
