"""The dataset gallery: paging, sorting and filtering against Polars, the page-only payload,
opening an image, the contact sheet and the dataset figures."""

from __future__ import annotations

import io
import warnings

import numpy as np
import polars as pl
import pytest
from PIL import Image

import segpile_lab as sl
from segpile_lab.seg.dataset import SegmentationDataset
from segpile_lab.viewer.gallery import SegmentationGallery, contact_sheet, gallery_page


@pytest.fixture(scope="module")
def b0():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.load_segmenter("demo-b0", device="cpu")


@pytest.fixture(scope="module")
def evaluation(b0):
    """11 small images whose ground truth is the model's own labels with a growing share of
    pixels changed, so the error rates differ image by image."""
    rng = np.random.default_rng(0)
    photos = [np.asarray(p.resize((64, 48))) for p in sl.demo_images().values()]
    images, targets = [], []
    for i in range(11):
        image = np.ascontiguousarray(photos[i % 2][:, :: (1 if i < 6 else -1)])
        labels = b0.predict(image, uncertainty=False, progress=False).labels
        changed = rng.random(labels.shape) < i / 12
        targets.append(np.where(changed, (labels.astype(int) + 1) % 150, labels).astype(np.uint8))
        images.append(image)
    names = [f"photo_{i:02d}.jpg" for i in range(11)]
    data = SegmentationDataset(images, targets, name="test set", sources=names)
    return sl.evaluate_dataset(b0, data, thumbnail_size=64, progress=False)


def test_page_is_the_polars_sort_filter_and_slice(evaluation):
    frame = evaluation.per_image
    rows, total = gallery_page(frame, sort_by="error_rate", page=1, page_size=4)
    expected = frame.sort(["error_rate", "index"], descending=[True, False])[4:8]
    assert total == 11 and rows["index"].to_list() == expected["index"].to_list()
    name = frame["classes"][0][0]
    rows, total = gallery_page(frame, class_name=name, page_size=100)
    holds = [name in classes for classes in frame["classes"].to_list()]
    assert total == sum(holds) and set(rows["index"]) == set(
        frame.filter(pl.Series(holds))["index"]
    )
    rows, total = gallery_page(frame, sort_by="miou", descending=False, where=pl.col("index") > 5)
    assert total == 5 and rows["miou"].to_list() == sorted(rows["miou"].to_list())
    with pytest.raises(ValueError, match="cannot sort by"):
        gallery_page(frame, sort_by="nope")


def test_widget_sends_one_page_and_follows_its_controls(evaluation, b0):
    gallery = SegmentationGallery(evaluation, b0, page_size=4)
    worst = evaluation.per_image.sort("error_rate", descending=True)["index"].to_list()
    assert [item["index"] for item in gallery.items] == worst[:4] and gallery.total == 11
    assert all(item["src"].startswith("data:image/jpeg;base64,") for item in gallery.items)
    gallery.page = 2
    assert [item["index"] for item in gallery.items] == worst[8:]
    gallery.descending = False  # any change but the page goes back to page 0
    assert gallery.page == 0 and [i["index"] for i in gallery.items] == worst[::-1][:4]
    gallery.set_filter(pl.col("error_rate") > 0.5)
    assert gallery.total == (evaluation.per_image["error_rate"] > 0.5).sum()
    assert "error_rate" in gallery.columns and "mean_entropy" in gallery.columns
    # the sort menu shows reader names; cards the image's own name, not "test set[3]"
    assert gallery.column_labels["mean_entropy"] == "mean entropy (nats)"
    assert gallery.column_labels["error_rate"] == "error rate"
    assert all(item["name"] == f"photo_{item['index']:02d}.jpg" for item in gallery.items)


def test_clicking_a_card_opens_the_viewer_below(evaluation, b0):
    gallery = SegmentationGallery(evaluation, b0, page_size=4)
    viewer = gallery.viewer(3)
    assert isinstance(viewer, sl.SegmentationViewer) and viewer.title == "#3 photo_03.jpg"
    gallery.selected = 3  # what a click sets
    assert len(gallery.output.outputs) == 1


def test_static_fallback_is_the_contact_sheet(evaluation, b0):
    gallery = SegmentationGallery(evaluation, b0, page_size=4)
    data, _ = gallery._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert '<img alt="contact sheet: 11 images, highest error rate first"' in data["text/html"]
    sheet = contact_sheet(evaluation, k=5, columns=3)
    assert sheet.size[0] == 3 * (max(200, 2 * 64 + 2) + 10) + 10
    top = Image.open(io.BytesIO(evaluation.thumbnails[gallery.items[0]["index"]]))
    # the first cell holds the worst image's thumbnail, pixel for pixel
    cell = np.asarray(sheet)[46 : 46 + top.height, 10 : 10 + top.width]
    assert np.array_equal(cell, np.asarray(top.convert("RGB")))


def test_dataset_figures(evaluation):
    fig = sl.plot_class_iou_vs_frequency(evaluation)
    points = fig.axes[0].collections[0].get_offsets()
    assert len(points) == (evaluation.metrics.per_class()["target_pixels"] > 0).sum()
    assert "untrained demo weights" in fig.axes[0].get_title()
    fig = sl.plot_error_vs_uncertainty(evaluation, "mean_confidence")
    frame = evaluation.per_image
    rho = frame.select(pl.corr("mean_confidence", "error_rate", method="spearman")).item()
    assert f"error rate vs mean confidence, Spearman ρ = {rho:.2f}" in fig.axes[0].get_title()
    assert fig.axes[0].get_xlabel() == "mean confidence per image"
    assert len(fig.axes[0].collections[0].get_offsets()) == 11


def test_iou_figure_labels_a_range_under_a_decade_without_overlap(evaluation):
    # 05's synthetic shapes: four classes holding 3 %-82 % of the pixels; matplotlib labelled
    # every minor tick ("3×10⁻²4×10⁻²6×10⁻²…"), one label over the next
    from itertools import pairwise
    from types import SimpleNamespace

    metrics = sl.SegmentationMetrics(4, id2label=dict(enumerate("abcd")))
    truth = np.repeat(np.arange(4), [3, 6, 9, 82]).reshape(10, 10)
    metrics.update(truth, truth)
    fig = sl.plot_class_iou_vs_frequency(
        SimpleNamespace(metrics=metrics, provenance=evaluation.provenance)
    )
    ax = fig.axes[0]
    fig.draw_without_rendering()
    shown = [t for t in ax.get_xticklabels(which="both") if t.get_visible() and t.get_text()]
    low, high = ax.get_xlim()
    shown = [t for t in shown if low <= t.get_position()[0] <= high]
    assert [t.get_text() for t in shown] == ["5%", "10%", "20%", "50%"]
    boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in pairwise(boxes))
