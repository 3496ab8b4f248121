"""Legend and threshold numbers against independent references (torchmetrics, hand counts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from segpile_lab.seg.palette import palette_for
from segpile_lab.viewer._stats import class_table, disagreement, threshold_stats

NAMES = [f"c{i}" for i in range(4)]
PALETTE = palette_for(4)


def test_class_table_iou_matches_torchmetrics():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 4, size=(20, 30))
    truth = np.where(rng.random((20, 30)) < 0.7, pred, rng.integers(0, 4, size=(20, 30)))
    truth[:3] = 255  # unlabelled rows
    conf = rng.random((20, 30)).astype(np.float32)
    rows = class_table(pred, conf, NAMES, PALETTE, truth)
    metric = MulticlassJaccardIndex(num_classes=4, average=None, ignore_index=255)
    expected = metric(torch.as_tensor(pred), torch.as_tensor(truth)).numpy()
    got = {r["id"]: r["iou"] for r in rows}
    for cid in range(4):
        assert got[cid] == pytest.approx(float(expected[cid]), abs=1e-6)


def test_class_table_shares_and_mean_confidence_by_hand():
    pred = np.array([[0, 0, 2], [2, 2, 2]])
    conf = np.array([[0.5, 0.7, 0.9], [0.1, 0.2, 0.4]], np.float32)
    rows = class_table(pred, conf, NAMES, PALETTE)
    assert [r["id"] for r in rows] == [2, 0]  # sorted by pixel share
    assert rows[0]["share"] == pytest.approx(4 / 6)
    assert rows[0]["mean_confidence"] == pytest.approx((0.9 + 0.1 + 0.2 + 0.4) / 4)
    assert rows[1]["mean_confidence"] == pytest.approx(0.6)
    assert rows[0]["color"] == PALETTE[2].tolist()
    assert "iou" not in rows[0]


def test_class_table_lists_classes_only_in_truth_with_zero_iou():
    pred = np.zeros((2, 2), int)
    truth = np.array([[0, 3], [0, 255]])
    rows = {r["id"]: r for r in class_table(pred, np.ones((2, 2)), NAMES, PALETTE, truth)}
    assert rows[3]["pixels"] == 0 and rows[3]["iou"] == 0.0 and rows[3]["mean_confidence"] is None
    assert rows[0]["iou"] == pytest.approx(2 / 3)  # truth 0 at 2 pixels, predicted at 3 labelled


def test_threshold_stats_by_hand():
    conf = np.array([[0.9, 0.2], [0.6, 0.5]])
    pred = np.array([[1, 1], [0, 2]])
    truth = np.array([[1, 0], [1, 255]])
    stats = threshold_stats(conf, 0.5, pred, truth)
    assert stats.coverage == pytest.approx(0.75)
    # kept: (0,0) correct, (1,0) wrong, (1,1) unlabelled -> 1 of 2
    assert stats.kept_accuracy == pytest.approx(0.5)


def test_threshold_stats_without_truth_has_no_accuracy():
    stats = threshold_stats(np.array([0.1, 0.9]), 0.5)
    assert stats.coverage == 0.5 and stats.kept_accuracy is None


def test_threshold_stats_nothing_kept():
    stats = threshold_stats(np.array([[0.1]]), 0.5, np.array([[0]]), np.array([[0]]))
    assert stats.coverage == 0.0 and stats.kept_accuracy is None


def test_disagreement_mask_and_rate():
    a = np.array([[0, 1], [2, 3]])
    b = np.array([[0, 1], [3, 3]])
    mask, rate = disagreement(a, b)
    assert mask.tolist() == [[False, False], [True, False]] and rate == 0.25


def test_disagreement_needs_equal_shapes():
    with pytest.raises(ValueError, match="shape"):
        disagreement(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.shared
def test_palette_for_150_classes_is_the_ade20k_one(shared_data):
    colors = np.loadtxt(shared_data / "ade20k" / "ade20k_colors.txt", dtype=np.uint8)
    np.testing.assert_array_equal(palette_for(150), colors)


def test_palette_for_other_class_counts_is_distinct_and_deterministic():
    pal = palette_for(20)
    assert pal.shape == (20, 3) and len({tuple(c) for c in pal}) == 20
    np.testing.assert_array_equal(pal, palette_for(20))


def test_the_viewer_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, segpile_lab.viewer.widget; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_legend_names_classes_whose_official_colours_look_alike():
    # the official ADE20K palette (CSAIL semseg = mmseg's ADE20KDataset): road and skyscraper
    # share 140,140,140; box 0,255,20 and bottle 0,255,10 differ by ΔE 1; pot and wall do not
    from segpile_lab.seg.ade20k import ADE20K

    names = [ADE20K.id2label[i] for i in range(150)]
    ids = {name: i for i, name in enumerate(names)}
    assert ADE20K.palette[ids["road"]].tolist() == ADE20K.palette[ids["skyscraper"]].tolist()
    pred = np.array([[ids["road"], ids["skyscraper"], ids["box"], ids["bottle"], ids["pot"],
                      ids["wall"]]])  # fmt: skip
    rows = {r["name"]: r for r in class_table(pred, np.ones(pred.shape), names, ADE20K.palette)}
    assert rows["road"]["look_alike"] == ["skyscraper"]
    assert rows["skyscraper"]["look_alike"] == ["road"]
    assert rows["box"]["look_alike"] == ["bottle"] and rows["bottle"]["look_alike"] == ["box"]
    assert rows["pot"]["look_alike"] == [] and rows["wall"]["look_alike"] == []
    # the exported page's legend says so after the name (the widget's viewer.js alike)
    from segpile_lab.viewer._render import _class_rows

    page = "".join(_class_rows(list(rows.values()), []))
    assert "road<span style='color:#666;font-size:11px'> &asymp; skyscraper</span>" in page
    assert "<td>pot</td>" in page


def test_cielab_matches_published_values():
    from segpile_lab.viewer._stats import cielab

    # sRGB → CIELAB (D65) reference values: white, black, pure red, pure blue
    lab = cielab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 0, 255]]))
    expected = [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]]
    assert lab == pytest.approx(np.array(expected), abs=0.05)


def test_delta_e94_by_hand():
    from segpile_lab.viewer._stats import delta_e94

    # greys: lightness alone (10); a chroma step of 10 at C* = 100 weighs 10 / (1 + 0.045·100)
    lab = np.array([[50.0, 0, 0], [60.0, 0, 0], [50.0, 100, 0], [50.0, 90, 0]])
    d = delta_e94(lab)
    assert d[0, 1] == pytest.approx(10.0) and d[1, 0] == pytest.approx(10.0)
    assert d[2, 3] == pytest.approx(10 / 5.5) and d[3, 2] == pytest.approx(10 / 5.5)
    assert np.diag(d) == pytest.approx(np.zeros(4))


def test_look_alikes_are_sought_among_the_largest_classes_only():
    # a busy untrained picture predicts ~100 classes: against all of them nearly every row
    # had a look-alike; only the legend's first LEGEND_ROWS rows are compared
    from segpile_lab.seg.ade20k import ADE20K
    from segpile_lab.viewer._stats import LEGEND_ROWS

    names = [ADE20K.id2label[i] for i in range(150)]
    road, skyscraper = names.index("road"), names.index("skyscraper")
    others = [i for i in range(13) if i != road][: LEGEND_ROWS - 2]  # 10 classes, 10 px each
    pred = np.array([road] * 20 + [i for i in others for _ in range(10)] + [skyscraper] * 5)
    rows = class_table(pred[None], np.ones((1, pred.size)), names, ADE20K.palette)
    assert [r["name"] for r in rows][LEGEND_ROWS - 1] == "skyscraper"  # the 12th row: compared
    assert "skyscraper" in rows[0]["look_alike"]
    pred = np.concatenate([pred[:-5], [12] * 6, [skyscraper] * 5])  # one class more above it
    rows = class_table(pred[None], np.ones((1, pred.size)), names, ADE20K.palette)
    assert [r["name"] for r in rows][LEGEND_ROWS] == "skyscraper"  # the 13th row: not shown
    assert rows[LEGEND_ROWS]["look_alike"] == [] and "skyscraper" not in rows[0]["look_alike"]
