"""The widget's JavaScript in a real JupyterLab and Chromium, against the Python renderer.

A notebook builds a viewer from the deterministic stand-in result; the test drives the controls
like a person would and compares the canvas pixels with `_render.render_panel` for the same
state (both follow the same per-pixel rules), then checks hover, legend and compare mode.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _lab import canvas_pixels, notebook_in_lab, write_notebook
from conftest import make_image, make_result

from segpile_lab.viewer._data import build_viewer_data
from segpile_lab.viewer._render import ViewState, render_panel

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
SIZE = (60, 80)


def inputs():
    h, w = SIZE
    return dict(image=make_image(h, w), result=make_result(h, w, mc=True),
                ground_truth=make_result(h, w, seed=3).labels,
                compare=make_result(h, w, seed=5, mc=True))


CELL = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from test_browser_widget import inputs
import segpile_lab as sl
viewer = sl.SegmentationViewer(**{{k: v for k, v in inputs().items()}}, title="parity check")
viewer
"""


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal up to rounding: the browser reads uint16-quantised maps, Python the floats."""
    diff = np.abs(got.astype(int) - expected.astype(int)).max(axis=2)
    assert (diff <= 3).mean() >= 0.99, f"{(diff > 3).sum()} pixels differ by more than 3"
    assert diff.mean() < 1.0


def test_canvas_matches_python_render_for_each_control(tmp_path, artifacts_dir):
    write_notebook(tmp_path / "parity.ipynb", [CELL])
    data = build_viewer_data(**inputs())
    with notebook_in_lab(tmp_path, "parity.ipynb", viewers=2, timeout_ms=120_000,
                         failure_screenshot=artifacts_dir / "viewer_parity_failure.png"
                         ) as (page, errors):
        view = page.locator(".segpile-viewer")
        assert "untrained demo weights" in view.locator(".sv-banner").inner_text()

        state = ViewState()
        assert_close(canvas_pixels(page), render_panel(data, 0, state))
        steps = [
            ("opacity", lambda: view.locator(".sv-opacity").fill("0.3"),
             {"opacity": 0.3}),
            ("layer", lambda: view.locator(".sv-layer").select_option("entropy"),
             {"layer": "entropy"}),
            ("outline", lambda: view.locator(".sv-outline").check(), {"outline": True}),
            ("errors", lambda: view.locator(".sv-layer").select_option("errors"),
             {"layer": "errors", "outline": False}),
            ("threshold", lambda: view.locator(".sv-threshold").fill("0.5"),
             {"threshold": 0.5}),
        ]
        for name, act, change in steps:
            before = canvas_pixels(page)
            if name == "errors":
                view.locator(".sv-outline").uncheck()
            act()
            state = replace(state, **change)
            after = canvas_pixels(page)
            assert not np.array_equal(before, after), f"{name} did not redraw"
            assert_close(after, render_panel(data, 0, state))
            assert_close(canvas_pixels(page, 1), render_panel(data, 1, state))

        # legend click selects a class: errors become TP/FP/FN for it; click again restores
        row = view.locator(".sv-legend-row").first
        cid = int(row.get_attribute("data-class-id"))
        row.click()
        state = replace(state, selected_class=cid)
        assert_close(canvas_pixels(page), render_panel(data, 0, state))
        assert "sv-selected" in (row.get_attribute("class") or "")
        assert "true positive (class" in view.locator(".sv-colorbar").inner_text()
        page.screenshot(path=str(artifacts_dir / "viewer_parity_selected.png"))
        view.locator(".sv-legend-row").first.click()
        state = replace(state, selected_class=-1)
        assert_close(canvas_pixels(page), render_panel(data, 0, state))
        view.locator(".sv-legend-row").nth(1).press("Enter")  # keyboard works too
        assert "sv-selected" in view.locator(".sv-legend-row").nth(1).get_attribute("class")
        view.locator(".sv-legend-row").nth(1).press(" ")
        assert_close(canvas_pixels(page), render_panel(data, 0, state))

        # hover: read-out of both panels, computed in the browser
        canvas = view.locator(".sv-canvas").first
        box = canvas.bounding_box()
        canvas.hover(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
        text = view.locator(".sv-readout").inner_text()
        x, y = int(SIZE[1] * 0.25), int(SIZE[0] * 0.5)
        a = inputs()["result"]
        assert f"predicted: class{a.labels[y, x]}" in text
        assert "top-3: class" in text and "nats" in text and "margin" in text
        assert "parity check" not in text and text.count("predicted:") == 2
        assert "truth: class" in text
        markers = view.locator(".sv-marker")
        assert all(markers.nth(i).is_visible() for i in range(2))  # synced hover

        view.locator(".sv-layer").select_option("disagreement")
        state = replace(state, layer="disagreement")
        assert_close(canvas_pixels(page, 1), render_panel(data, 1, state))
        assert "disagree on" in view.locator(".sv-info").inner_text()
        page.screenshot(path=str(artifacts_dir / "viewer_parity_compare.png"))
    assert errors == []
