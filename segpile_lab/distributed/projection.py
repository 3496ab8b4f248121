"""Projected wall time of a whole-Pile run on N workers, from the throughput of a measured run.

A projection, not a measurement: it assumes every worker keeps the measured per-worker rate
(perfect scaling, no start-up, storage that keeps up); from a Ray run, that rate leaves out the
start-up that a short run is mostly made of (`RunSummary.compute_seconds`). The corpus sizes
come from The Pile paper's composition table (`published_composition`): the training set is the
sum of the effective (epoch-weighted) sizes, and the test split is 0.1 % of it, as the paper
splits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # an annotation only: no import at run time
    from segpile_lab.distributed.engine import RunSummary

__all__ = ["pile_bytes", "project_wall_time", "readable_duration"]

GIB = 1 << 30
TEST_SHARE = 0.001  # the paper's validation and test splits: 0.1 % of the data each
# (unit, seconds in it, largest value written in it): each duration in the first unit it fits
_UNITS = (
    ("s", 1.0, 90.0),
    ("minutes", 60.0, 90.0),
    ("hours", 3600.0, 48.0),
    ("days", 86400.0, 730.0),
    ("years", 365.25 * 86400.0, float("inf")),
)


def readable_duration(seconds: float) -> str:
    """`seconds` in the unit that keeps it readable: ``"45 s"``, ``"12 minutes"``,
    ``"7.4 hours"``, ``"118 days"``, ``"2.6 years"`` (two or three significant digits)."""
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"a duration is a finite number of seconds ≥ 0, got {seconds!r}")
    unit, value = next((u, seconds / size) for u, size, most in _UNITS if seconds / size < most)
    text = f"{value:,.1f}" if value < 10 else f"{value:,.0f}"
    return f"{text} {unit}"


def pile_bytes(split: str = "train") -> int:
    """Uncompressed bytes of The Pile's ``"train"`` set or its ``"test"`` split (see above)."""
    from segpile_lab.pile.manifests import published_composition

    train = float(published_composition()["effective_size_gib"].sum()) * GIB
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return round(train if split == "train" else train * TEST_SHARE)


def project_wall_time(
    measured_bytes: int,
    seconds: float,
    workers_used: int,
    corpus_bytes: int,
    workers: Sequence[int] = (1, 8, 32, 128, 512),
    *,
    run: RunSummary | None = None,
) -> pl.DataFrame:
    """One row per worker count: ``workers``, ``hours`` and ``days`` to process
    `corpus_bytes` at the per-worker rate measured (`measured_bytes` in `seconds` on
    `workers_used` workers), the same time as a reader reads it in ``wall_time``
    (`readable_duration`: seconds to years, whichever each row needs), the rate in
    ``mb_per_s_per_worker`` and its ``basis``.

    With `run`, the `RunSummary` of the Ray run that processed `measured_bytes`, the rate is
    `measured_bytes` over the workers' own seconds (`RunSummary.compute_seconds`): a short
    run's wall time is mostly start-up (processes, imports, loading a model) and the driver's
    merge, which a whole-corpus run pays once. A run that skipped stored units measured only
    part of `measured_bytes` and is refused (ValueError)."""
    if measured_bytes <= 0 or seconds <= 0 or workers_used < 1:
        raise ValueError("a projection needs a measured run: bytes > 0, seconds > 0, workers ≥ 1")
    if run is not None and run.skipped:
        raise ValueError(
            f"the run loaded {run.skipped} of its {run.units} units from its run folder, so its "
            "workers' seconds cover only part of the bytes measured: project from a fresh run"
        )
    if run is not None and run.compute_seconds > 0:
        rate = measured_bytes / run.compute_seconds
        basis = "the workers' own time on the units (start-up and merge excluded)"
    else:
        rate = measured_bytes / seconds / workers_used
        basis = "the wall time of the run, start-up included"
    wall = [corpus_bytes / (rate * n) for n in workers]
    return pl.DataFrame(
        {
            "workers": list(workers),
            "hours": [s / 3600 for s in wall],
            "days": [s / 86400 for s in wall],
            "wall_time": [readable_duration(s) for s in wall],
            "mb_per_s_per_worker": [rate / 1e6] * len(workers),
            "basis": [basis] * len(workers),
        }
    )
