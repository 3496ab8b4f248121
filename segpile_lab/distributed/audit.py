"""The Pile audit's streaming pass on Ray: one unit per shard file, merged exactly.

A unit reads one shard with `read_pile` and stores (from its worker, in the run folder) what
the in-process audit gathers in its single pass: the composition (`CompositionStats`), the
exact-duplicate counts (`ExactDuplicates`, one row per subset and distinct text), the
`LoadReport` and the shard's part of the sample (its bottom-k rows per subset, or all its rows
without a sample). The driver merges them into exactly what one process reading every shard
would hold: counts add, the load reports join in file order (the same first examples), and the
global bottom-k sample is the bottom-k of the shards' bottom-k samples (the keys depend on file
name, line and seed only). The driver folds each shard's sample into its reservoir as the shard
arrives, while the workers read the next shards, so nothing is left to read once the last
shard is in. `audit_pile` then runs the text audits on the merged sample as it always does.

Driver memory: the sample (≤ k rows per subset, or every document without `sample_per_subset`,
as in-process), the exact-duplicate table (~40 bytes per distinct document: the statistic
itself), one `FileReport` per shard with ≤ 3 examples per reason, and one shard's sample (≤ k
rows per subset) and duplicate table at a time. Workers hold one shard's reader (bounded
chunks) plus that shard's sample and hashes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from segpile_lab import errors
from segpile_lab._cpus import apply_cpu_budget
from segpile_lab.distributed._ray import cluster_slots, connect, worker_options
from segpile_lab.distributed.engine import MAX_RETRIES, RunSummary, compute_and_keep, run_units
from segpile_lab.distributed.run_folder import Encoded, Stored, Unit, file_identity, open_run_folder
from segpile_lab.errors import SegpileWarning
from segpile_lab.pile._paths import InputFile
from segpile_lab.pile._sampling import SubsetReservoir
from segpile_lab.pile.composition import CompositionStats
from segpile_lab.pile.dedup import ExactDuplicates
from segpile_lab.pile.load_report import LoadReport
from segpile_lab.pile.pii import merge_pii_counts, pii_counts
from segpile_lab.pile.quality import quality_signals

__all__ = ["audit_unit", "audit_units", "read_shards_on_ray"]

PathLike = str | os.PathLike[str]
UNIT_VERSION = "pile-audit-shard/1"  # change when a unit's result changes meaning


def audit_units(files: Sequence[InputFile], params: dict[str, Any]) -> list[Unit]:
    """One unit per shard file; its ``source`` name and `params` (sample_per_subset, seed,
    strict) join its identity."""
    units = []
    for file in files:
        identity = {
            "unit": UNIT_VERSION, **file_identity(file.path), "source": file.source,
            "params": params,
        }  # fmt: skip
        payload = {"file": [str(file.path), file.source, file.format], **params}
        units.append(Unit(str(file.path.resolve()), identity, identity["size"], payload))
    return units


def audit_unit(payload: dict[str, Any]) -> Encoded:
    """Read one shard (runs in a Ray worker): composition, duplicate counts, report, sample,
    and the warnings reading it gave (the driver gives them again, in file order)."""
    from segpile_lab.pile.reader import read_pile

    apply_cpu_budget()
    path, source, fmt = payload["file"]

    stats, duplicates = CompositionStats(), ExactDuplicates()
    quality: list[pl.DataFrame] = []  # without a sample: the text audits of every document
    pii: list[pl.DataFrame] = []

    def count_every_document(frame: pl.DataFrame) -> None:
        stats.update(frame)
        duplicates.update(frame)
        if payload["sample_per_subset"] is None:
            quality.append(quality_signals(frame))
            pii.append(pii_counts(frame))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SegpileWarning)
        sample, report = read_pile(
            [InputFile(Path(path), source, fmt)],
            sample_per_subset=payload["sample_per_subset"],
            seed=payload["seed"],
            strict=payload["strict"],
            progress=False,
            with_report=True,
            on_frame=count_every_document,
        )
    counts, synthetic = duplicates.to_counts()
    said = [[w.category.__name__, str(w.message)] for w in caught
            if issubclass(w.category, SegpileWarning)]  # fmt: skip
    meta = {
        "report": report.to_dict(), "composition": stats.to_dict(), "synthetic": synthetic,
        "warnings": said,
    }  # fmt: skip
    frames = {"sample": sample, "duplicates": counts}
    if quality and sum(part.height for part in quality) == sample.height:  # no rows dropped
        frames |= {"quality": pl.concat(quality), "pii": merge_pii_counts(pii)}
    return Encoded(meta, frames)


@dataclass
class ShardPass:
    """What the single pass over every shard gathered, as `audit_pile`'s in-process pass does:
    the (sampled) frame, its load report, the composition and exact-duplicate counts, without
    a sample each shard's quality signals and PII counts (empty lists otherwise), and the run's
    `RunSummary`."""

    frame: pl.DataFrame
    report: LoadReport
    stats: CompositionStats
    duplicates: ExactDuplicates
    quality: list[pl.DataFrame]
    pii: list[pl.DataFrame]
    summary: RunSummary


class AuditMerge:
    """Folds stored unit results into the state of one in-process pass (see the module
    docstring)."""

    def __init__(self, n_units: int, sample_per_subset: int | None, seed: int) -> None:
        self.warnings: list[list[list[str]]] = [[] for _ in range(n_units)]
        self.stats, self.duplicates = CompositionStats(), ExactDuplicates()
        self.reservoir = (
            None if sample_per_subset is None else SubsetReservoir(sample_per_subset, seed)
        )
        self.reports: list[LoadReport | None] = [None] * n_units
        self.frames: list[pl.DataFrame | None] = [None] * n_units
        self.quality: list[pl.DataFrame | None] = [None] * n_units
        self.pii: list[pl.DataFrame | None] = [None] * n_units

    def add(self, index: int, result: Stored) -> None:
        self.stats.merge(CompositionStats.from_dict(result.meta["composition"]))
        self.duplicates.merge(
            ExactDuplicates.from_counts(result.read("duplicates"), result.meta["synthetic"])
        )
        self.reports[index] = LoadReport.from_dict(result.meta["report"])
        self.warnings[index] = result.meta["warnings"]
        if self.reservoir is not None:
            self.reservoir.add(result.read("sample"), index)
        else:
            self.frames[index] = result.read("sample")
            if result.has("quality"):
                self.quality[index], self.pii[index] = result.read("quality"), result.read("pii")

    def text_audits(self) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
        """Without a sample: every shard's quality signals (one row per document) and PII
        counts, in file order; empty when any shard lacks them (the caller then computes them
        on the merged frame)."""
        if any(q is None for q in self.quality):
            return [], []
        return list(self.quality), list(self.pii)  # type: ignore[arg-type]

    def result(self, report: LoadReport) -> tuple[pl.DataFrame, LoadReport]:
        """The frame and the load report of the whole pass; `report` holds what the inputs'
        expansion found (unread, duplicate and ignored paths) and receives every shard's."""
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
        for name, message in (w for said in self.warnings for w in said):
            warnings.warn(getattr(errors, name, SegpileWarning)(message), stacklevel=3)
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
) -> ShardPass:
    """The audit's single pass over every shard, one Ray task per shard, merged exactly.

    Returns what `audit_pile`'s in-process pass gathers (`ShardPass`). `run_dir`
    keeps each shard's result (None: a temporary folder, nothing to resume).
    """
    from segpile_lab.pile.reader import _PileReader

    if limit is not None:
        raise ValueError(
            "limit= reads the first N documents in file order, which does not split into "
            "shard units; with engine='ray' use sample_per_subset= or fewer files"
        )
    # the reader's own set-up expands the inputs and reports (or, strict, raises on) entries
    # that cannot be read, exactly as in-process; nothing is read here
    inputs = _PileReader(paths, subsets=None, strict=strict, unicode_errors="skip",
                         progress=False, verify=False)  # fmt: skip
    inputs.report.sample_per_subset = sample_per_subset
    params = {"sample_per_subset": sample_per_subset, "seed": seed, "strict": strict}
    units = audit_units(inputs.files, params)
    ray = connect(address)
    task = ray.remote(compute_and_keep).options(
        **worker_options(1, max_retries=MAX_RETRIES, retry_exceptions=False)
    )
    merge = AuditMerge(len(units), sample_per_subset, seed)
    with open_run_folder(run_dir) as folder:
        summary = run_units(
            units,
            lambda unit, handle, _slot: task.remote(audit_unit, unit, handle),
            folder=folder,
            on_result=merge.add,
            slots=2 * cluster_slots(ray, "CPU"),
            desc="Pile audit (ray)",
            progress=progress,
        )
    df, report = merge.result(inputs.report)
    return ShardPass(df, report, merge.stats, merge.duplicates, *merge.text_audits(), summary)
