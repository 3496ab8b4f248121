"""Every error and warning that segpile_lab raises, in one place.

    SegpileError                      base of everything below
    ├── DataError                     input data that cannot be used as given
    │   ├── ArchiveError              a compressed container is unreadable
    │   │   ├── CorruptArchiveError   bad bytes inside a zstd/gzip stream, trailing garbage
    │   │   │   └── TrailingDataError garbage after the last complete frame or member
    │   │   ├── TruncatedArchiveError the stream ends mid-frame (interrupted download)
    │   │   └── UnknownFormatError    neither zstd, gzip nor JSON lines (sniffed by magic bytes)
    │   ├── RecordError               a JSON line is malformed or breaks the Pile schema (strict)
    │   ├── ChecksumMismatchError     a file differs from its SHA256SUMS entry
    │   ├── ManifestError             a SHA256SUMS file that cannot be trusted as written
    │   └── ImageLoadError            an image is missing, truncated, a bomb or not an image
    ├── ModelNotAvailableError        weights cannot be found (offline, bad id or path)
    │   └── CheckpointError           weights are there but unsafe (a pickle of objects) or
    │                                 broken (corrupt file, shapes that do not fit the config)
    ├── BackendError                  an inference backend failed to export, quantize or run
    ├── EngineError                   a unit on the distributed engine (Ray) failed or was lost
    ├── MissingExtraError             an optional dependency is not installed (names the extra)
    └── ReportError                   a notebook of the report failed (names notebook and cell)

    SegpileWarning                    base of our warnings (errors in our own tests)
    ├── UntrainedModelWarning         output comes from untrained demo weights
    ├── MultiFrameImageWarning        an animated / multi-page image: only frame 0 is used
    ├── GenericLabelsWarning          a checkpoint without (ADE20K) class names: generic names used
    ├── FilterWarning                 a subsets= name matched no row (closest names given)
    └── DamagedFileWarning            lenient reading dropped data (damaged frame, unreadable file)

Policy, held across the package:

- Caller mistakes (an argument of the wrong value or type, e.g. ``batch_size=0``, an unknown
  layer name, a layer that was not computed) raise the built-in `ValueError` / `TypeError`:
  they are bugs in the calling code, not conditions of the data or the machine.
- Problems with inputs, models, backends and the environment raise the most specific class
  below, never a bare `SegpileError` when one fits; the CLI turns any `SegpileError` into one
  line and exit status 2.
- An output folder that is a file raises `NotADirectoryError` (an `OSError`, as ``mkdir``
  would), from one check: `segpile_lab._output.output_folder`.
- Third-party errors are wrapped with the file (and position, where known) where they
  happened, through `wrap_errors`, so users never have to read a deep library traceback to
  learn what went wrong; the original stays chained as ``__cause__``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "ArchiveError",
    "BackendError",
    "CheckpointError",
    "ChecksumMismatchError",
    "CorruptArchiveError",
    "DamagedFileWarning",
    "DataError",
    "EngineError",
    "FilterWarning",
    "GenericLabelsWarning",
    "ImageLoadError",
    "ManifestError",
    "MissingExtraError",
    "ModelNotAvailableError",
    "MultiFrameImageWarning",
    "RecordError",
    "ReportError",
    "SegpileError",
    "SegpileWarning",
    "TrailingDataError",
    "TruncatedArchiveError",
    "UnknownFormatError",
    "UntrainedModelWarning",
]


class SegpileError(Exception):
    """Base class of all segpile_lab errors."""


class DataError(SegpileError):
    """Input data that cannot be used as given."""


class ArchiveError(DataError):
    """A compressed container cannot be read.

    Attributes:
        path: the file.
        offset: compressed byte offset where the problem was seen, when known.
        line: the first (1-based) line of the damaged frame, when the reader knows it.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, offset: int | None = None):
        # a file name is any bytes: shown as UTF-8 text, undecodable bytes as \xNN
        self.path = None if path is None else os.fsencode(path).decode("utf-8", "backslashreplace")
        self.offset = offset
        self.line: int | None = None
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if offset is not None:
                where += f" (at compressed byte {offset:,})"
            where += ": "
        super().__init__(where + message)


class CorruptArchiveError(ArchiveError):
    """Bad bytes inside a compressed stream, or garbage after its last frame."""


class TrailingDataError(CorruptArchiveError):
    """Bytes after the last complete zstd frame or gzip member that start no new frame."""


class TruncatedArchiveError(ArchiveError):
    """The compressed stream stops in the middle of a frame."""


class UnknownFormatError(ArchiveError):
    """The file is neither zstd, gzip nor plain JSON lines."""


class RecordError(DataError):
    """A JSON line that is malformed or breaks the Pile schema (raised in strict mode).

    Attributes:
        path: the file; line: 1-based line number; reason: short machine-readable reason.
    """

    def __init__(self, message: str, *, path: str | Path, line: int, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}, line {line}: {message} [{reason}]")


class ChecksumMismatchError(DataError):
    """A file's SHA-256 differs from the manifest's entry."""


class ManifestError(DataError):
    """A ``SHA256SUMS.txt`` that cannot be used: a line not in ``sha256sum`` format, a name that
    leaves its folder or is not UTF-8, or one name listed with two different digests."""


class ImageLoadError(DataError):
    """An image is missing, truncated, too large (a decompression bomb) or not an image."""


class ModelNotAvailableError(SegpileError):
    """Model weights cannot be found: offline without a cached copy, a bad id or a bad path."""


class CheckpointError(ModelNotAvailableError, DataError):
    """A checkpoint exists but is refused (a pickle that is more than tensors) or broken."""


class BackendError(SegpileError):
    """An inference backend failed to export, quantize, compile or run."""


class EngineError(SegpileError):
    """A unit run on the distributed engine (Ray) failed with an error that is not
    segpile_lab's own (those come out as themselves), or Ray lost it; names the unit."""


class MissingExtraError(SegpileError, ImportError):
    """An optional dependency is missing; the message names the extra to install, e.g.
    ``pip install 'segpile-lab[ray]'``."""


class ReportError(SegpileError):
    """A notebook of the report failed; the message names the notebook and the cell."""


@contextmanager
def wrap_errors(
    error: type[SegpileError],
    where: str | os.PathLike[str],
    what: str,
    catch: tuple[type[Exception], ...] = (Exception,),
) -> Iterator[None]:
    """Re-raise a `catch` exception of the block as ``error("{where}: {what} (Type: message)")``,
    chained to the original; segpile_lab's own errors pass through unchanged."""
    try:
        yield
    except SegpileError:
        raise
    except catch as exc:
        raise error(f"{os.fspath(where)}: {what} ({type(exc).__name__}: {exc})") from exc


class SegpileWarning(UserWarning):
    """Base class of segpile_lab warnings."""


class UntrainedModelWarning(SegpileWarning):
    """Results come from a model with untrained (seeded random) demo weights."""


class MultiFrameImageWarning(SegpileWarning):
    """An animated or multi-page image was given; only its first frame is used."""


class GenericLabelsWarning(SegpileWarning):
    """A checkpoint's classes have no names (or are not ADE20K's): generic names are used."""


class FilterWarning(SegpileWarning):
    """A ``subsets=`` name matched no row; the message names the closest known subsets."""


class DamagedFileWarning(SegpileWarning):
    """Lenient reading dropped data: the rows of a frame that failed its check (and the rest of
    that file), or a file or folder that could not be read at all; the message says what."""
