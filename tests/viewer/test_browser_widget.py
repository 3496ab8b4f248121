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
from conftest import entropy_of, make_image, make_result

from segpile_lab.seg.layers import LAYERS
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


ACTIVE_CELL = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
    .findIndex((c) => c.classList.contains('jp-mod-active'))"""


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
        # words and colour come from segpile_lab/provenance.py through the widget's meta
        colour = view.locator(".sv-banner").evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(176, 0, 32)"  # provenance.WARNING_COLOR, #b00020
        assert "— untrained demo weights" in view.locator(".sv-panel-title").first.inner_text()

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
        assert "true positive (class" in view.locator(".sv-key").inner_text()
        page.screenshot(path=str(artifacts_dir / "viewer_parity_selected.png"))
        view.locator(".sv-legend-row").first.click()
        state = replace(state, selected_class=-1)
        assert_close(canvas_pixels(page), render_panel(data, 0, state))
        view.locator(".sv-legend-row").nth(1).press("Enter")  # keyboard works too
        assert "sv-selected" in view.locator(".sv-legend-row").nth(1).get_attribute("class")
        view.locator(".sv-legend-row").nth(1).press(" ")
        assert_close(canvas_pixels(page), render_panel(data, 0, state))

        # hover: read-out of both panels, computed in the browser from one logit cell each
        canvas = view.locator(".sv-canvas").first
        box = canvas.bounding_box()
        canvas.hover(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
        text = view.locator(".sv-readout").inner_text()
        x, y = (int(v) for v in text.split("pixel (")[1].split(")")[0].split(", "))
        assert abs(x - SIZE[1] * 0.25) <= 1 and abs(y - SIZE[0] * 0.5) <= 1
        a = inputs()["result"]
        cell = a.logit_probs[:, int((y + 0.5) * 3 / SIZE[0]), int((x + 0.5) * 4 / SIZE[1])]
        top = np.argsort(-cell, kind="stable")
        assert f"predicted: class{top[0]} (confidence {100 * cell[top[0]]:.1f}%)" in text
        assert f"top-3: class{top[0]} {100 * cell[top[0]]:.1f}% · class{top[1]}" in text
        assert f"single-pass entropy {entropy_of(cell):.3f} nats" in text
        assert "MC dropout, 4 passes: predictive entropy" in text and "margin" in text
        assert "parity check" not in text and text.count("predicted:") == 2
        assert "truth: class" in text
        view.locator(".sv-readout").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "viewer_readout.png"))
        markers = view.locator(".sv-marker")
        assert all(markers.nth(i).is_visible() for i in range(2))  # synced hover

        page.mouse.move(1, 1)  # leave the picture: the read-out and markers clear
        assert "hover the image" in view.locator(".sv-readout").inner_text()
        assert not markers.first.is_visible()

        view.locator(".sv-layer").select_option("disagreement")
        state = replace(state, layer="disagreement")
        assert_close(canvas_pixels(page, 1), render_panel(data, 1, state))
        assert "disagree on" in view.locator(".sv-info").inner_text()
        page.screenshot(path=str(artifacts_dir / "viewer_parity_compare.png"))
    assert errors == []


def test_layout_colour_bars_and_keyboard_in_lab(tmp_path, artifacts_dir):
    """Compare mode aligns the panels and puts B's legend beside A's; every map layer shows
    a colour bar with its range and units under each panel; the ground truth has its own
    legend; opacity shows its value; arrow keys move the sliders and the layer menu inside
    JupyterLab (whose shortcuts would otherwise take them to move between cells)."""
    write_notebook(tmp_path / "layout.ipynb", [CELL, "x = 1", "y = 2"])
    with notebook_in_lab(tmp_path, "layout.ipynb", viewers=2, timeout_ms=120_000,
                         failure_screenshot=artifacts_dir / "viewer_layout_failure.png"
                         ) as (page, errors):
        view = page.locator(".segpile-viewer")
        canvases = [view.locator(".sv-canvas").nth(i).bounding_box() for i in range(2)]
        assert abs(canvases[0]["y"] - canvases[1]["y"]) < 1  # aligned
        assert abs(canvases[0]["height"] - canvases[1]["height"]) < 1
        legends = [view.locator(".sv-legend").nth(i).bounding_box() for i in range(2)]
        assert abs(legends[0]["y"] - legends[1]["y"]) < 1 and legends[1]["x"] > legends[0]["x"]

        for layer in ("confidence", "entropy", "margin", "predictive_entropy",
                      "expected_entropy", "mutual_information"):
            view.locator(".sv-layer").select_option(layer)
            bars = view.locator(".sv-colorbar")
            assert [bars.nth(i).is_visible() for i in range(2)] == [True, True], layer
            text = bars.first.inner_text()
            assert LAYERS[layer].label in text and "0" in text, text
            assert ("nats" in text) == (LAYERS[layer].units == "nats"), text
        page.screenshot(path=str(artifacts_dir / "viewer_colorbar_mi.png"))
        view.locator(".sv-layer").select_option("labels")
        assert not view.locator(".sv-colorbar").first.is_visible()

        view.locator(".sv-layer").select_option("ground_truth")
        truth = view.locator(".sv-truth-legend").first
        assert "ground truth (annotation)" in truth.inner_text()
        rows = truth.locator(".sv-legend-row").count()
        assert rows == len(np.unique(inputs()["ground_truth"]))
        page.screenshot(path=str(artifacts_dir / "viewer_truth_legend.png"))

        # keyboard: the notebook's active cell must not move, the controls must change
        opacity = view.locator(".sv-opacity")
        opacity.focus()
        active = page.evaluate(ACTIVE_CELL)  # focusing the output made its cell active
        assert active == 0
        start = float(opacity.input_value())
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert float(opacity.input_value()) == pytest.approx(min(1.0, start + 0.15))
        assert view.locator(".sv-opacity-value").inner_text().strip() == \
            f"{round(100 * min(1.0, start + 0.15))}%"
        page.keyboard.press("ArrowLeft")
        assert float(opacity.input_value()) == pytest.approx(min(1.0, start + 0.15) - 0.05)
        threshold = view.locator(".sv-threshold")
        threshold.focus()
        page.keyboard.press("ArrowUp")
        assert float(threshold.input_value()) == pytest.approx(0.01)
        select = view.locator(".sv-layer")
        select.focus()
        before = select.input_value()
        page.keyboard.press("ArrowDown")
        assert select.input_value() != before
        assert page.evaluate(ACTIVE_CELL) == active, "JupyterLab took the arrow keys"
        page.screenshot(path=str(artifacts_dir / "viewer_keyboard.png"))
    assert errors == []
