"""Headless Chromium for the report tests: pages open with every non-file:// request aborted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from _lab import CHROMIUM, launch_chromium
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright


@contextmanager
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)  # the one browser set-up (tests/viewer/_lab.py)
        yield browser
        browser.close()


# ids of plotly divs without a drawn SVG root of non-zero size
_UNRENDERED_GRAPHS = """() => [...document.querySelectorAll('.plotly-graph-div')]
    .filter(div => {
        const svg = div.querySelector('.main-svg');
        return !svg || svg.getBoundingClientRect().width === 0 || !svg.childElementCount;
    })
    .map(div => div.id)"""


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


# what a reader would trip over: developer residue, clipped or elided tables, a map without scale
_READABILITY = r"""() => {
    const text = document.body.innerText;
    const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
    // what the notebook showed on purpose: every output but an error's traceback (stderr)
    const shown = outputs.filter(o => !/stderr/.test(o.dataset.mimeType || ''))
        .map(o => o.innerText);
    const raw = [[/shape: \(\d+, \d+\)/, 'a DataFrame repr'],
                 [/\{'\w+': /, "a Python dict"],
                 [/\b[A-Z]\w*(Error|Exception): /, 'a third-party error line']];
    const layerOf = img => ((img.getAttribute('alt') || '').match(/, (\w+) layer;/) || [])[1];
    const categorical = new Set(['labels', 'ground_truth', 'errors', 'disagreement']);
    return {
        // inline TeX that no MathJax typeset (only $$ display math is drawn: display_math.py)
        tex: [...document.querySelectorAll('.jp-MarkdownOutput')]
            .flatMap(md => md.innerText.match(/\$[A-Za-z\\][^$\n]*\$/g) || []),
        residue: ['/tmp/', 'ipykernel_', '<Figure size', 'polars.config', '127.0.0.1']
            .filter(s => text.includes(s))
            .concat(/Out\s*\[\d*\]/.test(text) ? ['Out[n]'] : []),
        raw: raw.flatMap(([pattern, what]) => shown.filter(t => pattern.test(t))
            .map(t => `${what}: ${t.slice(Math.max(0, t.search(pattern) - 40),
                                          t.search(pattern) + 80)}`)),
        clipped: [...document.querySelectorAll('th, td')]
            .filter(c => c.scrollWidth > c.clientWidth + 1 && c.getClientRects().length)
            .map(c => c.innerText.slice(0, 60)),
        overflowing: [...document.querySelectorAll('div.sl-table')]
            .filter(d => d.scrollWidth > d.clientWidth + 1)
            .map(d => d.querySelector('th').innerText),
        tables: [...document.querySelectorAll('div.sl-table[data-rows]')].map(d => ({
            caption: (d.querySelector('caption') || {innerText: ''}).innerText,
            declared: Number(d.dataset.rows),
            rows: d.querySelectorAll('tbody tr').length})),
        elided: [...document.querySelectorAll('table')].filter(t => !t.closest('div.sl-table'))
            .filter(t => [...t.querySelectorAll('td, th')].some(c => c.innerText.trim() === '…'))
            .length,
        without_colour_bar: outputs
            .map(o => [...o.querySelectorAll('img')].map(layerOf)
                .find(layer => layer && !categorical.has(layer)) && o)
            .filter(o => o && !o.querySelector('.sv-static-colorbar'))
            .map(o => [...o.querySelectorAll('img')].map(layerOf).find(Boolean)),
    };
}"""


def readability(page) -> dict[str, Any]:
    """What a reader would trip over on an open page: developer residue in the text (``/tmp/``,
    ``ipykernel_``, ``Out[n]``, a figure's text repr instead of its picture, a polars config
    object, a local address such as Ray's dashboard, dead in a saved page), raw reprs in what a
    cell showed (a DataFrame's ``shape: (r, c)``, a ``{'key': …}`` dict, a third-party ``XError:
    …`` line outside a traceback), inline TeX (``$T$``) left raw in a markdown cell, table cells
    whose text is clipped, report tables wider than the page, each report table's declared and
    shown row counts, tables with elided ("…") rows, and viewer pictures of a continuous layer
    without a colour bar."""
    return page.evaluate(_READABILITY)


def assert_readable(found: dict[str, Any], name: str) -> None:
    assert found["residue"] == [], f"{name}: developer residue on the page: {found['residue']}"
    assert found["raw"] == [], f"{name}: raw output instead of a readable one: {found['raw']}"
    assert found["tex"] == [], f"{name}: TeX left raw in the text: {found['tex']}"
    assert found["clipped"] == [], f"{name}: clipped table text: {found['clipped']}"
    assert found["overflowing"] == [], f"{name}: tables wider than the page: {found['overflowing']}"
    short = [t for t in found["tables"] if t["rows"] != t["declared"]]
    assert short == [], f"{name}: tables that do not show every row: {short}"
    assert found["elided"] == 0, f"{name}: {found['elided']} tables hide rows behind '…'"
    assert found["without_colour_bar"] == [], (
        f"{name}: layer pictures without a colour bar: {found['without_colour_bar']}"
    )


def check_page(browser, path: Path, screenshot: Path, *, readable: bool = True) -> dict[str, Any]:
    """Open `path` offline: figures and images render, nothing from the network, no page
    error, and (unless `readable=False`) nothing a reader trips over (`assert_readable`)."""
    offline = OfflinePage(browser)
    try:
        offline.open(path)
        graphs = offline.page.locator(".plotly-graph-div")
        if graphs.count():
            with suppress(PlaywrightTimeout):  # the assertion below names what is missing
                offline.page.wait_for_function(
                    f"() => ({_UNRENDERED_GRAPHS})().length === 0", timeout=30_000
                )
        unrendered = offline.page.evaluate(_UNRENDERED_GRAPHS)
        images = offline.page.evaluate(
            """() => [...document.querySelectorAll('img')].map(img => ({
                alt: img.getAttribute('alt'), width: img.naturalWidth, complete: img.complete}))"""
        )
        found = readability(offline.page)
        offline.page.screenshot(path=str(screenshot), full_page=True)
        assert offline.blocked == [], f"{path.name} tried the network: {offline.blocked}"
        assert offline.errors == [], f"{path.name} raised in the browser: {offline.errors}"
        assert unrendered == [], f"{path.name}: plotly figures without SVG: {unrendered}"
        broken = [img for img in images if not img["complete"] or img["width"] == 0]
        assert broken == [], f"{path.name}: images that did not render: {broken}"
        if readable:
            assert_readable(found, path.name)
        return {
            "tables": found["tables"],
            "graphs": graphs.count(),
            "fallbacks": sum(bool(img["alt"]) for img in images),
            "images": len(images),
        }
    finally:
        offline.close()
