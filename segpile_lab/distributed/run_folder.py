"""A run folder: one sub-folder per completed unit, written atomically, checked on reuse.

Layout: ``<run_dir>/units/<key>/`` holds the unit's result, ``meta.json`` (JSON values) and one
Parquet file per frame (uncompressed, in row groups of about `ROW_GROUP_BYTES`: in a probe by hand,
zstd, lz4 and snappy each took longer to write a shard's 30 MB sample than no compression, and so
did one row group, Polars' default up to 262,144 rows, on ext4; that matters when a shard's sample
is a large part of the shard, and `bench_ray.py` measures the pass as a whole), plus ``done.json``
with the unit's identity (its input's path, size and modification time or checksum, and every
parameter that changes the result). A unit folder is built under a temporary name and renamed into
place (a stale one is renamed away first), so a folder with its final name is always complete,
whatever kill or Ctrl-C came before; the temporary folders a killed writer leaves are removed when
the next run starts. On a rerun a unit whose ``done.json`` holds the same identity is loaded
instead of computed; a different identity (a changed file, other parameters) makes the unit run
again and replaces the folder. Nothing here is pickled.

Who writes: the worker that computed the unit, when it sees the run folder (`FolderHandle.keep`:
the driver writes a fresh token into ``driver.json`` and a worker that reads the same token
writes the unit itself, then returns None); otherwise (a cluster node without the driver's
storage) the worker returns the result and the driver writes it. Either way the driver reads
results back from the folder (`Stored`), only the parts it needs.
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

__all__ = [
    "Encoded", "FolderHandle", "RunFolder", "Stored", "Unit", "file_identity", "open_run_folder",
]  # fmt: skip

DONE = "done.json"
META = "meta.json"
DRIVER = "driver.json"  # the token of the driver now using the folder
_PARTIAL = (".tmp-", ".old-")  # prefixes of a unit folder being written or replaced
ROW_GROUP_BYTES = 8 * 2**20


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


@dataclass
class Stored:
    """A stored unit's result, read on demand: `meta` (JSON values) now, frames when asked."""

    meta: dict[str, Any]
    folder: Path

    def read(self, name: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The frame `name` (only `columns`, if given)."""
        return pl.read_parquet(self.folder / f"{name}.parquet", columns=columns)

    def has(self, name: str) -> bool:
        """Whether the frame `name` was stored."""
        return (self.folder / f"{name}.parquet").is_file()


@dataclass(frozen=True)
class FolderHandle:
    """What a worker needs to store a unit in the driver's run folder: its path and the token
    the driver wrote there (small, picklable)."""

    path: str
    token: str

    def visible(self) -> bool:
        """True when this process sees the driver's run folder (same token in it)."""
        try:
            return json.loads((Path(self.path) / DRIVER).read_text()) == {"token": self.token}
        except (OSError, ValueError):
            return False

    def keep(self, unit: Unit, result: Encoded) -> Encoded | None:
        """Run in a worker: store `result` for `unit` when the run folder is visible here and
        return None; otherwise return `result` for the driver to store."""
        if not self.visible():
            return result
        RunFolder(self.path).save(unit, result)
        return None


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
        """Store `result` for `unit` atomically (temporary folder, then one rename; a stored
        folder it replaces is first renamed away, so the final name never holds a part)."""
        self.units.mkdir(parents=True, exist_ok=True)
        final = self._dir(unit)
        tag = f"{final.name}-{uuid.uuid4().hex[:8]}"
        tmp, old = self.units / f".tmp-{tag}", self.units / f".old-{tag}"
        tmp.mkdir()
        try:
            (tmp / META).write_text(json.dumps(result.meta))
            for name, frame in result.frames.items():
                frame.write_parquet(tmp / f"{name}.parquet", compression="uncompressed",
                                    row_group_size=_row_group_rows(frame))  # fmt: skip
            (tmp / DONE).write_text(json.dumps(_canonical(unit.identity)))
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

    def load(self, unit: Unit) -> Stored:
        """The stored result of a ``done`` unit (its frames are read when asked for)."""
        folder = self._dir(unit)
        return Stored(json.loads((folder / META).read_text()), folder)

    def handle(self) -> FolderHandle:
        """Start a run: drop what killed writers left (temporary and replaced unit folders),
        write a fresh token and return the handle that lets workers store units here."""
        self.units.mkdir(parents=True, exist_ok=True)
        for path in self.units.iterdir():
            if path.name.startswith(_PARTIAL):
                shutil.rmtree(path, ignore_errors=True)
        token = uuid.uuid4().hex
        (self.path / DRIVER).write_text(json.dumps({"token": token}))
        return FolderHandle(str(self.path.resolve()), token)


def _row_group_rows(frame: pl.DataFrame) -> int:
    """Rows per Parquet row group for about `ROW_GROUP_BYTES` of `frame`."""
    per_row = frame.estimated_size() / max(1, frame.height)
    return max(1, int(ROW_GROUP_BYTES / max(per_row, 1.0)))


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
