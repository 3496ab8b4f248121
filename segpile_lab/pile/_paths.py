"""The reader's inputs: files, folders and globs → the files to read, with nothing dropped
without a word.

* A folder contributes every file below it (symbolic links to folders followed, each real
  folder once; hidden folders such as ``.git`` and ``.dvc`` listed as ignored, not walked)
  whose name looks like a shard, in any letter case: ``.jsonl`` or ``.ndjson``, optionally
  followed by ``.zst``/``.zstd``/``.gz``/``.bz2``/``.xz``, or any name ending in one of those
  compression suffixes. Other names are listed in the load report as ignored.
* A glob contributes every file it matches (the pattern chose them) and walks the folders it
  matches as above.
* An entry that cannot be read at all — a folder that cannot be listed, a dangling link (a
  git-annex or DVC pointer whose data was never fetched), a DVC ``.dvc`` file without its
  data, a file without read permission, a pointer file or another format — is a *problem*:
  the reader reports it (lenient) or raises (strict). A file named explicitly raises in both
  modes.
* A file's identity is the file itself (device and inode): given twice, through two paths or a
  link, it is read once and the duplicate is reported. Its ``source`` name is its path relative
  to the folder that holds all inputs (the base name when there is one folder), so files with
  the same name in different folders stay apart.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from segpile_lab.errors import ArchiveError, DataError
from segpile_lab.pile.containers import Format, sniff_format

__all__ = [
    "Expansion",
    "InputFile",
    "PathsLike",
    "display_path",
    "expand_paths",
    "looks_like_shard",
]

#: What the readers take: a path, or several (an `InputFile` is one unit of a distributed run).
PathsLike = str | os.PathLike[str] | Iterable["str | os.PathLike[str] | InputFile"]

_COMPRESSED = ("", ".zst", ".zstd", ".gz", ".bz2", ".xz")
#: Name endings (lower case) that a folder contributes.
SHARD_SUFFIXES = (
    tuple(base + extra for base in (".jsonl", ".ndjson") for extra in _COMPRESSED)
    + tuple(f".json{extra}" for extra in _COMPRESSED[1:])
    + _COMPRESSED[1:]
)


def display_path(path: str | os.PathLike[str]) -> str:
    """`path` as valid UTF-8 text: bytes of a name that is not UTF-8 appear as ``\\xe9``
    (a file name is any bytes; a frame column, a report or a terminal needs text)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def looks_like_shard(name: str) -> bool:
    """Whether a folder contributes a file of this name (see the module docstring)."""
    return name.lower().endswith(SHARD_SUFFIXES)


@dataclass(frozen=True)
class InputFile:
    """One file to read."""

    path: Path  # as given or found (links not resolved), for messages
    source: str  # the ``source`` column: the path relative to the inputs' common folder
    format: Format  # sniffed from the magic bytes


@dataclass
class Expansion:
    """What `expand_paths` found."""

    files: list[InputFile]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why not read)
    duplicates: list[str] = field(default_factory=list)  # "PATH: the same file as OTHER"
    ignored: list[str] = field(default_factory=list)  # names in folders that are no shards


