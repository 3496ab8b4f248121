"""Helpers of the engine tests: audits compared value for value, a damaged shard, unit tasks
that fail on purpose, and a BPB scorer that says where it ran.

Ray workers cannot import this folder, so the tests register this module with cloudpickle to
ship its functions by value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
import zstandard

import segpile_lab as sl
from segpile_lab.bpb.scores import DocumentScores
from segpile_lab.distributed.audit import audit_unit
from segpile_lab.distributed.run_folder import Encoded, FolderHandle, Unit

FRAMES = ("frame", "composition", "duplicates", "near_duplicate_pairs", "near_duplicates",
          "pii", "quality")  # fmt: skip


def assert_same_audit(a: sl.PileAudit, b: sl.PileAudit) -> None:
    """Every frame equal value for value (dtypes and row order included), same load report
    and the same JSON summary."""
    for name in FRAMES:
        left, right = getattr(a, name), getattr(b, name)
        assert left.equals(right), f"{name} differs:\n{left}\n{right}"
    assert a.load_report.to_dict() == b.load_report.to_dict()
    assert a.summary() == b.summary()


def corrupt_shard(path: Path) -> None:
    """Rewrite `path` as two zstd frames, the second with a flipped byte: a corrupt stream
    after the first half of the lines (as in tests/pile/test_containers.py)."""
    lines = zstandard.decompress(path.read_bytes(), max_output_size=1 << 30).splitlines(True)
    half = len(lines) // 2
    second = bytearray(zstandard.compress(b"".join(lines[half:]), level=3))
    second[len(second) // 2] ^= 0xFF
    path.write_bytes(zstandard.compress(b"".join(lines[:half]), level=3) + bytes(second))


def dies_while_storing(unit: Unit, handle: FolderHandle, marks: str) -> Encoded | None:
    """`audit_unit` stored by its worker, but the first time each shard runs the worker process
    dies (``os._exit``) in the middle of storing it: after its first Parquet file is written
    into the unit's temporary folder, before the folder is renamed into place."""
    result = audit_unit(unit.payload)
    mark = Path(marks) / (unit.payload["file"][1] + ".died")
    if not mark.exists():
        mark.touch()
        write = pl.DataFrame.write_parquet

        def write_then_die(frame: pl.DataFrame, *args: Any, **kwargs: Any) -> None:
            write(frame, *args, **kwargs)
            os._exit(1)

        pl.DataFrame.write_parquet = write_then_die  # type: ignore[method-assign]
    return handle.keep(unit, result)


def slow_after_first(unit: Unit, handle: FolderHandle) -> Encoded | None:
    """`audit_unit` stored by its worker, except that every shard but ``00`` first waits a
    minute (to be interrupted)."""
    result = audit_unit(unit.payload)
    if not unit.payload["file"][1].startswith("00"):
        time.sleep(60)
    return handle.keep(unit, result)


class WitnessScorer:
    """A model-free scorer (NLL = 0.5 nats per byte) that appends to ``log`` one line per
    event, ``"<event> <pid> <CUDA_VISIBLE_DEVICES>"``: ``load`` when it is unpickled (once per
    Ray actor), ``score`` for each batch. A text containing ``"boom"`` raises `DataError`; one
    containing ``"slow"`` waits while the file ``hold`` exists; the first batch with a text
    containing ``"die"`` ends its process (``os._exit``) half-way. `device` makes it ask for GPUs
    (``torch.device("cuda")`` needs no GPU to exist)."""

    is_trained = True
    description = "0.5 nats per byte, for the engine tests"

    def __init__(self, log: Path, *, device: str = "cpu", hold: Path | None = None) -> None:
        self.name, self.log, self.hold = "witness", log, hold
        self.device = torch.device(device)

    def _note(self, event: str) -> None:
        with open(self.log, "a") as out:
            out.write(f"{event} {os.getpid()} {os.environ.get('CUDA_VISIBLE_DEVICES', '-')}\n")

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._note("load")

    def score(self, texts: Sequence[str], *, progress: bool | None = None) -> DocumentScores:
        from segpile_lab.errors import DataError

        self._note("score")
        if any("boom" in text for text in texts):
            raise DataError("a document says boom")
        died = self.log.with_suffix(".died")
        if any("die" in text for text in texts) and not died.exists():
            died.touch()
            os._exit(1)
        while self.hold is not None and self.hold.exists() and any("slow" in t for t in texts):
            time.sleep(0.1)
        return DocumentScores(np.array([0.5 * len(t.encode("utf-8")) for t in texts]))

    def events(self) -> list[tuple[str, int, str]]:
        """The log's lines as (event, pid, CUDA_VISIBLE_DEVICES)."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [(event, int(pid), gpu) for event, pid, gpu in map(str.split, lines)]
