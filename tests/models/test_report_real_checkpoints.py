"""The main job with real-layout checkpoints in an offline cache: every model notebook passes,
says "trained", and no library progress bar or load log reaches a page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hub_cache import B0_ADE, GPT2

from segpile_lab.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(hub_cache, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("real-checkpoint-report")
    with pytest.MonkeyPatch.context() as patch:  # the kernels inherit the environment
        patch.setenv("HF_HUB_CACHE", str(hub_cache.root))
        patch.setenv("HF_HUB_OFFLINE", "1")
        code = main(
            [
                "report",
                "--smoke",
                "--out",
                str(out),
                "--notebooks",
                "02_segmentation_explorer",
                "03_backends_quantization",
                "04_pile_bpb",
                "05_finetune",
                "--param",
                f"seg_model={B0_ADE}",
                "--param",
                f"lm_model={GPT2}",
            ]
        )
    return code, out


def test_model_notebooks_pass_with_real_checkpoints(report):
    code, out = report
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    failures = {
        nb["name"]: nb.get("error") for nb in summary["notebooks"] if nb["status"] != "passed"
    }
    assert failures == {} and code == 0
    by_name = {nb["name"]: nb["summary"] for nb in summary["notebooks"]}
    assert by_name["02_segmentation_explorer"]["model"] == B0_ADE
    assert by_name["02_segmentation_explorer"]["is_trained"] is True
    assert not by_name["02_segmentation_explorer"].get("fallback")
    assert by_name["05_finetune"]["model"] == B0_ADE
    assert by_name["05_finetune"]["base_is_trained"] is True


@pytest.mark.parametrize(
    "page", ["02_segmentation_explorer", "03_backends_quantization", "04_pile_bpb", "05_finetune"]
)
def test_no_loading_bar_or_load_log_on_the_page(report, page):
    _, out = report
    html = (out / f"{page}.html").read_text(encoding="utf-8")
    for residue in ("Loading weights", "application/vnd.jupyter.widget-view", "missing_keys"):
        assert residue not in html, f"{residue!r} leaked into {page}.html"