class _Collector:
    def __init__(self) -> None:
        self.found: list[tuple[Path, Format]] = []
        self.problems: list[tuple[str, str]] = []
        self.ignored: list[str] = []
        self.duplicates: list[str] = []
        self._seen: dict[tuple[int, int], Path] = {}

    def add_file(self, path: Path, *, explicit: bool) -> None:
        """Check that `path` can be read; note it, or note (or raise, if explicit) why not."""
        why = _unreadable(path)
        fmt: Format | None = None
        if why is None:
            try:
                fmt = sniff_format(path)
            except ArchiveError as error:
                if explicit:
                    raise
                why = str(error).removeprefix(f"{display_path(path)}: ")
            except OSError as error:
                why = error.strerror or str(error)
        if why is not None or fmt is None:
            if explicit:
                raise DataError(f"cannot read {display_path(path)}: {why}")
            self.problems.append((display_path(path), str(why)))
            return
        stat = path.stat()
        key = (stat.st_dev, stat.st_ino)
        if key in self._seen:
            self.duplicates.append(
                f"{display_path(path)}: the same file as {display_path(self._seen[key])} "
                "(read once)"
            )
            return
        self._seen[key] = path
        self.found.append((path, fmt))

    def add_folder(self, folder: Path) -> None:
        """Every shard below `folder` (links followed, each real folder once), sorted."""
        visited: set[str] = set()
        entries: list[Path] = []

        def unlistable(error: OSError) -> None:
            where = display_path(error.filename)
            self.problems.append((where, f"folder not listed: {error.strerror}"))

        for top, dirs, names in os.walk(folder, onerror=unlistable, followlinks=True):
            real = os.path.realpath(top)
            if real in visited:  # a link back up the tree, or a second link to one folder
                dirs[:] = []
                continue
            visited.add(real)
            for hidden in [d for d in dirs if d.startswith(".")]:  # .git (annex objects), .dvc
                dirs.remove(hidden)
                self.ignored.append(f"{display_path(Path(top, hidden))}/")
            dirs.sort()
            for name in names:
                path = Path(top, name)
                if looks_like_shard(name):
                    entries.append(path)
                elif _is_dvc_pointer_without_data(path):
                    self.problems.append(
                        (display_path(path), "a DVC pointer whose data is missing")
                    )
                else:
                    self.ignored.append(display_path(path))
        for path in sorted(entries):
            self.add_file(path, explicit=False)


def _is_dvc_pointer_without_data(path: Path) -> bool:
    data = path.name[:-4]
    return (
        path.name.lower().endswith(".dvc")
        and looks_like_shard(data)
        and not (os.path.lexists(path.with_name(data)))
    )


def _unreadable(path: Path) -> str | None:
    """Why `path` cannot be read as a file, or None."""
    if os.path.islink(path) and not os.path.exists(path):
        return (
            f"a dangling link to {os.readlink(path)} (a git-annex or DVC pointer whose data "
            "was never fetched?)"
        )
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def _sources(paths: list[Path]) -> list[str]:
    """Readable, distinct names: each path relative to the folder that holds them all."""
    absolute = [os.path.abspath(p) for p in paths]
    root = os.path.commonpath([os.path.dirname(p) for p in absolute]) if absolute else ""
    return [display_path(Path(os.path.relpath(p, root)).as_posix()) for p in absolute]


def expand_paths(paths: PathsLike) -> Expansion:
    """Files, folders and glob patterns → the files to read, in order (see the module docstring).

    An `InputFile` item is taken as it is, its ``source`` name included (a distributed run
    reads each file of one expansion in its own process). Raises `DataError` when an item
    matches nothing, or names a file that cannot be read.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    collector = _Collector()
    given: dict[int, str] = {}  # InputFile items (one unit of a distributed run) keep their source
    for item in items:
        if isinstance(item, InputFile):
            given[len(collector.found)] = item.source
            collector.found.append((item.path, item.format))
            continue
        path = Path(item)
        before = len(collector.found) + len(collector.duplicates) + len(collector.problems)
        if path.is_dir():
            collector.add_folder(path)
        elif os.path.lexists(path):
            collector.add_file(path, explicit=True)
        else:
            for match in sorted(glob.glob(str(item), recursive=True)):
                if os.path.isdir(match):
                    collector.add_folder(Path(match))
                else:
                    collector.add_file(Path(match), explicit=False)
        if len(collector.found) + len(collector.duplicates) + len(collector.problems) == before:
            raise DataError(
                f"no Pile files at {str(item)!r} (not a file, a folder with "
                ".jsonl/.ndjson[.zst|.zstd|.gz|.bz2|.xz] files, or a matching glob)"
            )
    files = [p for p, _ in collector.found]
    return Expansion(
        files=[
            InputFile(path, given.get(index, source), fmt)
            for index, ((path, fmt), source) in enumerate(
                zip(collector.found, _sources(files), strict=True)
            )
        ],
        problems=collector.problems,
        duplicates=collector.duplicates,
        ignored=collector.ignored,
    )
