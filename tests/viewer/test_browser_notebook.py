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
from segpile_lab.seg.layers import LAYERS

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

        for layer in ("confidence", "entropy", "margin"):  # every map with its colour bar
            view.locator(".sv-layer").select_option(layer)
            bar = view.locator(".sv-colorbar").first
            assert bar.is_visible() and LAYERS[layer].label in bar.inner_text()
            if LAYERS[layer].units == "nats":
                assert "5.01 nats" in bar.inner_text()  # 0 … ln 150

        canvas = view.locator(".sv-canvas").first
        box = canvas.bounding_box()
        for fx, fy in [(0.5, 0.5), (0.2, 0.3), (0.8, 0.7), (0.33, 0.9), (0.9, 0.1)]:
            canvas.hover(position={"x": box["width"] * fx, "y": box["height"] * fy})
            assert_readout_consistent(view.locator(".sv-readout").inner_text())
            mark = view.locator(".sv-marker").first.bounding_box()  # drawn where the pointer is
            assert abs(mark["x"] + mark["width"] / 2 - (box["x"] + box["width"] * fx)) < 4
            assert abs(mark["y"] + mark["height"] / 2 - (box["y"] + box["height"] * fy)) < 4
        page.screenshot(path=str(artifacts_dir / "notebook_viewer_hover.png"))
        page.mouse.move(2, 2)
        assert view.locator(".sv-readout").inner_text().startswith("hover the image")

        opacity = view.locator(".sv-opacity")
        opacity.focus()
        before = float(opacity.input_value())
        page.keyboard.press("ArrowLeft")
        assert float(opacity.input_value()) == pytest.approx(before - 0.05)
        drawn = page.locator(".segpile-viewer .sv-canvas").count()

        # saving keeps the notebook small; a reload draws every viewer again (live kernel)
        saved = tmp_path / NOTEBOOK
        unsaved = saved.stat().st_mtime_ns
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while saved.stat().st_mtime_ns == unsaved:
            assert time.monotonic() < deadline, "the notebook was not saved"
            time.sleep(0.5)
        time.sleep(1)  # let the write finish
        assert any(c.get("outputs") for c in nbformat.read(saved, 4).cells)
        size = saved.stat().st_size
        assert size < MAX_SAVED_BYTES, f"saved notebook is {size / 1e6:.1f} MB"
        page.reload()
        page.wait_for_function(
            "n => document.querySelectorAll('.segpile-viewer .sv-canvas').length >= n",
            arg=drawn, timeout=120_000)
        assert page.get_by_text("model not found").count() == 0
        page.screenshot(path=str(artifacts_dir / "notebook_viewer_after_reload.png"))
    assert errors == []


MAX_SAVED_BYTES = 2_500_000  # 7.5 MB before (a PNG and an HTML copy of it per viewer)


def assert_readout_consistent(text: str) -> None:
    """One probability vector behind the read-out: the predicted class and its confidence are
    the first of the top-3, the margin is p1 - p2 of them (to rounding)."""
    line = next(x for x in text.splitlines() if x.startswith("predicted: "))
    predicted = line.split("predicted: ")[1].split(" (confidence")[0]
    confidence = float(line.split("(confidence ")[1].split("%")[0])
    margin = float(line.split("margin ")[1])
    top = next(x for x in text.splitlines() if x.startswith("top-3: "))[7:].split(" · ")
    names = [t.rsplit(" ", 1)[0] for t in top]
    probs = [float(t.rsplit(" ", 1)[1].rstrip("%")) for t in top]
    assert predicted in sl.ADE20K.names and names[0] == predicted, text
    assert confidence == probs[0] and probs == sorted(probs, reverse=True), text
    assert margin == pytest.approx((probs[0] - probs[1]) / 100, abs=0.0015), text
    assert "single-pass entropy" in text and "nats" in text
