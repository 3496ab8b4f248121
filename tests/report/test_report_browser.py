"""Open a built report in headless Chromium with the network cut off: figures must render."""

from __future__ import annotations

import pytest
from report_browser import OfflinePage, check_page, chromium, readability

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_report_renders_offline_in_chromium(browser, mixed_report, artifacts_dir):
    out = mixed_report.out_dir
    # the fixture's summary shows its temporary working folder on purpose (test_runner checks it)
    shot = artifacts_dir / "report-index.png"
    index = check_page(browser, out / "index.html", shot, readable=False)
    assert index["graphs"] == 0

    counts = {}
    for notebook in mixed_report.summary["notebooks"]:
        page = out / notebook["html"]
        counts[notebook["name"]] = check_page(
            browser, page, artifacts_dir / f"report-{notebook['name']}.png"
        )
    passing = counts["passing"]
    assert passing["graphs"] == 2
    assert passing["fallbacks"] >= 1  # the widget's <img alt=...>
    assert passing["images"] >= 2  # + the matplotlib PNG


def test_index_links_open_the_pages(browser, mixed_report):
    offline = OfflinePage(browser)
    try:
        offline.open(mixed_report.out_dir / "index.html")
        note = offline.page.get_by_text("untrained demo weights")
        assert note.first.is_visible()
        offline.page.click("text=passing")
        offline.page.wait_for_selector(".plotly-graph-div .main-svg", timeout=15_000)
        assert offline.page.url.endswith("/passing.html")
        assert offline.blocked == []
    finally:
        offline.close()


def test_readability_finds_inline_tex_left_raw(browser, tmp_path):
    # only $$ display math is drawn offline (report/display_math.py); "$T$" stayed as typed
    page = tmp_path / "tex.html"
    page.write_text(
        "<div class='jp-MarkdownOutput'><p>divide the logits by $T$, or $\\tau$; "
        "it costs $5 or $10</p></div><pre>code: x = $y$</pre>",
        encoding="utf-8",
    )
    offline = OfflinePage(browser)
    try:
        offline.open(page)
        assert readability(offline.page)["tex"] == ["$T$", "$\\tau$"]
    finally:
        offline.close()
