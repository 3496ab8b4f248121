"""The BPB notebook runs headless at smoke size, labels demo output and writes its summary."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from notebook_smoke import run_notebook_smoke

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04_pile_bpb.ipynb"


def test_notebook_has_parameters_and_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name in ("paths = None", "model = None", "sample_per_subset", "smoke = False",
                 "summary_path = None"):  # fmt: skip
        assert name in cell.source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
def test_notebook_smoke_run_without_a_model_uses_baselines_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nb, summary = run_notebook_smoke(NOTEBOOK.name, tmp_path)
    assert summary["label"] == "untrained demo weights; synthetic demo data"
    assert set(summary["overall_bpb"]) == {"zstd-19", "ngram-4", "demo-gpt2"}
    assert 0 < summary["overall_bpb"]["ngram-4"] < summary["overall_bpb"]["demo-gpt2"]
    assert "no model given" in summary["model_note"]
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "untrained demo weights" in outputs
