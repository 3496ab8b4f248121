"""``segpile-lab segment`` and ``segpile-lab evaluate`` end to end on demo-b0."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from PIL import Image

from segpile_lab.cli import main
from segpile_lab.errors import UntrainedModelWarning
from segpile_lab.seg.ade20k import ADE20K


@pytest.fixture
def picture(tmp_path, rgb_image):
    path = tmp_path / "scene.png"
    Image.fromarray(rgb_image).save(path)
    return path


def test_segment_writes_layers_label_map_and_summary(tmp_path, picture, capsys):
    out = tmp_path / "out"
    with pytest.warns(UntrainedModelWarning):
        code = main(
            ["segment", str(picture), "--model", "demo-b0", "--out", str(out), "--mc-samples", "2"]
        )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["is_trained"] is False and summary["note"].startswith("untrained demo weights")
    files = summary["images"][0]["files"]
    assert set(files) >= {
        "labels",
        "confidence",
        "entropy",
        "margin",
        "mutual_information",
        "label_map",
    }
    label_map = Image.open(out / files["label_map"])
    assert label_map.mode == "P" and label_map.size == (53, 37)
    assert np.array_equal(np.asarray(label_map.getpalette()[:6]), ADE20K.palette[:2].reshape(-1))
    assert Image.open(out / files["entropy"]).size == (53, 37)
    assert summary["images"][0]["top_classes"][0]["pixels"] > 0
    assert "untrained demo weights" in capsys.readouterr().out


def test_segment_missing_file_is_one_line_exit_2_before_the_model_loads(tmp_path, capsys):
    code = main(
        ["segment", str(tmp_path / "nope.jpg"), "--model", "demo-b0", "--out", str(tmp_path)]
    )  # no UntrainedModelWarning: the model is never built
    assert code == 2
    assert f"argument IMAGE: {tmp_path / 'nope.jpg'}: no such file" in capsys.readouterr().err


def test_segment_offline_default_model_names_the_fix(tmp_path, picture, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert main(["segment", str(picture), "--out", str(tmp_path)]) == 2
    assert "nvidia/segformer-b2-finetuned-ade-512-512" in capsys.readouterr().err


def _evaluate_args(root, out) -> list[str]:
    images, annotations = str(root / "img"), str(root / "ann")
    return ["evaluate", "--images", images, "--annotations", annotations, "--model", "demo-b0",
            "--out", str(out)]  # fmt: skip


def test_evaluate_writes_metrics_and_per_class_csv(tmp_path, rgb_image):
    (tmp_path / "img").mkdir()
    (tmp_path / "ann").mkdir()
    for name in ("a", "b"):
        Image.fromarray(rgb_image).save(tmp_path / "img" / f"{name}.jpg")
        Image.fromarray(np.full(rgb_image.shape[:2], 3, dtype=np.uint8)).save(
            tmp_path / "ann" / f"{name}.png"
        )
    out = tmp_path / "ev"
    with pytest.warns(UntrainedModelWarning):
        code = main(_evaluate_args(tmp_path, out))
    assert code == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["summary"]["images"] == 2 and report["summary"]["pixels"] == 2 * 37 * 53
    per_class = pl.read_csv(out / "per_class.csv")
    assert (
        per_class.height == 150
        and per_class.filter(pl.col("class_id") == 2)["target_pixels"][0] == 2 * 37 * 53
    )
    per_image = pl.read_csv(out / "per_image.csv")
    assert per_image["path"].str.ends_with(".jpg").all() and per_image.height == 2
    assert (per_image["pixels"] == 37 * 53).all() and (per_image["classes"] == "sky").all()
    assert not per_image["is_trained"].any()


def test_evaluate_missing_annotation_exit_2(tmp_path, rgb_image, capsys):
    (tmp_path / "img").mkdir()
    (tmp_path / "ann").mkdir()
    Image.fromarray(rgb_image).save(tmp_path / "img" / "a.jpg")
    code = main(_evaluate_args(tmp_path, tmp_path / "ev"))
    assert code == 2 and "no annotation" in capsys.readouterr().err
