"""Every command that takes a model runs offline on the real repos' layouts and says "trained"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hub_cache import B0_ADE, B0_CITYSCAPES, GPT2
from PIL import Image

from segpile_lab.cli import main


@pytest.fixture
def photos(tmp_path: Path) -> tuple[Path, Path]:
    """Two photos and their ADE20K-style annotation PNGs (0 = other, k = class k − 1)."""
    images, annotations = tmp_path / "images", tmp_path / "annotations"
    images.mkdir(), annotations.mkdir()
    rng = np.random.default_rng(0)
    for index in range(2):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(
            images / f"photo_{index}.jpg"
        )
        Image.fromarray(rng.integers(0, 151, (48, 64), dtype=np.uint8), mode="L").save(
            annotations / f"photo_{index}.png"
        )
    return images, annotations


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    return captured.out + captured.err


def test_segment(offline_hub, photos, tmp_path, capsys):
    images, _ = photos
    out = tmp_path / "seg"
    text = _run(
        ["segment", str(images / "photo_0.jpg"), "--model", B0_ADE, "--out", str(out)], capsys
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["is_trained"] is True, summary
    assert "untrained" not in text


def test_evaluate(offline_hub, photos, tmp_path, capsys):
    images, annotations = photos
    out = tmp_path / "eval"
    args = ["evaluate", "--images", str(images), "--annotations", str(annotations)]
    text = _run([*args, "--model", B0_ADE, "--out", str(out)], capsys)
    assert "untrained" not in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["is_trained"] is True and metrics["model"] == B0_ADE
    per_class = pl.read_csv(out / "per_class.csv")
    assert per_class["is_trained"].to_list() == [True] * per_class.height


def test_evaluate_reads_masks_in_the_checkpoints_convention(offline_hub, photos, tmp_path, capsys):
    """Cityscapes checkpoints do not reduce labels: a mask value 0 is "road", not "ignore"."""
    images, _ = photos
    masks = tmp_path / "trainids"
    masks.mkdir()
    for index in range(2):
        Image.fromarray(np.zeros((48, 64), np.uint8), mode="L").save(masks / f"photo_{index}.png")
    out = tmp_path / "eval-cityscapes"
    args = ["evaluate", "--images", str(images), "--annotations", str(masks)]
    _run([*args, "--model", B0_CITYSCAPES, "--out", str(out)], capsys)
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert summary["pixels"] == 2 * 48 * 64  # every pixel scored as road
    out = tmp_path / "eval-ade"
    _run([*args, "--model", B0_ADE, "--out", str(out)], capsys)
    assert json.loads((out / "metrics.json").read_text())["summary"]["pixels"] == 0  # all "other"


def test_revision_option_reaches_the_loader(offline_hub, photos, tmp_path, capsys):
    images, _ = photos
    args = ["segment", str(images / "photo_0.jpg"), "--model", B0_ADE, "--revision"]
    assert main([*args, "refs/pr/9", "--out", str(tmp_path / "a")]) == 2
    assert "hf download nvidia/segformer-b0-finetuned-ade-512-512 --revision refs/pr/9" in (
        capsys.readouterr().err
    )
    _run([*args, "refs/pr/1", "--out", str(tmp_path / "b")], capsys)


def test_bench(offline_hub, tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["bench", "--model", B0_ADE, "--backends", "torch-fp32", "--image-size", "64"]
    text = _run([*args, "--repeats", "1", "--warmup", "1", "--out", str(out)], capsys)
    assert "untrained" not in text
    result = json.loads((out / "benchmark.json").read_text())
    assert result["is_trained"] is True and result["model"] == B0_ADE and not result["note"]


def test_pile_bpb_with_a_hub_language_model(offline_hub, tmp_path, capsys):
    out = tmp_path / "bpb"
    args = ["pile", "bpb", "--scorer", GPT2, "--sample-per-subset", "1", "--limit", "40"]
    text = _run([*args, "--out", str(out)], capsys)
    assert GPT2 in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scorers"] == [
        {"scorer": GPT2, "description": summary["scorers"][0]["description"], "is_trained": True}
    ]
    assert not summary["untrained"]
    assert pl.read_csv(out / "subsets.csv")["scorer"].unique().to_list() == [GPT2]
