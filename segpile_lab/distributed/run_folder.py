"""A run folder: one sub-folder per completed unit, written atomically, checked on reuse.

Layout: ``<run_dir>/units/<key>/`` holds the unit's result, ``meta.json`` (JSON values) and one
Parquet file per frame, plus ``done.json`` with the unit's identity (its input's path, size and
modification time or checksum, and every parameter that changes the result). A unit folder is
built under a temporary name and renamed into place, so a folder with its final name is always
complete, whatever kill or Ctrl-C came before. On a rerun a unit whose ``done.json`` holds the
same identity is loaded instead of computed; a different identity (a changed file, other
parameters) makes the unit run again and replaces the folder. Nothing here is pickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

__all__ = ["Encoded", "RunFolder", "Unit", "file_identity", "open_run_folder"]

DONE = "done.json"
META = "meta.json"


@dataclass
class Encoded:
    """A unit's result in storable form: JSON values and named Polars frames."""

    meta: dict[str, Any]
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass
class Unit:
    """One piece of work: `key` names it in the run folder, `identity` says when a stored result
    is still valid, `size` (bytes) drives the progress bar, `payload` goes to the worker."""

    key: str
    identity: dict[str, Any]
    size: int
    payload: Any


def file_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A file's path (absolute), size and modification time in nanoseconds."""
    stat = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _folder_name(key: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(key).name)[:60]
    return f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class RunFolder:
    """The unit results of one run (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.units = self.path / "units"

    def _dir(self, unit: Unit) -> Path:
        return self.units / _folder_name(unit.key)

    def status(self, unit: Unit) -> Literal["done", "stale", "missing"]:
        """``done`` (stored with this identity), ``stale`` (stored with another) or ``missing``."""
        marker = self._dir(unit) / DONE
        if not marker.is_file():
            return "missing"
        try:
            stored = json.loads(marker.read_text())
        except (OSError, ValueError):
            return "stale"
        return "done" if stored == _canonical(unit.identity) else "stale"

    def save(self, unit: Unit, result: Encoded) -> None:
        """Store `result` for `unit` atomically (temporary folder, then one rename)."""
        self.units.mkdir(parents=True, exist_ok=True)
        final = self._dir(unit)
        tmp = self.units / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            (tmp / META).write_text(json.dumps(result.meta))
            for name, frame in result.frames.items():
                frame.write_parquet(tmp / f"{name}.parquet")
            (tmp / DONE).write_text(json.dumps(_canonical(unit.identity)))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def load(self, unit: Unit) -> Encoded:
        """The stored result of a ``done`` unit."""
        folder = self._dir(unit)
        frames = {p.stem: pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
        return Encoded(json.loads((folder / META).read_text()), frames)


def _canonical(identity: dict[str, Any]) -> Any:
    """`identity` as JSON gives it back (tuples → lists), so a stored one compares equal."""
    return json.loads(json.dumps(identity, sort_keys=True))


@contextmanager
def open_run_folder(path: str | os.PathLike[str] | None) -> Iterator[RunFolder]:
    """`RunFolder` at `path`; None: a temporary one, removed afterwards (nothing to resume)."""
    if path is not None:
        yield RunFolder(path)
        return
    with tempfile.TemporaryDirectory(prefix="segpile-run-") as tmp:
        yield RunFolder(tmp)
