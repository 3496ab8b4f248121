#!/usr/bin/env python3
"""Take the README's tour pictures from a built report: the first figure of each notebook page.

    segpile-lab report --smoke --out /tmp/report && scripts/tour_screenshots.py /tmp/report

Opens each page in headless Chromium (Debian's /usr/bin/chromium) with the network blocked and
saves a PNG of the output area around the page's first figure (a plotly figure, else an image
with an alt text) to docs/tour/<notebook>.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viewer"))
from _lab import launch_chromium  # the one browser set-up: path and flags

FIGURE = (
    ".jp-OutputArea-output:has(.plotly-graph-div .main-svg), .jp-OutputArea-output:has(img[alt])"
)
MAX_HEIGHT = 720


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a folder written by segpile-lab report")
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs" / "tour")
    args = parser.parse_args()
    summary = json.loads((args.report / "summary.json").read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        context.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        page = context.new_page()
        for notebook in summary["notebooks"]:
            if notebook["status"] != "passed":
                print(f"{notebook['name']}: skipped ({notebook['status']})")
                continue
            page.goto((args.report / notebook["html"]).resolve().as_uri(), wait_until="load")
            figure = page.locator(FIGURE).first
            figure.wait_for(timeout=30_000)
            figure.evaluate("element => element.scrollIntoView({block: 'start'})")
            box = figure.bounding_box()  # relative to the viewport, as the clip below
            clip = {**box, "height": min(box["height"], MAX_HEIGHT)}
            dest = args.out / f"{notebook['name']}.png"
            page.screenshot(path=str(dest), clip=clip)
            _to_palette(dest)
            print(f"{notebook['name']}: {dest} ({dest.stat().st_size // 1024} KiB)")
        browser.close()


def _to_palette(path: Path) -> None:
    """Rewrite a screenshot as a 256-colour PNG (a third of the size, same look)."""
    image = Image.open(path).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


if __name__ == "__main__":
    main()
