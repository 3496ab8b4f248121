"""Helpers of the engine tests: a damaged shard, and unit functions that fail on purpose.

Ray workers cannot import this folder, so the tests register this module with cloudpickle to
ship its functions by value.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import zstandard

from segpile_lab.distributed.audit import audit_unit
from segpile_lab.distributed.run_folder import Encoded


def corrupt_shard(path: Path) -> None:
    """Rewrite `path` as two zstd frames, the second with a flipped byte: a corrupt stream
    after the first half of the lines (as in tests/pile/test_containers.py)."""
    lines = zstandard.decompress(path.read_bytes(), max_output_size=1 << 30).splitlines(True)
    half = len(lines) // 2
    second = bytearray(zstandard.compress(b"".join(lines[half:]), level=3))
    second[len(second) // 2] ^= 0xFF
    path.write_bytes(zstandard.compress(b"".join(lines[:half]), level=3) + bytes(second))


def dies_first_time(payload: dict[str, Any], marks: str) -> Encoded:
    """`audit_unit`, but the worker process dies (``os._exit``) the first time each shard is
    read, halfway through: after reading it, before returning its result."""
    result = audit_unit(payload)
    mark = Path(marks) / (payload["file"][1] + ".died")
    if not mark.exists():
        mark.touch()
        os._exit(1)
    return result


def slow_after_first(payload: dict[str, Any]) -> Encoded:
    """`audit_unit`, except that every shard but ``00`` then waits a minute (to be interrupted)."""
    result = audit_unit(payload)
    if not payload["file"][1].startswith("00"):
        time.sleep(60)
    return result
