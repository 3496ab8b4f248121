"""Accuracy metrics against hand-computed cases, and the failure path of compare_accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segpile_lab.backends._runner import Runner
from segpile_lab.backends.accuracy import (
    compare_accuracy,
    confidence_and_entropy,
    sqnr_db,
)
from segpile_lab.errors import BackendError

UNTRAINED_NOTE = "untrained demo weights: ranks backends only"  # what users read


def fixed_runner(name: str, logits: torch.Tensor, precision: str = "fp32") -> Runner:
    """A backend that always returns `logits` (hand-made cases)."""
    return Runner(
        name=name,
        forward=lambda pixels: logits,
        device="cpu",
        precision=precision,
        exact=True,
        folded=False,
    )


def one_hot_logits(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """(N, h, w) labels → (N, C, h, w) logits with 1 at the label and 0 elsewhere."""
    return (
        torch.nn.functional.one_hot(torch.from_numpy(labels).long(), num_classes)
        .permute(0, 3, 1, 2)
        .float()
    )


def test_sqnr_hand_case():
    reference = torch.tensor([3.0, 4.0])
    assert sqnr_db(reference, torch.tensor([3.0, 5.0])) == pytest.approx(10 * math.log10(25 / 1))
    assert sqnr_db(reference, torch.tensor([0.0, 0.0])) == pytest.approx(0.0)
    assert sqnr_db(reference, reference.clone()) == math.inf


def test_confidence_and_entropy_of_uniform_and_peaked_logits():
    uniform = torch.zeros(1, 4, 2, 2)
    confidence, entropy = confidence_and_entropy(uniform)
    assert confidence == pytest.approx(0.25) and entropy == pytest.approx(math.log(4))
    peaked = torch.tensor([100.0, 0, 0, 0]).view(1, 4, 1, 1)
    confidence, entropy = confidence_and_entropy(peaked)
    assert confidence == pytest.approx(1.0) and entropy == pytest.approx(0.0, abs=1e-12)


# reference labels and a candidate that differs on exactly 2 of 8 pixels
REF = np.array([[[0, 0, 1, 1], [2, 2, 2, 0]]])
CAND = np.array([[[0, 1, 1, 1], [2, 2, 0, 0]]])


@pytest.fixture
def hand_report(seg_b0):
    pixels = torch.zeros(1, 3, 8, 16)
    return compare_accuracy(
        seg_b0.model,
        reference=fixed_runner("ref", one_hot_logits(REF, 3)),
        candidates=[fixed_runner("cand", one_hot_logits(CAND, 3), "int8")],
        images=pixels,
    )


def test_agreement_and_miou_vs_reference_hand_case(hand_report):
    row = hand_report.frame.row(0, named=True)
    assert row["status"] == "ok" and row["pixel_agreement"] == pytest.approx(6 / 8)
    # IoU vs reference: class 0: ref {00,01,13} cand {00,12,13} → 2/4; class 1: ref {02,03}
    # cand {01,02,03} → 2/3; class 2: ref {10,11,12} cand {10,11} → 2/3
    assert row["miou_vs_reference"] == pytest.approx((1 / 2 + 2 / 3 + 2 / 3) / 3)
    assert row["max_abs_logit_error"] == 1.0
    assert row["mean_abs_logit_error"] == pytest.approx(4 / 24)
    assert row["sqnr_db"] == pytest.approx(10 * math.log10(8 / 4))


def test_delta_iou_without_ground_truth_is_loss_against_perfect_agreement(hand_report):
    delta = dict(
        zip(hand_report.per_class["class_id"], hand_report.per_class["delta_iou"], strict=True)
    )
    assert delta == pytest.approx({0: 1 / 2 - 1, 1: 2 / 3 - 1, 2: 2 / 3 - 1})


def test_disagreement_map_marks_the_changed_pixels(hand_report):
    (mask,) = hand_report.disagreement["cand"]
    assert mask.dtype == bool and mask.shape == (2, 4)
    assert np.argwhere(mask).tolist() == [[0, 1], [1, 2]]


def test_ground_truth_metrics_and_delta_iou(seg_b0):
    truth = np.array([[0, 0, 1, 1], [2, 2, 255, 0]])  # one ignored pixel
    report = compare_accuracy(
        seg_b0.model,
        reference=fixed_runner("ref", one_hot_logits(REF, 3)),
        candidates=[fixed_runner("cand", one_hot_logits(CAND, 3))],
        images=torch.zeros(1, 3, 8, 16),
        annotations=[truth],
    )
    row = report.frame.row(0, named=True)
    # reference vs truth: perfect on the 7 valid pixels → IoU 1 for classes 0, 1, 2
    assert row["reference_miou_vs_ground_truth"] == pytest.approx(1.0)
    # candidate vs truth (pixel 12 ignored): class 0 truth {00,01,13} pred {00,13} → 2/3;
    # class 1 truth {02,03} pred {01,02,03} → 2/3; class 2 truth {10,11} pred {10,11} → 1
    assert row["miou_vs_ground_truth"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    delta = dict(zip(report.per_class["class_id"], report.per_class["delta_iou"], strict=True))
    assert delta == pytest.approx({0: 2 / 3 - 1, 1: 2 / 3 - 1, 2: 0.0})


def test_failing_backend_is_recorded_and_the_others_continue(seg_b0, pixels):
    def explode(pixel_values):
        raise RuntimeError("ConvInteger kernel missing")

    broken = Runner(
        name="broken", forward=explode, device="cpu", precision="int8", exact=False, folded=False
    )
    report = compare_accuracy(
        seg_b0, candidates=[broken, "not-a-backend", "torch-fp32+fold"], images=pixels
    )
    rows = {row["backend"]: row for row in report.frame.iter_rows(named=True)}
    assert (
        rows["broken"]["status"] == "error"
        and "ConvInteger kernel missing" in rows["broken"]["error"]
    )
    assert (
        rows["not-a-backend"]["status"] == "error"
        and "unknown backend" in rows["not-a-backend"]["error"]
    )
    assert (
        rows["torch-fp32+fold"]["status"] == "ok"
        and rows["torch-fp32+fold"]["pixel_agreement"] > 0.999
    )


def test_demo_weights_are_labelled(seg_b0, pixels):
    report = compare_accuracy(seg_b0, candidates=["torch-fp32+fold"], images=pixels[:1])
    assert report.note == UNTRAINED_NOTE


def test_images_give_results_for_the_viewer_compare_mode(seg_b0):
    import segpile_lab as sl

    image = sl.demo_images()["present_pack"]
    report = compare_accuracy(seg_b0, candidates=["torch-bf16"], images=[image])
    (mask,) = report.disagreement["torch-bf16"]
    assert mask.shape == (128, 128)
    (candidate,) = report.results("torch-bf16")
    (reference,) = report.results("torch-fp32")
    np.testing.assert_array_equal(candidate.labels != reference.labels, mask)
    # the compare viewer titles its panels by result: each says which backend drew it
    assert reference.model_name == f"{seg_b0.name} · torch-fp32"
    assert candidate.model_name == f"{seg_b0.name} · torch-bf16"
    expected = seg_b0.predict(image, uncertainty=False).labels
    np.testing.assert_array_equal(reference.labels, expected)


def test_annotation_size_mismatch_is_a_clear_error(seg_b0):
    import segpile_lab as sl

    image = sl.demo_images()["present_pack"]
    with pytest.raises(ValueError, match=r"annotation 0 is 10×10 but its image is 128×128"):
        compare_accuracy(
            seg_b0, candidates=[], images=[image], annotations=[np.zeros((10, 10), np.uint8)]
        )


def test_runner_failure_is_a_backend_error():
    runner = Runner(
        name="x", forward=lambda p: 1 / 0, device="cpu", precision="fp32", exact=True, folded=False
    )
    with pytest.raises(BackendError, match="backend 'x' failed to run: ZeroDivisionError"):
        runner(torch.zeros(1, 3, 32, 32))
