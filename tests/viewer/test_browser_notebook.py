"""The segmentation notebook live in JupyterLab, driven in headless Chromium like a person would.

Copies the notebook to a temporary folder with smoke parameters injected, runs all cells from the
menu, then moves the opacity slider, switches the layer, clicks a legend row and hovers the
photo of the first viewer, checking the canvas pixels and the read-out. Screenshots go to
``artifacts/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from _lab import ERROR_OUTPUT, canvas_pixels, notebook_in_lab

import segpile_lab as sl
from segpile_lab._resources import notebooks_dir
from segpile_lab.report.params import inject_parameters

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NOTEBOOK = "02_segmentation_explorer.ipynb"


def wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the notebook did not finish in {timeout} s ({path} missing)")
        time.sleep(1)


def test_notebook_runs_live_and_the_viewer_responds(tmp_path, artifacts_dir):
    nb = nbformat.read(notebooks_dir() / NOTEBOOK, as_version=4)
    summary = tmp_path / "summary.json"
    # MC dropout is covered by test_notebook.py; skipping it here saves a minute
    inject_parameters(nb, {"smoke": True, "summary_path": str(summary), "mc_samples": 0})
    nbformat.write(nb, tmp_path / NOTEBOOK)
    with notebook_in_lab(tmp_path, NOTEBOOK, viewers=1, timeout_ms=300_000,
                         failure_screenshot=artifacts_dir / "notebook_failure.png"
                         ) as (page, errors):
        wait_for_file(summary, 300)
        assert page.locator(ERROR_OUTPUT).count() == 0, "a cell raised"
        view = page.locator(".segpile-viewer").first
        view.scroll_into_view_if_needed()
        assert "untrained demo weights" in view.locator(".sv-banner").text_content()
        page.screenshot(path=str(artifacts_dir / "notebook_viewer_initial.png"))

        start = canvas_pixels(page)
        view.locator(".sv-opacity").fill("0.95")
        after_opacity = canvas_pixels(page)
        assert not np.array_equal(start, after_opacity), "opacity did not redraw"

        view.locator(".sv-layer").select_option("entropy")
        after_layer = canvas_pixels(page)
        assert not np.array_equal(after_opacity, after_layer), "layer did not redraw"
        assert "nats" in view.locator(".sv-colorbar").inner_text()

        row = view.locator(".sv-legend-row").first
        row.click()
        after_click = canvas_pixels(page)
        assert "sv-selected" in (row.get_attribute("class") or "")
        assert not np.array_equal(after_layer, after_click), "legend click did not redraw"
        # the dimmed pixels outside the class are darker than before
        assert after_click.mean() < after_layer.mean()
        page.screenshot(path=str(artifacts_dir / "notebook_viewer_selected.png"))
        row.click()  # restore
        np.testing.assert_array_equal(canvas_pixels(page), after_layer)

        canvas = view.locator(".sv-canvas").first
        box = canvas.bounding_box()
        canvas.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
        text = view.locator(".sv-readout").inner_text()
        assert "predicted:" in text and "top-3:" in text and "%" in text
        assert "entropy" in text and "margin" in text
        predicted = text.split("predicted: ")[1].split(" (confidence")[0]
        assert predicted in sl.ADE20K.names
        assert text.split("top-3: ")[1].split(" ")[0] in {n.split(" ")[0]
                                                       for n in sl.ADE20K.names}
        page.screenshot(path=str(artifacts_dir / "notebook_viewer_hover.png"))
    assert errors == []
