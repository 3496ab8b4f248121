"""ADE20K class table, palette and ground truth against the dataset's own files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segpile_lab.errors import DataError, ImageLoadError
from segpile_lab.seg.ade20k import ADE20K, IGNORE_INDEX, iter_ade20k, load_ade20k_annotation


def test_class_table_shape():
    assert len(ADE20K.names) == 150 == ADE20K.num_classes
    assert ADE20K.names[0] == "wall" and ADE20K.names[149] == "flag"
    assert ADE20K.palette.shape == (150, 3) and ADE20K.palette.dtype == np.uint8
    assert ADE20K.pixel_ratio.sum() == pytest.approx(0.9, abs=0.1)


@pytest.mark.shared
def test_names_and_palette_match_shared_files(ade20k_dir):
    names = (ade20k_dir / "ade20k_names.txt").read_text().split("\n")[:150]
    colors = np.loadtxt(ade20k_dir / "ade20k_colors.txt", dtype=np.uint8)
    assert list(ADE20K.names) == [n.strip() for n in names]
    assert np.array_equal(ADE20K.palette, colors)


@pytest.mark.shared
def test_synonyms_and_priors_match_object_info(ade20k_dir):
    rows = [
        line.split("\t") for line in (ade20k_dir / "objectInfo150.txt").read_text().splitlines()[1:]
    ]
    assert [r[4] for r in rows] == list(ADE20K.synonyms)
    assert np.allclose([float(r[1]) for r in rows], ADE20K.pixel_ratio)
    for name, synonyms in zip(ADE20K.names, ADE20K.synonyms, strict=True):
        assert name in [s.strip() for s in synonyms.split(",")]


def test_annotation_mapping(tmp_path):
    raw = np.array([[0, 1, 2], [150, 0, 75]], dtype=np.uint8)
    Image.fromarray(raw).save(tmp_path / "a.png")
    labels = load_ade20k_annotation(tmp_path / "a.png")
    assert labels.tolist() == [[IGNORE_INDEX, 0, 1], [149, IGNORE_INDEX, 74]]


def test_annotation_value_above_150_raises(tmp_path):
    Image.fromarray(np.array([[151]], dtype=np.uint8)).save(tmp_path / "bad.png")
    with pytest.raises(ImageLoadError, match=r"bad\.png.*151"):
        load_ade20k_annotation(tmp_path / "bad.png")


def test_annotation_rgb_raises(tmp_path):
    Image.fromarray(np.zeros((2, 2, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ImageLoadError, match="single-channel"):
        load_ade20k_annotation(tmp_path / "rgb.png")


@pytest.mark.shared
def test_real_annotation_reduces_labels_like_hf(ade20k_dir):
    from transformers import SegformerImageProcessorPil

    path = ade20k_dir / "annotations" / "ADE_val_00000001.png"
    ours = load_ade20k_annotation(path)
    raw = np.asarray(Image.open(path))
    assert ours.shape == raw.shape
    expected = SegformerImageProcessorPil(do_reduce_labels=True).reduce_label(raw.copy())
    assert np.array_equal(ours, expected)


def _challenge_layout(root, names, with_annotations=True):
    for split in ("images/validation", "annotations/validation"):
        (root / split).mkdir(parents=True)
    for name in names:
        Image.new("RGB", (4, 3)).save(root / "images/validation" / f"{name}.jpg")
        if with_annotations:
            Image.new("L", (4, 3)).save(root / "annotations/validation" / f"{name}.png")


def test_iter_ade20k_challenge_layout(tmp_path):
    _challenge_layout(tmp_path, ["ADE_val_2", "ADE_val_1"])
    pairs = list(iter_ade20k(tmp_path))
    assert [p[0].stem for p in pairs] == ["ADE_val_1", "ADE_val_2"]
    assert all(p[1].parent.name == "validation" and p[1].suffix == ".png" for p in pairs)


def test_iter_ade20k_missing_annotation_raises(tmp_path):
    _challenge_layout(tmp_path, ["ADE_val_1"], with_annotations=False)
    with pytest.raises(DataError, match="no annotation"):
        list(iter_ade20k(tmp_path))


def test_iter_ade20k_wrong_folder_raises(tmp_path):
    with pytest.raises(DataError, match="ADEChallengeData2016"):
        list(iter_ade20k(tmp_path))


@pytest.mark.shared
def test_iter_ade20k_shared_flat_layout(ade20k_dir):
    assert [p[0].name for p in iter_ade20k(ade20k_dir)] == [
        "ADE_val_00000001.jpg",
        "ADE_val_00000002.jpg",
    ]
