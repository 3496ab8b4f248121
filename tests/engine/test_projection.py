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


def test_a_ray_run_projects_from_its_workers_own_seconds() -> None:
    # 100 MB in 30 s of wall time on 2 workers, 4 of them spent on the units themselves (summed
    # over workers): 25 MB/s per worker, not the 1.67 of the wall time
    run = sl.RunSummary(units=4, skipped=0, computed=4, invalidated=0, compute_seconds=4.0)
    table = sl.project_wall_time(100_000_000, 30.0, 2, 90_000_000_000, workers=(1, 8), run=run)
    assert table["mb_per_s_per_worker"].to_list() == [25.0, 25.0]
    assert table["hours"].to_list() == pytest.approx([1.0, 0.125])
    assert "own time" in table["basis"][0]
    wall = sl.project_wall_time(100_000_000, 30.0, 2, 90_000_000_000, workers=(1,))
    assert wall["mb_per_s_per_worker"][0] == pytest.approx(100 / 60) and "wall" in wall["basis"][0]
    resumed = sl.RunSummary(units=4, skipped=1, computed=3, invalidated=0, compute_seconds=3.0)
    with pytest.raises(ValueError, match="1 of its 4 units"):
        sl.project_wall_time(100_000_000, 30.0, 2, 90_000_000_000, run=resumed)


def test_pile_sizes_come_from_the_paper_table() -> None:
    # Σ effective sizes of Table 1 (data_manifests/pile_composition.csv): 1254.2 GiB
    assert sl.pile_bytes("train") == round(1254.2 * 2**30)
    assert sl.pile_bytes("test") == round(1254.2 * 2**30 * 0.001)
    with pytest.raises(ValueError, match="split"):
        sl.pile_bytes("val")


def test_every_row_of_the_projection_reads_in_its_own_unit() -> None:
    # 04's case: the test split (~1.3 GiB) at ~1 MB/s per worker; hours with one decimal
    # wrote "0.0 hours" for 128 and 512 workers
    table = sl.project_wall_time(1_000_000, 1.0, 1, sl.pile_bytes("test"))
    assert table["wall_time"].to_list() == ["22 minutes", "2.8 minutes", "42 s", "11 s", "2.6 s"]
    assert table["hours"][0] == pytest.approx(sl.pile_bytes("test") / 1e6 / 3600)
    # 01's case: the training set at 16 kB/s per worker
    table = sl.project_wall_time(16_400, 1.0, 1, sl.pile_bytes("train"))
    assert table["wall_time"].to_list() == [
        "2.6 years", "119 days", "30 days", "7.4 days", "45 hours"]  # fmt: skip


def test_readable_duration_switches_units_where_numbers_grow_long() -> None:
    from segpile_lab.distributed.projection import readable_duration

    cases = {0.25: "0.2 s", 45: "45 s", 90: "1.5 minutes", 5399: "90 minutes",
             5400: "1.5 hours", 47 * 3600: "47 hours", 48 * 3600: "2.0 days",
             729 * 86400: "729 days", 730 * 86400: "2.0 years"}  # fmt: skip
    assert {s: readable_duration(s) for s in cases} == cases
    with pytest.raises(ValueError, match="seconds"):
        readable_duration(float("nan"))
