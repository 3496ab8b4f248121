"""Dataset folders, the pairing rule, and the per-image frame of a dataset evaluation."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from segpile_lab.errors import DataError, ImageLoadError, SegpileWarning
from segpile_lab.seg.dataset import SegmentationDataset, load_dataset, load_index_mask
from segpile_lab.seg.evaluate_dataset import evaluate_dataset
from segpile_lab.seg.metrics import SegmentationMetrics


def _write_folder(tmp_path, count=3, size=(24, 32)):
    images, masks = tmp_path / "img", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(images / f"p{i}.jpg")
        mask = rng.integers(0, 4, size, dtype=np.uint8)
        mask[0] = 255
        Image.fromarray(mask).save(masks / f"p{i}.png")
    return images, masks


def test_pairing_rule_is_same_stem_and_index_masks_keep_ids(tmp_path):
    images, masks = _write_folder(tmp_path)
    dataset = load_dataset(images, masks)
    assert dataset.label_format == "index" and len(dataset) == 3
    assert (
        [p.stem for p in dataset.images] == [p.stem for p in dataset.targets] == ["p0", "p1", "p2"]
    )
    image, target = dataset[1]
    assert image.shape == (24, 32, 3)
    assert np.array_equal(target, np.asarray(Image.open(masks / "p1.png")))  # ids as stored
    (masks / "p2.png").unlink()
    with pytest.raises(DataError, match="p2"):
        load_dataset(images, masks)


def test_ade20k_layout_maps_zero_to_ignore(tmp_path):
    for sub in ("images/validation", "annotations/validation"):
        (tmp_path / sub).mkdir(parents=True)
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "images/validation/a.jpg")
    Image.fromarray(np.array([[0, 1, 150, 3, 4]] * 4, np.uint8)).save(
        tmp_path / "annotations/validation/a.png"
    )
    dataset = load_dataset(tmp_path)
    assert dataset.label_format == "ade20k"
    assert dataset.target(0)[0].tolist() == [255, 0, 149, 2, 3]


def test_rgb_mask_is_refused(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ImageLoadError, match="one channel"):
        load_index_mask(tmp_path / "rgb.png")


def _scored_pair(seed, classes=5, shape=(30, 20)):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, classes, shape)
    target[rng.random(shape) < 0.1] = 255
    prediction = np.where(rng.random(shape) < 0.7, target, rng.integers(0, classes, shape))
    prediction[prediction == 255] = 0
    confidence = rng.uniform(0.2, 1.0, shape)
    return prediction, target, confidence


def test_per_image_rows_equal_one_image_metrics_and_totals_are_unchanged():
    pairs = [_scored_pair(seed) for seed in range(3)]
    metrics = SegmentationMetrics(5)
    for i, (prediction, target, confidence) in enumerate(pairs):
        metrics.update(prediction, target, scores={"confidence": confidence}, source=f"im{i}")
    frame = metrics.per_image()
    assert frame["path"].to_list() == ["im0", "im1", "im2"] and frame["index"].to_list() == [
        0,
        1,
        2,
    ]
    for i, (prediction, target, confidence) in enumerate(pairs):
        alone = SegmentationMetrics(5)
        alone.update(prediction, target, scores={"confidence": confidence})
        summary = alone.summary()
        row = frame.row(i, named=True)
        valid = target != 255
        assert row["pixel_accuracy"] == pytest.approx((prediction == target)[valid].mean())
        assert row["error_rate"] == pytest.approx(1 - row["pixel_accuracy"])
        assert row["miou"] == pytest.approx(summary["miou"])
        assert row["ece"] == pytest.approx(summary["ece"])
        assert row["aurc_confidence"] == pytest.approx(summary["aurc_confidence"])
        assert row["mean_confidence"] == pytest.approx(confidence[valid].mean())
    # totals are the same as before per-image rows existed: ECE over all pixels pooled
    conf = np.concatenate([c[t != 255] for _, t, c in pairs])
    right = np.concatenate([(p == t)[t != 255] for p, t, _ in pairs])
    bins = np.clip((conf * 15).astype(int), 0, 14)
    ece = sum(
        (bins == b).sum() / conf.size * abs(right[bins == b].mean() - conf[bins == b].mean())
        for b in range(15)
        if (bins == b).any()
    )
    assert metrics.ece() == pytest.approx(ece)


def test_top_confusions_hand_case():
    metrics = SegmentationMetrics(3, id2label={0: "sky", 1: "tree", 2: "road"})
    target = np.array([[0, 0, 0, 1, 1, 2, 2, 2]])
    prediction = np.array([[1, 1, 0, 1, 2, 2, 2, 2]])
    metrics.update(prediction, target)
    row = metrics.per_image().row(0, named=True)
    assert row["top_confusions"] == "sky→tree 25.0%; tree→road 12.5%"
    assert row["classes"] == ["sky", "tree", "road"]


def test_evaluate_dataset_streams_and_skips_bad_items(demo_b0, tmp_path):
    """Index masks (255 = ignore) said explicitly: the demo model is an ADE20K model, whose
    own convention (id + 1) applies when the caller does not say."""
    images, masks = _write_folder(tmp_path, count=4)
    (images / "p3.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(SegpileWarning, match="1 of 4 items skipped"):
        evaluation = evaluate_dataset(
            demo_b0, images, masks, batch_size=2, label_format="index", progress=False
        )
    frame = evaluation.per_image
    assert frame["index"].to_list() == [0, 1, 2] and evaluation.skipped[0][0].endswith("p3.jpg")
    assert set(evaluation.thumbnails) == {0, 1, 2}
    assert Image.open(io.BytesIO(evaluation.thumbnails[0])).size[1] == 120  # 160 * 24/32
    with pytest.raises(ImageLoadError):
        evaluate_dataset(
            demo_b0, images, masks, on_error="raise", label_format="index", progress=False
        )
    reference = SegmentationMetrics(150)
    for index in range(3):
        image, target = evaluation.dataset[index]
        result = demo_b0.predict(image, progress=False)
        reference.update(result.labels, target, scores=result)
    assert np.array_equal(evaluation.metrics.confusion, reference.confusion)
    assert evaluation.summary()["is_trained"] is False


def test_mc_dropout_adds_mutual_information_columns(demo_b0, rgb_image):
    target = np.zeros(rgb_image.shape[:2], np.uint8)
    data = SegmentationDataset([rgb_image], [target], name="one")
    frame = evaluate_dataset(demo_b0, data, mc_samples=2, progress=False).per_image
    assert {"mean_mutual_information", "aurc_mutual_information", "mean_entropy"} <= set(
        frame.columns
    )


@pytest.mark.shared
def test_evaluate_real_ade20k_folder(demo_b0, ade20k_dir):
    evaluation = evaluate_dataset(demo_b0, ade20k_dir, progress=False)
    frame = evaluation.per_image
    assert frame.height == 2 and frame["path"].str.ends_with(".jpg").all()
    assert frame["classes"].list.len().min() > 3


def test_a_dataset_with_other_classes_warns(demo_b0):
    from segpile_lab.seg.synthetic import synthetic_shapes

    with pytest.warns(SegpileWarning, match="4 classes of its own"):
        evaluate_dataset(demo_b0, synthetic_shapes(1, size=32), progress=False)
