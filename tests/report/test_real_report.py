"""The main job end to end: every curated notebook at smoke size, then the pages in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_browser import check_page, chromium

from segpile_lab._resources import notebooks_dir
from segpile_lab.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """`segpile-lab report --smoke` as a user types it; (exit code, report folder)."""
    out = tmp_path_factory.mktemp("real-report")
    code = main(["report", "--smoke", "--out", str(out)])
    return code, out


def test_every_curated_notebook_passes_at_smoke_size(real_report):
    code, out = real_report
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    failures = {nb["name"]: nb["error"] for nb in summary["notebooks"] if nb["status"] != "passed"}
    assert failures == {}
    assert code == 0
    expected = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
    assert [nb["name"] for nb in summary["notebooks"]] == expected
    assert summary["parameters"] == {"smoke": True}
    for nb in summary["notebooks"]:
        assert nb["summary"], f"{nb['name']} wrote an empty summary"


@pytest.mark.browser
def test_real_report_renders_offline(real_report, artifacts_dir):
    _, out = real_report
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with chromium() as browser:
        check_page(browser, out / "index.html", artifacts_dir / "real-report-index.png")
        for nb in summary["notebooks"]:
            if nb["html"]:
                shot = artifacts_dir / f"real-report-{nb['name']}.png"
                check_page(browser, out / nb["html"], shot)
