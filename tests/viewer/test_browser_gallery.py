"""The gallery live in JupyterLab (headless Chromium): paging, sorting, a class filter and a
click that opens the image in the segmentation viewer. Screenshots go to ``artifacts/``."""

from __future__ import annotations

import pytest
from _lab import ERROR_OUTPUT, notebook_in_lab, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "import warnings\nimport segpile_lab as sl\nwarnings.simplefilter('ignore')\n"
    "segmenter = sl.load_segmenter('demo-b0', device='cpu')\n"
    "data = sl.synthetic_shapes(14, size=64, seed=1)\n"
    "evaluation = sl.evaluate_dataset(segmenter, data, progress=False)",
    "gallery = sl.SegmentationGallery(evaluation, segmenter, page_size=6)\ngallery",
]


def _indices(page) -> list[str]:
    return page.eval_on_selector_all(
        ".segpile-gallery .sg-card", "cards => cards.map(c => c.dataset.index)"
    )


def test_gallery_pages_sorts_filters_and_opens_the_viewer(tmp_path, artifacts_dir):
    write_notebook(tmp_path / "gallery.ipynb", CELLS)
    with notebook_in_lab(
        tmp_path,
        "gallery.ipynb",
        viewers=0,
        timeout_ms=240_000,
        failure_screenshot=artifacts_dir / "gallery_failure.png",
    ) as (page, errors):
        page.wait_for_function(
            "([err]) => document.querySelectorAll('.segpile-gallery .sg-card').length === 6"
            " || document.querySelector(err) !== null",
            arg=[ERROR_OUTPUT],
            timeout=240_000,
        )
        assert page.locator(ERROR_OUTPUT).count() == 0, "a cell raised"
        gallery = page.locator(".segpile-gallery").first
        assert "page 1 of 3 · 14 images" in gallery.locator(".sg-status").inner_text()
        assert "untrained demo weights" in gallery.locator(".sg-banner").inner_text()
        first = _indices(page)
        page.screenshot(path=str(artifacts_dir / "gallery_live.png"))
        # reader names in the sort menu, the image's own name on each card
        options = gallery.locator(".sg-sort option").all_inner_texts()
        assert "error rate" in options and "mean entropy (nats)" in options
        assert [o for o in options if "_" in o] == []
        names = gallery.locator(".sg-name").all_inner_texts()
        assert all(name.split(" ", 1)[1].startswith("shapes on ") for name in names), names

        gallery.locator(".sg-next").click()
        page.wait_for_function(
            "(first) => { const c = document.querySelector("
            "'.segpile-gallery .sg-card'); return c && c.dataset.index !== first; }",
            arg=first[0],
            timeout=30_000,
        )
        second = _indices(page)
        assert not set(first) & set(second) and "page 2 of 3" in gallery.inner_text()

        gallery.locator(".sg-order").click()  # lowest first, back to page 1
        page.wait_for_function(
            "() => document.querySelector('.sg-status').textContent.includes('page 1 of')",
            timeout=30_000,
        )
        # the demo model names the shape ids with ADE20K's classes: 3 (triangle) is "floor"
        gallery.locator(".sg-class").select_option("floor")
        page.wait_for_function(
            "() => !document.querySelector('.sg-status').textContent.includes('14 images')",
            timeout=30_000,
        )

        gallery.locator(".sg-card").first.click()
        page.wait_for_selector(".segpile-viewer .sv-canvas", timeout=120_000)
        assert gallery.locator(".sg-card.sg-selected").count() == 1
        page.locator(".segpile-viewer").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "gallery_opened_viewer.png"))
        assert not errors, errors
