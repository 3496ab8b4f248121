"""The whole-Pile projection: hand-computed cases."""

from __future__ import annotations

import pytest

import segpile_lab as sl


def test_projection_scales_the_measured_rate_per_worker() -> None:
    # 100 MB in 2 s on 2 workers = 25 MB/s per worker; 90 GB at 25 MB/s = 3600 s on one
    table = sl.project_wall_time(100_000_000, 2.0, 2, 90_000_000_000, workers=(1, 8))
    assert table["hours"].to_list() == pytest.approx([1.0, 0.125])
    assert table["days"].to_list() == pytest.approx([1 / 24, 0.125 / 24])
    assert table["mb_per_s_per_worker"].to_list() == [25.0, 25.0]
    with pytest.raises(ValueError, match="measured run"):
        sl.project_wall_time(0, 2.0, 1, 10)


def test_pile_sizes_come_from_the_paper_table() -> None:
    # Σ effective sizes of Table 1 (data_manifests/pile_composition.csv): 1254.2 GiB
    assert sl.pile_bytes("train") == round(1254.2 * 2**30)
    assert sl.pile_bytes("test") == round(1254.2 * 2**30 * 0.001)
    with pytest.raises(ValueError, match="split"):
        sl.pile_bytes("val")
