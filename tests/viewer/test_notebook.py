"""The segmentation notebook at smoke size, executed headless in report mode (nbclient).

Runs `notebooks/02_segmentation_explorer.ipynb` through the report runner's own executor
(report-mode environment, widget state not stored) and checks the JSON summary it writes and
the offline fallbacks in its outputs.
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from notebook_smoke import run_notebook_smoke
from PIL import Image

from segpile_lab._resources import notebooks_dir

pytestmark = pytest.mark.slow
NOTEBOOK = "02_segmentation_explorer.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> tuple[nbformat.NotebookNode, dict]:
    tmp = tmp_path_factory.mktemp("nb")
    mine = tmp / "mine.png"  # a user's own image, given through the `images` parameter
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(mine)
    return run_notebook_smoke(NOTEBOOK, tmp, images=[str(mine)])


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(notebooks_dir() / NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


def test_smoke_run_falls_back_to_the_demo_model_and_says_so(executed):
    nb, summary = executed
    assert summary["model"] == "demo-b0" and summary["fallback"] == "demo-b0"
    assert summary["is_trained"] is False and summary["viewer"]["untrained_banner"] is True
    html = [o["data"].get("text/html", "") for o in outputs(nb) if "data" in o]
    assert any("untrained demo weights" in h for h in html)


def test_smoke_run_segments_the_offline_demo_photos_and_user_images(executed):
    _, summary = executed
    sizes = {i["name"]: (i["width"], i["height"]) for i in summary["images"]}
    assert sizes == {"grace_hopper": (512, 600), "present_pack": (128, 128), "mine.png": (64, 48)}
    for image in summary["images"]:
        assert 0 < image["mean_confidence"] <= 1
        assert 0 <= image["mean_entropy_nats"] <= 5.0107  # ln 150


def test_smoke_run_has_every_viewer_layer_and_mc_dropout(executed):
    _, summary = executed
    assert summary["viewer"]["layers"] == ["labels", "confidence", "entropy", "margin"]
    assert summary["mc"]["samples"] == 2 and summary["mc"]["active_modules"] > 0
    assert summary["mc"]["mean_mutual_information"] >= 0
    assert 0 <= summary["compare"]["disagreement"] <= 1


def test_smoke_run_scores_against_ground_truth(executed, shared_data):
    _, summary = executed
    gt = summary["ground_truth"]
    assert gt["human"] is True and "ADE_val_00000001" in gt["source"]
    for key in ("miou", "pixel_accuracy", "ece", "aurc_confidence"):
        assert 0 <= gt[key] <= 1


def test_viewers_carry_offline_fallbacks(executed):
    nb, _ = executed
    bundles = [o["data"] for o in outputs(nb)
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
               and "segpile-gallery-static" not in o["data"].get("text/html", "")]  # gallery
    assert len(bundles) >= 4  # explore, MC, ground truth, compare
    for data in bundles:
        assert "<img alt=\"Segmentation of" in data["text/html"]
        assert "data:image/jpeg;base64," in data["text/html"] and "image/png" not in data
    # one JPEG per viewer, not a PNG beside an HTML copy of it (1.2 MB per viewer before)
    assert sum(len(json.dumps(data)) for data in bundles) < 400_000 * len(bundles)


def test_report_mode_adds_the_plotly_variant(executed):
    nb, summary = executed
    assert summary["report_mode"] is True and summary["plotly_traces"] > 2
    html = [o["data"].get("text/html", "") for o in outputs(nb) if "data" in o]
    assert any("plotly-graph-div" in h for h in html)


@pytest.mark.browser
def test_exported_report_shows_fallbacks_and_plotly_hover_offline(executed, tmp_path,
                                                                   artifacts_dir):
    """Export the executed notebook as the report does and open it with the network blocked."""
    from _lab import launch_chromium
    from playwright.sync_api import sync_playwright

    from segpile_lab.report.export import export_html

    nb, _ = executed
    page_path = tmp_path / "02_segmentation_explorer.html"
    assert export_html(nb, page_path, source_dir=notebooks_dir()) == []
    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", lambda route: route.continue_()
                          if route.request.url.startswith("file://")
                          else (blocked.append(route.request.url), route.abort()))
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_path.as_uri(), wait_until="load")
            fallbacks = page.evaluate("""() => [...document.querySelectorAll('img')]
                .filter(img => (img.alt || '').startsWith('Segmentation of'))
                .map(img => img.naturalWidth)""")
            assert len(fallbacks) >= 4 and min(fallbacks) > 0
            assert page.get_by_text("untrained demo weights").count() > 0

            graph = page.locator(".plotly-graph-div").first
            graph.scroll_into_view_if_needed()
            page.wait_for_selector(".plotly-graph-div .main-svg", timeout=30_000)
            drag = graph.locator(".nsewdrag").first
            box = drag.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            hover = graph.locator(".hoverlayer .hovertext")
            hover.first.wait_for(timeout=10_000)
            text = hover.first.text_content()
            assert "top-3" in text and "entropy" in text and "margin" in text
            assert "truth:" in text

            graph.locator(".updatemenu-header-group").first.click()
            graph.locator(".updatemenu-item-text", has_text="entropy").first.click()
            visible = page.evaluate("""() => document.querySelector('.plotly-graph-div').data
                .filter(t => t.visible !== false).map(t => t.name)""")
            assert visible == ["entropy", "hover", "entropy"]  # picture, hover, colour bar
            bar = graph.locator(".colorbar").first
            bar.wait_for(timeout=10_000)
            assert "nats" in bar.text_content() and "entropy" in bar.text_content()
            page.screenshot(path=str(artifacts_dir / "report_segmentation_plotly.png"))
        finally:
            browser.close()
    assert blocked == [] and errors == []
