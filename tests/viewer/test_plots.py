"""Metric figures: the numbers they draw and the untrained label."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import make_result

from segpile_lab.provenance import Provenance
from segpile_lab.seg.metrics import SegmentationMetrics
from segpile_lab.seg.plots import (
    confusion_top,
    oracle_risk,
    plot_confusion_matrix,
    plot_reliability,
    plot_risk_coverage,
    plot_uncertainty_maps,
)
from segpile_lab.seg.results import SegmentationResult


@pytest.fixture
def metrics() -> SegmentationMetrics:
    result = make_result(24, 32, seed=0)
    truth = make_result(24, 32, seed=1).labels
    m = SegmentationMetrics(5, id2label=result.id2label)
    m.update(result.labels, truth, scores={"confidence": result.confidence,
                                           "entropy": result.entropy, "margin": result.margin})
    return m


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_confusion_top_keeps_largest_truth_classes_and_pools_the_rest():
    m = SegmentationMetrics(4)
    m.confusion[:] = np.array([[5, 1, 0, 0],
                               [2, 8, 0, 0],
                               [0, 0, 1, 1],
                               [0, 0, 0, 0]])
    matrix, names = confusion_top(m, top=2)
    assert names == ["class 1", "class 0", "other"]
    np.testing.assert_allclose(matrix, [[0.8, 0.2, 0.0],
                                        [1 / 6, 5 / 6, 0.0],
                                        [0.0, 0.0, 1.0]])


def test_oracle_risk_abstains_on_errors_first():
    np.testing.assert_allclose(oracle_risk(np.array([0.5, 0.8, 0.9, 1.0]), 0.2),
                               [0.0, 0.0, 0.1 / 0.9, 0.2])


@pytest.mark.parametrize("plot", [plot_confusion_matrix, plot_reliability, plot_risk_coverage])
def test_metric_figures_say_untrained_when_a_result_was(metrics, plot):
    assert not any("untrained" in ax.get_title() for ax in plot(metrics).axes)
    stand_in = make_result(24, 32, seed=2)
    demo = SegmentationResult(labels=stand_in.labels, id2label=stand_in.id2label,
                              model_name="demo", is_trained=False, image_size=(24, 32),
                              confidence=stand_in.confidence)  # fmt: skip
    metrics.update(demo.labels, make_result(24, 32, seed=1).labels, scores=demo)
    assert metrics.provenance == Provenance(is_trained=False)
    titles = [ax.get_title() for ax in plot(metrics).axes]
    assert any("untrained demo weights" in t for t in titles)


def test_reliability_title_carries_the_ece(metrics):
    fig = plot_reliability(metrics)
    assert f"ECE {metrics.ece():.3f}" in fig.axes[0].get_title()


def test_risk_coverage_lists_each_score_with_its_aurc(metrics):
    fig = plot_risk_coverage(metrics)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"confidence (AURC {metrics.aurc('confidence'):.3f})" in labels
    assert any(label.startswith("entropy (AURC") for label in labels)
    assert not any(label.startswith("mutual information") for label in labels)  # not computed


def test_uncertainty_maps_have_units_and_banner():
    fig = plot_uncertainty_maps(make_result())
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "entropy (nats)" in titles and "confidence" in titles and "margin" in titles
    assert "untrained demo weights" in fig._suptitle.get_text()
