"""Notebook 05 at smoke size, as the report runs it: the curve shows learning, the gallery
carries its static contact sheet, the checkpoint loads back as trained."""

from __future__ import annotations

import pytest
from notebook_smoke import run_notebook_smoke

pytestmark = pytest.mark.slow


def test_finetune_notebook_learns_and_exports(tmp_path):
    nb, summary = run_notebook_smoke("05_finetune.ipynb", tmp_path, timeout=900)
    assert summary["synthetic"] is True and summary["base_is_trained"] is False
    # mIoU rises from about chance to well above it
    assert summary["val_miou_start"] < summary["chance_miou"] + 0.05
    assert summary["val_miou_end"] > 2 * summary["chance_miou"]
    assert summary["is_trained"] and summary["checkpoint_loads_as_trained"]
    assert summary["ece_after"] <= summary["ece_before"] + 0.01
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    data = [o.get("data", {}) for o in outputs]
    gallery = [d for d in data if "segpile-gallery-static" in d.get("text/html", "")]
    assert len(gallery) == 1 and "application/vnd.jupyter.widget-view+json" in gallery[0]
    assert (
        sum("image/png" in d for d in data) >= 3
    )  # live curve, IoU vs frequency, error vs uncertainty
    assert not any("Writing model shards" in str(d.get("text/plain", "")) for d in data)
