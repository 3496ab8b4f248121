"""Open a built report in headless Chromium with the network cut off: figures must render."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OfflinePage:
    """A page that may load file:// URLs only; everything else is aborted and recorded."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def close(self) -> None:
        self.context.close()


def _check_page(browser, path: Path, screenshot: Path) -> dict[str, int]:
    offline = OfflinePage(browser)
    try:
        offline.open(path)
        graphs = offline.page.locator(".plotly-graph-div")
        if graphs.count():
            offline.page.wait_for_selector(".plotly-graph-div .main-svg", timeout=15_000)
        unrendered = offline.page.evaluate(
            """() => [...document.querySelectorAll('.plotly-graph-div')]
                .filter(div => !div.querySelector('.main-svg .plot, .main-svg'))
                .map(div => div.id)"""
        )
        images = offline.page.evaluate(
            """() => [...document.querySelectorAll('img')].map(img => ({
                alt: img.getAttribute('alt'), width: img.naturalWidth, complete: img.complete}))"""
        )
        offline.page.screenshot(path=str(screenshot), full_page=True)
        assert offline.blocked == [], f"{path.name} tried the network: {offline.blocked}"
        assert offline.errors == [], f"{path.name} raised in the browser: {offline.errors}"
        assert unrendered == [], f"{path.name}: plotly figures without SVG: {unrendered}"
        broken = [img for img in images if not img["complete"] or img["width"] == 0]
        assert broken == [], f"{path.name}: images that did not render: {broken}"
        return {
            "graphs": graphs.count(),
            "fallbacks": sum(bool(img["alt"]) for img in images),
            "images": len(images),
        }
    finally:
        offline.close()


def test_report_renders_offline_in_chromium(browser, mixed_report, artifacts_dir):
    out = mixed_report.out_dir
    index = _check_page(browser, out / "index.html", artifacts_dir / "report-index.png")
    assert index["graphs"] == 0

    counts = {}
    for notebook in mixed_report.summary["notebooks"]:
        page = out / notebook["html"]
        counts[notebook["name"]] = _check_page(
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
