"""The Pile audit's streaming pass on Ray: one unit per shard file, merged exactly.

A unit reads one shard with `read_pile` and returns what the in-process audit gathers in its
single pass: the composition (`CompositionStats`), the exact-duplicate counts
(`ExactDuplicates`, one row per subset and distinct text), the `LoadReport` and the shard's
part of the sample (its bottom-k rows per subset, or all its rows without a sample). The driver
merges them into exactly what one process reading every shard would hold: counts add, the
load reports join in file order (the same first examples), and the global bottom-k sample is
the bottom-k of the shards' bottom-k samples (the keys depend on file name, line and seed
only). `audit_pile` then runs the text audits on the merged sample as it always does.

Driver memory: the sample (≤ k rows per subset, or every document without `sample_per_subset`,
as in-process), the exact-duplicate table (~40 bytes per distinct document: the statistic
itself), one `FileReport` per shard with ≤ 3 examples per reason, and one unit's result at a
time. Workers hold one shard's reader (bounded chunks) plus that shard's sample and hashes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from segpile_lab.distributed._ray import cluster_slots, connect
from segpile_lab.distributed.engine import MAX_RETRIES, RunSummary, run_units
from segpile_lab.distributed.run_folder import Encoded, Unit, file_identity, open_run_folder
from segpile_lab.errors import DamagedFileWarning, SegpileError
from segpile_lab.pile._sampling import SubsetReservoir
from segpile_lab.pile.composition import CompositionStats
from segpile_lab.pile.dedup import ExactDuplicates
from segpile_lab.pile.load_report import LoadReport

__all__ = ["audit_unit", "audit_units", "read_shards_on_ray"]

PathLike = str | os.PathLike[str]
UNIT_VERSION = "pile-audit-shard/1"  # change when a unit's result changes meaning


def audit_units(files: Sequence[Path], params: dict[str, Any]) -> list[Unit]:
    """One unit per shard file; `params` (sample_per_subset, seed, strict) join its identity."""
    units = []
    for path in files:
        identity = {"unit": UNIT_VERSION, **file_identity(path), "params": params}
        payload = {"path": str(path), **params}
        units.append(Unit(str(path.resolve()), identity, identity["size"], payload))
    return units


def audit_unit(payload: dict[str, Any]) -> Encoded:
    """Read one shard (runs in a Ray worker): composition, duplicate counts, report, sample."""
    from segpile_lab.pile.reader import read_pile

    stats, duplicates = CompositionStats(), ExactDuplicates()

    def count_every_document(frame: pl.DataFrame) -> None:
        stats.update(frame)
        duplicates.update(frame)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)  # the driver warns, once, in order
        sample, report = read_pile(
            payload["path"],
            sample_per_subset=payload["sample_per_subset"],
            seed=payload["seed"],
            strict=payload["strict"],
            progress=False,
            with_report=True,
            on_frame=count_every_document,
        )
    counts, synthetic = duplicates.to_counts()
    meta = {"report": report.to_dict(), "composition": stats.to_dict(), "synthetic": synthetic}
    return Encoded(meta, {"sample": sample, "duplicates": counts})


class AuditMerge:
    """Folds unit results into the state of one in-process pass (see the module docstring)."""

    def __init__(self, n_units: int, sample_per_subset: int | None, seed: int) -> None:
        self.stats, self.duplicates = CompositionStats(), ExactDuplicates()
        self.reservoir = (
            None if sample_per_subset is None else SubsetReservoir(sample_per_subset, seed)
        )
        self.reports: list[LoadReport | None] = [None] * n_units
        self.frames: list[pl.DataFrame | None] = [None] * n_units

    def add(self, index: int, result: Encoded) -> None:
        self.stats.merge(CompositionStats.from_dict(result.meta["composition"]))
        self.duplicates.merge(
            ExactDuplicates.from_counts(result.frames["duplicates"], result.meta["synthetic"])
        )
        self.reports[index] = LoadReport.from_dict(result.meta["report"])
        if self.reservoir is not None:
            self.reservoir.add(result.frames["sample"], index)
        else:
            self.frames[index] = result.frames["sample"]

    def result(
        self, strict: bool, sample_per_subset: int | None
    ) -> tuple[pl.DataFrame, LoadReport]:
        report = LoadReport(strict=strict, sample_per_subset=sample_per_subset)
        for part in self.reports:
            assert part is not None, "every unit reports before the merge ends"
            report.merge(part)
        if self.reservoir is not None:
            df = self.reservoir.result()
        else:
            parts = [f for f in self.frames if f is not None and f.height]
            df = pl.concat(parts, rechunk=False) if parts else None
        if df is None:
            from segpile_lab.pile._parse import empty_frame

            df = empty_frame()
        report.rows_returned = df.height
        for file in report.files:
            if file.error and not file.ended_cleanly:
                warnings.warn(
                    DamagedFileWarning(f"{file.error}; kept the {file.rows:,} rows read before it"),
                    stacklevel=3,
                )
        return df, report


def read_shards_on_ray(
    paths: PathLike | Sequence[PathLike],
    *,
    run_dir: PathLike | None,
    address: str | None = None,
    sample_per_subset: int | None = None,
    seed: int = 0,
    strict: bool = False,
    limit: int | None = None,
    progress: bool | None = None,
) -> tuple[pl.DataFrame, LoadReport, CompositionStats, ExactDuplicates, RunSummary]:
    """The audit's single pass over every shard, one Ray task per shard, merged exactly.

    Returns what `audit_pile`'s in-process pass gathers: the (sampled) frame, the load report,
    the composition and the exact-duplicate counts, plus the run's `RunSummary`. `run_dir`
    keeps each shard's result (None: a temporary folder, nothing to resume).
    """
    from segpile_lab.pile.reader import expand_paths

    if limit is not None:
        raise SegpileError(
            "limit= reads the first N documents in file order, which does not split into "
            "shard units; with engine='ray' use sample_per_subset= or fewer files"
        )
    files = expand_paths(paths)
    params = {"sample_per_subset": sample_per_subset, "seed": seed, "strict": strict}
    units = audit_units(files, params)
    ray = connect(address)
    task = ray.remote(audit_unit).options(
        num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False,
        runtime_env={"env_vars": {"POLARS_MAX_THREADS": "1"}},
    )  # fmt: skip
    merge = AuditMerge(len(units), sample_per_subset, seed)
    with open_run_folder(run_dir) as folder:
        summary = run_units(
            units,
            lambda payload, _slot: task.remote(payload),
            folder=folder,
            on_result=merge.add,
            slots=2 * cluster_slots(ray, "CPU"),
            desc="Pile audit (ray)",
            progress=progress,
        )
    df, report = merge.result(strict, sample_per_subset)
    return df, report, merge.stats, merge.duplicates, summary
