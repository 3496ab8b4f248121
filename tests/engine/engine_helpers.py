"""Helpers of the engine tests: a damaged shard, and unit tasks that fail on purpose.

Ray workers cannot import this folder, so the tests register this module with cloudpickle to
ship its functions by value.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import polars as pl
import zstandard

from segpile_lab.distributed.audit import audit_unit
from segpile_lab.distributed.run_folder import Encoded, FolderHandle, Unit


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
