"""`SegmentationMetrics` against torchmetrics and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segpile_lab.errors import DataError
from segpile_lab.seg.metrics import SegmentationMetrics, evaluate


def _random_pair(seed: int, classes: int = 6, shape=(40, 30)):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, classes - 1, size=shape)  # the last class never occurs in the target
    target[rng.random(shape) < 0.1] = 255
    prediction = np.where(rng.random(shape) < 0.6, target, rng.integers(0, classes, size=shape))
    prediction[prediction == 255] = 0
    return prediction, target


def test_iou_and_miou_match_torchmetrics():
    from torchmetrics.classification import MulticlassJaccardIndex

    metrics = SegmentationMetrics(6)
    per_class = MulticlassJaccardIndex(num_classes=6, ignore_index=255, average="none")
    macro = MulticlassJaccardIndex(num_classes=6, ignore_index=255, average="macro")
    for seed in (1, 2, 3):
        prediction, target = _random_pair(seed)
        metrics.update(prediction, target)
        for reference in (per_class, macro):
            reference.update(torch.from_numpy(prediction), torch.from_numpy(target))
    np.testing.assert_allclose(metrics.iou(), per_class.compute().numpy(), rtol=1e-6)
    assert metrics.summary()["miou"] == pytest.approx(macro.compute().item(), rel=1e-6)


def test_accuracy_family_matches_torchmetrics():
    from torchmetrics.classification import MulticlassAccuracy

    prediction, target = _random_pair(7)
    metrics = SegmentationMetrics(6)
    metrics.update(prediction, target)
    args = (torch.from_numpy(prediction).flatten(), torch.from_numpy(target).flatten())
    micro = MulticlassAccuracy(num_classes=6, ignore_index=255, average="micro")(*args)
    recall = MulticlassAccuracy(num_classes=6, ignore_index=255, average="none")(*args)
    summary = metrics.summary()
    assert summary["pixel_accuracy"] == pytest.approx(micro.item())
    np.testing.assert_allclose(metrics.class_accuracy()[:5], recall[:5].numpy(), rtol=1e-6)
    assert np.isnan(metrics.class_accuracy()[5])  # never in the target
    assert summary["mean_accuracy"] == pytest.approx(recall[:5].mean().item())


def test_hand_case_iou_fwiou_and_ignore():
    target = np.array([[0, 0, 1, 255]])
    prediction = np.array([[0, 1, 1, 2]])
    metrics = SegmentationMetrics(3)
    metrics.update(prediction, target)
    # class 0: tp 1, union 2; class 1: tp 1, union 2; class 2: ignored pixel only → absent
    np.testing.assert_allclose(metrics.iou(), [0.5, 0.5, np.nan])
    summary = metrics.summary()
    assert summary["pixels"] == 3 and summary["miou"] == pytest.approx(0.5)
    assert summary["fwiou"] == pytest.approx(2 / 3 * 0.5 + 1 / 3 * 0.5)
    assert summary["pixel_accuracy"] == pytest.approx(2 / 3)


def test_ece_hand_case():
    # 10 bins. conf 0.95 (bin 9): right, wrong → acc 0.5, conf 0.95, gap 0.45 (weight 2/5)
    # conf 0.65 (bin 6): right → gap 0.35 (1/5); conf 0.35, 0.25 (bins 3, 2): right → 0.65, 0.75
    confidence = np.array([[0.95, 0.95, 0.65, 0.35, 0.25]])
    target = np.array([[1, 1, 1, 1, 1]])
    prediction = np.array([[1, 0, 1, 1, 1]])
    metrics = SegmentationMetrics(2, calibration_bins=10)
    metrics.update(prediction, target, scores={"confidence": confidence})
    expected = 2 / 5 * 0.45 + 1 / 5 * 0.35 + 1 / 5 * 0.65 + 1 / 5 * 0.75
    assert metrics.ece() == pytest.approx(expected)
    table = metrics.reliability()
    row = table.filter(table["pixels"] == 2).row(0, named=True)
    assert row["accuracy"] == pytest.approx(0.5) and row["mean_confidence"] == pytest.approx(0.95)


def test_auroc_hand_case():
    # entropy (≤ ln 2 nats) of wrong pixels 0.69, 0.3; of right pixels 0.5, 0.1, 0.05
    # pairs (wrong > right): 0.69 beats all 3, 0.3 beats 0.1 and 0.05 → 5 of 6
    entropy = np.array([[0.69, 0.3, 0.5, 0.1, 0.05]])
    confidence = np.array([[0.3, 0.8, 0.7, 0.9, 0.95]])  # wrong: 0.3, 0.8; right: 0.7, 0.9, 0.95
    target = np.zeros((1, 5), dtype=np.int64)
    prediction = np.array([[1, 1, 0, 0, 0]])
    metrics = SegmentationMetrics(2)
    metrics.update(prediction, target, scores={"entropy": entropy, "confidence": confidence})
    auroc = metrics.auroc()
    assert auroc["entropy"] == pytest.approx(5 / 6)
    assert auroc["confidence"] == pytest.approx(5 / 6)  # 0.3 < all 3 right; 0.8 < 0.9, 0.95


def test_auroc_ties_count_half():
    metrics = SegmentationMetrics(2)
    metrics.update(
        np.array([[1, 0]]), np.array([[0, 0]]), scores={"margin": np.array([[0.4, 0.4]])}
    )
    assert metrics.auroc()["margin"] == pytest.approx(0.5)


def test_risk_coverage_and_aurc_hand_case():
    confidence = np.array([[0.9, 0.8, 0.6, 0.2]])
    prediction = np.array([[0, 1, 0, 1]])  # right, wrong, right, wrong
    metrics = SegmentationMetrics(2)
    metrics.update(prediction, np.zeros((1, 4), dtype=np.int64), scores={"confidence": confidence})
    curve = metrics.risk_coverage("confidence")
    np.testing.assert_allclose(curve["coverage"].to_numpy(), [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve["risk"].to_numpy(), [0.0, 0.5, 1 / 3, 0.5])
    assert metrics.aurc("confidence") == pytest.approx(0.25 * (0 + 0.5 + 1 / 3 + 0.5))


def test_size_mismatch_names_the_file():
    with pytest.raises(DataError, match=r"gt\.png"):
        SegmentationMetrics(3).update(np.zeros((2, 2)), np.zeros((3, 2)), source="gt.png")


def test_per_class_frame():
    metrics = SegmentationMetrics(3, id2label={0: "a", 1: "b", 2: "c"})
    metrics.update(np.array([[0, 1]]), np.array([[0, 0]]))
    frame = metrics.per_class()
    assert frame["name"].to_list() == ["a", "b", "c"]
    assert frame["iou"].to_list() == [0.5, 0.0, None]


def test_evaluate_with_demo_model(demo_b0, rgb_image):
    target = np.full(rgb_image.shape[:2], 255, dtype=np.uint8)
    target[5:30, 5:40] = 0
    metrics = evaluate(
        demo_b0, [rgb_image, rgb_image], [target, target], batch_size=2, progress=False
    )
    summary = metrics.summary()
    assert summary["images"] == 2 and summary["pixels"] == 2 * 25 * 35
    assert {"ece", "auroc_confidence", "aurc_entropy"} <= set(summary)
    assert 0.0 <= summary["pixel_accuracy"] <= 1.0 and math.isfinite(summary["ece"])


@pytest.mark.shared
def test_evaluate_real_ade20k(demo_b0, ade20k_dir):
    from segpile_lab.seg.ade20k import iter_ade20k

    pairs = list(iter_ade20k(ade20k_dir))
    metrics = evaluate(demo_b0, [p[0] for p in pairs], [p[1] for p in pairs], progress=False)
    summary = metrics.summary()
    assert summary["images"] == 2 and summary["pixels"] > 100_000
    assert summary["miou"] < 0.2  # random weights: far from the trained B0's ~0.37
